//! Calendar dates typed by people, and instants shown to them in French time.

use serde::{Deserialize, Serialize};

/// A real calendar date, as typed in a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "super::DateFields")]
pub struct CalendarDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

pub const INVALID_DATE: &str = "Cette date n'existe pas : indiquez-la sous la forme JJ/MM/AAAA, par exemple 14/07/2026.";

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl CalendarDate {
    /// Accepts `AAAA-MM-JJ` (what `<input type="date">` sends) or `JJ/MM/AAAA` (typed by hand).
    /// An empty input is refused with `when_empty`.
    pub fn parse(input: &str, when_empty: &'static str) -> Result<CalendarDate, &'static str> {
        let value = input.trim();
        if value.is_empty() {
            return Err(when_empty);
        }
        let parts: Vec<&str> = if value.contains('/') { value.split('/').rev().collect() } else { value.split('-').collect() };
        let [y, m, d] = parts.as_slice() else { return Err(INVALID_DATE) };
        let (Ok(year), Ok(month), Ok(day)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
            return Err(INVALID_DATE);
        };
        if y.len() != 4 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(INVALID_DATE);
        }
        Ok(CalendarDate { year, month, day })
    }

    /// `2026-07-14`, the stored form.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `14/07/2026`, the displayed form.
    pub fn french(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// Day of the month of the last Sunday of `month` (March or October), for summer time.
fn last_sunday(year: i32, month: u32) -> u32 {
    let last = days_in_month(year, month);
    // Days from the epoch (a Thursday) to the last day of the month.
    let mut days = 0i64;
    for y in 1970..year {
        days += if days_in_month(y, 2) == 29 { 366 } else { 365 };
    }
    for m in 1..month {
        days += i64::from(days_in_month(year, m));
    }
    days += i64::from(last) - 1;
    let weekday = (days + 4).rem_euclid(7); // 0 = Sunday
    last - weekday as u32
}

/// The time in metropolitan France (CET, and CEST from the last Sunday of March to the last
/// Sunday of October, changing at 01:00 UTC) for a Unix time in milliseconds: the same text on
/// the server and in the browser, whatever their time zones.
pub fn paris_parts(ms: i64) -> (i32, u32, u32, u32, u32) {
    let utc_secs = ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(utc_secs.div_euclid(86_400));
    let hour_utc = (utc_secs.rem_euclid(86_400) / 3600) as u32;
    let summer = match month {
        4..=9 => true,
        3 => (day, hour_utc) >= (last_sunday(year, 3), 1),
        10 => (day, hour_utc) < (last_sunday(year, 10), 1),
        _ => false,
    };
    let local = utc_secs + if summer { 7200 } else { 3600 };
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    (y, mo, d, (secs / 3600) as u32, ((secs % 3600) / 60) as u32)
}

/// `27/11/2026 à 14:05`.
pub fn paris_date_time(ms: i64) -> String {
    let (y, mo, d, h, mi) = paris_parts(ms);
    format!("{d:02}/{mo:02}/{y:04} à {h:02}:{mi:02}")
}

/// `27/11/2026`.
pub fn paris_date(ms: i64) -> String {
    let (y, mo, d, _, _) = paris_parts(ms);
    format!("{d:02}/{mo:02}/{y:04}")
}

/// `14:05`.
pub fn paris_time(ms: i64) -> String {
    let (_, _, _, h, mi) = paris_parts(ms);
    format!("{h:02}:{mi:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_refuses_impossible_dates() {
        let d = CalendarDate::parse("14/07/2026", "vide").unwrap();
        assert_eq!(d.iso(), "2026-07-14");
        assert_eq!(CalendarDate::parse("2026-07-14", "vide").unwrap(), d);
        assert_eq!(d.french(), "14/07/2026");
        assert_eq!(CalendarDate::parse("29/02/2027", "vide"), Err(INVALID_DATE));
        assert!(CalendarDate::parse("29/02/2028", "vide").is_ok());
        assert_eq!(CalendarDate::parse("  ", "vide"), Err("vide"));
        assert_eq!(CalendarDate::parse("14/07/26", "vide"), Err(INVALID_DATE));
    }

    #[test]
    fn paris_time_follows_winter_and_summer_time() {
        // 2026-11-27 13:05 UTC is 14:05 in Paris (winter time).
        assert_eq!(paris_date_time(1_795_784_700_000), "27/11/2026 à 14:05");
        // 2026-07-14 10:00 UTC is 12:00 in Paris (summer time).
        assert_eq!(paris_date_time(1_784_023_200_000), "14/07/2026 à 12:00");
        // Summer time starts on Sunday 2026-03-29 at 01:00 UTC.
        assert_eq!(paris_time(1_774_745_940_000), "01:59"); // 00:59 UTC
        assert_eq!(paris_time(1_774_746_000_000), "03:00"); // 01:00 UTC
                                                            // And ends on Sunday 2026-10-25 at 01:00 UTC.
        assert_eq!(paris_time(1_792_889_940_000), "02:59"); // 00:59 UTC
        assert_eq!(paris_time(1_792_890_000_000), "02:00"); // 01:00 UTC
        assert_eq!(paris_date(0), "01/01/1970");
    }
}

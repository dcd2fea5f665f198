//! A plausible date of birth: a real calendar date, for someone aged 16 to 100.

use serde::{Deserialize, Serialize};

use super::date::{CalendarDate, INVALID_DATE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "super::DateFields")]
pub struct BirthDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl BirthDate {
    /// Accepts `AAAA-MM-JJ` (what `<input type="date">` sends) or `JJ/MM/AAAA` (typed by hand).
    /// `today` is (year, month, day).
    pub fn parse(input: &str, today: (i32, u32, u32)) -> Result<BirthDate, &'static str> {
        let CalendarDate { year, month, day } = CalendarDate::parse(input, "Indiquez votre date de naissance.").map_err(|e| {
            if e == INVALID_DATE {
                "Cette date n'existe pas : indiquez-la sous la forme JJ/MM/AAAA, par exemple 14/07/1985."
            } else {
                e
            }
        })?;
        let date = BirthDate { year, month, day };
        let (ty, tm, td) = today;
        let age = ty - year - i32::from((tm, td) < (month, day));
        if age < 16 {
            return Err("Vous devez avoir au moins 16 ans : vérifiez l'année de naissance.");
        }
        if age > 100 {
            return Err("Cette date de naissance semble erronée : vérifiez l'année.");
        }
        Ok(date)
    }

    /// `1985-07-14`, the stored form.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (i32, u32, u32) = (2026, 11, 27);

    #[test]
    fn iso_and_french_forms_are_accepted() {
        let expected = BirthDate { year: 1985, month: 7, day: 14 };
        assert_eq!(BirthDate::parse("1985-07-14", TODAY).unwrap(), expected);
        assert_eq!(BirthDate::parse("14/07/1985", TODAY).unwrap(), expected);
        assert_eq!(expected.iso(), "1985-07-14");
    }

    #[test]
    fn impossible_dates_are_refused() {
        for input in ["1985-02-30", "2023-02-29", "1985-13-01", "85-07-14", "hier", ""] {
            assert!(BirthDate::parse(input, TODAY).is_err(), "{input}");
        }
        assert!(BirthDate::parse("2000-02-29", TODAY).is_ok());
    }

    #[test]
    fn ages_outside_16_to_100_are_refused() {
        assert!(BirthDate::parse("2010-11-28", TODAY).is_err());
        assert!(BirthDate::parse("2010-11-27", TODAY).is_ok());
        assert!(BirthDate::parse("1920-01-01", TODAY).is_err());
    }
}

//! Parsed domain types: built once from raw input, valid from then on. They compile for the
//! browser and the server, so both show the same French messages; the server is authoritative.
//! Deserialising goes through the same parser (`#[serde(try_from = …)]`): no invalid value can be
//! built from a hand-made call, a tampered flash or a stored answer.

pub mod amount;
pub mod birth_date;
pub mod codes;
pub mod date;
pub mod email;
pub mod nir;
pub mod password;
pub mod phone;
pub mod siret;
pub mod text;

pub use birth_date::BirthDate;
pub use email::Email;
pub use nir::Nir;
pub use phone::Phone;
pub use siret::Siret;

use amount::{Euros, Hours};
use codes::{ActivityNumber, CertificationCode, RomeCode};
use date::{days_in_month, CalendarDate, INVALID_DATE};

/// The text types: deserialised with their `parse`, serialised as their stored form.
macro_rules! parsed_from_string {
    ($($t:ty),* $(,)?) => {$(
        impl TryFrom<String> for $t {
            type Error = &'static str;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                <$t>::parse(&value)
            }
        }
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.as_str().to_string()
            }
        }
    )*};
}
parsed_from_string!(Email, Nir, Phone, Siret, RomeCode, CertificationCode, ActivityNumber);

impl TryFrom<i64> for Euros {
    type Error = &'static str;
    fn try_from(cents: i64) -> Result<Self, Self::Error> {
        if (0..=100_000_000).contains(&cents) {
            Ok(Euros(cents))
        } else {
            Err("Ce montant n'est pas entre 0 et 1 000 000 €.")
        }
    }
}

impl TryFrom<u32> for Hours {
    type Error = &'static str;
    fn try_from(hours: u32) -> Result<Self, Self::Error> {
        if hours <= 10_000 {
            Ok(Hours(hours))
        } else {
            Err("Ce nombre d'heures dépasse 10 000 : vérifiez-le.")
        }
    }
}

/// A date as serialised (`{ year, month, day }`), checked to be a real calendar date before it
/// becomes a [`CalendarDate`] or a [`BirthDate`].
#[derive(serde::Deserialize)]
pub struct DateFields {
    year: i32,
    month: u32,
    day: u32,
}

impl DateFields {
    fn checked(self) -> Result<(i32, u32, u32), &'static str> {
        let real =
            (1000..=9999).contains(&self.year) && (1..=12).contains(&self.month) && (1..=days_in_month(self.year, self.month)).contains(&self.day);
        if real {
            Ok((self.year, self.month, self.day))
        } else {
            Err(INVALID_DATE)
        }
    }
}

impl TryFrom<DateFields> for CalendarDate {
    type Error = &'static str;
    fn try_from(fields: DateFields) -> Result<Self, Self::Error> {
        let (year, month, day) = fields.checked()?;
        Ok(CalendarDate { year, month, day })
    }
}

impl TryFrom<DateFields> for BirthDate {
    type Error = &'static str;
    fn try_from(fields: DateFields) -> Result<Self, Self::Error> {
        let (year, month, day) = fields.checked()?;
        Ok(BirthDate { year, month, day })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// `valid` survives a round trip through JSON; `invalid` (as JSON) cannot be deserialised.
    fn holds<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(valid: T, invalid: &str) {
        let json = serde_json::to_string(&valid).unwrap();
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), valid, "{json} round-trips");
        assert!(serde_json::from_str::<T>(invalid).is_err(), "{invalid} is refused as a {}", std::any::type_name::<T>());
    }

    #[test]
    fn every_parsed_type_refuses_an_invalid_value_when_deserialised_and_round_trips_a_valid_one() {
        holds(Email::parse("Jeanne@exemple.fr").unwrap(), r#""pas une adresse""#);
        let first13 = 1_850_775_056_042u64;
        holds(Nir::parse(&format!("{first13}{:02}", 97 - first13 % 97)).unwrap(), r#""185077505604299""#);
        holds(Phone::parse("06 12 34 56 78").unwrap(), r#""12345""#);
        holds(Siret::parse("732 829 320 00074").unwrap(), r#""73282932000075""#);
        holds(RomeCode::parse("M1805").unwrap(), r#""Z9999""#);
        holds(CertificationCode::parse("RNCP34567").unwrap(), r#""RNCP""#);
        holds(ActivityNumber::parse("11751234575").unwrap(), r#""123""#);
        holds(Euros::parse("12 500,50").unwrap(), "-5");
        holds(Hours::parse("400").unwrap(), "10001");
        holds(CalendarDate::parse("14/07/2026", "").unwrap(), r#"{"year":2026,"month":2,"day":30}"#);
        holds(BirthDate::parse("14/07/1985", (2026, 12, 3)).unwrap(), r#"{"year":1985,"month":13,"day":1}"#);
    }
}

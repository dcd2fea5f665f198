//! Amounts in euros and numbers of hours, as French people type them.

use serde::{Deserialize, Serialize};

/// An amount in euro cents, from 0 to 1,000,000 €.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64")]
pub struct Euros(pub i64);

impl Euros {
    /// Accepts `12 500`, `12 500,50 €`, `12500.5`.
    pub fn parse(input: &str) -> Result<Euros, &'static str> {
        let invalid = "Indiquez un montant en euros, par exemple 12 500 ou 12 500,50.";
        let cleaned: String =
            input.trim().trim_end_matches('€').trim_end_matches("EUR").chars().filter(|c| !c.is_whitespace() && *c != '\u{202f}').collect();
        if cleaned.is_empty() {
            return Err(invalid);
        }
        let normalized = cleaned.replace(',', ".");
        let (whole, fraction) = normalized.split_once('.').unwrap_or((&normalized, ""));
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || fraction.len() > 2
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || whole.len() > 9
        {
            return Err(invalid);
        }
        let euros: i64 = whole.parse().map_err(|_| invalid)?;
        let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid)?;
        let total = euros * 100 + cents;
        if total > 100_000_000 {
            return Err("Ce montant dépasse 1 000 000 € : vérifiez-le.");
        }
        Ok(Euros(total))
    }

    /// `12 500,50 €` (narrow no-break space between thousands).
    pub fn french(&self) -> String {
        let euros = self.0 / 100;
        let cents = self.0 % 100;
        let digits = euros.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('\u{202f}');
            }
            grouped.push(c);
        }
        if cents == 0 {
            format!("{grouped} €")
        } else {
            format!("{grouped},{cents:02} €")
        }
    }
}

/// A whole number of hours, from 0 to 10,000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32")]
pub struct Hours(pub u32);

impl Hours {
    pub fn parse(input: &str) -> Result<Hours, &'static str> {
        let cleaned: String = input.trim().trim_end_matches('h').trim_end_matches("heures").chars().filter(|c| !c.is_whitespace()).collect();
        match cleaned.parse::<u32>() {
            Ok(h) if h <= 10_000 => Ok(Hours(h)),
            Ok(_) => Err("Ce nombre d'heures dépasse 10 000 : vérifiez-le."),
            Err(_) => Err("Indiquez un nombre entier d'heures, par exemple 400."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_read_as_typed_in_france() {
        assert_eq!(Euros::parse("12 500").unwrap(), Euros(1_250_000));
        assert_eq!(Euros::parse("12 500,5 €").unwrap(), Euros(1_250_050));
        assert_eq!(Euros::parse("12500.50").unwrap(), Euros(1_250_050));
        assert_eq!(Euros(1_250_050).french(), "12\u{202f}500,50 €");
        assert_eq!(Euros(90_000).french(), "900 €");
        for bad in ["", "douze", "12,345", "-5", "2000000"] {
            assert!(Euros::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hours_are_whole_numbers() {
        assert_eq!(Hours::parse("400 h").unwrap(), Hours(400));
        assert!(Hours::parse("12,5").is_err());
        assert!(Hours::parse("20000").is_err());
    }
}

//! A French phone number, typed in the national (06 12 34 56 78) or international
//! (+33 6 12 34 56 78) form.

use serde::{Deserialize, Serialize};

/// Stored in E.164 form: `+33612345678`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, &'static str> {
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}')).collect();
        if compact.is_empty() {
            return Err("Indiquez votre numéro de téléphone.");
        }
        let national = if let Some(rest) = compact.strip_prefix("+33").or_else(|| compact.strip_prefix("0033")) {
            rest.strip_prefix('0').unwrap_or(rest).to_string()
        } else if let Some(rest) = compact.strip_prefix('0') {
            rest.to_string()
        } else {
            return Err("Indiquez un numéro français, par exemple 06 12 34 56 78 ou +33 6 12 34 56 78.");
        };
        let valid = national.len() == 9 && national.chars().all(|c| c.is_ascii_digit()) && !national.starts_with('0');
        if !valid {
            return Err("Ce numéro de téléphone n'est pas valide : il compte 10 chiffres, par exemple 06 12 34 56 78.");
        }
        Ok(Phone(format!("+33{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `06 12 34 56 78`.
    pub fn national(&self) -> String {
        let digits = format!("0{}", &self.0[3..]);
        digits.as_bytes().chunks(2).map(|pair| std::str::from_utf8(pair).unwrap_or("")).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_give_the_same_number() {
        for input in ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "+33612345678", "0033 6 12.34.56.78", "+33 (0)6 12 34 56 78"] {
            assert_eq!(Phone::parse(input).unwrap().as_str(), "+33612345678", "{input}");
        }
        assert_eq!(Phone::parse("01 23 45 67 89").unwrap().national(), "01 23 45 67 89");
    }

    #[test]
    fn wrong_lengths_foreign_numbers_and_letters_are_refused() {
        for input in ["", "061234567", "06123456789", "+44 20 7946 0958", "06 12 AB 56 78", "00 12 34 56 78"] {
            assert!(Phone::parse(input).is_err(), "{input}");
        }
    }
}

//! SIRET: the 14-digit number of an establishment, checked with the Luhn key.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

/// La Poste's establishments share one SIREN and follow their own rule (digit sum divisible by 5).
const LA_POSTE_SIREN: &str = "356000000";

fn luhn_ok(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl Siret {
    /// Accepts spaces between digits (`123 456 789 00012`).
    pub fn parse(input: &str) -> Result<Siret, &'static str> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err("Indiquez le numéro SIRET de votre employeur.");
        }
        if compact.len() != 14 || !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err("Le SIRET compte 14 chiffres : il figure sur vos bulletins de salaire.");
        }
        let digits: Vec<u32> = compact.chars().filter_map(|c| c.to_digit(10)).collect();
        let valid = if compact.starts_with(LA_POSTE_SIREN) { digits.iter().sum::<u32>() % 5 == 0 } else { luhn_ok(&digits) };
        if !valid {
            return Err("Ce numéro SIRET n'existe pas : un chiffre est sans doute mal recopié. Vérifiez-le sur un bulletin de salaire.");
        }
        Ok(Siret(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_siret_is_accepted_with_or_without_spaces() {
        assert_eq!(Siret::parse("732 829 320 00074").unwrap().as_str(), "73282932000074");
        assert!(Siret::parse("35600000049837").is_ok(), "La Poste's own rule");
    }

    #[test]
    fn a_wrong_digit_length_or_character_is_refused() {
        assert!(Siret::parse("73282932000075").unwrap_err().contains("mal recopié"));
        assert!(Siret::parse("7328293200007").unwrap_err().contains("14 chiffres"));
        assert!(Siret::parse("7328293200007A").unwrap_err().contains("14 chiffres"));
        assert!(Siret::parse("").is_err());
    }
}

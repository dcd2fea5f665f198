//! Codes of the training world: ROME (jobs), RNCP/RS (certifications), and the training
//! body's "numéro de déclaration d'activité".

use serde::{Deserialize, Serialize};

fn compact_upper(input: &str) -> String {
    input.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

/// A ROME code: a letter from A to N and four digits (`M1805`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RomeCode(String);

impl RomeCode {
    pub fn parse(input: &str) -> Result<RomeCode, &'static str> {
        let code = compact_upper(input);
        let mut chars = code.chars();
        let letter_ok = chars.next().is_some_and(|c| ('A'..='N').contains(&c));
        if code.len() != 5 || !letter_ok || !chars.all(|c| c.is_ascii_digit()) {
            return Err(
                "Un code ROME est une lettre suivie de 4 chiffres, par exemple M1805 : vous le trouverez sur la fiche métier de France Travail.",
            );
        }
        Ok(RomeCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A certification code: `RNCP` or `RS` followed by its number (`RNCP34567`, `RS5678`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificationCode(String);

impl CertificationCode {
    pub fn parse(input: &str) -> Result<CertificationCode, &'static str> {
        let code = compact_upper(input);
        let number = code.strip_prefix("RNCP").or_else(|| code.strip_prefix("RS"));
        match number {
            Some(n) if (1..=6).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()) => Ok(CertificationCode(code)),
            _ => Err("Indiquez le code de la certification tel qu'il figure sur France compétences : RNCP ou RS suivi de son numéro, par exemple RNCP34567."),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The training body's "numéro de déclaration d'activité": 11 digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActivityNumber(String);

impl ActivityNumber {
    pub fn parse(input: &str) -> Result<ActivityNumber, &'static str> {
        let code = compact_upper(input);
        if code.len() != 11 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err("Le numéro de déclaration d'activité compte 11 chiffres : il figure sur le devis de l'organisme de formation.");
        }
        Ok(ActivityNumber(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rome_codes_are_a_letter_and_four_digits() {
        assert_eq!(RomeCode::parse(" m1805 ").unwrap().as_str(), "M1805");
        for bad in ["Z1805", "M180", "M18055", "18055", ""] {
            assert!(RomeCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn certification_codes_are_rncp_or_rs_with_a_number() {
        assert_eq!(CertificationCode::parse("rncp 34567").unwrap().as_str(), "RNCP34567");
        assert_eq!(CertificationCode::parse("RS5678").unwrap().as_str(), "RS5678");
        for bad in ["34567", "RNCP", "RNCP1234567", "RSX12"] {
            assert!(CertificationCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn activity_numbers_have_eleven_digits() {
        assert_eq!(ActivityNumber::parse("11 75 12345 75").unwrap().as_str(), "11751234575");
        assert!(ActivityNumber::parse("1175123457").is_err());
    }
}

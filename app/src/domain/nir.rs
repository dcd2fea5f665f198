//! The French social-security number (NIR): 13 characters and a 2-digit key.

use serde::{Deserialize, Serialize};

/// A valid NIR, stored without spaces, letters upper-case (`2A`/`2B` for Corsica).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nir(String);

/// Never print a NIR by accident (logs, panics): `Debug` shows it masked.
impl std::fmt::Debug for Nir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nir({})", self.masked())
    }
}

impl Nir {
    /// Accepts 15 characters once spaces, dots and dashes are removed: sex (1 or 2), year, month
    /// (01–12, or INSEE's pseudo-months 20–42 and 50–99), department (01–19, 2A, 2B, 21–99),
    /// commune, order (001–999) and a key equal to 97 − (the 13 first digits mod 97), where
    /// 2A counts as 19 and 2B as 18.
    pub fn parse(input: &str) -> Result<Nir, &'static str> {
        let value: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}')).map(|c| c.to_ascii_uppercase()).collect();
        if value.is_empty() {
            return Err("Indiquez votre numéro de sécurité sociale (15 caractères).");
        }
        if value.chars().count() != 15 || !value.is_ascii() {
            return Err("Le numéro de sécurité sociale compte 15 caractères (13 chiffres et la clé de 2 chiffres) : vérifiez votre carte Vitale.");
        }
        let department = &value[5..7];
        let digits_ok = value.char_indices().all(|(i, c)| c.is_ascii_digit() || ((i == 6) && (c == 'A' || c == 'B') && &value[5..6] == "2"));
        if !digits_ok {
            return Err("Le numéro de sécurité sociale ne contient que des chiffres (et 2A ou 2B pour la Corse).");
        }
        if !matches!(&value[0..1], "1" | "2") {
            return Err("Le numéro de sécurité sociale commence par 1 ou 2.");
        }
        let month: u32 = value[3..5].parse().unwrap_or(0);
        if !(matches!(month, 1..=12 | 20..=42 | 50..=99)) {
            return Err("Le mois de naissance de ce numéro (4e et 5e chiffres) n'est pas valide.");
        }
        if department == "00" || department == "20" {
            return Err("Le département de naissance de ce numéro (6e et 7e caractères) n'est pas valide.");
        }
        if &value[10..13] == "000" {
            return Err("Le numéro d'ordre de ce numéro (11e à 13e chiffres) n'est pas valide.");
        }
        let body = match department {
            "2A" => format!("{}19{}", &value[..5], &value[7..13]),
            "2B" => format!("{}18{}", &value[..5], &value[7..13]),
            _ => value[..13].to_string(),
        };
        let number: u64 = body.parse().map_err(|_| "Le numéro de sécurité sociale n'est pas valide.")?;
        let key: u64 = value[13..15].parse().map_err(|_| "La clé du numéro de sécurité sociale n'est pas valide.")?;
        if key != 97 - number % 97 {
            return Err("La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez chaque chiffre sur votre carte Vitale.");
        }
        Ok(Nir(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For the screen: only the sex digit, the year and the key, e.g. `1 85 •• •• ••• ••• 42`.
    pub fn masked(&self) -> String {
        format!("{} {} •• •• ••• ••• {}", &self.0[0..1], &self.0[1..3], &self.0[13..15])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a NIR with its correct key, as a test fixture.
    fn with_key(first13: &str) -> String {
        let numeric = first13.replace("2A", "19").replace("2B", "18");
        let n: u64 = numeric.parse().unwrap();
        format!("{first13}{:02}", 97 - n % 97)
    }

    #[test]
    fn a_valid_nir_is_accepted_with_spaces_and_lower_case() {
        let nir = with_key("1850575056042");
        let spaced = format!("{} {} {} {} {} {} {}", &nir[0..1], &nir[1..3], &nir[3..5], &nir[5..7], &nir[7..10], &nir[10..13], &nir[13..]);
        assert_eq!(Nir::parse(&spaced).unwrap().as_str(), nir);
    }

    #[test]
    fn corsican_departments_2a_and_2b_count_as_19_and_18() {
        for first13 in ["175022A123045", "292032B004012"] {
            let nir = with_key(first13);
            assert!(Nir::parse(&nir.to_lowercase()).is_ok(), "{nir}");
        }
        // A key computed as if 2A were 20 is refused.
        let n: u64 = "1750220123045".parse().unwrap();
        let naive = format!("175022A123045{:02}", 97 - n % 97);
        assert!(Nir::parse(&naive).is_err());
    }

    #[test]
    fn a_wrong_key_is_refused() {
        let nir = with_key("1850575056042");
        let key: u32 = nir[13..].parse().unwrap();
        let wrong = format!("{}{:02}", &nir[..13], (key % 97) + 1);
        assert!(Nir::parse(&wrong).unwrap_err().contains("clé"));
    }

    #[test]
    fn pseudo_months_are_accepted_and_impossible_months_refused() {
        assert!(Nir::parse(&with_key("1852099123456")).is_ok());
        assert!(Nir::parse(&with_key("1851375056042")).is_err());
        assert!(Nir::parse(&with_key("1850075056042")).is_err());
    }

    #[test]
    fn sex_digit_length_order_and_letters_are_checked() {
        assert!(Nir::parse(&with_key("3850575056042")).is_err());
        assert!(Nir::parse("18505750560").is_err());
        assert!(Nir::parse(&with_key("1850575056000")).is_err());
        assert!(Nir::parse("18505750560A212").is_err());
        assert!(Nir::parse("").is_err());
    }

    #[test]
    fn the_masked_form_and_debug_never_show_the_middle_digits() {
        let nir = Nir::parse(&with_key("1850575056042")).unwrap();
        assert!(!nir.masked().contains("75056"));
        assert!(!format!("{nir:?}").contains("75056"));
    }
}

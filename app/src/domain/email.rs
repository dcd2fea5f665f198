use serde::{Deserialize, Serialize};

/// An email address as typed (trimmed), with a lower-case form used for uniqueness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` without spaces, at most 254 characters.
    pub fn parse(input: &str) -> Result<Email, &'static str> {
        let value = input.trim();
        if value.is_empty() {
            return Err("Indiquez votre adresse électronique.");
        }
        if value.chars().count() > 254 {
            return Err("Cette adresse électronique est trop longue (254 caractères au plus).");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err("L'adresse électronique doit contenir un « @ », par exemple nom@exemple.fr.");
        };
        // A display name (`Jean <jean@exemple.fr>`), a list or a comment is not one bare address.
        if value.chars().any(|c| matches!(c, '<' | '>' | '"' | ',' | ';' | '(' | ')' | '[' | ']' | '\\' | ':')) {
            return Err("Indiquez l'adresse seule, sans nom, guillemets ni chevrons, par exemple nom@exemple.fr.");
        }
        let well_formed = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed || !deliverable_form(value) {
            return Err("Cette adresse électronique n'est pas valide ; vérifiez-la, par exemple nom@exemple.fr.");
        }
        Ok(Email(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For the screen, when the person may not be the owner: `j•••@exemple.fr`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}•••@{domain}")
    }

    /// The form compared for uniqueness: `Jean@Exemple.fr` and `jean@exemple.fr` are one address.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// On the server, the address must also be one lettre accepts as a bare `Address` (the rules
/// its messages are built with), so every address we store can be written to.
#[cfg(feature = "ssr")]
fn deliverable_form(value: &str) -> bool {
    value.parse::<lettre::Address>().is_ok()
}

/// In the browser the checks above stand for lettre's (the server has the last word).
#[cfg(not(feature = "ssr"))]
fn deliverable_form(_: &str) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_address_is_accepted_and_trimmed() {
        let email = Email::parse("  Jean.Dupont@Exemple.fr ").unwrap();
        assert_eq!(email.as_str(), "Jean.Dupont@Exemple.fr");
        assert_eq!(email.normalized(), "jean.dupont@exemple.fr");
        assert_eq!(email.masked(), "J•••@Exemple.fr");
    }

    #[test]
    fn display_names_lists_quotes_and_comments_are_refused_with_a_french_message() {
        for hostile in [
            "jean<victim@exemple.fr>",
            "Jean Dupont <jean@exemple.fr>",
            "\"jean\"@exemple.fr",
            "jean@exemple.fr,victim@exemple.fr",
            "jean@exemple.fr;victim@exemple.fr",
            "jean(commentaire)@exemple.fr",
            "jean@[192.0.2.1]",
            "victim@exemple.fr>",
            "jean\\@exemple.fr",
            "mailto:jean@exemple.fr",
        ] {
            let err = Email::parse(hostile).unwrap_err();
            assert!(err.contains("adresse seule") || err.contains("n'est pas valide"), "{hostile:?}: {err}");
        }
        assert!(Email::parse("jean<victim@exemple.fr>").unwrap_err().contains("sans nom"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn what_lettre_refuses_is_refused() {
        for bad in ["jean..dupont@exemple.fr", "jean@exemple..fr", "jean@-exemple.fr", ".jean@exemple.fr"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["jean.dupont+passerelle@exemple.fr", "hélène@exemple.fr", "j_o-e@sous.domaine.exemple.fr"] {
            assert!(Email::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_french_message() {
        for bad in ["", "jean", "jean@", "@exemple.fr", "jean@exemple", "je an@exemple.fr", "a@b@c.fr", "a@.fr"] {
            let err = Email::parse(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad:?} should be refused");
        }
    }
}

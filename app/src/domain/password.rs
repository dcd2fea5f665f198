//! The password rules both sides know: length only, no composition rules. The server adds the
//! checks that need its data (common passwords, guessability; see `account::password`).

/// At least this many characters (after Unicode NFKC normalisation on the server).
pub const MIN_CHARS: usize = 12;
/// Long passphrases are welcome; this only stops absurd inputs.
pub const MAX_CHARS: usize = 256;

pub fn check_length(password: &str) -> Result<(), &'static str> {
    let count = password.chars().count();
    if count == 0 {
        Err("Choisissez un mot de passe.")
    } else if count < MIN_CHARS {
        Err("Votre mot de passe doit compter au moins 12 caractères. Une phrase de quelques mots, facile à retenir, est idéale.")
    } else if count > MAX_CHARS {
        Err("Votre mot de passe est trop long (256 caractères au plus).")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_characters_are_required_and_long_passphrases_accepted() {
        assert!(check_length("onze-caract").is_err());
        assert!(check_length("douze-caract").is_ok());
        assert!(check_length(&"é".repeat(64)).is_ok());
        assert!(check_length(&"a".repeat(257)).is_err());
    }
}

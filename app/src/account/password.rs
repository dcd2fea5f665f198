//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), on blocking threads, with a bound
//! on how many run at once so a burst of logins cannot exhaust memory or starve the server.

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;
use tokio::sync::Semaphore;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// A hash of nothing anyone knows, verified when the account does not exist, so that the
/// answer takes as long as for a real account.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("passerelle: no such account").expect("hashing a constant works"))
}

async fn run_bounded<T: Send + 'static>(hashing: &Semaphore, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let _permit = hashing.acquire().await.map_err(|e| AppError::internal("password hashing pool closed", e))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| AppError::internal("password hashing task failed", e))
}

/// Hashes a new password; `hashing` bounds how many computations run at once.
/// The form of a password that is hashed and compared: Unicode NFKC, so that the same
/// characters typed on different keyboards or systems give the same password.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| include_str!("common-passwords.txt").lines().filter(|line| !line.starts_with('#') && !line.is_empty()).collect())
}

/// Why a new password is refused, in French, or `None` when it is acceptable: length, the
/// bundled list of common passwords (French ones included), then a zxcvbn score of at least 3.
/// `personal` holds what the person typed elsewhere in the form (name, email…), which make a
/// password guessable.
pub fn problem_with_new_password(password: &str, personal: &[&str]) -> Option<&'static str> {
    let normalized = normalize(password);
    if let Err(message) = crate::domain::password::check_length(&normalized) {
        return Some(message);
    }
    if common_passwords().contains(normalized.to_lowercase().as_str()) {
        return Some("Ce mot de passe fait partie des plus utilisés : il serait deviné en quelques secondes. Choisissez-en un autre, par exemple une phrase de quelques mots.");
    }
    let guessable = zxcvbn::zxcvbn(&normalized, personal).score() < zxcvbn::Score::Three;
    if guessable {
        return Some("Ce mot de passe est trop facile à deviner (mots courants, suites, dates, votre nom…). Ajoutez quelques mots inattendus : une phrase est plus sûre et plus facile à retenir.");
    }
    None
}

pub async fn hash(hashing: &Semaphore, password: String) -> Result<String, AppError> {
    run_bounded(hashing, move || hash_now(&normalize(&password))).await?.map_err(|e| AppError::internal("password hashing failed", e))
}

/// True when `password` matches `stored`. With no stored hash (unknown account) the dummy hash
/// is verified instead and the answer is always false.
pub async fn verify(hashing: &Semaphore, stored: Option<String>, password: String) -> Result<bool, AppError> {
    run_bounded(hashing, move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let password = normalize(&password);
        let matches = PasswordHash::new(&stored).map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok()).unwrap_or(false);
        exists && matches
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_including_french_ones_are_refused() {
        for common in ["motdepasse123", "AZERTYUIOP123", "jetaimejetaime", "qwertyuiopasdfgh"] {
            assert!(problem_with_new_password(common, &[]).is_some(), "{common}");
        }
    }

    #[test]
    fn guessable_passwords_and_ones_built_on_the_name_are_refused() {
        assert!(problem_with_new_password("aaaaaaaaaaaaaaaa", &[]).is_some());
        assert!(problem_with_new_password("dupont19850714", &["dupont", "1985-07-14"]).is_some());
    }

    #[test]
    fn a_passphrase_without_composition_rules_is_accepted() {
        assert_eq!(problem_with_new_password("cheval agrafe pile correcte", &[]), None);
        assert_eq!(problem_with_new_password(&"écureuil vert du lundi ".repeat(3), &[]), None);
    }

    #[test]
    fn normalization_makes_equivalent_characters_one_password() {
        // "ﬁ" (one ligature character) and "fi" are the same password after NFKC.
        assert_eq!(normalize("ﬁdèle"), normalize("fidèle"));
    }
}

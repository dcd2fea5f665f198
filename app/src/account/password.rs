//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), on blocking threads, with a bound
//! on how many run at once so a burst of logins cannot exhaust memory or starve the server.

use std::sync::OnceLock;

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

async fn run_bounded<T: Send + 'static>(
    hashing: &Semaphore,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = hashing
        .acquire()
        .await
        .map_err(|e| AppError::internal("password hashing pool closed", e))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal("password hashing task failed", e))
}

/// Hashes a new password; `hashing` bounds how many computations run at once.
pub async fn hash(hashing: &Semaphore, password: String) -> Result<String, AppError> {
    run_bounded(hashing, move || hash_now(&password))
        .await?
        .map_err(|e| AppError::internal("password hashing failed", e))
}

/// True when `password` matches `stored`. With no stored hash (unknown account) the dummy hash
/// is verified instead and the answer is always false.
pub async fn verify(hashing: &Semaphore, stored: Option<String>, password: String) -> Result<bool, AppError> {
    run_bounded(hashing, move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let matches = PasswordHash::new(&stored)
            .map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        exists && matches
    })
    .await
}

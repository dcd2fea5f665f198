//! The users table.

use crate::account::Role;
use crate::db::{new_id, now_ms};
use crate::domain::Email;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account already uses this email address")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates an account, already activated or not; `EmailTaken` when the address (ignoring case)
/// already has one.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    email: &Email,
    display_name: &str,
    role: Role,
    password_hash: &str,
    activated: bool,
) -> Result<String, CreateUserError> {
    let id = new_id();
    let now = now_ms();
    let result = sqlx::query(
        "INSERT INTO users (id, email, email_normalized, password_hash, role, display_name, created_at, activated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(email.as_str())
    .bind(email.normalized())
    .bind(password_hash)
    .bind(role.as_str())
    .bind(display_name)
    .bind(now)
    .bind(activated.then_some(now))
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(CreateUserError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// A password hash nobody can match: accounts waiting for their first password.
pub const NO_PASSWORD: &str = "!";

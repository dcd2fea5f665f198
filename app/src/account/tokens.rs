//! Single-use links: activation (48 h), password reset (1 h), staff password set-up. The link
//! carries 32 random bytes; only their SHA-256 is stored. Issuing a link supersedes the unused
//! links of the same purpose for that account. A refused link says why.

use sqlx::AnyConnection;

pub use crate::account::LinkProblem;

use crate::account::session::token_hash;
use crate::db::{now_ms, Db};

text_enum! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Purpose {
        Activation = "activation",
        Reset = "reset",
        StaffSetup = "staff_setup",
        /// Confirms a new email address; the address is the link's payload.
        EmailChange = "email_change",
        /// Finishes a login by accepting new terms (never emailed: the login page holds it).
        Terms = "terms",
        /// Given at registration when the NIR is already an account's: lets the person send a
        /// reset link to that account's address or ask for a merge, nothing else (never
        /// emailed: the page holds it). Opaque, unlike the signed tickets, which name their
        /// account: it reveals nothing of the account behind it.
        Recovery = "recovery",
    }
}

/// Creates a link for `user_id` on the caller's connection (so it commits with the email that
/// carries it) and supersedes the older unused ones.
pub async fn issue(conn: &mut AnyConnection, user_id: &str, purpose: Purpose, ttl: std::time::Duration) -> Result<String, sqlx::Error> {
    let now = now_ms();
    sqlx::query(
        "UPDATE account_tokens SET superseded_at = $1 \
         WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL AND superseded_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await?;
    let token = crate::account::session::new_token();
    sqlx::query("INSERT INTO account_tokens (id_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(now)
        .bind(now.saturating_add(crate::db::as_ms(ttl)))
        .execute(&mut *conn)
        .await?;
    Ok(token)
}

/// Whether `token` can be used now, without using it: the account it belongs to, or why not.
pub async fn check(db: &Db, token: &str, purpose: Purpose) -> Result<Result<String, LinkProblem>, sqlx::Error> {
    let row: Option<(String, i64, Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT user_id, expires_at, used_at, superseded_at FROM account_tokens WHERE id_hash = $1 AND purpose = $2")
            .bind(token_hash(token))
            .bind(purpose.as_str())
            .fetch_optional(db.pool())
            .await?;
    let Some((user_id, expires, used, superseded)) = row else { return Ok(Err(LinkProblem::Unknown)) };
    Ok(if used.is_some() {
        Err(LinkProblem::Used)
    } else if superseded.is_some() {
        Err(LinkProblem::Superseded)
    } else if expires <= now_ms() {
        Err(LinkProblem::Expired)
    } else {
        Ok(user_id)
    })
}

/// Voids every unused link of `purpose` for the account (a reset, a logout).
pub async fn void(conn: &mut AnyConnection, user_id: &str, purpose: Purpose) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE account_tokens SET superseded_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL AND superseded_at IS NULL")
        .bind(now_ms())
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Uses the link: atomically, so that two clicks at once cannot both succeed.
pub async fn consume(conn: &mut AnyConnection, token: &str, purpose: Purpose) -> Result<Option<String>, sqlx::Error> {
    let now = now_ms();
    sqlx::query_scalar(
        "UPDATE account_tokens SET used_at = $1 \
         WHERE id_hash = $2 AND purpose = $3 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $1 \
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await
}

/// Attaches what the link stands for (the new address of an email change) to a link just issued.
pub async fn set_payload(conn: &mut AnyConnection, token: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE account_tokens SET payload = $1 WHERE id_hash = $2").bind(payload).bind(token_hash(token)).execute(&mut *conn).await?;
    Ok(())
}

/// The payload of a link (whatever its state).
pub async fn payload(conn: &mut AnyConnection, token: &str) -> Result<Option<String>, sqlx::Error> {
    let payload: Option<Option<String>> =
        sqlx::query_scalar("SELECT payload FROM account_tokens WHERE id_hash = $1").bind(token_hash(token)).fetch_optional(&mut *conn).await?;
    Ok(payload.flatten())
}

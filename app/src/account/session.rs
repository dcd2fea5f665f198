//! Server-side sessions in the database, so that any number of `passerelle serve` processes
//! recognise the same cookie. The cookie carries 32 random bytes; the table keeps only their
//! SHA-256. A session ends after an idle period or an absolute lifetime, whichever comes first.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::account::{Role, SessionUser};
use crate::db::{as_ms, now_ms, Db};
use crate::state::AppConfig;

pub const COOKIE_NAME: &str = "passerelle_session";

/// `last_seen_at` is written at most this often, so reading pages does not mean writing rows.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The session of the current request, placed in the request's extensions by the server's
/// session middleware.
#[derive(Clone, Debug)]
pub struct CurrentSession {
    pub token_hash: String,
    pub user: SessionUser,
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a session for `user_id` and returns the token to put in the cookie. Always a new
/// token: a session id is never carried over from before login.
pub async fn start(db: &Db, user_id: &str) -> Result<String, sqlx::Error> {
    let token = new_token();
    let now = now_ms();
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(token)
}

/// The session a cookie token names, if it exists and has not timed out, and its account is
/// still open: a login racing a deactivation, a closure or a merge opens nothing usable. An
/// expired session is deleted on the spot. `activity` says whether this request counts as activity (asking how
/// long the session has left does not).
pub async fn resolve(db: &Db, config: &AppConfig, token: &str, activity: bool) -> Result<Option<CurrentSession>, sqlx::Error> {
    let hash = token_hash(token);
    #[derive(sqlx::FromRow)]
    struct Found {
        created_at: i64,
        last_seen_at: i64,
        id: String,
        display_name: String,
        #[sqlx(try_from = "String")]
        role: Role,
    }
    let row: Option<Found> = sqlx::query_as(
        "SELECT s.created_at, s.last_seen_at, u.id, u.display_name, u.role \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 \
         AND u.closed_at IS NULL AND u.deactivated_at IS NULL AND u.merged_into IS NULL",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let now = now_ms();
    let idle = now - row.last_seen_at > as_ms(config.session_idle);
    let too_old = now - row.created_at > as_ms(config.session_absolute);
    if idle || too_old {
        end(db, &hash).await?;
        return Ok(None);
    }
    if activity && now - row.last_seen_at > TOUCH_EVERY_MS {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2").bind(now).bind(&hash).execute(db.pool()).await?;
    }
    Ok(Some(CurrentSession { token_hash: hash, user: SessionUser { user_id: row.id, display_name: row.display_name, role: row.role } }))
}

/// Seconds left before this session ends for inactivity, and in any case.
pub async fn time_left(db: &Db, config: &AppConfig, token_hash: &str) -> Result<Option<crate::account::session_watch::SessionTime>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT created_at, last_seen_at FROM sessions WHERE id_hash = $1").bind(token_hash).fetch_optional(db.pool()).await?;
    let now = now_ms();
    Ok(row.map(|(created_at, last_seen_at)| crate::account::session_watch::SessionTime {
        idle_left_secs: (last_seen_at + as_ms(config.session_idle) - now) / 1000,
        absolute_left_secs: (created_at + as_ms(config.session_absolute) - now) / 1000,
    }))
}

/// Counts as activity now ("Rester connecté").
pub async fn touch(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2").bind(now_ms()).bind(token_hash).execute(db.pool()).await?;
    Ok(())
}

/// Ends one session (logout).
pub async fn end(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(token_hash).execute(db.pool()).await?;
    Ok(())
}

/// The session cookie's name: with `Secure` cookies, `__Host-` makes browsers refuse it unless
/// it was set over https by this very host, for the whole site (no sibling domain can plant one).
pub fn cookie_name(config: &AppConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-passerelle_session"
    } else {
        COOKIE_NAME
    }
}

/// The `Set-Cookie` value that carries a session token.
pub fn cookie(config: &AppConfig, token: &str) -> String {
    let secure = if config.secure_cookies { "; Secure" } else { "" };
    format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", cookie_name(config), config.session_absolute.as_secs())
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn removal_cookie(config: &AppConfig) -> String {
    let secure = if config.secure_cookies { "; Secure" } else { "" };
    format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}", cookie_name(config))
}

/// The value of cookie `name` in a `Cookie` header, if present and not empty.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(n, _)| *n == name).map(|(_, value)| value).filter(|v| !v.is_empty())
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookie_header<'a>(config: &AppConfig, header: &'a str) -> Option<&'a str> {
    cookie_value(header, cookie_name(config))
}

/// The session of the request being served (server functions and server-rendered pages).
pub fn current() -> Option<CurrentSession> {
    leptos::prelude::use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<CurrentSession>().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_found_among_other_cookies() {
        let header = "theme=dark; passerelle_session=abc123; other=1";
        assert_eq!(cookie_value(header, COOKIE_NAME), Some("abc123"));
        assert_eq!(cookie_value("passerelle_session=", COOKIE_NAME), None);
        assert_eq!(cookie_value("x=1", COOKIE_NAME), None);
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}

//! Retention (issue 16): a daily job that one server at a time runs (the `jobs` row is claimed
//! like the outbox's emails), keeping data no longer than the privacy policy says:
//! - links expired for more than a week (the week lets a late click still be told "expiré"),
//!   and form flashes older than their lifetime;
//! - login attempts and error references (`incidents`) after `retention.login_attempts_days`;
//! - sessions past their idle or absolute end;
//! - accounts never activated after `retention.unactivated_days`: emptied as an erasure does;
//! - accounts without a login for `retention.inactive_years`: warned by email
//!   `retention.inactivity_warning_days` before, then emptied as an erasure does. A login in
//!   between keeps the account (and a later warning starts over).
//!
//! Automatic erasures have no staff member to name: they are logged, not in the audit trail.

use crate::db::{as_ms, now_ms, Db};
use crate::documents::storage::Storage;
use crate::mail::outbox;
use crate::state::AppConfig;

const DAY_MS: i64 = 86_400_000;

/// How long data is kept (`[retention]` settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub unactivated_days: u32,
    pub login_attempts_days: u32,
    pub inactive_years: u32,
    pub inactivity_warning_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { unactivated_days: 30, login_attempts_days: 183, inactive_years: 3, inactivity_warning_days: 30 }
    }
}

/// What one run removed or announced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub links: u64,
    pub flashes: u64,
    pub login_attempts: u64,
    pub incidents: u64,
    pub sessions: u64,
    pub unactivated: u64,
    pub warned: u64,
    pub inactive: u64,
}

/// Runs the job if it is due and no other server holds it; then it is due again in a day.
/// Answers whether this call ran it.
pub async fn run_if_due(db: &Db, storage: &Storage, config: &AppConfig) -> bool {
    let now = now_ms();
    let claimed = sqlx::query(
        "UPDATE jobs SET claimed_until = $1 WHERE name = 'retention' AND next_run_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)",
    )
    .bind(now + 3_600_000)
    .bind(now)
    .execute(db.pool())
    .await;
    match claimed {
        Ok(done) if done.rows_affected() == 1 => {}
        Ok(_) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "retention: cannot claim the daily job; tried again later");
            return false;
        }
    }
    match sweep(db, storage, config, now).await {
        Ok(swept) => {
            tracing::info!(?swept, "retention: daily job done");
            if let Err(e) = sqlx::query("UPDATE jobs SET next_run_at = $1, claimed_until = NULL WHERE name = 'retention'")
                .bind(now + DAY_MS)
                .execute(db.pool())
                .await
            {
                tracing::warn!(error = %e, "retention: cannot record the run; it runs again when its claim expires");
            }
        }
        // The claim expires within the hour; the job runs again then.
        Err(e) => tracing::warn!(error = %e, "retention: the daily job failed; tried again within the hour"),
    }
    true
}

/// One run of the job as if it were `now` (tests move the clock).
pub async fn sweep(db: &Db, storage: &Storage, config: &AppConfig, now: i64) -> Result<Swept, sqlx::Error> {
    let keep = config.retention;
    let days = |n: u32| i64::from(n) * DAY_MS;
    let mut swept = Swept::default();
    let delete = |sql: &'static str, before: i64| async move {
        Ok::<u64, sqlx::Error>(sqlx::query(sql).bind(before).execute(db.pool()).await?.rows_affected())
    };
    swept.links = delete("DELETE FROM account_tokens WHERE expires_at < $1", now - 7 * DAY_MS).await?;
    swept.flashes = delete("DELETE FROM form_flashes WHERE created_at < $1", now - crate::forms::FLASH_LIFETIME_MS).await?;
    swept.login_attempts = delete("DELETE FROM login_attempts WHERE at < $1", now - days(keep.login_attempts_days)).await?;
    swept.incidents = delete("DELETE FROM incidents WHERE at < $1", now - days(keep.login_attempts_days)).await?;
    swept.sessions = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(now - as_ms(config.session_idle))
        .bind(now - as_ms(config.session_absolute))
        .execute(db.pool())
        .await?
        .rows_affected();

    let unactivated: Vec<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'beneficiary' AND activated_at IS NULL AND erased_at IS NULL AND created_at < $1")
            .bind(now - days(keep.unactivated_days))
            .fetch_all(db.pool())
            .await?;
    for person in &unactivated {
        empty(db, person, now).await?;
    }
    swept.unactivated = unactivated.len() as u64;

    // The last sign of life: the last login, else the activation.
    const LAST_SEEN: &str = "COALESCE(last_login_at, activated_at)";
    let inactive_for = i64::from(keep.inactive_years) * 365 * DAY_MS;
    let to_warn: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT id, email FROM users WHERE role = 'beneficiary' AND activated_at IS NOT NULL AND erased_at IS NULL AND closed_at IS NULL \
         AND {LAST_SEEN} < $1 AND (inactivity_warned_at IS NULL OR inactivity_warned_at < {LAST_SEEN})"
    ))
    .bind(now - inactive_for + days(keep.inactivity_warning_days))
    .fetch_all(db.pool())
    .await?;
    for (person, email) in &to_warn {
        let mut tx = db.begin_write().await?;
        outbox::enqueue(&mut tx, &warning(&config.base_url, email, keep.inactivity_warning_days)).await?;
        sqlx::query("UPDATE users SET inactivity_warned_at = $1 WHERE id = $2").bind(now).bind(person).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    swept.warned = to_warn.len() as u64;

    let inactive: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM users WHERE role = 'beneficiary' AND activated_at IS NOT NULL AND erased_at IS NULL AND closed_at IS NULL \
         AND {LAST_SEEN} < $1 AND inactivity_warned_at >= {LAST_SEEN} AND inactivity_warned_at <= $2"
    ))
    .bind(now - inactive_for)
    .bind(now - days(keep.inactivity_warning_days))
    .fetch_all(db.pool())
    .await?;
    for person in &inactive {
        empty(db, person, now).await?;
    }
    swept.inactive = inactive.len() as u64;
    if swept.unactivated + swept.inactive > 0 {
        tracing::info!(unactivated = swept.unactivated, inactive = swept.inactive, "retention: accounts erased");
        super::erasure::purge_files(db, storage).await;
    }
    Ok(swept)
}

/// Empties one account and the emails it was sent, in one transaction.
async fn empty(db: &Db, person: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM outbox WHERE user_id = $1").bind(person).execute(&mut *tx).await?;
    super::erasure::empty(&mut tx, person, now).await?;
    tx.commit().await
}

fn warning(base_url: &str, to: &str, days: u32) -> outbox::OutgoingEmail {
    crate::account::emails::build(
        to,
        "Votre compte Passerelle sera supprimé faute de connexion",
        &[
            format!("Vous ne vous êtes pas connecté à Passerelle depuis longtemps. Sans connexion de votre part d'ici {days} jours, votre compte et vos données personnelles seront supprimés."),
            "Pour garder votre compte, il suffit de vous connecter.".to_string(),
        ],
        Some(("Me connecter", &format!("{base_url}/connexion"))),
        "Vous recevez ce courriel parce que notre politique de confidentialité prévoit la suppression des comptes inutilisés.",
    )
}

//! Erasure (RGPD article 17): staff process a person's deletion request. In one transaction the
//! account's personal data is erased or replaced by "Personne supprimée": identity, NIR
//! ciphertext and hash, contact details, profile, the search index, the bodies of the messages
//! the person wrote and the subjects of their threads, their documents (rows), merge requests,
//! the project's text, sessions, links, login attempts and exceptional accesses, and the emails
//! sent to them. The stored files go afterwards, through `storage_purges`, retried until the
//! store has deleted them. The person is emailed at their address first: that email's row is
//! emptied once it is sent or given up (`outbox::forget_if_erased`).
//!
//! What the funding body must keep stays: the account's id, the project's state, dates and
//! history (decisions and their reasons), consents (document, version, date), the deletion
//! request, and the audit trail, which names the person by id only.

use crate::account::SessionUser;
use crate::db::{now_ms, Db};
use crate::documents::storage::Storage;
use crate::error::AppError;
use crate::mail::outbox;
use crate::state::AppState;

/// The name an erased account keeps.
pub const ERASED_NAME: &str = "Personne supprimée";

/// Erases `person`'s personal data, with the staff member's reason; the person must have an open
/// deletion request. Answers what was done, in French.
pub async fn erase(state: &AppState, me: &SessionUser, person: &str, reason: &str) -> Result<String, AppError> {
    let reason = crate::dashboard::audit::reason(reason)?;
    crate::dashboard::scope::reach(&state.db, me, person, None).await?;
    let mut tx = state.db.begin_write().await?;
    let requested: Option<String> = sqlx::query_scalar("SELECT id FROM deletion_requests WHERE user_id = $1 AND status = 'ouverte'")
        .bind(person)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(request) = requested else {
        return Err(AppError::Conflict("Cette personne n'a pas demandé la suppression de son compte, ou elle a déjà été faite.".into()));
    };
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND role = 'beneficiary' AND erased_at IS NULL")
        .bind(person)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = now_ms();
    // What the person was sent before goes; the goodbye below stays until it is sent.
    sqlx::query("DELETE FROM outbox WHERE user_id = $1").bind(person).execute(&mut *tx).await?;
    let goodbye = crate::account::emails::build(
        &email,
        "Votre compte Passerelle est supprimé",
        &[
            "Comme vous l'avez demandé, votre compte Passerelle et vos données personnelles sont supprimés : identité, coordonnées, NIR, messages, documents et texte de votre projet.".to_string(),
            "L'organisme garde seulement ce que la loi lui impose : la décision sur votre dossier, ses dates et le journal des actions, sans votre nom.".to_string(),
        ],
        None,
        "Vous recevez ce courriel parce que vous avez demandé la suppression de votre compte. Ce courriel est le dernier.",
    );
    outbox::enqueue(&mut tx, &goodbye).await?;
    empty(&mut tx, person, now).await?;
    sqlx::query("UPDATE deletion_requests SET status = 'traitee' WHERE id = $1").bind(&request).execute(&mut *tx).await?;
    crate::dashboard::audit::record(&mut tx, &me.user_id, Some(person), "suppression_compte", &reason, "").await?;
    tx.commit().await?;
    tracing::info!(actor = %me.user_id, person, "account erased");
    purge_files(&state.db, &state.storage).await;
    Ok("Le compte est supprimé : ses données personnelles sont effacées, et la personne est prévenue par courriel.".into())
}

/// Empties `person`'s account in the caller's transaction (see the module's documentation), and
/// queues their stored files for deletion (`purge_files` deletes them once committed). Emails
/// queued for them before this call are left as they are: the caller decides.
pub async fn empty(tx: &mut sqlx::AnyConnection, person: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO storage_purges (storage_key, attempts, next_attempt_at) SELECT storage_key, 0, $2 FROM documents WHERE beneficiary_id = $1 \
         ON CONFLICT (storage_key) DO NOTHING",
    )
    .bind(person)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for statement in [
        "DELETE FROM documents WHERE beneficiary_id = $1",
        "DELETE FROM document_requests WHERE beneficiary_id = $1",
        "DELETE FROM search_terms WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM account_tokens WHERE user_id = $1",
        "DELETE FROM login_attempts WHERE user_id = $1",
        "DELETE FROM exceptional_accesses WHERE beneficiary_id = $1",
        "DELETE FROM merge_requests WHERE existing_user_id = $1",
        "DELETE FROM merge_proposals WHERE (kept_id = $1 OR closed_id = $1) AND status = 'en_attente'",
        "UPDATE messages SET body = '' WHERE author_id = $1",
        "UPDATE threads SET subject = 'Échange supprimé' WHERE beneficiary_id = $1",
        "UPDATE projects SET draft = '{}' WHERE beneficiary_id = $1",
    ] {
        sqlx::query(statement).bind(person).execute(&mut *tx).await?;
    }
    sqlx::query(
        "UPDATE users SET email = $1, email_normalized = $1, password_hash = '', display_name = $2, civility = NULL, birth_name = NULL, \
         usage_name = NULL, first_name = NULL, birth_date = NULL, phone = NULL, nir_encrypted = NULL, nir_hash = NULL, \
         address_line = NULL, postal_code = NULL, city = NULL, current_job = NULL, employer = NULL, contract_type = NULL, \
         seniority_years = NULL, highest_diploma = NULL, search_name = NULL, identity_key = NULL, \
         closed_at = COALESCE(closed_at, $3), erased_at = $3 WHERE id = $4",
    )
    .bind(format!("supprime-{person}@invalid"))
    .bind(ERASED_NAME)
    .bind(now)
    .bind(person)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Deletes the stored files waiting in `storage_purges`, each once due; one that fails is tried
/// again later (a minute, doubling up to a day). Run after each erasure and by a background task.
pub async fn purge_files(db: &Db, storage: &Storage) {
    if let Err(e) = purge(db, storage).await {
        tracing::warn!(error = %e, "cannot read the files waiting for deletion; tried again later");
    }
}

async fn purge(db: &Db, storage: &Storage) -> Result<(), sqlx::Error> {
    let due: Vec<(String, i64)> = sqlx::query_as("SELECT storage_key, attempts FROM storage_purges WHERE next_attempt_at <= $1 LIMIT 500")
        .bind(now_ms())
        .fetch_all(db.pool())
        .await?;
    for (key, attempts) in due {
        match storage.delete(&key).await {
            Ok(()) => {
                sqlx::query("DELETE FROM storage_purges WHERE storage_key = $1").bind(&key).execute(db.pool()).await?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot delete an erased person's file; tried again later");
                let wait = 60_000_i64.saturating_mul(1 << attempts.clamp(0, 10)).min(86_400_000);
                sqlx::query("UPDATE storage_purges SET attempts = attempts + 1, next_attempt_at = $1 WHERE storage_key = $2")
                    .bind(now_ms() + wait)
                    .bind(&key)
                    .execute(db.pool())
                    .await?;
            }
        }
    }
    Ok(())
}

//! Which people a staff member reaches (issue 16, point 1). An advisor or an administrator reaches
//! a person's data (360° page, project, threads, documents, downloads, support actions) when
//! they are the person's referent, when the person has no referent yet, or — for one thread —
//! when they are a member of the service the person wrote to. Administrators and the phone
//! platform (members of the `accueil` service) may search everyone; opening a person outside
//! their scope asks for a reason and is an *exceptional access*: a line of the audit trail, then
//! valid for that person for the rest of the session (`session.exceptional_access_minutes` at
//! most). Anyone else gets the same "not found" as for a person who does not exist.

use super::audit::{self, Read};
use super::EXCEPTIONAL_REASONS;
use crate::account::{session, Role, SessionUser};
use crate::db::{now_ms, Binds, Db};
use crate::error::AppError;
use crate::state::AppState;

/// Why a staff member reaches a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The person is theirs: referent, no referent yet, or the thread's service.
    InCharge,
    /// Outside their scope, with the reason they gave.
    Exceptional(String),
}

impl Reach {
    /// The reason written on each line of the trail ("" in charge).
    pub fn reason(&self) -> &str {
        match self {
            Reach::InCharge => "",
            Reach::Exceptional(reason) => reason,
        }
    }
}

/// Administrators and members of the `accueil` service: they search everyone and may open an
/// exceptional access.
pub async fn sees_everyone(db: &Db, me: &SessionUser) -> Result<bool, AppError> {
    if me.role == Role::Admin {
        return Ok(true);
    }
    let member: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM staff_services m JOIN services s ON s.id = m.service_id WHERE m.user_id = $1 AND s.slug = 'accueil'",
    )
    .bind(&me.user_id)
    .fetch_one(db.pool())
    .await?;
    Ok(member > 0)
}

/// The condition on `u` (users) that keeps the people `me` is in charge of: those they are the
/// referent of and those without one.
pub fn condition(me: &SessionUser, binds: &mut Binds) -> String {
    format!(" AND (u.referent_id = {} OR u.referent_id IS NULL)", binds.add(me.user_id.as_str()))
}

/// The lists' filter on `u` (users) for this staff member, in SQL with its binds: nothing for
/// those who see everyone, [`condition`] otherwise.
pub async fn search_filter(db: &Db, me: &SessionUser, binds: &mut Binds) -> Result<String, AppError> {
    Ok(if sees_everyone(db, me).await? { String::new() } else { condition(me, binds) })
}

/// Whether `me` reaches the beneficiary `person`; for a thread, `service` is the service it was
/// written to. `NotFound` for an unknown person and for a person out of reach;
/// `Forbidden` when the caller could open an exceptional access and has not.
pub async fn reach(db: &Db, me: &SessionUser, person: &str, service: Option<&str>) -> Result<Reach, AppError> {
    let session = session::current().map(|current| current.token_hash);
    reach_in(db, me, session.as_deref(), person, service).await
}

/// [`reach`] for the session whose id hash is `session` (outside a server function, where the
/// request's session is not in the context).
pub async fn reach_in(db: &Db, me: &SessionUser, session: Option<&str>, person: &str, service: Option<&str>) -> Result<Reach, AppError> {
    match me.role {
        Role::Beneficiary if me.user_id == person => return Ok(Reach::InCharge),
        Role::Beneficiary => return Err(AppError::NotFound),
        Role::Advisor | Role::Admin => {}
    }
    let referent: Option<String> = sqlx::query_scalar("SELECT referent_id FROM users WHERE id = $1 AND role = 'beneficiary'")
        .bind(person)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    if referent.as_deref().is_none_or(|referent| referent == me.user_id) {
        return Ok(Reach::InCharge);
    }
    if let Some(service) = service {
        let member: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_services WHERE user_id = $1 AND service_id = $2")
            .bind(&me.user_id)
            .bind(service)
            .fetch_one(db.pool())
            .await?;
        if member > 0 {
            return Ok(Reach::InCharge);
        }
    }
    if let Some(session) = session {
        let reason: Option<String> = sqlx::query_scalar(
            "SELECT reason FROM exceptional_accesses WHERE session_hash = $1 AND beneficiary_id = $2 AND staff_id = $3 AND expires_at > $4",
        )
        .bind(session)
        .bind(person)
        .bind(&me.user_id)
        .bind(now_ms())
        .fetch_optional(db.pool())
        .await?;
        if let Some(reason) = reason {
            return Ok(Reach::Exceptional(reason));
        }
    }
    Err(if sees_everyone(db, me).await? { AppError::Forbidden } else { AppError::NotFound })
}

/// Checks that `me` reaches `person` and records the read in the trail, with the reason of an
/// exceptional access: when either fails, the data is not shown.
pub async fn read(db: &Db, me: &SessionUser, person: &str, service: Option<&str>, what: Read, detail: &str) -> Result<Reach, AppError> {
    let reach = reach(db, me, person, service).await?;
    audit::read(db, me, Some(person), what, reach.reason(), detail).await?;
    Ok(reach)
}

/// The reason as the trail keeps it: the motive's label, then what the staff member added.
fn reason_text(motive: &str, details: &str) -> Result<String, AppError> {
    let label = EXCEPTIONAL_REASONS.iter().find(|(code, _)| *code == motive).map(|(_, label)| *label);
    let Some(label) = label else {
        return Err(AppError::invalid("motif", "Choisissez le motif de cet accès."));
    };
    if motive == "autre" || !details.trim().is_empty() {
        let details = audit::reason(details)
            .map_err(|_| AppError::invalid("precision", format!("Précisez le motif en {} caractères au plus.", super::REASON_MAX)))?;
        return Ok(format!("{label} : {details}"));
    }
    Ok(label.to_string())
}

/// Opens an exceptional access to `person` for the caller's session, with its reason, and
/// records it in the trail. Nothing to open when the person is already in the caller's scope.
pub async fn open(state: &AppState, me: &SessionUser, person: &str, motive: &str, details: &str) -> Result<(), AppError> {
    let db = &state.db;
    match reach(db, me, person, None).await {
        Ok(_) => return Ok(()),
        Err(AppError::Forbidden) => {}
        Err(other) => return Err(other),
    }
    let reason = reason_text(motive, details)?;
    let session = session::current().ok_or(AppError::Unauthorized)?;
    let now = now_ms();
    let expires_at = now.saturating_add(crate::db::as_ms(state.config.exceptional_access));
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM exceptional_accesses WHERE session_hash = $1 AND beneficiary_id = $2")
        .bind(&session.token_hash)
        .bind(person)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO exceptional_accesses (session_hash, beneficiary_id, staff_id, reason, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&session.token_hash)
    .bind(person)
    .bind(&me.user_id)
    .bind(&reason)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, &me.user_id, Some(person), "acces_exceptionnel", &reason, "").await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::reason_text;

    #[test]
    fn an_exceptional_access_needs_a_known_motive_and_details_for_another_one() {
        assert_eq!(reason_text("appel_entrant", "").unwrap(), "Appel entrant");
        assert_eq!(reason_text("accueil_antenne", " rendez-vous de 14 h ").unwrap(), "Accueil en antenne : rendez-vous de 14 h");
        assert!(reason_text("autre", "  ").unwrap_err().field("precision").is_some());
        assert_eq!(reason_text("autre", "Courrier reçu").unwrap(), "Autre motif : Courrier reçu");
        assert!(reason_text("curiosite", "").unwrap_err().field("motif").is_some());
    }
}

//! The duplicates queue and the merge of two accounts of one person.
//!
//! A merge runs in one transaction: both accounts are locked (in id order, so two merges of the
//! same pair wait for each other instead of deadlocking), the closed account is marked merged,
//! and its project, threads, documents, document requests, emails, consents and deletion
//! requests move to the kept account. Nothing is deleted but the closed account's sessions and
//! unused links. The second of two advisors merging the same accounts finds one already closed
//! and is told so.

use super::{audit, DuplicateAccount, DuplicatesQueue, MergePlan, MergeRequestItem};
use crate::account::SessionUser;
use crate::db::{now_ms, Backend, Db};
use crate::domain::Email;
use crate::error::AppError;
use crate::mail::{outbox, OutgoingEmail};
use crate::project::ProjectState;
use crate::state::AppState;

/// The columns of a [`DuplicateAccount`], from `users`.
const ACCOUNT_COLUMNS: &str = "id, display_name AS name, email, birth_date, created_at, last_login_at";

pub async fn queue(state: &AppState) -> Result<DuplicatesQueue, AppError> {
    let db = &state.db;
    #[derive(sqlx::FromRow)]
    struct Request {
        request_id: String,
        contact_email: String,
        submitted: String,
        requested_at: i64,
        #[sqlx(flatten)]
        existing: DuplicateAccount,
    }
    let rows: Vec<Request> = sqlx::query_as(
        "SELECT m.id AS request_id, m.contact_email, m.submitted, m.created_at AS requested_at, \
         u.id, u.display_name AS name, u.email, u.birth_date, u.created_at, u.last_login_at \
         FROM merge_requests m JOIN users u ON u.id = m.existing_user_id WHERE m.status = 'open' ORDER BY m.created_at LIMIT 100",
    )
    .fetch_all(db.pool())
    .await?;
    let requests = rows
        .into_iter()
        .map(|r| MergeRequestItem {
            submitted: serde_json::from_str::<serde_json::Value>(&r.submitted)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or_default(),
            id: r.request_id,
            existing: r.existing,
            contact_email: r.contact_email,
            created_at: r.requested_at,
        })
        .collect();
    #[derive(sqlx::FromRow)]
    struct Suspect {
        identity_key: String,
        #[sqlx(flatten)]
        account: DuplicateAccount,
    }
    let rows: Vec<Suspect> = sqlx::query_as(&format!(
        "SELECT identity_key, {ACCOUNT_COLUMNS} FROM users WHERE role = 'beneficiary' AND closed_at IS NULL AND identity_key IN \
         (SELECT identity_key FROM users WHERE role = 'beneficiary' AND closed_at IS NULL AND identity_key IS NOT NULL \
          GROUP BY identity_key HAVING COUNT(*) > 1) ORDER BY identity_key, created_at, id LIMIT 300"
    ))
    .fetch_all(db.pool())
    .await?;
    let mut suspected: Vec<Vec<DuplicateAccount>> = Vec::new();
    let mut last_key = String::new();
    for r in rows {
        if r.identity_key != last_key || suspected.is_empty() {
            suspected.push(Vec::new());
            last_key = r.identity_key;
        }
        if let Some(group) = suspected.last_mut() {
            group.push(r.account);
        }
    }
    Ok(DuplicatesQueue { requests, suspected })
}

/// Rows that move with a merge: what they are, in words, and the statement counting them.
const MOVED: [(&str, &str); 6] = [
    ("Fils de messages", "SELECT COUNT(*) FROM threads WHERE beneficiary_id = $1"),
    ("Documents et pièces jointes", "SELECT COUNT(*) FROM documents WHERE beneficiary_id = $1"),
    ("Demandes de documents", "SELECT COUNT(*) FROM document_requests WHERE beneficiary_id = $1"),
    ("Courriels envoyés", "SELECT COUNT(*) FROM outbox WHERE user_id = $1"),
    ("Consentements (CGU, confidentialité)", "SELECT COUNT(*) FROM consents WHERE user_id = $1"),
    ("Demandes de suppression", "SELECT COUNT(*) FROM deletion_requests WHERE user_id = $1"),
];

/// The project of an account: its id, and whether anything was written in it.
async fn project_of(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<Option<(String, bool)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Project {
        id: String,
        draft: String,
        #[sqlx(try_from = "String")]
        state: ProjectState,
    }
    let row: Option<Project> =
        sqlx::query_as("SELECT id, draft, state FROM projects WHERE beneficiary_id = $1").bind(user_id).fetch_optional(&mut *conn).await?;
    Ok(row.map(|p| (p.id, p.draft.trim() != "{}" || p.state != ProjectState::Draft)))
}

/// What happens to the two projects: `Ok(true)` the closed account's project moves (the kept
/// one's, if empty, goes the other way), `Ok(false)` nothing moves, `Err` a warning: both have a
/// written project, the kept one stays the person's, the other stays readable on the closed
/// account.
async fn project_plan(conn: &mut sqlx::AnyConnection, kept: &str, closed: &str) -> Result<Result<bool, String>, sqlx::Error> {
    Ok(match (project_of(conn, kept).await?, project_of(conn, closed).await?) {
        (_, None) => Ok(false),
        (None, Some(_)) | (Some((_, false)), Some(_)) => Ok(true),
        (Some((_, true)), Some((_, false))) => Ok(false),
        (Some((_, true)), Some((_, true))) => Err(
            "Les deux comptes ont un projet rédigé : celui du compte conservé reste le projet de la personne ; l'autre reste consultable sur la fiche du compte fermé.".into(),
        ),
    })
}

async fn beneficiary(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Option<(DuplicateAccount, bool)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Account {
        #[sqlx(flatten)]
        account: DuplicateAccount,
        closed_at: Option<i64>,
    }
    let row: Option<Account> = sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS}, closed_at FROM users WHERE id = $1 AND role = 'beneficiary'"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| (r.account, r.closed_at.is_some())))
}

fn already_merged() -> AppError {
    AppError::Conflict(
        "L'un de ces comptes est déjà fermé : il vient peut-être d'être fusionné par un autre conseiller. Rechargez la page pour voir où en sont les comptes.".into(),
    )
}

/// Both accounts, open, distinct; `NotFound` when either is not a beneficiary's.
async fn pair(conn: &mut sqlx::AnyConnection, kept: &str, closed: &str) -> Result<(DuplicateAccount, DuplicateAccount), AppError> {
    if kept == closed {
        return Err(AppError::Conflict("Choisissez deux comptes différents.".into()));
    }
    let kept = beneficiary(conn, kept).await?.ok_or(AppError::NotFound)?;
    let closed = beneficiary(conn, closed).await?.ok_or(AppError::NotFound)?;
    if kept.1 || closed.1 {
        return Err(already_merged());
    }
    Ok((kept.0, closed.0))
}

/// A merge touches two people: the staff member must reach both.
async fn reach_both(db: &Db, me: &SessionUser, kept: &str, closed: &str) -> Result<(), AppError> {
    super::scope::reach(db, me, kept, None).await?;
    super::scope::reach(db, me, closed, None).await?;
    Ok(())
}

pub async fn preview(db: &Db, me: &SessionUser, kept: &str, closed: &str) -> Result<MergePlan, AppError> {
    reach_both(db, me, kept, closed).await?;
    let mut conn = db.pool().acquire().await?;
    let (kept_account, closed_account) = pair(&mut conn, kept, closed).await?;
    let mut moves = Vec::new();
    let mut warnings = Vec::new();
    match project_plan(&mut conn, kept, closed).await? {
        Ok(true) => moves.push(("Projet de transition professionnelle, avec son historique".to_string(), 1)),
        Ok(false) => {}
        Err(warning) => warnings.push(warning),
    }
    for (what, count_sql) in MOVED {
        let count: i64 = sqlx::query_scalar(count_sql).bind(closed).fetch_one(&mut *conn).await?;
        moves.push((what.to_string(), count));
    }
    warnings.push(format!(
        "Le compte {} sera fermé : ses sessions prennent fin, et s'y connecter indiquera l'adresse du compte conservé.",
        closed_account.email
    ));
    Ok(MergePlan { kept: kept_account, closed: closed_account, moves, warnings })
}

pub async fn merge(state: &AppState, me: &SessionUser, kept: &str, closed: &str, reason: &str, request: &str) -> Result<String, AppError> {
    let reason = audit::reason(reason)?;
    reach_both(&state.db, me, kept, closed).await?;
    let mut tx = state.db.begin_write().await?;
    if state.db.backend() == Backend::Postgres {
        // Lock both rows in one order: a merge of the same pair, either way round, waits here.
        let mut ids = [kept, closed];
        ids.sort();
        for id in ids {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(id).fetch_optional(&mut *tx).await?;
        }
    }
    let (kept_account, closed_account) = pair(&mut tx, kept, closed).await?;
    let now = now_ms();
    let closing = sqlx::query("UPDATE users SET closed_at = $1, merged_into = $2 WHERE id = $3 AND closed_at IS NULL")
        .bind(now)
        .bind(kept)
        .bind(closed)
        .execute(&mut *tx)
        .await?;
    if closing.rows_affected() != 1 {
        return Err(already_merged());
    }
    if project_plan(&mut tx, kept, closed).await? == Ok(true) {
        // The kept account's empty project (if any) goes to the closed one: nothing is deleted,
        // and each account keeps at most one project.
        let kept_project: Option<String> =
            sqlx::query_scalar("SELECT id FROM projects WHERE beneficiary_id = $1").bind(kept).fetch_optional(&mut *tx).await?;
        let closed_project: String = sqlx::query_scalar("SELECT id FROM projects WHERE beneficiary_id = $1").bind(closed).fetch_one(&mut *tx).await?;
        let owner = |project: &str, owner: &str| {
            sqlx::query("UPDATE projects SET beneficiary_id = $1 WHERE id = $2").bind(owner.to_string()).bind(project.to_string())
        };
        if let Some(empty) = &kept_project {
            // One owner per project at every step (the constraint is checked row by row): the
            // empty project waits on the acting staff member, who never has one of their own.
            owner(empty, &me.user_id).execute(&mut *tx).await?;
        }
        owner(&closed_project, kept).execute(&mut *tx).await?;
        if let Some(empty) = &kept_project {
            owner(empty, closed).execute(&mut *tx).await?;
        }
    }
    for statement in [
        "UPDATE threads SET beneficiary_id = $1 WHERE beneficiary_id = $2",
        "UPDATE documents SET beneficiary_id = $1 WHERE beneficiary_id = $2",
        "UPDATE document_requests SET beneficiary_id = $1 WHERE beneficiary_id = $2",
        "UPDATE outbox SET user_id = $1 WHERE user_id = $2",
        "UPDATE consents SET user_id = $1 WHERE user_id = $2",
        "UPDATE deletion_requests SET user_id = $1 WHERE user_id = $2",
        "UPDATE thread_reads SET user_id = $1 WHERE user_id = $2 AND thread_id NOT IN (SELECT r.thread_id FROM thread_reads r WHERE r.user_id = $1)",
        "UPDATE users SET referent_id = (SELECT c.referent_id FROM users c WHERE c.id = $2) WHERE id = $1 AND referent_id IS NULL",
    ] {
        sqlx::query(statement).bind(kept).bind(closed).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(closed).execute(&mut *tx).await?;
    sqlx::query("UPDATE account_tokens SET superseded_at = $1 WHERE user_id = $2 AND used_at IS NULL AND superseded_at IS NULL")
        .bind(now)
        .bind(closed)
        .execute(&mut *tx)
        .await?;
    if !request.is_empty() {
        sqlx::query("UPDATE merge_requests SET status = 'merged' WHERE id = $1 AND status = 'open'").bind(request).execute(&mut *tx).await?;
    }
    let detail = format!("{} ({}) fusionné dans {} ({})", closed_account.name, closed_account.email, kept_account.name, kept_account.email);
    audit::record(&mut tx, &me.user_id, Some(kept), "fusionner", &reason, &detail).await?;
    audit::record(&mut tx, &me.user_id, Some(closed), "fusionner", &reason, &detail).await?;
    outbox::enqueue(&mut tx, &merged_email(&state.config.base_url, &kept_account.email, &closed_account.email)).await?;
    tx.commit().await?;
    tracing::info!(actor = %me.user_id, kept, closed, "accounts merged");
    Ok(format!("Les comptes sont fusionnés : tout est maintenant sur le compte de {} ({}).", kept_account.name, kept_account.email))
}

fn merged_email(base_url: &str, to: &str, closed_email: &str) -> OutgoingEmail {
    let masked = Email::parse(closed_email).map(|e| e.masked()).unwrap_or_default();
    crate::account::emails::build(
        to,
        "Vos comptes Passerelle sont regroupés",
        &[
            format!("Un conseiller a regroupé votre autre compte ({masked}) avec celui-ci : vos messages, vos documents et votre projet y sont maintenant réunis."),
            "Connectez-vous désormais avec cette adresse-ci.".to_string(),
        ],
        Some(("Me connecter", &format!("{base_url}/connexion"))),
        "Vous recevez ce courriel parce qu'un conseiller a regroupé deux comptes à votre nom. Si vous n'en êtes pas à l'origine, écrivez à votre conseiller depuis votre espace.",
    )
}

pub async fn close_request(state: &AppState, me: &SessionUser, id: &str, reason: &str) -> Result<(), AppError> {
    let reason = audit::reason(reason)?;
    let mut tx = state.db.begin_write().await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT existing_user_id FROM merge_requests WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    let existing = existing.ok_or(AppError::NotFound)?;
    let closed = sqlx::query("UPDATE merge_requests SET status = 'rejected' WHERE id = $1 AND status = 'open'").bind(id).execute(&mut *tx).await?;
    if closed.rows_affected() != 1 {
        return Err(AppError::Conflict("Cette demande a déjà été traitée, peut-être par un autre conseiller.".into()));
    }
    audit::record(&mut tx, &me.user_id, Some(&existing), "demande_fusion_traitee", &reason, "").await?;
    Ok(tx.commit().await?)
}

//! The duplicates queue and the merge of two accounts of one person.
//!
//! A merge runs in one transaction: both accounts are locked (in id order, so two merges of the
//! same pair wait for each other instead of deadlocking), the closed account is marked merged,
//! and its project, threads, documents, document requests, emails, consents and deletion
//! requests move to the kept account. Nothing is deleted but the closed account's sessions and
//! unused links. The second of two advisors merging the same accounts finds one already closed
//! and is told so.

use super::{audit, Approval, DuplicateAccount, DuplicatesQueue, MergePlan, MergeProposalItem, MergeRequestItem};
use crate::account::SessionUser;
use crate::db::{new_id, now_ms, Backend, Db};
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
            submitted: serde_json::from_str::<serde_json::Value>(&r.submitted).map(|v| in_words(&v)).unwrap_or_default(),
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
    Ok(DuplicatesQueue { proposals: proposals(db).await?, requests, suspected })
}

/// What a person typed with their merge request, in words: the identity typed at the second
/// registration (names, birth date, address) and their message.
fn in_words(submitted: &serde_json::Value) -> String {
    let text = |key: &str| submitted.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|v| !v.is_empty());
    let mut parts = Vec::new();
    if let (Some(first), Some(birth)) = (text("first_name"), text("birth_name")) {
        let civility = text("civility").map(|c| format!("{c} ")).unwrap_or_default();
        let usage = text("usage_name").map(|u| format!(", nom d'usage {u}")).unwrap_or_default();
        parts.push(format!("Saisi à l'inscription : {civility}{first} {birth}{usage}"));
    }
    if let Some(date) = text("birth_date").and_then(|d| crate::domain::date::CalendarDate::parse(d, "").ok()) {
        parts.push(format!("né(e) le {}", date.french()));
    }
    if let Some(email) = text("email") {
        parts.push(format!("adresse saisie {email}"));
    }
    let mut words = parts.join(", ");
    if let Some(message) = text("message") {
        if !words.is_empty() {
            words += ". ";
        }
        words += &format!("Message : « {message} »");
    }
    words
}

/// Merges waiting for a second staff member's approval, oldest first.
async fn proposals(db: &Db) -> Result<Vec<MergeProposalItem>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kept_id: String,
        closed_id: String,
        proposed_by: String,
        reason: String,
        proposed_at: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.kept_id, p.closed_id, s.display_name AS proposed_by, p.reason, p.proposed_at FROM merge_proposals p \
         JOIN users s ON s.id = p.proposed_by WHERE p.status = 'en_attente' ORDER BY p.proposed_at LIMIT 100",
    )
    .fetch_all(db.pool())
    .await?;
    let mut conn = db.pool().acquire().await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        // A proposal whose accounts were merged since (the other way round) is moot.
        if let (Some((kept, false)), Some((closed, false))) =
            (beneficiary(&mut conn, &row.kept_id).await?, beneficiary(&mut conn, &row.closed_id).await?)
        {
            items.push(MergeProposalItem { kept, closed, proposed_by: row.proposed_by, reason: row.reason, proposed_at: row.proposed_at });
        }
    }
    Ok(items)
}

/// Whether the two accounts are one person on paper: the same identity key (folded names and
/// birth date) and no two different NIRs. Otherwise a merge needs four eyes.
async fn same_identity(conn: &mut sqlx::AnyConnection, kept: &str, closed: &str) -> Result<bool, sqlx::Error> {
    let ids: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT identity_key, nir_hash FROM users WHERE id IN ($1, $2)").bind(kept).bind(closed).fetch_all(&mut *conn).await?;
    Ok(match ids.as_slice() {
        [(Some(key_a), nir_a), (Some(key_b), nir_b)] => key_a == key_b && !matches!((nir_a, nir_b), (Some(a), Some(b)) if a != b),
        _ => false,
    })
}

/// The pending proposal to merge `closed` into `kept`: its id, who proposed it (id and name),
/// why, when, and for which merge request.
#[derive(sqlx::FromRow)]
struct Proposal {
    id: String,
    proposed_by: String,
    proposer_name: String,
    reason: String,
    proposed_at: i64,
    request_id: Option<String>,
}

async fn pending(conn: &mut sqlx::AnyConnection, kept: &str, closed: &str) -> Result<Option<Proposal>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.proposed_by, s.display_name AS proposer_name, p.reason, p.proposed_at, p.request_id FROM merge_proposals p \
         JOIN users s ON s.id = p.proposed_by WHERE p.kept_id = $1 AND p.closed_id = $2 AND p.status = 'en_attente'",
    )
    .bind(kept)
    .bind(closed)
    .fetch_optional(&mut *conn)
    .await
}

/// Where the four eyes of a merge stand, for `me`, with the pending proposal if there is one.
async fn approval(conn: &mut sqlx::AnyConnection, me: &SessionUser, kept: &str, closed: &str) -> Result<(Approval, Option<Proposal>), sqlx::Error> {
    if same_identity(conn, kept, closed).await? {
        return Ok((Approval::NotNeeded, None));
    }
    let proposal = pending(conn, kept, closed).await?;
    let approval = match &proposal {
        None => Approval::ToPropose,
        Some(p) if p.proposed_by == me.user_id => Approval::ProposedByMe { at: p.proposed_at },
        Some(p) => Approval::ToApprove { by: p.proposer_name.clone(), reason: p.reason.clone(), at: p.proposed_at },
    };
    Ok((approval, proposal))
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
    let (approval, _) = approval(&mut conn, me, kept, closed).await?;
    Ok(MergePlan { kept: kept_account, closed: closed_account, moves, warnings, approval })
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
    // Four eyes: two accounts that are not one person on paper are merged by a second staff
    // member, after a first one proposed it.
    let mut request = request.to_string();
    let mut proposed_by = None;
    let (approval, proposal) = approval(&mut tx, me, kept, closed).await?;
    match (approval, proposal) {
        (Approval::NotNeeded, _) => {}
        (Approval::ToPropose, _) => {
            sqlx::query(
                "INSERT INTO merge_proposals (id, kept_id, closed_id, request_id, reason, proposed_by, proposed_at, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'en_attente')",
            )
            .bind(new_id())
            .bind(kept)
            .bind(closed)
            .bind(Some(request.as_str()).filter(|r| !r.is_empty()))
            .bind(&reason)
            .bind(&me.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail =
                format!("{} ({}) à fusionner dans {} ({})", closed_account.name, closed_account.email, kept_account.name, kept_account.email);
            audit::record(&mut tx, &me.user_id, Some(kept), "fusion_proposee", &reason, &detail).await?;
            audit::record(&mut tx, &me.user_id, Some(closed), "fusion_proposee", &reason, &detail).await?;
            tx.commit().await?;
            return Ok(
                "La fusion est proposée. Ces deux comptes ne portent pas la même identité : un second membre du personnel doit l'approuver depuis la file des doublons. Rien ne change d'ici là.".into(),
            );
        }
        (Approval::ProposedByMe { .. }, _) => {
            return Err(AppError::Conflict("Vous avez proposé cette fusion : un autre membre du personnel doit l'approuver.".into()));
        }
        (Approval::ToApprove { by, .. }, proposal) => {
            let proposal = proposal.ok_or_else(already_merged)?;
            let approved = sqlx::query(
                "UPDATE merge_proposals SET status = 'approuvee', approved_by = $1, approved_at = $2 WHERE id = $3 AND status = 'en_attente'",
            )
            .bind(&me.user_id)
            .bind(now)
            .bind(&proposal.id)
            .execute(&mut *tx)
            .await?;
            if approved.rows_affected() != 1 {
                return Err(already_merged());
            }
            if request.is_empty() {
                request = proposal.request_id.unwrap_or_default();
            }
            proposed_by = Some(by);
        }
    }
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
        sqlx::query("UPDATE merge_requests SET status = 'merged' WHERE id = $1 AND status = 'open'").bind(&request).execute(&mut *tx).await?;
    }
    let mut detail = format!("{} ({}) fusionné dans {} ({})", closed_account.name, closed_account.email, kept_account.name, kept_account.email);
    if let Some(by) = proposed_by {
        detail += &format!(", fusion proposée par {by}");
    }
    audit::record(&mut tx, &me.user_id, Some(kept), "fusionner", &reason, &detail).await?;
    audit::record(&mut tx, &me.user_id, Some(closed), "fusionner", &reason, &detail).await?;
    outbox::enqueue(&mut tx, &merged_email(&state.config.base_url, &kept_account.email, &closed_account.email)).await?;
    // The closed account's owner is told too, at its own address: if it was not the same person,
    // they learn of it.
    outbox::enqueue(&mut tx, &closed_email(&state.config.base_url, &closed_account.email, &kept_account.email)).await?;
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

fn closed_email(base_url: &str, to: &str, kept_email: &str) -> OutgoingEmail {
    let masked = Email::parse(kept_email).map(|e| e.masked()).unwrap_or_default();
    crate::account::emails::build(
        to,
        "Votre compte Passerelle est regroupé avec un autre",
        &[
            format!("Un conseiller a regroupé ce compte avec votre autre compte ({masked}) : vos messages, vos documents et votre projet y sont maintenant réunis."),
            "Ce compte-ci est fermé ; connectez-vous désormais avec l'autre adresse.".to_string(),
        ],
        Some(("Me connecter", &format!("{base_url}/connexion"))),
        "Vous recevez ce courriel parce qu'un conseiller a regroupé deux comptes à votre nom. Si vous n'avez pas d'autre compte Passerelle, contactez-nous sans attendre.",
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

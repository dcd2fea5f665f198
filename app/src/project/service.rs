//! Projects in the database. Every change of state is a conditional UPDATE on the state read,
//! so two people acting at once cannot both succeed; every transition writes its event and its
//! email in the same transaction.

use super::fields::{self, Draft};
use super::{ProjectEvent, ProjectState, ProjectSummary, ProjectView, Saved, Transition};
use crate::account::SessionUser;
use crate::db::{new_id, now_ms, Db};
use crate::error::AppError;
use crate::mail::outbox;
use crate::state::AppState;

/// Longest reason or request text accepted.
pub const REASON_MAX: usize = 2000;

/// The draft column (JSON text) as read into a row. Text that does not parse is an error
/// (logged, "problème passager"), never an empty project that a save would then write over.
struct StoredDraft(Draft);

impl TryFrom<String> for StoredDraft {
    type Error = serde_json::Error;
    fn try_from(json: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&json).map(StoredDraft)
    }
}

fn locked_message(state: ProjectState) -> String {
    match state {
        ProjectState::Accepted | ProjectState::Refused => "Une décision a été prise sur ce projet : il ne peut plus être modifié.".into(),
        _ => "Ce projet a été soumis : il est verrouillé pendant son examen. Demandez sa réouverture à votre conseiller pour le modifier.".into(),
    }
}

/// Creates the beneficiary's empty project if it does not exist yet.
async fn ensure(db: &Db, owner_id: &str) -> Result<(), AppError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO projects (id, beneficiary_id, state, version, draft, created_at, updated_at) \
         VALUES ($1, $2, 'brouillon', 0, '{}', $3, $3) ON CONFLICT (beneficiary_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(owner_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn mine(db: &Db, user: &SessionUser) -> Result<ProjectView, AppError> {
    ensure(db, &user.user_id).await?;
    let id: String = sqlx::query_scalar("SELECT id FROM projects WHERE beneficiary_id = $1").bind(&user.user_id).fetch_one(db.pool()).await?;
    view(db, &id).await
}

/// A project with its history; `NotFound` for an unknown id.
pub async fn view(db: &Db, id: &str) -> Result<ProjectView, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        owner_id: String,
        owner_name: String,
        #[sqlx(try_from = "String")]
        state: ProjectState,
        version: i64,
        #[sqlx(try_from = "String")]
        draft: StoredDraft,
        updated_at: i64,
        submitted_at: Option<i64>,
        reopen_requested_at: Option<i64>,
    }
    let row: Row = sqlx::query_as(
        "SELECT p.id, p.beneficiary_id AS owner_id, u.display_name AS owner_name, p.state, p.version, p.draft, p.updated_at, \
         p.submitted_at, p.reopen_requested_at FROM projects p JOIN users u ON u.id = p.beneficiary_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let events: Vec<ProjectEvent> = sqlx::query_as(
        "SELECT e.created_at AS at, e.kind, e.reason, u.display_name AS actor_name, u.role AS actor_role FROM project_events e \
         JOIN users u ON u.id = e.actor_id WHERE e.project_id = $1 ORDER BY e.created_at, e.id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(ProjectView {
        id: row.id,
        owner_id: row.owner_id,
        owner_name: row.owner_name,
        state: row.state,
        version: row.version,
        draft: row.draft.0,
        updated_at: row.updated_at,
        submitted_at: row.submitted_at,
        reopen_requested_at: row.reopen_requested_at,
        events,
    })
}

/// Refuses unknown fields and over-long answers (the page never sends them) and drops empty ones.
fn checked(draft: Draft) -> Result<Draft, AppError> {
    let mut errors = Vec::new();
    for (key, value) in &draft {
        match fields::find(key) {
            None => return Err(AppError::BadRequest),
            Some(field) if value.chars().count() > fields::max_len(field.kind) => {
                errors.push((key.clone(), format!("Ce texte dépasse {} caractères : raccourcissez-le.", fields::max_len(field.kind))))
            }
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(fields::normalized(draft))
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Saves the text if the project is editable and still at `base_version`. Saving the text the
/// project already holds succeeds whatever the version (a repeated save is harmless).
pub async fn save(db: &Db, user: &SessionUser, base_version: i64, draft: Draft) -> Result<Saved, AppError> {
    let draft = checked(draft)?;
    let json = serde_json::to_string(&draft).map_err(|e| AppError::internal("projects: draft", e))?;
    for attempt in 0..2 {
        let now = now_ms();
        let updated = sqlx::query(
            "UPDATE projects SET draft = $1, version = version + 1, updated_at = $2 \
             WHERE beneficiary_id = $3 AND version = $4 AND state IN ('brouillon', 'rouvert')",
        )
        .bind(&json)
        .bind(now)
        .bind(&user.user_id)
        .bind(base_version)
        .execute(db.pool())
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(Saved { version: base_version + 1, saved_at: now });
        }
        #[derive(sqlx::FromRow)]
        struct Stored {
            #[sqlx(try_from = "String")]
            state: ProjectState,
            version: i64,
            #[sqlx(try_from = "String")]
            draft: StoredDraft,
            updated_at: i64,
        }
        let row: Option<Stored> = sqlx::query_as("SELECT state, version, draft, updated_at FROM projects WHERE beneficiary_id = $1")
            .bind(&user.user_id)
            .fetch_optional(db.pool())
            .await?;
        let Some(row) = row else {
            if attempt == 0 {
                ensure(db, &user.user_id).await?;
                continue;
            }
            return Err(AppError::NotFound);
        };
        if !row.state.editable() {
            return Err(AppError::Conflict(locked_message(row.state)));
        }
        if row.draft.0 == draft {
            return Ok(Saved { version: row.version, saved_at: row.updated_at });
        }
        metrics::counter!("passerelle_autosave_conflicts_total").increment(1);
        return Err(AppError::Stale);
    }
    Err(AppError::internal("the project save", "the project's version kept changing while it was saved"))
}

#[derive(sqlx::FromRow)]
struct Locked {
    id: String,
    #[sqlx(try_from = "String")]
    state: ProjectState,
    version: i64,
    #[sqlx(try_from = "String")]
    draft: StoredDraft,
    owner_id: String,
    owner_name: String,
    owner_email: String,
    referent_email: Option<String>,
}

/// Which project [`load`] reads: its owner's, or the one with this id. The SQL condition comes
/// from this enum, never from a caller's string.
enum ProjectOf<'a> {
    Owner(&'a str),
    Id(&'a str),
}

async fn load(conn: &mut sqlx::AnyConnection, which: ProjectOf<'_>) -> Result<Option<Locked>, AppError> {
    const SELECT: &str = "SELECT p.id, p.state, p.version, p.draft, p.beneficiary_id AS owner_id, u.display_name AS owner_name, \
         u.email AS owner_email, r.email AS referent_email \
         FROM projects p JOIN users u ON u.id = p.beneficiary_id LEFT JOIN users r ON r.id = u.referent_id";
    let (condition, value) = match which {
        ProjectOf::Owner(user_id) => ("p.beneficiary_id", user_id),
        ProjectOf::Id(id) => ("p.id", id),
    };
    Ok(sqlx::query_as(&format!("{SELECT} WHERE {condition} = $1")).bind(value).fetch_optional(&mut *conn).await?)
}

async fn record_event(
    conn: &mut sqlx::AnyConnection,
    project: &Locked,
    actor_id: &str,
    kind: &str,
    to: ProjectState,
    reason: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO project_events (id, project_id, actor_id, kind, from_state, to_state, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(&project.id)
    .bind(actor_id)
    .bind(kind)
    .bind(project.state.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the project from `project.state` to `to`, if neither its state nor its text changed
/// since it was read; `false` when someone changed it meanwhile. A submission records its time.
async fn move_state(conn: &mut sqlx::AnyConnection, project: &Locked, to: ProjectState, now: i64) -> Result<bool, AppError> {
    let submitted = (to == ProjectState::Submitted).then_some(now);
    let updated = sqlx::query(
        "UPDATE projects SET state = $1, updated_at = $2, submitted_at = COALESCE($3, submitted_at), \
         reopen_requested_at = NULL WHERE id = $4 AND state = $5 AND version = $6",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(submitted)
    .bind(&project.id)
    .bind(project.state.as_str())
    .bind(project.version)
    .execute(&mut *conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

fn changed_meanwhile() -> AppError {
    AppError::Conflict("Ce projet vient d'être modifié par quelqu'un d'autre : rechargez la page pour voir son état actuel.".into())
}

pub async fn submit(state: &AppState, user: &SessionUser, version: i64) -> Result<(), AppError> {
    ensure(&state.db, &user.user_id).await?;
    let mut tx = state.db.begin_write().await?;
    let project = load(&mut tx, ProjectOf::Owner(&user.user_id)).await?.ok_or(AppError::NotFound)?;
    let Some(to) = project.state.after(Transition::Submit) else {
        return Err(AppError::Conflict(locked_message(project.state)));
    };
    if project.version != version {
        return Err(AppError::Conflict(
            "Votre projet a changé depuis l'affichage de ce récapitulatif : relisez-le puis soumettez-le de nouveau.".into(),
        ));
    }
    let problems = fields::problems(&project.draft.0);
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let now = now_ms();
    if !move_state(&mut tx, &project, to, now).await? {
        return Err(changed_meanwhile());
    }
    record_event(&mut tx, &project, &user.user_id, Transition::Submit.as_str(), to, None, now).await?;
    if let Some(referent) = &project.referent_email {
        let email = super::emails::to_referent(&state.config.base_url, referent, &project.owner_name, "soumettre", &project.id);
        outbox::enqueue(&mut tx, &email).await?;
    }
    tx.commit().await?;
    tracing::info!(project = %project.id, "project submitted");
    Ok(())
}

fn reason_of(field: &str, text: &str, required: bool, missing: &str) -> Result<Option<String>, AppError> {
    crate::forms::text_of(field, text, required, missing, REASON_MAX)
}

pub async fn request_reopening(state: &AppState, user: &SessionUser, message: &str) -> Result<(), AppError> {
    let message = reason_of("message", message, false, "")?;
    let mut tx = state.db.begin_write().await?;
    let project = load(&mut tx, ProjectOf::Owner(&user.user_id)).await?.ok_or(AppError::NotFound)?;
    match project.state {
        ProjectState::Submitted | ProjectState::UnderReview => {}
        ProjectState::Draft | ProjectState::Reopened => {
            return Err(AppError::Conflict("Votre projet n'est pas verrouillé : vous pouvez le modifier directement.".into()))
        }
        ProjectState::Accepted | ProjectState::Refused => {
            return Err(AppError::Conflict("Une décision a été prise sur ce projet : écrivez à votre conseiller pour en parler.".into()))
        }
    }
    let now = now_ms();
    sqlx::query("UPDATE projects SET reopen_requested_at = $1 WHERE id = $2").bind(now).bind(&project.id).execute(&mut *tx).await?;
    record_event(&mut tx, &project, &user.user_id, "reouverture_demandee", project.state, message.as_deref(), now).await?;
    if let Some(referent) = &project.referent_email {
        let email = super::emails::to_referent(&state.config.base_url, referent, &project.owner_name, "reouverture_demandee", &project.id);
        outbox::enqueue(&mut tx, &email).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn staff_transition(state: &AppState, staff: &SessionUser, id: &str, transition: Transition, reason: &str) -> Result<(), AppError> {
    let missing = match transition {
        Transition::Reopen => "Indiquez la raison de la réouverture : elle sera montrée à la personne.",
        _ => "Indiquez la raison de la décision : elle sera montrée à la personne.",
    };
    let reason = reason_of("reason", reason, transition.needs_reason(), missing)?;
    let owner: String = sqlx::query_scalar("SELECT beneficiary_id FROM projects WHERE id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    crate::dashboard::scope::reach(&state.db, staff, &owner, None).await?;
    let mut tx = state.db.begin_write().await?;
    let project = load(&mut tx, ProjectOf::Id(id)).await?.ok_or(AppError::NotFound)?;
    let Some(to) = project.state.after(transition) else {
        return Err(AppError::Conflict(format!("Cette action n'est pas possible : le projet est « {} ».", project.state.label())));
    };
    let now = now_ms();
    if !move_state(&mut tx, &project, to, now).await? {
        return Err(changed_meanwhile());
    }
    record_event(&mut tx, &project, &staff.user_id, transition.as_str(), to, reason.as_deref(), now).await?;
    let detail = format!("{} → {}", project.state.label(), to.label());
    crate::dashboard::audit::record(&mut tx, &staff.user_id, Some(&project.owner_id), transition.as_str(), reason.as_deref().unwrap_or(""), &detail)
        .await?;
    let email = super::emails::to_beneficiary(&state.config.base_url, &project.owner_email, transition.as_str());
    outbox::enqueue(&mut tx, &email).await?;
    tx.commit().await?;
    tracing::info!(project = %project.id, owner = %project.owner_id, transition = transition.as_str(), "project transition");
    Ok(())
}

pub async fn list(db: &Db, staff: &SessionUser) -> Result<Vec<ProjectSummary>, AppError> {
    let mut binds = crate::db::Binds::default();
    let scope = crate::dashboard::scope::search_filter(db, staff, &mut binds).await?;
    let sql = format!(
        "SELECT p.id, u.display_name AS owner_name, p.state, p.updated_at, p.submitted_at, p.reopen_requested_at \
         FROM projects p JOIN users u ON u.id = p.beneficiary_id WHERE 1 = 1{scope} \
         ORDER BY CASE p.state WHEN 'soumis' THEN 0 WHEN 'en_instruction' THEN 1 WHEN 'rouvert' THEN 2 \
         WHEN 'brouillon' THEN 3 ELSE 4 END, p.updated_at DESC LIMIT 200"
    );
    let mut query = sqlx::query_as(&sql);
    for value in &binds.0 {
        query = query.bind(value);
    }
    Ok(query.fetch_all(db.pool()).await?)
}

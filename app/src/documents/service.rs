//! Documents in the database and the file store. A file is put in the store first, then its row
//! is written; if the row cannot be written the file is removed, so neither an orphan file nor a
//! row without its file is left.

use super::files::{Received, Upload};
use super::{Category, DocumentItem, DocumentsView, RequestItem};
use crate::account::{Role, SessionUser};
use crate::db::{new_id, now_ms, Db};
use crate::domain::date::CalendarDate;
use crate::error::AppError;
use crate::mail::outbox;
use crate::state::AppState;

/// Longest note of a document request.
pub const NOTE_MAX: usize = 1000;

/// A beneficiary as staff actions need them: refused (not found) for any other kind of account.
#[derive(sqlx::FromRow)]
pub struct Beneficiary {
    pub id: String,
    pub name: String,
    pub email: String,
}

pub async fn beneficiary(db: &Db, id: &str) -> Result<Beneficiary, AppError> {
    sqlx::query_as("SELECT id, display_name AS name, email FROM users WHERE id = $1 AND role = 'beneficiary'")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn view(state: &AppState, beneficiary_id: &str) -> Result<DocumentsView, AppError> {
    let db = &state.db;
    let owner = beneficiary(db, beneficiary_id).await?;
    let documents: Vec<DocumentRow> = sqlx::query_as(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents d JOIN users u ON u.id = d.uploaded_by \
         WHERE d.beneficiary_id = $1 AND d.message_id IS NULL ORDER BY d.created_at DESC, d.id"
    ))
    .bind(beneficiary_id)
    .fetch_all(db.pool())
    .await?;
    #[derive(sqlx::FromRow)]
    struct Request {
        id: String,
        #[sqlx(try_from = "String")]
        category: Category,
        note: String,
        due_date: Option<String>,
        #[sqlx(try_from = "String")]
        status: RequestStatus,
        requested_by_name: String,
        created_at: i64,
    }
    let rows: Vec<Request> = sqlx::query_as(
        "SELECT r.id, r.category, r.note, r.due_date, r.status, r.created_at, u.display_name AS requested_by_name \
         FROM document_requests r JOIN users u ON u.id = r.requested_by \
         WHERE r.beneficiary_id = $1 ORDER BY CASE WHEN r.status = 'demandee' THEN 0 ELSE 1 END, r.created_at DESC",
    )
    .bind(beneficiary_id)
    .fetch_all(db.pool())
    .await?;
    let requests = rows
        .into_iter()
        .map(|r| RequestItem {
            received: r.status == RequestStatus::Received,
            id: r.id,
            category: r.category,
            note: r.note,
            due_date: r.due_date,
            requested_by_name: r.requested_by_name,
            created_at: r.created_at,
        })
        .collect();
    Ok(DocumentsView {
        beneficiary_id: owner.id,
        beneficiary_name: owner.name,
        documents: documents.into_iter().map(DocumentItem::from).collect(),
        requests,
        used_bytes: used_bytes(&mut *db.pool().acquire().await?, beneficiary_id).await?,
        quota_bytes: state.config.storage_quota_bytes,
    })
}

text_enum! {
    /// Where a document request is (its `status` column).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum RequestStatus {
        Requested = "demandee",
        Received = "recue",
    }
}

/// The columns a [`DocumentRow`] reads: a document `d` joined with its uploader `u`.
pub const DOCUMENT_COLUMNS: &str = "d.id, d.message_id, d.category, d.file_name, d.content_type, d.size_bytes, d.created_at, \
     u.display_name AS uploaded_by_name, u.role AS uploader_role";

/// A document row joined with its uploader.
#[derive(sqlx::FromRow)]
pub struct DocumentRow {
    pub id: String,
    /// The message it is attached to, if any.
    pub message_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by_name: String,
    #[sqlx(try_from = "String")]
    pub uploader_role: Role,
    pub created_at: i64,
}

impl From<DocumentRow> for DocumentItem {
    fn from(row: DocumentRow) -> Self {
        DocumentItem {
            id: row.id,
            category: row.category,
            file_name: row.file_name,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            uploaded_by_name: row.uploaded_by_name,
            from_staff: row.uploader_role != Role::Beneficiary,
            created_at: row.created_at,
        }
    }
}

/// Puts every upload in the file store; if one fails, removes those already put. The keys, in
/// the order of `uploads`.
pub async fn put_all(state: &AppState, uploads: &[&Upload]) -> Result<Vec<String>, AppError> {
    let mut keys = Vec::new();
    for upload in uploads {
        let key = format!("documents/{}", uuid::Uuid::new_v4());
        if let Err(e) = state.storage.put(&key, upload.bytes.clone()).await {
            remove_all(state, &keys).await;
            return Err(AppError::internal("documents: file store", e));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Removes files whose rows could not be written.
pub async fn remove_all(state: &AppState, keys: &[String]) {
    for key in keys {
        if let Err(e) = state.storage.delete(key).await {
            tracing::error!(error = %e, %key, "cannot remove a file whose row was not written");
        }
    }
}

/// What a document row says besides its file.
pub struct NewDocument<'a> {
    pub beneficiary_id: &'a str,
    pub uploaded_by: &'a str,
    pub category: Category,
    pub message_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

pub async fn insert(conn: &mut sqlx::AnyConnection, doc: &NewDocument<'_>, upload: &Upload, key: &str, now: i64) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO documents (id, beneficiary_id, uploaded_by, category, file_name, content_type, size_bytes, storage_key, message_id, request_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(doc.beneficiary_id)
    .bind(doc.uploaded_by)
    .bind(doc.category.as_str())
    .bind(&upload.file_name)
    .bind(upload.kind.content_type())
    .bind(upload.bytes.len() as i64)
    .bind(key)
    .bind(doc.message_id)
    .bind(doc.request_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// What `owner`'s documents and attachments take, in bytes.
async fn used_bytes(conn: &mut sqlx::AnyConnection, owner: &str) -> Result<i64, sqlx::Error> {
    // SUM is NUMERIC on PostgreSQL: cast back to an integer on both.
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM documents WHERE beneficiary_id = $1")
        .bind(owner)
        .fetch_one(&mut *conn)
        .await
}

/// Refuses `adding` more bytes for `owner` beyond the quota (`storage.quota_per_person_mb`), in
/// the caller's write transaction, before it writes anything: the owner's row is locked first
/// (PostgreSQL; SQLite's write transaction is already exclusive), so uploads sent at once never
/// pass the quota together.
pub async fn within_quota(tx: &mut sqlx::AnyConnection, state: &AppState, owner: &str, by_owner: bool, adding: i64) -> Result<(), AppError> {
    if state.db.backend() == crate::db::Backend::Postgres {
        // NO KEY UPDATE: one upload at a time per owner, without blocking rows that merely
        // reference the owner (a thread, a message).
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE").bind(owner).fetch_optional(&mut *tx).await?;
    }
    let used = used_bytes(tx, owner).await?;
    let quota = state.config.storage_quota_bytes;
    if used.saturating_add(adding) <= quota {
        return Ok(());
    }
    let (used, quota) = (super::files::human_size(used), super::files::human_size(quota));
    Err(AppError::invalid(
        "file",
        match by_owner {
            true => format!("Votre espace de documents est plein ({used} utilisés sur {quota}) : ce fichier n'y tient pas. Écrivez à votre conseiller pour faire de la place."),
            false => format!("L'espace de documents de cette personne est plein ({used} utilisés sur {quota}) : ce fichier n'y tient pas."),
        },
    ))
}

/// Files one uploaded document for `beneficiary_id` (the caller's own file, or staff posting
/// to a beneficiary); answers a request when `request_id` names an open one of theirs.
pub async fn upload(state: &AppState, actor: &SessionUser, beneficiary_id: &str, received: Received) -> Result<String, AppError> {
    let owner = beneficiary(&state.db, beneficiary_id).await?;
    crate::dashboard::scope::reach(&state.db, actor, beneficiary_id, None).await?;
    let mut errors = Vec::new();
    let category = Category::parse(&received.field("category"));
    if category.is_none() {
        errors.push(("category".to_string(), "Choisissez le type de document.".to_string()));
    }
    for problem in &received.problems {
        errors.push(("file".to_string(), problem.clone()));
    }
    if received.files.is_empty() && received.problems.is_empty() {
        errors.push(("file".to_string(), "Choisissez un fichier PDF, JPEG ou PNG de 10 Mo au plus.".to_string()));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (category, upload) = (category.unwrap_or(Category::Other), &received.files[0].1);
    let request_id = Some(received.field("request_id")).filter(|r| !r.is_empty());
    let keys = put_all(state, &[upload]).await?;
    let result = async {
        let mut tx = state.db.begin_write().await?;
        within_quota(&mut tx, state, &owner.id, actor.user_id == owner.id, upload.bytes.len() as i64).await?;
        let now = now_ms();
        if let Some(request_id) = &request_id {
            let answered = sqlx::query(
                "UPDATE document_requests SET status = 'recue', fulfilled_at = $1 WHERE id = $2 AND beneficiary_id = $3 AND status = 'demandee'",
            )
            .bind(now)
            .bind(request_id)
            .bind(&owner.id)
            .execute(&mut *tx)
            .await?;
            if answered.rows_affected() != 1 {
                return Err(AppError::Conflict("Cette demande de document n'existe pas ou a déjà reçu sa réponse : rechargez la page.".into()));
            }
        }
        let doc =
            NewDocument { beneficiary_id: &owner.id, uploaded_by: &actor.user_id, category, message_id: None, request_id: request_id.as_deref() };
        let id = insert(&mut tx, &doc, upload, &keys[0], now).await?;
        if actor.role != Role::Beneficiary {
            let email = super::emails::posted(&state.config.base_url, &owner.email);
            outbox::enqueue(&mut tx, &email).await?;
        }
        tx.commit().await?;
        Ok(id)
    }
    .await;
    if result.is_err() {
        remove_all(state, &keys).await;
    }
    result
}

/// Staff ask a beneficiary for a document; the beneficiary is told by email.
pub async fn request(
    state: &AppState,
    staff: &SessionUser,
    beneficiary_id: &str,
    category: &str,
    note: &str,
    due_date: &str,
) -> Result<String, AppError> {
    let owner = beneficiary(&state.db, beneficiary_id).await?;
    crate::dashboard::scope::reach(&state.db, staff, beneficiary_id, None).await?;
    let mut errors = Vec::new();
    let category = Category::parse(category);
    if category.is_none() {
        errors.push(("category".to_string(), "Choisissez le type de document demandé.".to_string()));
    }
    let note = crate::forms::text_into(&mut errors, "note", note, false, "", NOTE_MAX);
    let due = if due_date.trim().is_empty() {
        None
    } else {
        match CalendarDate::parse(due_date, "") {
            Ok(date) => Some(date.iso()),
            Err(message) => {
                errors.push(("due_date".to_string(), message.to_string()));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let category = category.unwrap_or(Category::Other);
    let id = new_id();
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO document_requests (id, beneficiary_id, requested_by, category, note, due_date, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'demandee', $7)",
    )
    .bind(&id)
    .bind(&owner.id)
    .bind(&staff.user_id)
    .bind(category.as_str())
    .bind(&note)
    .bind(&due)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let email = super::emails::requested(&state.config.base_url, &owner.email, category, due.as_deref());
    outbox::enqueue(&mut tx, &email).await?;
    tx.commit().await?;
    Ok(id)
}

/// A stored file and who may have it.
#[derive(sqlx::FromRow)]
pub struct StoredFile {
    pub beneficiary_id: String,
    pub file_name: String,
    pub content_type: String,
    pub storage_key: String,
    /// The service of the thread the file was attached to, if it came with a message to one.
    pub service_id: Option<String>,
}

pub async fn stored_file(db: &Db, id: &str) -> Result<Option<StoredFile>, AppError> {
    Ok(sqlx::query_as(
        "SELECT d.beneficiary_id, d.file_name, d.content_type, d.storage_key, t.service_id FROM documents d \
         LEFT JOIN messages m ON m.id = d.message_id LEFT JOIN threads t ON t.id = m.thread_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

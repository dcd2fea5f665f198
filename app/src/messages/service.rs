//! Threads and messages in the database. A message and its attachments are written in one
//! transaction, after the files were stored; if it fails, the files are removed.

use super::emails::Audience;
use super::{Inbox, MessageItem, ThreadSummary, ThreadView, BODY_MAX, REFERENT_LABEL, SUBJECT_MAX};
use crate::account::{Role, SessionUser};
use crate::db::{new_id, now_ms, Db};
use crate::documents::files::Received;
use crate::documents::service::{insert, put_all, remove_all, DocumentRow, NewDocument, DOCUMENT_COLUMNS};
use crate::documents::{Category, DocumentItem};
use crate::error::AppError;
use crate::forms::text_into;
use crate::mail::outbox;
use crate::state::AppState;

/// Unread messages of a thread for `$1` (the reader): written by someone else after their last read.
const UNREAD: &str = "(SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id AND m.author_id <> $1 \
     AND m.created_at > COALESCE((SELECT r.last_read_at FROM thread_reads r WHERE r.thread_id = t.id AND r.user_id = $1), 0))";

/// The [`ThreadSummary`] rows that match `filter` (SQL written here, never a caller's text).
fn threads_query(filter: &str, order: &str) -> String {
    let referent = REFERENT_LABEL.replace('\'', "''");
    format!(
        "SELECT t.id, t.subject, t.last_message_at, u.display_name AS beneficiary_name, \
         COALESCE(s.name, '{referent}') AS with_label, {UNREAD} AS unread \
         FROM threads t JOIN users u ON u.id = t.beneficiary_id LEFT JOIN services s ON s.id = t.service_id \
         WHERE {filter} ORDER BY {order}"
    )
}

pub async fn inbox(db: &Db, user: &SessionUser) -> Result<Inbox, AppError> {
    let threads =
        sqlx::query_as(&threads_query("t.beneficiary_id = $1", "t.last_message_at DESC, t.id")).bind(&user.user_id).fetch_all(db.pool()).await?;
    let services = sqlx::query_as("SELECT slug, name FROM services WHERE active = 1 ORDER BY name").fetch_all(db.pool()).await?;
    Ok(Inbox { viewer_id: user.user_id.clone(), threads, services })
}

/// The threads a staff member answers (`$1`): those of the people they are the referent of, of
/// the people with no referent yet, and those written to their services. Administrators list
/// every thread; opening one outside their scope asks for the reason of an exceptional access.
fn assigned(staff: &SessionUser) -> &'static str {
    match staff.role {
        Role::Admin => "1 = 1",
        _ => {
            "((t.service_id IS NULL AND (u.referent_id = $1 OR u.referent_id IS NULL)) \
              OR t.service_id IN (SELECT ss.service_id FROM staff_services ss WHERE ss.user_id = $1))"
        }
    }
}

/// The threads assigned to a staff member, unread first, then the most recent.
pub async fn staff_inbox(db: &Db, staff: &SessionUser) -> Result<Vec<ThreadSummary>, AppError> {
    let query = threads_query(assigned(staff), &format!("CASE WHEN {UNREAD} > 0 THEN 0 ELSE 1 END, t.last_message_at DESC, t.id"));
    Ok(sqlx::query_as(&query).bind(&staff.user_id).fetch_all(db.pool()).await?)
}

/// Unread messages for the header: in the beneficiary's threads, or in the threads assigned to
/// a staff member.
pub async fn unread_count(db: &Db, user: &SessionUser) -> Result<i64, AppError> {
    let filter = if user.role == Role::Beneficiary { "t.beneficiary_id = $1" } else { assigned(user) };
    // SUM of counts is NUMERIC on PostgreSQL: cast back to an integer on both.
    let query = format!("SELECT CAST(COALESCE(SUM({UNREAD}), 0) AS BIGINT) FROM threads t JOIN users u ON u.id = t.beneficiary_id WHERE {filter}");
    let count: i64 = sqlx::query_scalar(&query).bind(&user.user_id).fetch_one(db.pool()).await?;
    Ok(count)
}

/// What a thread is about and whose it is.
#[derive(sqlx::FromRow)]
struct ThreadHead {
    beneficiary_id: String,
    beneficiary_name: String,
    beneficiary_email: String,
    subject: String,
    /// `None` for a thread with the referent advisor.
    service_id: Option<String>,
    service_name: Option<String>,
}

/// The thread if the caller may see it: its beneficiary, or staff who reach the person for this
/// thread (`scope::reach`), with why. Anyone else gets the same "not found" as for a thread
/// that does not exist.
async fn visible(db: &Db, user: &SessionUser, id: &str) -> Result<(ThreadHead, crate::dashboard::scope::Reach), AppError> {
    let head: ThreadHead = sqlx::query_as(
        "SELECT t.beneficiary_id, u.display_name AS beneficiary_name, u.email AS beneficiary_email, t.subject, \
         s.name AS service_name, t.service_id \
         FROM threads t JOIN users u ON u.id = t.beneficiary_id LEFT JOIN services s ON s.id = t.service_id WHERE t.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let reach = crate::dashboard::scope::reach(db, user, &head.beneficiary_id, head.service_id.as_deref()).await?;
    Ok((head, reach))
}

pub async fn read(db: &Db, user: &SessionUser, id: &str) -> Result<ThreadView, AppError> {
    let (ThreadHead { beneficiary_id, beneficiary_name, subject, service_name, .. }, reach) = visible(db, user, id).await?;
    crate::dashboard::audit::read(db, user, Some(&beneficiary_id), crate::dashboard::audit::Read::Thread, reach.reason(), &subject).await?;
    #[derive(sqlx::FromRow)]
    struct Message {
        id: String,
        author_id: String,
        body: String,
        created_at: i64,
        author_name: String,
        #[sqlx(try_from = "String")]
        author_role: Role,
    }
    let rows: Vec<Message> = sqlx::query_as(
        "SELECT m.id, m.author_id, m.body, m.created_at, u.display_name AS author_name, u.role AS author_role \
         FROM messages m JOIN users u ON u.id = m.author_id \
         WHERE m.thread_id = $1 ORDER BY m.created_at, m.id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let attachments: Vec<DocumentRow> = sqlx::query_as(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents d JOIN messages m ON m.id = d.message_id JOIN users u ON u.id = d.uploaded_by \
         WHERE m.thread_id = $1 ORDER BY d.created_at, d.file_name"
    ))
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let last = rows.iter().map(|r| r.created_at).max().unwrap_or(0);
    let mut attachments = attachments;
    let messages = rows
        .into_iter()
        .map(|r| {
            let (files, others): (Vec<DocumentRow>, Vec<DocumentRow>) =
                std::mem::take(&mut attachments).into_iter().partition(|a| a.message_id.as_deref() == Some(r.id.as_str()));
            attachments = others;
            MessageItem {
                mine: r.author_id == user.user_id,
                from_staff: r.author_role != Role::Beneficiary,
                id: r.id,
                author_name: r.author_name,
                body: r.body,
                created_at: r.created_at,
                attachments: files.into_iter().map(DocumentItem::from).collect(),
            }
        })
        .collect();
    sqlx::query(
        "INSERT INTO thread_reads (thread_id, user_id, last_read_at) VALUES ($1, $2, $3) \
         ON CONFLICT (thread_id, user_id) DO UPDATE SET last_read_at = excluded.last_read_at",
    )
    .bind(id)
    .bind(&user.user_id)
    .bind(last)
    .execute(db.pool())
    .await?;
    Ok(ThreadView {
        viewer_id: user.user_id.clone(),
        id: id.to_string(),
        beneficiary_id,
        beneficiary_name,
        with_label: service_name.unwrap_or_else(|| REFERENT_LABEL.to_string()),
        subject,
        messages,
    })
}

/// Who is told by email that a message is waiting, and as whom.
struct Notify {
    to: Vec<String>,
    audience: Audience,
}

pub async fn send(state: &AppState, user: &SessionUser, received: Received) -> Result<String, AppError> {
    let db = &state.db;
    let mut errors: Vec<(String, String)> = received.problems.iter().map(|p| ("file".to_string(), p.clone())).collect();
    let body = text_into(&mut errors, "body", &received.field("body"), true, "Écrivez votre message.", BODY_MAX);
    let thread_id = received.field("thread_id");
    // An existing thread, or the counterpart and subject of a new one.
    let (thread, new_thread) = if !thread_id.is_empty() {
        (Some(visible(db, user, &thread_id).await?.0), None)
    } else if user.role != Role::Beneficiary {
        return Err(AppError::BadRequest);
    } else {
        let to = received.field("to");
        let service_id: Option<String> = if to == "referent" {
            None
        } else {
            match sqlx::query_scalar::<_, String>("SELECT id FROM services WHERE slug = $1 AND active = 1")
                .bind(&to)
                .fetch_optional(db.pool())
                .await?
            {
                Some(id) => Some(id),
                None => {
                    errors.push(("to".into(), "Choisissez à qui écrire.".into()));
                    None
                }
            }
        };
        let subject = text_into(&mut errors, "subject", &received.field("subject"), true, "Donnez un objet à votre message.", SUBJECT_MAX);
        (None, Some((service_id, subject)))
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let uploads: Vec<_> = received.files.iter().map(|(_, u)| u).collect();
    let keys = put_all(state, &uploads).await?;
    let result = async {
        let now = now_ms();
        let mut tx = db.begin_write().await?;
        if !uploads.is_empty() {
            let owner = thread.as_ref().map_or(user.user_id.as_str(), |head| head.beneficiary_id.as_str());
            let adding = uploads.iter().map(|u| u.bytes.len() as i64).sum();
            crate::documents::service::within_quota(&mut tx, state, owner, user.user_id == owner, adding).await?;
        }
        let (thread_id, beneficiary_id, notify) = match (&thread, new_thread) {
            (Some(head), _) => {
                sqlx::query("UPDATE threads SET last_message_at = $1 WHERE id = $2").bind(now).bind(&thread_id).execute(&mut *tx).await?;
                let notify = if user.role != Role::Beneficiary {
                    Notify { to: vec![head.beneficiary_email.clone()], audience: Audience::Beneficiary }
                } else {
                    staff_side(&mut tx, &head.beneficiary_id, head.service_id.as_deref()).await?
                };
                (thread_id.clone(), head.beneficiary_id.clone(), notify)
            }
            (None, Some((service_id, subject))) => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO threads (id, beneficiary_id, service_id, subject, created_at, last_message_at) VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(&id)
                .bind(&user.user_id)
                .bind(&service_id)
                .bind(&subject)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let notify = staff_side(&mut tx, &user.user_id, service_id.as_deref()).await?;
                (id, user.user_id.clone(), notify)
            }
            (None, None) => return Err(AppError::BadRequest),
        };
        let message_id = new_id();
        sqlx::query("INSERT INTO messages (id, thread_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&message_id)
            .bind(&thread_id)
            .bind(&user.user_id)
            .bind(&body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let doc = NewDocument {
            beneficiary_id: &beneficiary_id,
            uploaded_by: &user.user_id,
            category: Category::Other,
            message_id: Some(&message_id),
            request_id: None,
        };
        for (upload, key) in uploads.iter().zip(&keys) {
            insert(&mut tx, &doc, upload, key, now).await?;
        }
        // The sender has read what they wrote.
        sqlx::query(
            "INSERT INTO thread_reads (thread_id, user_id, last_read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (thread_id, user_id) DO UPDATE SET last_read_at = excluded.last_read_at",
        )
        .bind(&thread_id)
        .bind(&user.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let base = &state.config.base_url;
        let link = match notify.audience {
            Audience::Beneficiary => format!("{base}/messages/{thread_id}"),
            Audience::Referent | Audience::Service => format!("{base}/conseiller/messages/{thread_id}"),
        };
        for to in &notify.to {
            outbox::enqueue(&mut tx, &super::emails::waiting(to, &link, notify.audience)).await?;
        }
        tx.commit().await?;
        Ok(thread_id)
    }
    .await;
    if result.is_err() {
        remove_all(state, &keys).await;
    }
    result
}

/// Staff told of a beneficiary's message: the members of the service written to (activated
/// accounts), or the referent advisor in a thread with them; never a deactivated account.
async fn staff_side(tx: &mut sqlx::AnyConnection, beneficiary_id: &str, service_id: Option<&str>) -> Result<Notify, AppError> {
    let (to, audience) = match service_id {
        Some(service_id) => (
            sqlx::query_scalar::<_, String>(
                "SELECT u.email FROM staff_services m JOIN users u ON u.id = m.user_id \
                 WHERE m.service_id = $1 AND u.activated_at IS NOT NULL AND u.deactivated_at IS NULL ORDER BY u.email",
            )
            .bind(service_id)
            .fetch_all(&mut *tx)
            .await?,
            Audience::Service,
        ),
        None => (
            sqlx::query_scalar::<_, String>(
                "SELECT r.email FROM users b JOIN users r ON r.id = b.referent_id WHERE b.id = $1 AND r.deactivated_at IS NULL",
            )
            .bind(beneficiary_id)
            .fetch_optional(&mut *tx)
            .await?
            .into_iter()
            .collect(),
            Audience::Referent,
        ),
    };
    Ok(Notify { to, audience })
}

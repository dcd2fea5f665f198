//! The audit trail: a row per staff action, written in the action's transaction.

use super::{AuditLine, REASON_MAX};
use crate::account::{Role, SessionUser};
use crate::db::{new_id, now_ms, Db};
use crate::error::AppError;

/// The reason a staff member gave, required and at most [`REASON_MAX`] characters.
pub fn reason(text: &str) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let reason = crate::forms::text_into(
        &mut errors,
        "reason",
        text,
        true,
        "Indiquez la raison de cette action : elle est gardée dans le journal.",
        REASON_MAX,
    );
    if errors.is_empty() {
        Ok(reason)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Writes one line of the trail on the caller's connection (its transaction).
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    actor_id: &str,
    beneficiary_id: Option<&str>,
    action: &str,
    reason: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit_log (id, at, actor_id, beneficiary_id, action, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(now_ms())
        .bind(actor_id)
        .bind(beneficiary_id)
        .bind(action)
        .bind(reason)
        .bind(detail)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What a staff member read about a person (the codes of [`super::READS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The 360° page.
    Person,
    /// A search by NIR (the NIR itself is never written).
    NirSearch,
    Project,
    Thread,
    /// The list of the person's documents.
    Documents,
    /// One document downloaded.
    Download,
}

impl Read {
    pub fn code(self) -> &'static str {
        match self {
            Read::Person => "lecture_fiche",
            Read::NirSearch => "lecture_recherche_nir",
            Read::Project => "lecture_projet",
            Read::Thread => "lecture_echange",
            Read::Documents => "lecture_documents",
            Read::Download => "lecture_document",
        }
    }
}

/// Records that `reader` read `what` about `person` (with the reason of an exceptional access),
/// in the request that reads it: when the line cannot be written, the data is not shown. A person
/// reading their own data is not recorded. Reads of one person go through `scope::read`, which
/// checks the reader reaches them first.
pub async fn read(db: &Db, reader: &SessionUser, person: Option<&str>, what: Read, reason: &str, detail: &str) -> Result<(), AppError> {
    if reader.role == Role::Beneficiary {
        return Ok(());
    }
    let mut conn = db.pool().acquire().await?;
    record(&mut conn, &reader.user_id, person, what.code(), reason, detail).await?;
    Ok(())
}

const PAGE: i64 = 50;

/// Newest first; each filter applies when not empty. `action` empty: every action (not the
/// reads); `consultations`: every read.
/// `before` is the `at:id` of the last line of the previous page.
pub async fn list(db: &Db, actor: &str, beneficiary: &str, action: &str, before: &str) -> Result<(Vec<AuditLine>, Option<String>), AppError> {
    let (before_at, before_id) = match before.split_once(':') {
        Some((at, id)) => (at.parse::<i64>().map_err(|_| AppError::BadRequest)?, id.to_string()),
        None if before.is_empty() => (i64::MAX, String::new()),
        None => return Err(AppError::BadRequest),
    };
    let mut lines: Vec<AuditLine> = sqlx::query_as(
        "SELECT a.id, a.at, a.beneficiary_id, a.action, a.reason, a.detail, s.display_name AS actor_name, b.display_name AS beneficiary_name \
         FROM audit_log a JOIN users s ON s.id = a.actor_id LEFT JOIN users b ON b.id = a.beneficiary_id \
         WHERE ($1 = '' OR a.actor_id = $1) AND ($2 = '' OR a.beneficiary_id = $2) \
         AND (a.action = $3 OR ($3 = '' AND substr(a.action, 1, 8) <> 'lecture_') \
              OR ($3 = 'consultations' AND substr(a.action, 1, 8) = 'lecture_')) \
         AND (a.at < $4 OR (a.at = $4 AND ($5 = '' OR a.id < $5))) ORDER BY a.at DESC, a.id DESC LIMIT $6",
    )
    .bind(actor)
    .bind(beneficiary)
    .bind(action)
    .bind(before_at)
    .bind(&before_id)
    .bind(PAGE + 1)
    .fetch_all(db.pool())
    .await?;
    let next = (lines.len() as i64 > PAGE).then(|| {
        lines.truncate(PAGE as usize);
        lines.last().map(|l| format!("{}:{}", l.at, l.id)).unwrap_or_default()
    });
    Ok((lines, next))
}

/// The last actions about one person (not the reads), for their page.
pub async fn about(db: &Db, beneficiary_id: &str) -> Result<Vec<AuditLine>, AppError> {
    Ok(list(db, "", beneficiary_id, "", "").await?.0)
}

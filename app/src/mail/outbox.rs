//! The outbox table: queueing in a transaction, claiming for delivery, recording the outcome.

use sqlx::AnyConnection;

use crate::db::{new_id, now_ms, Backend, Db};

/// An email to send, in French, as text and HTML.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A row of the outbox as the worker and the development mailbox see it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QueuedEmail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[sqlx(try_from = "String")]
    pub status: crate::dashboard::DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// The columns of a [`QueuedEmail`].
const COLUMNS: &str = "id, to_address AS \"to\", subject, body_text AS text, body_html AS html, status, attempts, last_error, created_at, sent_at";

/// Queues an email on the caller's connection, so it commits or rolls back with the caller's
/// transaction: an email is never sent for something that did not happen, nor lost for
/// something that did. It is linked to the account that has this address, for the advisors'
/// list of every email a person was sent.
pub async fn enqueue(conn: &mut AnyConnection, email: &OutgoingEmail) -> Result<String, sqlx::Error> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, to_address, subject, body_text, body_html, status, attempts, \
         next_attempt_at, created_at, user_id) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, \
         (SELECT u.id FROM users u WHERE u.email_normalized = $7))",
    )
    .bind(&id)
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(now)
    .bind(email.to.to_lowercase())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A batch of emails claimed by one worker: its token must accompany every later step.
#[derive(Debug)]
pub struct Claim {
    pub token: String,
    pub emails: Vec<QueuedEmail>,
}

/// Claims up to `limit` emails that are due (or whose previous claimer's claim expired) for
/// `lease_ms`, under a new token. On PostgreSQL, workers on several servers skip each other's
/// rows (`FOR UPDATE SKIP LOCKED`); SQLite runs one writer at a time, so the statement is atomic.
/// An email is only sent after [`extend`] confirms the claim is still this one's.
pub async fn claim_due(db: &Db, limit: i64, lease_ms: i64) -> Result<Claim, sqlx::Error> {
    let now = now_ms();
    let token = new_id();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET status = 'sending', claimed_until = $1, claim_token = $4 \
         WHERE id IN (SELECT id FROM outbox \
           WHERE (status = 'pending' AND next_attempt_at <= $2) \
              OR (status = 'sending' AND claimed_until < $2) \
           ORDER BY next_attempt_at LIMIT $3 {lock}) \
         RETURNING {COLUMNS}"
    );
    let emails = sqlx::query_as(&sql).bind(now + lease_ms).bind(now).bind(limit).bind(&token).fetch_all(db.pool()).await?;
    Ok(Claim { token, emails })
}

/// Extends the claim on one email to `lease_ms` from now, and counts an attempt when
/// `attempt` (just before sending it): the attempts so far, or `None` when the claim is no
/// longer this token's (it expired and another worker took the email over: do not send it).
pub async fn extend(db: &Db, id: &str, token: &str, lease_ms: i64, attempt: bool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + $4 \
         WHERE id = $2 AND claim_token = $3 AND status = 'sending' RETURNING attempts",
    )
    .bind(now_ms() + lease_ms)
    .bind(id)
    .bind(token)
    .bind(i64::from(attempt))
    .fetch_optional(db.pool())
    .await
}

/// Gives back what is left of a claim (a worker stopping mid-batch): those emails are due again
/// at once, for any worker.
pub async fn release(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET status = 'pending', claimed_until = NULL, claim_token = NULL WHERE claim_token = $1 AND status = 'sending'")
        .bind(token)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records that the email was sent, if the claim `token` still holds it: false when another
/// worker took it over meanwhile (nothing is written).
pub async fn mark_sent(db: &Db, id: &str, token: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $1, claimed_until = NULL, claim_token = NULL, last_error = NULL \
         WHERE id = $2 AND claim_token = $3",
    )
    .bind(now_ms())
    .bind(id)
    .bind(token)
    .execute(db.pool())
    .await?;
    forget_if_erased(db, id).await?;
    Ok(done.rows_affected() == 1)
}

/// Empties an email that reached its end (sent or given up) when it went to an erased account
/// (the goodbye of an erasure): nothing of the address or the text stays.
async fn forget_if_erased(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET to_address = '', subject = '', body_text = '', body_html = '', last_error = NULL \
         WHERE id = $1 AND status IN ('sent', 'failed') AND user_id IN (SELECT u.id FROM users u WHERE u.erased_at IS NOT NULL)",
    )
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt, if the claim `token` still holds the email: it is retried at
/// `retry_at`, or given up (`failed`) when `retry_at` is `None`.
pub async fn mark_attempt_failed(db: &Db, id: &str, token: &str, error: &str, retry_at: Option<i64>) -> Result<bool, sqlx::Error> {
    let (status, next) = match retry_at {
        Some(at) => ("pending", at),
        None => ("failed", now_ms()),
    };
    let done = sqlx::query(
        "UPDATE outbox SET status = $1, next_attempt_at = $2, claimed_until = NULL, claim_token = NULL, \
         last_error = $3 WHERE id = $4 AND claim_token = $5",
    )
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(id)
    .bind(token)
    .execute(db.pool())
    .await?;
    forget_if_erased(db, id).await?;
    Ok(done.rows_affected() == 1)
}

/// The newest emails first (development mailbox, and later the advisors' view).
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<QueuedEmail>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id LIMIT $1");
    sqlx::query_as(&sql).bind(limit).fetch_all(db.pool()).await
}

pub async fn find(db: &Db, id: &str) -> Result<Option<QueuedEmail>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
    sqlx::query_as(&sql).bind(id).fetch_optional(db.pool()).await
}

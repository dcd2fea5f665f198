//! Sliding-window rate limits counted in the database, so every server process shares them.
//!
//! A limit holds under concurrency: each decision is one write transaction that counts and
//! records together, serialised per bucket (SQLite's write lock; a PostgreSQL advisory lock
//! on the bucket), so requests sent at once cannot all see room for themselves.

use crate::db::{new_id, now_ms, Backend, Db};

/// One event recorded in a bucket, which [`release`] can take back.
#[derive(Debug)]
pub struct Reservation {
    bucket: String,
    id: String,
}

/// Takes the bucket's lock for the rest of the transaction `tx` (PostgreSQL; on SQLite a write
/// transaction already excludes every other writer).
pub async fn lock_bucket(db: &Db, tx: &mut sqlx::AnyConnection, bucket: &str) -> Result<(), sqlx::Error> {
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS locked").bind(bucket).execute(tx).await?;
    }
    Ok(())
}

/// Records one event in `bucket` unless `max` events already happened in the last `window_ms`:
/// `None` then, and nothing is recorded.
pub async fn reserve(db: &Db, bucket: &str, max: i64, window_ms: i64) -> Result<Option<Reservation>, sqlx::Error> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    lock_bucket(db, &mut tx, bucket).await?;
    sqlx::query("DELETE FROM rate_events WHERE bucket = $1 AND at <= $2").bind(bucket).bind(now - window_ms).execute(&mut *tx).await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_events WHERE bucket = $1").bind(bucket).fetch_one(&mut *tx).await?;
    if count >= max {
        return Ok(None);
    }
    let id = new_id();
    sqlx::query("INSERT INTO rate_events (bucket, at, id) VALUES ($1, $2, $3)").bind(bucket).bind(now).bind(&id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(Reservation { bucket: bucket.to_string(), id }))
}

/// Records one event in `bucket` and returns true, unless `max` events already happened in the
/// last `window_ms` (then records nothing and returns false).
pub async fn allow(db: &Db, bucket: &str, max: i64, window_ms: i64) -> Result<bool, sqlx::Error> {
    Ok(reserve(db, bucket, max, window_ms).await?.is_some())
}

/// Takes back an event [`reserve`] recorded: it no longer counts.
pub async fn release(db: &Db, reservation: Reservation) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rate_events WHERE bucket = $1 AND id = $2").bind(&reservation.bucket).bind(&reservation.id).execute(db.pool()).await?;
    Ok(())
}

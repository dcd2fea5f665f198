//! Sliding-window rate limits counted in the database, so every server process shares them.

use crate::db::{now_ms, Db};

/// Records one event in `bucket` and returns true, unless `max` events already happened in the
/// last `window_ms` (then records nothing and returns false).
pub async fn allow(db: &Db, bucket: &str, max: i64, window_ms: i64) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    sqlx::query("DELETE FROM rate_events WHERE bucket = $1 AND at <= $2").bind(bucket).bind(now - window_ms).execute(db.pool()).await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_events WHERE bucket = $1").bind(bucket).fetch_one(db.pool()).await?;
    if count >= max {
        return Ok(false);
    }
    sqlx::query("INSERT INTO rate_events (bucket, at) VALUES ($1, $2)").bind(bucket).bind(now).execute(db.pool()).await?;
    Ok(true)
}

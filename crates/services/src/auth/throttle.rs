//! Counting failed sign-ins in a fixed window per key (`account:NAME`, `address:IP`).
//! In the database rather than in memory, so every server process sees the same counts.

use chrono::{Duration, Utc};
use lienthong_store::{time, Db, WriteTx};
use sqlx::Row;

use crate::ServiceError;

/// Failures allowed per account within the window before it is locked.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Failures allowed per client address within the window (an office may share one).
pub const ADDRESS_LIMIT: i64 = 30;
pub const WINDOW_MINUTES: i64 = 15;

fn window_start() -> String {
    time::timestamp(Utc::now() - Duration::minutes(WINDOW_MINUTES))
}

pub async fn is_locked(db: &Db, key: &str, limit: i64) -> Result<bool, ServiceError> {
    let row =
        sqlx::query("SELECT failures FROM login_throttle WHERE key = $1 AND window_start > $2")
            .bind(key)
            .bind(window_start())
            .fetch_optional(db.pool())
            .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>(0)? >= limit,
        None => false,
    })
}

pub async fn record_failure(tx: &mut WriteTx, key: &str) -> Result<(), ServiceError> {
    // A window that has expired starts again at one failure.
    sqlx::query(
        "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start > $3 THEN login_throttle.failures + 1 ELSE 1 END,
           window_start = CASE WHEN login_throttle.window_start > $3 THEN login_throttle.window_start ELSE $2 END",
    )
    .bind(key)
    .bind(time::now())
    .bind(window_start())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn clear(tx: &mut WriteTx, key: &str) -> Result<(), ServiceError> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

//! The working-day calendar in use: the statutory rules of the domain plus the
//! overrides an administrator keeps up to date each year.

use lienthong_domain::calendar::{DayOverride, Overrides, WorkingCalendar};
use lienthong_domain::ErrorCode;
use lienthong_store::{time, Db};
use serde_json::json;
use sqlx::Row;

use crate::auth::Principal;
use crate::ServiceError;

/// The overrides stored, or the decisions shipped with this version.
pub async fn overrides(db: &Db) -> Result<Overrides, ServiceError> {
    let row = sqlx::query("SELECT overrides FROM calendar_overrides WHERE id = 1")
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) => serde_json::from_str(&r.try_get::<String, _>(0)?)
            .map_err(|_| ServiceError::Conflict("stored calendar overrides are not valid JSON")),
        None => Ok(Overrides::announced_2024_2026()),
    }
}

pub async fn load(db: &Db) -> Result<WorkingCalendar, ServiceError> {
    WorkingCalendar::new(overrides(db).await?).map_err(|e| ServiceError::invalid("calendar", e))
}

/// Adds or replaces the override of one day (province administrators only).
pub async fn set_day(db: &Db, who: &Principal, day: DayOverride) -> Result<(), ServiceError> {
    crate::org::require_province_admin(db, who).await?;
    let mut o = overrides(db).await?;
    o.days.retain(|d| d.date != day.date);
    o.days.push(day.clone());
    o.days.sort_by_key(|d| d.date);
    save(db, who, o, json!({"set": day})).await
}

pub async fn remove_day(
    db: &Db,
    who: &Principal,
    date: chrono::NaiveDate,
) -> Result<(), ServiceError> {
    crate::org::require_province_admin(db, who).await?;
    let mut o = overrides(db).await?;
    o.days.retain(|d| d.date != date);
    save(db, who, o, json!({"removed": time::date(date)})).await
}

async fn save(
    db: &Db,
    who: &Principal,
    o: Overrides,
    change: serde_json::Value,
) -> Result<(), ServiceError> {
    // Reject what the calendar itself would reject before storing it.
    WorkingCalendar::new(o.clone()).map_err(|e| ServiceError::Invalid {
        field: "date",
        code: e.code(),
    })?;
    let text = serde_json::to_string(&o)
        .map_err(|_| ServiceError::Conflict("calendar overrides do not serialise"))?;
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO calendar_overrides (id, overrides, updated_at) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET overrides = $1, updated_at = $2",
    )
    .bind(&text)
    .bind(time::now())
    .execute(tx.conn())
    .await?;
    tx.audit(&who.actor(), "calendar.change", "calendar", 1, change)
        .await?;
    tx.commit().await.map_err(Into::into)
}

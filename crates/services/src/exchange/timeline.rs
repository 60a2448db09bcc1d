//! The sender's view of an outgoing document sent by exchange: per recipient, the
//! delivery (attempts, last error) and the statuses that came back.

use lienthong_edxml::StatusCode;
use lienthong_store::Db;
use serde::Serialize;
use sqlx::Row;

use crate::auth::Principal;
use crate::ServiceError;

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub recipient_code: String,
    pub recipient_name: String,
    /// pending | delivered | dead
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub queued_at: String,
    pub delivered_at: Option<String>,
    /// In the order they were reported.
    pub statuses: Vec<StatusEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusEntry {
    /// 01 … 16.
    pub code: String,
    /// The label in English with the Vietnamese term, e.g. "arrived (đã đến)".
    pub label: String,
    pub description: Option<String>,
    pub staff: Option<String>,
    /// When the recipient set it (UTC, stored form).
    pub at: String,
    pub received_at: String,
}

/// The deliveries of an outgoing document, for whoever may read the document.
pub async fn deliveries(
    db: &Db,
    who: &Principal,
    outgoing_document_id: i64,
) -> Result<Vec<Delivery>, ServiceError> {
    // The document's own access rule decides.
    crate::documents::get(db, who, outgoing_document_id).await?;
    let rows = sqlx::query(
        "SELECT recipient_code, recipient_name, state, attempts, last_error, next_attempt_at, created_at, delivered_at
         FROM exchange_outbox WHERE kind = 'document' AND document_id = $1 ORDER BY id",
    )
    .bind(outgoing_document_id)
    .fetch_all(db.pool())
    .await?;
    let statuses = sqlx::query(
        "SELECT recipient_code, code, description, staff, at, received_at FROM exchange_statuses
         WHERE outgoing_document_id = $1 ORDER BY at, id",
    )
    .bind(outgoing_document_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let code: String = r.try_get(0)?;
        let mut entries = Vec::new();
        for s in &statuses {
            if s.try_get::<String, _>(0)? != code {
                continue;
            }
            let status: String = s.try_get(1)?;
            entries.push(StatusEntry {
                label: StatusCode::parse(&status)
                    .map(|c| c.label().to_owned())
                    .unwrap_or_default(),
                code: status,
                description: s.try_get(2)?,
                staff: s.try_get(3)?,
                at: s.try_get(4)?,
                received_at: s.try_get(5)?,
            });
        }
        out.push(Delivery {
            recipient_code: code,
            recipient_name: r.try_get(1)?,
            state: r.try_get(2)?,
            attempts: r.try_get(3)?,
            last_error: r.try_get(4)?,
            next_attempt_at: r.try_get(5)?,
            queued_at: r.try_get(6)?,
            delivered_at: r.try_get(7)?,
            statuses: entries,
        });
    }
    Ok(out)
}

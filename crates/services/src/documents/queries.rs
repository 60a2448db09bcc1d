//! Reading documents: one document with its attachments and timeline, and the
//! register (sổ) as a filtered, paged list. Classified documents are left out of
//! every list for anyone who is not one of their readers.

use chrono::NaiveDate;
use lienthong_domain::access;
use lienthong_domain::document::Direction;
use lienthong_store::{time, Db};
use serde::Serialize;
use sqlx::Row;

use super::{Attachment, Document, Event};
use crate::auth::Principal;
use crate::ServiceError;

pub const PAGE_SIZE: i64 = 50;

pub(crate) async fn readers(db: &Db, document_id: i64) -> Result<Vec<i64>, ServiceError> {
    let rows = sqlx::query("SELECT person_id FROM document_readers WHERE document_id = $1")
        .bind(document_id)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// One document, if `who` may read it. Anyone else gets `NotFound`, so that a
/// classified document's existence is not revealed.
pub async fn get(db: &Db, who: &Principal, id: i64) -> Result<Document, ServiceError> {
    let r = sqlx::query(
        "SELECT d.id, d.agency_id, d.direction, d.register_id, g.name, d.year, d.number, d.symbol, d.doc_type,
                d.issuer_agency_id, d.issuer_name, d.issued_on, d.subject, d.urgency, d.classification, d.page_count,
                d.due_on, d.signer_name, d.arrived_on, d.status, d.note, d.created_at
         FROM documents d JOIN registers g ON g.id = d.register_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let agency_id: i64 = r.try_get(1)?;
    let classification: String = r.try_get(14)?;
    if !access::may_read_document(
        &who.memberships(),
        who.person.id,
        agency_id,
        classification != "normal",
        &readers(db, id).await?,
    ) {
        return Err(ServiceError::NotFound);
    }
    let attachments = sqlx::query(
        "SELECT id, file_name, content_type, size, blob_sha256 FROM attachments WHERE document_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|a| {
        Ok(Attachment {
            id: a.try_get(0)?,
            file_name: a.try_get(1)?,
            content_type: a.try_get(2)?,
            size: a.try_get(3)?,
            sha256: a.try_get(4)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let events = sqlx::query(
        "SELECT at, actor, kind, detail FROM document_events WHERE document_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|e| {
        Ok(Event {
            at: e.try_get(0)?,
            actor: e.try_get(1)?,
            kind: e.try_get(2)?,
            detail: e.try_get(3)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Document {
        id,
        agency_id,
        direction: r.try_get(2)?,
        register_id: r.try_get(3)?,
        register_name: r.try_get(4)?,
        year: r.try_get(5)?,
        number: r.try_get(6)?,
        symbol: r.try_get(7)?,
        doc_type: r.try_get(8)?,
        issuer_agency_id: r.try_get(9)?,
        issuer_name: r.try_get(10)?,
        issued_on: r.try_get(11)?,
        subject: r.try_get(12)?,
        urgency: r.try_get(13)?,
        classification,
        page_count: r.try_get(15)?,
        due_on: r.try_get(16)?,
        signer_name: r.try_get(17)?,
        arrived_on: r.try_get(18)?,
        status: r.try_get(19)?,
        note: r.try_get(20)?,
        created_at: r.try_get(21)?,
        attachments,
        events,
    })
}

/// Filters of a register page; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct RegisterFilter {
    pub register_id: Option<i64>,
    /// Inclusive range on the arrival date (incoming) or the issue date (outgoing).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub doc_type: Option<String>,
    /// Part of the issuing agency's name.
    pub issuer: Option<String>,
    pub status: Option<String>,
    pub page: i64,
}

/// A row of a register, with the ND 30 columns.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterRow {
    pub id: i64,
    pub number: Option<i64>,
    pub arrived_on: Option<String>,
    pub issuer_name: String,
    pub symbol: String,
    pub issued_on: Option<String>,
    pub doc_type: String,
    pub subject: String,
    pub urgency: String,
    pub classification: String,
    pub status: String,
    pub note: String,
    pub attachments: i64,
    pub signer_name: String,
    pub copies: Option<i64>,
    pub retained_copy: Option<String>,
    /// Nơi nhận of an outgoing document, joined.
    pub recipients: String,
}

/// One page of a register, newest first, for a member of the agency. Returns the
/// rows and whether there is a next page.
pub async fn list_register(
    db: &Db,
    who: &Principal,
    agency_id: i64,
    direction: Direction,
    f: &RegisterFilter,
) -> Result<(Vec<RegisterRow>, bool), ServiceError> {
    if !access::is_member_of(&who.memberships(), agency_id) {
        return Err(ServiceError::Forbidden);
    }
    let date_col = match direction {
        Direction::Incoming => "d.arrived_on",
        Direction::Outgoing => "d.issued_on",
    };
    // Only the filters given become conditions: `($n IS NULL OR col >= $n)` would
    // keep the planner from using the date index as a range (measured: an older
    // month of a million-document register took 180 ms instead of a few).
    let mut conditions = vec!["d.agency_id = $1".to_owned(), "d.direction = $2".to_owned()];
    let mut values: Vec<String> = Vec::new();
    let mut filter = |sql: &str, value: String| {
        values.push(value);
        conditions.push(sql.replace('?', &format!("${}", values.len() + 3)));
    };
    if let Some(from) = f.from {
        filter(&format!("{date_col} >= ?"), time::date(from));
    }
    if let Some(to) = f.to {
        filter(&format!("{date_col} <= ?"), time::date(to));
    }
    if let Some(t) = &f.doc_type {
        filter("d.doc_type = ?", t.clone());
    }
    if let Some(i) = &f.issuer {
        filter(
            "d.issuer_name LIKE ?",
            format!("%{}%", i.trim().replace(['%', '_'], "")),
        );
    }
    if let Some(st) = &f.status {
        filter("d.status = ?", st.clone());
    }
    if let Some(register) = f.register_id {
        conditions.push(format!("d.register_id = {register}"));
    }
    if direction == Direction::Outgoing {
        // The outgoing register lists issued documents; drafts are not in it.
        conditions.push("d.number IS NOT NULL".to_owned());
    }
    let limit = values.len() + 4;
    let sql = format!(
        "SELECT d.id, d.number, d.arrived_on, d.issuer_name, d.symbol, d.issued_on, d.doc_type, d.subject, d.urgency,
                d.classification, d.status, d.note,
                (SELECT COUNT(*) FROM attachments a WHERE a.document_id = d.id),
                d.signer_name, d.copies, d.retained_copy
         FROM documents d
         WHERE {}
           AND (d.classification = 'normal'
                OR EXISTS (SELECT 1 FROM document_readers r WHERE r.document_id = d.id AND r.person_id = $3))
         ORDER BY {date_col} DESC, d.number DESC
         LIMIT ${limit} OFFSET ${}",
        conditions.join(" AND "),
        limit + 1
    );
    let mut query = sqlx::query(&sql)
        .bind(agency_id)
        .bind(direction.as_str())
        .bind(who.person.id);
    for v in &values {
        query = query.bind(v);
    }
    let rows = query
        .bind(PAGE_SIZE + 1)
        .bind(f.page.max(0) * PAGE_SIZE)
        .fetch_all(db.pool())
        .await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let out = rows
        .iter()
        .take(PAGE_SIZE as usize)
        .map(|r| {
            Ok(RegisterRow {
                id: r.try_get(0)?,
                number: r.try_get(1)?,
                arrived_on: r.try_get(2)?,
                issuer_name: r.try_get(3)?,
                symbol: r.try_get(4)?,
                issued_on: r.try_get(5)?,
                doc_type: r.try_get(6)?,
                subject: r.try_get(7)?,
                urgency: r.try_get(8)?,
                classification: r.try_get(9)?,
                status: r.try_get(10)?,
                note: r.try_get(11)?,
                attachments: r.try_get(12)?,
                signer_name: r.try_get(13)?,
                copies: r.try_get(14)?,
                retained_copy: r.try_get(15)?,
                recipients: String::new(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let mut out = out;
    if direction == Direction::Outgoing && !out.is_empty() {
        let ids: Vec<String> = out.iter().map(|r| r.id.to_string()).collect();
        let sql = format!("SELECT document_id, name FROM document_recipients WHERE document_id IN ({}) ORDER BY document_id, position", ids.join(","));
        for r in sqlx::query(&sql).fetch_all(db.pool()).await? {
            let (id, name): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
            if let Some(row) = out.iter_mut().find(|x| x.id == id) {
                if !row.recipients.is_empty() {
                    row.recipients.push_str("; ");
                }
                row.recipients.push_str(&name);
            }
        }
    }
    Ok((out, more))
}

//! Outgoing documents (văn bản đi): a specialist drafts, the unit head reviews,
//! the leader approves or returns with comments, and the clerk issues. Issuing
//! takes the number from the register's series and builds the symbol in the same
//! transaction that marks the document issued: either both happen or neither, so
//! no number is ever burnt.

use chrono::Datelike;
use lienthong_domain::access;
use lienthong_domain::document::{
    numbering_series, Classification, DocumentSymbol, DocumentType, Subject, Urgency,
};
use lienthong_domain::Role;
use lienthong_store::{time, BlobStore, Db, WriteTx};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::attachments::{self, Upload};
use super::register::{add_event, next_number};
use crate::auth::Principal;
use crate::exchange::KeyStore;
use crate::ServiceError;

/// A recipient (nơi nhận): an agency of the province, or one outside it by name.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub agency_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewDraft {
    pub doc_type: DocumentType,
    /// Văn bản quy phạm pháp luật: numbered on the series of its type.
    pub legal_normative: bool,
    pub subject: Subject,
    pub urgency: Urgency,
    pub classification: Classification,
    /// The drafting unit, whose abbreviation ends a công văn's symbol.
    pub drafting_unit_id: Option<i64>,
    /// The incoming document this replies to.
    pub in_reply_to: Option<i64>,
    pub recipients: Vec<Recipient>,
    pub signer_name: String,
    pub page_count: Option<i64>,
    /// Số lượng bản.
    pub copies: Option<i64>,
    /// Đơn vị, người nhận bản lưu.
    pub retained_copy: String,
    pub note: String,
    pub attachments: Vec<Upload>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub id: i64,
    pub number: i64,
    pub symbol: String,
    pub issued_on: String,
}

struct Draft {
    agency_id: i64,
    status: String,
    drafter_id: Option<i64>,
    reviewer_id: Option<i64>,
    approver_id: Option<i64>,
}

async fn draft(tx: &mut WriteTx, id: i64) -> Result<Draft, ServiceError> {
    let r = sqlx::query(
        "SELECT agency_id, status, drafter_id, reviewer_id, approver_id FROM documents WHERE id = $1 AND direction = 'outgoing'",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(Draft {
        agency_id: r.try_get(0)?,
        status: r.try_get(1)?,
        drafter_id: r.try_get(2)?,
        reviewer_id: r.try_get(3)?,
        approver_id: r.try_get(4)?,
    })
}

async fn holds_role(
    tx: &mut WriteTx,
    person: i64,
    agency: i64,
    role: Role,
) -> Result<bool, ServiceError> {
    let today = time::date(time::today());
    Ok(sqlx::query(
        "SELECT 1 FROM memberships WHERE person_id = $1 AND agency_id = $2 AND role = $3
           AND valid_from <= $4 AND (valid_to IS NULL OR valid_to > $4) LIMIT 1",
    )
    .bind(person)
    .bind(agency)
    .bind(role.as_str())
    .bind(&today)
    .fetch_optional(tx.conn())
    .await?
    .is_some())
}

async fn set(
    tx: &mut WriteTx,
    id: i64,
    status: &str,
    column: Option<(&str, i64)>,
) -> Result<(), ServiceError> {
    let now = time::now();
    match column {
        Some((col, value)) => {
            let sql = format!(
                "UPDATE documents SET status = $1, {col} = $2, updated_at = $3 WHERE id = $4"
            );
            sqlx::query(&sql)
                .bind(status)
                .bind(value)
                .bind(&now)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        None => {
            sqlx::query("UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status)
                .bind(&now)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
    }
    Ok(())
}

/// Any staff member of the agency drafts; the draft belongs to the agency.
pub async fn create_draft(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    agency_id: i64,
    d: NewDraft,
) -> Result<i64, ServiceError> {
    if !access::is_member_of(&who.memberships(), agency_id) {
        return Err(ServiceError::Forbidden);
    }
    let files = attachments::store_all(blobs, &d.attachments).await?;
    let mut tx = db.write().await?;
    if let Some(unit) = d.drafting_unit_id {
        let ok = sqlx::query("SELECT 1 FROM units WHERE id = $1 AND agency_id = $2")
            .bind(unit)
            .bind(agency_id)
            .fetch_optional(tx.conn())
            .await?;
        if ok.is_none() {
            return Err(ServiceError::Invalid {
                field: "drafting_unit_id",
                code: "error.unit_not_in_agency",
            });
        }
    }
    if let Some(reply_to) = d.in_reply_to {
        let ok = sqlx::query(
            "SELECT 1 FROM documents WHERE id = $1 AND agency_id = $2 AND direction = 'incoming'",
        )
        .bind(reply_to)
        .bind(agency_id)
        .fetch_optional(tx.conn())
        .await?;
        if ok.is_none() {
            return Err(ServiceError::Invalid {
                field: "in_reply_to",
                code: "error.reply_to",
            });
        }
    }
    super::register::ensure_default_registers(
        &mut tx,
        agency_id,
        lienthong_domain::document::Direction::Outgoing,
    )
    .await?;
    let classified = d.classification.is_classified();
    let register: i64 = sqlx::query(
        "SELECT id FROM registers WHERE agency_id = $1 AND direction = 'outgoing' AND classified = $2 ORDER BY id LIMIT 1",
    )
    .bind(agency_id)
    .bind(classified as i64)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    let agency_name: String = sqlx::query(
        "SELECT name FROM agency_versions WHERE agency_id = $1 AND valid_from <= $2 ORDER BY valid_from DESC LIMIT 1",
    )
    .bind(agency_id)
    .bind(time::date(time::today()))
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    let now = time::now();
    let series = numbering_series(d.doc_type, d.legal_normative, d.classification);
    let id: i64 = sqlx::query(
        "INSERT INTO documents (agency_id, direction, register_id, year, series, number, symbol, symbol_folded, doc_type,
            legal_normative, issuer_agency_id, issuer_name, issuer_key, subject, urgency, classification, page_count,
            signer_name, status, note, created_by, created_at, updated_at, drafting_unit_id, drafter_id, in_reply_to,
            copies, retained_copy)
         VALUES ($1, 'outgoing', $2, $3, $4, NULL, '', '', $5, $6, $1, $7, $8, $9, $10, $11, $12, $13, 'draft', $14, $15,
            $16, $16, $17, $15, $18, $19, $20)
         RETURNING id",
    )
    .bind(agency_id)
    .bind(register)
    .bind(time::today().year() as i64)
    .bind(&series)
    .bind(d.doc_type.code())
    .bind(d.legal_normative as i64)
    .bind(&agency_name)
    .bind(format!("agency:{agency_id}"))
    .bind(d.subject.as_str())
    .bind(d.urgency.as_str())
    .bind(d.classification.as_str())
    .bind(d.page_count)
    .bind(d.signer_name.trim())
    .bind(d.note.trim())
    .bind(who.person.id)
    .bind(&now)
    .bind(d.drafting_unit_id)
    .bind(d.in_reply_to)
    .bind(d.copies)
    .bind(d.retained_copy.trim())
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    for (i, r) in d.recipients.iter().enumerate() {
        sqlx::query("INSERT INTO document_recipients (document_id, position, agency_id, name) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(i as i64)
            .bind(r.agency_id)
            .bind(r.name.trim())
            .execute(tx.conn())
            .await?;
    }
    attachments::insert_rows(&mut tx, id, &files).await?;
    if classified {
        sqlx::query("INSERT INTO document_readers (document_id, person_id, granted_by, granted_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(who.person.id)
            .bind(&who.person.username)
            .bind(&now)
            .execute(tx.conn())
            .await?;
    }
    let detail = json!({"type": d.doc_type.code(), "in_reply_to": d.in_reply_to, "recipients": d.recipients.len()});
    add_event(&mut tx, id, who, "drafted", &detail).await?;
    crate::search::enqueue(&mut tx, id).await?;
    tx.audit(&who.actor(), "document.draft", "document", id, detail)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The drafter sends the draft (new, or returned and corrected) to a unit head.
pub async fn submit_for_review(
    db: &Db,
    who: &Principal,
    id: i64,
    reviewer_id: i64,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let d = draft(&mut tx, id).await?;
    if d.drafter_id != Some(who.person.id) {
        return Err(ServiceError::Forbidden);
    }
    if !matches!(d.status.as_str(), "draft" | "returned") {
        return Err(ServiceError::Conflict("not a draft"));
    }
    if !holds_role(&mut tx, reviewer_id, d.agency_id, Role::UnitHead).await? {
        return Err(ServiceError::Invalid {
            field: "reviewer_id",
            code: "error.not_a_unit_head",
        });
    }
    set(&mut tx, id, "in_review", Some(("reviewer_id", reviewer_id))).await?;
    let detail = json!({"reviewer_id": reviewer_id});
    add_event(&mut tx, id, who, "submitted_for_review", &detail).await?;
    tx.audit(
        &who.actor(),
        "document.submit_review",
        "document",
        id,
        detail,
    )
    .await?;
    tx.commit().await.map_err(Into::into)
}

/// What a reviewer or approver decides.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Review: pass it to this leader for approval. Approval: approve.
    Accept { approver_id: Option<i64> },
    /// Send it back to the drafter with comments.
    Return { comment: String },
}

/// The unit head reviews: passes the draft to a leader, or returns it.
pub async fn review(
    db: &Db,
    who: &Principal,
    id: i64,
    decision: Decision,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let d = draft(&mut tx, id).await?;
    if d.status != "in_review" || d.reviewer_id != Some(who.person.id) {
        return Err(ServiceError::Forbidden);
    }
    let detail = match decision {
        Decision::Accept {
            approver_id: Some(leader),
        } => {
            if !holds_role(&mut tx, leader, d.agency_id, Role::Leader).await? {
                return Err(ServiceError::Invalid {
                    field: "approver_id",
                    code: "error.not_a_leader",
                });
            }
            set(
                &mut tx,
                id,
                "awaiting_approval",
                Some(("approver_id", leader)),
            )
            .await?;
            json!({"decision": "forwarded", "approver_id": leader})
        }
        Decision::Accept { approver_id: None } => {
            return Err(ServiceError::Invalid {
                field: "approver_id",
                code: "error.required",
            })
        }
        Decision::Return { comment } => returned(&mut tx, id, &comment).await?,
    };
    add_event(&mut tx, id, who, "reviewed", &detail).await?;
    tx.audit(&who.actor(), "document.review", "document", id, detail)
        .await?;
    tx.commit().await.map_err(Into::into)
}

async fn returned(
    tx: &mut WriteTx,
    id: i64,
    comment: &str,
) -> Result<serde_json::Value, ServiceError> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(ServiceError::Invalid {
            field: "comment",
            code: "error.comment_required",
        });
    }
    set(tx, id, "returned", None).await?;
    Ok(json!({"decision": "returned", "comment": comment}))
}

/// The leader approves the draft for issue, or returns it with comments.
pub async fn approve(
    db: &Db,
    who: &Principal,
    id: i64,
    decision: Decision,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let d = draft(&mut tx, id).await?;
    if d.status != "awaiting_approval" || d.approver_id != Some(who.person.id) {
        return Err(ServiceError::Forbidden);
    }
    let detail = match decision {
        Decision::Accept { .. } => {
            set(&mut tx, id, "approved", None).await?;
            json!({"decision": "approved"})
        }
        Decision::Return { comment } => returned(&mut tx, id, &comment).await?,
    };
    add_event(&mut tx, id, who, "approved", &detail).await?;
    tx.audit(&who.actor(), "document.approve", "document", id, detail)
        .await?;
    tx.commit().await.map_err(Into::into)
}

/// The clerk issues an approved document: number, symbol and date in one step,
/// and, in the same transaction, one signed edXML package per recipient agency
/// with a code in the exchange outbox (see [`crate::exchange`]): a crash leaves
/// either the issued document with its packages, or neither.
pub async fn issue(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    who: &Principal,
    id: i64,
) -> Result<Issued, ServiceError> {
    // Signing takes time and writes blobs: before the transaction, which checks
    // again that the document may be issued.
    let signing = super::signing::sign_pdfs(db, blobs, keys, id).await?;
    let mut tx = db.write().await?;
    let d = draft(&mut tx, id).await?;
    if !access::has_role_in(&who.memberships(), d.agency_id, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    if d.status != "approved" {
        return Err(ServiceError::Invalid {
            field: "status",
            code: "error.not_approved",
        });
    }
    let r = sqlx::query(
        "SELECT d.register_id, d.series, d.doc_type, COALESCE(u.short_name, ''),
                (SELECT v.short_name FROM agency_versions v WHERE v.agency_id = d.agency_id AND v.valid_from <= $2
                 ORDER BY v.valid_from DESC LIMIT 1)
         FROM documents d LEFT JOIN units u ON u.id = d.drafting_unit_id WHERE d.id = $1",
    )
    .bind(id)
    .bind(time::date(time::today()))
    .fetch_one(tx.conn())
    .await?;
    let register: i64 = r.try_get(0)?;
    let series: String = r.try_get(1)?;
    let doc_type = DocumentType::parse(&r.try_get::<String, _>(2)?)
        .map_err(|e| ServiceError::invalid("doc_type", e))?;
    let unit_abbr: String = r.try_get(3)?;
    let agency_abbr: String = r.try_get(4)?;
    let today = time::today();
    let year = today.year() as i64;
    let number = next_number(&mut tx, register, year, &series).await?;
    let symbol = DocumentSymbol::for_outgoing(number as u32, doc_type, &agency_abbr, &unit_abbr);
    let now = time::now();
    sqlx::query(
        "UPDATE documents SET number = $1, year = $2, symbol = $3, symbol_folded = $4, issued_on = $5, issued_at = $6,
            status = 'issued', updated_at = $6 WHERE id = $7",
    )
    .bind(number)
    .bind(year)
    .bind(symbol.to_string())
    .bind(symbol.folded())
    .bind(time::date(today))
    .bind(&now)
    .bind(id)
    .execute(tx.conn())
    .await?;
    super::signing::swap_in(&mut tx, id, &signing.signed).await?;
    let signed_files: Vec<&str> = signing.signed.iter().map(|f| f.file_name()).collect();
    let not_signed: Vec<serde_json::Value> = signing
        .not_signed
        .iter()
        .map(|(file, reason)| json!({"file": file, "reason": reason}))
        .collect();
    let detail = json!({"number": number, "symbol": symbol.to_string(), "issued_on": time::date(today), "series": series,
                        "signed": signed_files, "not_signed": not_signed});
    add_event(&mut tx, id, who, "issued", &detail).await?;
    crate::search::enqueue(&mut tx, id).await?;
    tx.audit(&who.actor(), "document.issue", "document", id, detail)
        .await?;
    crate::exchange::send_issued(&mut tx, blobs, keys, who, id).await?;
    tx.commit().await?;
    Ok(Issued {
        id,
        number,
        symbol: symbol.to_string(),
        issued_on: time::date(today),
    })
}

/// Outgoing documents waiting on this person: their own drafts (new or returned),
/// drafts to review, drafts to approve, and (for clerks) approved ones to issue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Drafts {
    pub mine: Vec<(i64, String, String)>,
    pub to_review: Vec<(i64, String, String)>,
    pub to_approve: Vec<(i64, String, String)>,
    pub to_issue: Vec<(i64, String, String)>,
}

pub async fn drafts(db: &Db, who: &Principal) -> Result<Drafts, ServiceError> {
    let rows = |sql: &'static str, bind: i64| {
        let pool = db.pool().clone();
        async move {
            sqlx::query(sql)
                .bind(bind)
                .fetch_all(&pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<Result<Vec<(i64, String, String)>, sqlx::Error>>()
        }
    };
    let me = who.person.id;
    let mut out = Drafts {
        mine: rows("SELECT id, status, subject FROM documents WHERE direction = 'outgoing' AND drafter_id = $1 AND status IN ('draft', 'returned') ORDER BY id", me).await?,
        to_review: rows("SELECT id, status, subject FROM documents WHERE direction = 'outgoing' AND reviewer_id = $1 AND status = 'in_review' ORDER BY id", me).await?,
        to_approve: rows("SELECT id, status, subject FROM documents WHERE direction = 'outgoing' AND approver_id = $1 AND status = 'awaiting_approval' ORDER BY id", me).await?,
        to_issue: Vec::new(),
    };
    for p in who.positions.iter().filter(|p| p.role == Role::Clerk) {
        out.to_issue.extend(
            rows("SELECT id, status, subject FROM documents WHERE direction = 'outgoing' AND agency_id = $1 AND status = 'approved' ORDER BY id", p.agency_id).await?,
        );
    }
    Ok(out)
}

pub async fn recipients(db: &Db, id: i64) -> Result<Vec<Recipient>, ServiceError> {
    let rows = sqlx::query(
        "SELECT agency_id, name FROM document_recipients WHERE document_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(Recipient {
                agency_id: r.try_get(0)?,
                name: r.try_get(1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Who drafted, reviews and approves an outgoing document (for showing actions).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Handlers {
    pub drafter: Option<i64>,
    pub reviewer: Option<i64>,
    pub approver: Option<i64>,
}

pub async fn handlers(db: &Db, id: i64) -> Result<Handlers, ServiceError> {
    let r = sqlx::query("SELECT drafter_id, reviewer_id, approver_id FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Handlers {
        drafter: r.try_get(0)?,
        reviewer: r.try_get(1)?,
        approver: r.try_get(2)?,
    })
}

/// Outgoing documents written in reply to an incoming one: (id, symbol, subject).
pub async fn replies_to(db: &Db, id: i64) -> Result<Vec<(i64, String, String)>, ServiceError> {
    let rows = sqlx::query("SELECT id, symbol, subject FROM documents WHERE in_reply_to = $1 AND direction = 'outgoing' ORDER BY id")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

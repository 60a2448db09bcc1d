//! Văn bản đến qua liên thông (documents arrived by exchange): the clerk's queue,
//! registering an arrival into the incoming register (status 03) or refusing it
//! (status 02), and the quarantine of refused packages.

use chrono::NaiveDate;
use lienthong_domain::access;
use lienthong_domain::document::{Classification, DocumentSymbol, DocumentType, Subject, Urgency};
use lienthong_domain::Role;
use lienthong_edxml::{Limits, Package, StatusCode};
use lienthong_store::{time, BlobId, BlobStore, Db, WriteTx};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::outbox::{queue_status, NewStatus};
use super::receive::MAX_PACKAGE_BYTES;
use super::{agency_by_id, local_agency};
use crate::auth::Principal;
use crate::documents::register::{check_dates, register_in};
use crate::documents::{attachments, Issuer, NewIncoming, Registered, Upload};
use crate::ServiceError;

/// A package in the arrived queue, with every field the registration form needs.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    pub id: i64,
    pub recipient_agency_id: i64,
    pub edxml_document_id: String,
    pub from_code: String,
    pub from_name: String,
    /// The sender when it is an agency of this instance.
    pub from_agency_id: Option<i64>,
    pub symbol: String,
    pub doc_type_name: String,
    /// The type as the register knows it, when the name is one of ND 30's.
    pub doc_type: Option<String>,
    pub subject: String,
    pub issued_on: String,
    pub urgency: String,
    pub due_on: Option<String>,
    pub signer_name: String,
    pub page_count: Option<i64>,
    pub attachment_count: i64,
    pub state: String,
    pub incoming_document_id: Option<i64>,
    pub reason: Option<String>,
    pub received_at: String,
    /// Filled by [`arrival`] only.
    pub attachments: Vec<ArrivalAttachment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArrivalAttachment {
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

/// What the clerk corrects before registering; `None` keeps the package's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub register_id: Option<i64>,
    pub symbol: Option<DocumentSymbol>,
    pub issued_on: Option<NaiveDate>,
    pub doc_type: Option<DocumentType>,
    pub subject: Option<Subject>,
    pub urgency: Option<Urgency>,
    pub classification: Option<Classification>,
    pub due_on: Option<NaiveDate>,
    pub signer_name: Option<String>,
    pub page_count: Option<i64>,
    pub note: Option<String>,
    pub allow_duplicate: bool,
}

const COLUMNS: &str = "i.id, i.recipient_agency_id, i.edxml_document_id, i.from_code, i.from_name, i.symbol,
    i.doc_type_name, i.subject, i.issued_on, i.urgency, i.due_on, i.signer_name, i.page_count, i.attachment_count,
    i.state, i.incoming_document_id, i.reason, i.received_at,
    (SELECT a.id FROM agencies a WHERE a.code = i.from_code)";

fn to_arrival(r: &sqlx::any::AnyRow) -> Result<Arrival, sqlx::Error> {
    let doc_type_name: String = r.try_get(6)?;
    Ok(Arrival {
        id: r.try_get(0)?,
        recipient_agency_id: r.try_get(1)?,
        edxml_document_id: r.try_get(2)?,
        from_code: r.try_get(3)?,
        from_name: r.try_get(4)?,
        symbol: r.try_get(5)?,
        doc_type: DocumentType::parse(&doc_type_name)
            .ok()
            .map(|t| t.code().to_owned()),
        doc_type_name,
        subject: r.try_get(7)?,
        issued_on: r.try_get(8)?,
        urgency: r.try_get(9)?,
        due_on: r.try_get(10)?,
        signer_name: r.try_get(11)?,
        page_count: r.try_get(12)?,
        attachment_count: r.try_get(13)?,
        state: r.try_get(14)?,
        incoming_document_id: r.try_get(15)?,
        reason: r.try_get(16)?,
        received_at: r.try_get(17)?,
        from_agency_id: r.try_get(18)?,
        attachments: Vec::new(),
    })
}

/// The agencies whose arrivals `who` handles: those where they are a clerk.
pub(super) fn clerk_agencies(who: &Principal) -> Vec<i64> {
    let mut ids: Vec<i64> = who
        .positions
        .iter()
        .filter(|p| p.role == Role::Clerk)
        .map(|p| p.agency_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The arrived queue of every agency where `who` is a clerk, oldest first.
pub async fn arrivals(db: &Db, who: &Principal) -> Result<Vec<Arrival>, ServiceError> {
    let mut out = Vec::new();
    for agency in clerk_agencies(who) {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM exchange_inbox i WHERE i.recipient_agency_id = $1 AND i.state = 'arrived' ORDER BY i.id"
        ))
        .bind(agency)
        .fetch_all(db.pool())
        .await?;
        for r in &rows {
            out.push(to_arrival(r)?);
        }
    }
    Ok(out)
}

/// One arrival with its attachments' names, for its clerk.
pub async fn arrival(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    id: i64,
) -> Result<Arrival, ServiceError> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS}, i.xml, i.package_sha256 FROM exchange_inbox i WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let mut a = to_arrival(&r)?;
    if !access::has_role_in(&who.memberships(), a.recipient_agency_id, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    let xml = StoredPackage {
        inline: r.try_get(19)?,
        sha256: r.try_get(20)?,
    }
    .bytes(blobs)
    .await?;
    let package = parse(&xml)?;
    a.attachments = package
        .attachments
        .iter()
        .map(|f| ArrivalAttachment {
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.bytes.len(),
        })
        .collect();
    Ok(a)
}

/// Where an inbox row keeps its package: in the blob store (`sha256`), or inline
/// for rows received before packages moved there.
#[derive(PartialEq, Eq)]
struct StoredPackage {
    inline: Vec<u8>,
    sha256: Option<String>,
}

impl StoredPackage {
    async fn bytes(&self, blobs: &BlobStore) -> Result<Vec<u8>, ServiceError> {
        let Some(sha256) = &self.sha256 else {
            return Ok(self.inline.clone());
        };
        let id = BlobId::parse(sha256).map_err(|_| ServiceError::Conflict("bad package id"))?;
        match blobs.get(&id).await {
            Ok(bytes) => Ok(bytes.into()),
            Err(e) => {
                tracing::error!(error = %e, "reading a package received");
                Err(ServiceError::Conflict("package store unavailable"))
            }
        }
    }
}

pub(super) fn parse(xml: &[u8]) -> Result<Package, ServiceError> {
    let limits = Limits {
        max_input_bytes: MAX_PACKAGE_BYTES,
        ..Limits::default()
    };
    // It was read once on receipt; failing now means the row was altered.
    Package::parse(xml, &limits).map_err(|e| {
        tracing::error!(error = %e, "a stored package no longer reads");
        ServiceError::Conflict("stored package unreadable")
    })
}

/// The inbox row, locked for the decision, checked for the clerk and its state.
async fn pending(
    tx: &mut WriteTx,
    who: &Principal,
    id: i64,
) -> Result<(i64, String, String, String, StoredPackage), ServiceError> {
    let r = sqlx::query(
        "SELECT recipient_agency_id, state, edxml_document_id, from_code, from_name, xml, package_sha256
         FROM exchange_inbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let agency: i64 = r.try_get(0)?;
    if !access::has_role_in(&who.memberships(), agency, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    if r.try_get::<String, _>(1)? != "arrived" {
        return Err(ServiceError::Conflict("arrival already decided"));
    }
    Ok((
        agency,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        StoredPackage {
            inline: r.try_get(5)?,
            sha256: r.try_get(6)?,
        },
    ))
}

/// Registers an arrived package as an incoming document (vào sổ): the package's
/// fields, corrected by `overrides`, and its attachments. Queues status 03.
pub async fn register_arrival(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    inbox_id: i64,
    overrides: Overrides,
) -> Result<Registered, ServiceError> {
    // A first look outside the write transaction: the attachments must be stored
    // before it begins (blob first, then the row).
    let first = sqlx::query(
        "SELECT recipient_agency_id, xml, package_sha256 FROM exchange_inbox WHERE id = $1",
    )
    .bind(inbox_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    if !access::has_role_in(&who.memberships(), first.try_get(0)?, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    let stored = StoredPackage {
        inline: first.try_get(1)?,
        sha256: first.try_get(2)?,
    };
    let package = parse(&stored.bytes(blobs).await?)?;
    let h = &package.header;
    let from_agency = {
        let mut conn = db.pool().acquire().await?;
        local_agency(&mut conn, h.from.organ_id.as_str()).await?
    };
    let symbol = match overrides.symbol {
        Some(s) => s,
        None => DocumentSymbol::parse(&h.code.to_string())
            .map_err(|e| ServiceError::invalid("symbol", e))?,
    };
    let doc_type = match overrides.doc_type {
        Some(t) => t,
        None => DocumentType::parse(&h.document_type.name)
            .or_else(|_| DocumentType::parse(h.document_type.detail.as_deref().unwrap_or("")))
            .map_err(|e| ServiceError::invalid("doc_type", e))?,
    };
    let subject = match overrides.subject {
        Some(s) => s,
        None => Subject::parse(&h.subject).map_err(|e| ServiceError::invalid("subject", e))?,
    };
    let new = NewIncoming {
        register_id: overrides.register_id,
        issuer: Issuer {
            agency_id: from_agency.as_ref().map(|a| a.id),
            name: h.from.organ_name.clone(),
        },
        symbol,
        issued_on: overrides.issued_on.unwrap_or(h.promulgation.date),
        doc_type,
        subject,
        urgency: overrides
            .urgency
            .unwrap_or_else(|| super::package::urgency_of(h.other.priority)),
        classification: overrides.classification.unwrap_or(Classification::Normal),
        page_count: overrides.page_count.or(h.other.page_amount.map(i64::from)),
        due_on: overrides.due_on.or(h.due_date),
        signer_name: overrides
            .signer_name
            .or_else(|| h.signer.full_name.clone())
            .unwrap_or_default(),
        arrived_on: time::today(),
        note: overrides.note.unwrap_or_default(),
        allow_duplicate: overrides.allow_duplicate,
        readers: Vec::new(),
        attachments: package
            .attachments
            .iter()
            .map(|a| Upload {
                file_name: a.name.clone(),
                bytes: a.bytes.clone().into(),
                claimed_type: Some(a.content_type.clone()),
            })
            .collect(),
    };
    check_dates(&new)?;
    let files = attachments::store_all(blobs, &new.attachments).await?;

    let mut tx = db.write().await?;
    let (agency, about, from_code, from_name, locked) = pending(&mut tx, who, inbox_id).await?;
    if locked != stored {
        return Err(ServiceError::Conflict("arrival changed"));
    }
    let registered = register_in(&mut tx, who, agency, &new, &files).await?;
    sqlx::query(
        "UPDATE exchange_inbox SET state = 'registered', incoming_document_id = $1, decided_at = $2, decided_by = $3
         WHERE id = $4",
    )
    .bind(registered.id)
    .bind(time::now())
    .bind(who.person.id)
    .bind(inbox_id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        &who.actor(),
        "exchange.register_arrival",
        "exchange_inbox",
        inbox_id,
        json!({"document": registered.id, "arrival_number": registered.arrival_number}),
    )
    .await?;
    let from = agency_by_id(tx.conn(), agency).await?;
    queue_status(
        &mut tx,
        &who.actor(),
        NewStatus {
            from: &from,
            to_code: &from_code,
            to_name: &from_name,
            about: &about,
            document_id: Some(registered.id),
            code: StatusCode::Accepted,
            description: None,
            staff: Some(who.person.full_name.clone()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(registered)
}

/// Refuses an arrived package (từ chối tiếp nhận) with a reason sent back in a
/// status 02.
pub async fn refuse_arrival(
    db: &Db,
    who: &Principal,
    inbox_id: i64,
    reason: &str,
) -> Result<(), ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ServiceError::Invalid {
            field: "reason",
            code: "error.refusal_reason",
        });
    }
    let mut tx = db.write().await?;
    let (agency, about, from_code, from_name, _) = pending(&mut tx, who, inbox_id).await?;
    sqlx::query(
        "UPDATE exchange_inbox SET state = 'refused', reason = $1, decided_at = $2, decided_by = $3 WHERE id = $4",
    )
    .bind(reason)
    .bind(time::now())
    .bind(who.person.id)
    .bind(inbox_id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        &who.actor(),
        "exchange.refuse_arrival",
        "exchange_inbox",
        inbox_id,
        json!({"reason": reason}),
    )
    .await?;
    let from = agency_by_id(tx.conn(), agency).await?;
    queue_status(
        &mut tx,
        &who.actor(),
        NewStatus {
            from: &from,
            to_code: &from_code,
            to_name: &from_name,
            about: &about,
            document_id: None,
            code: StatusCode::Refused,
            description: Some(reason.to_owned()),
            staff: Some(who.person.full_name.clone()),
        },
    )
    .await?;
    tx.commit().await.map_err(Into::into)
}

/// A refused package as the clerk of its recipient agency, or the province's
/// administrator, sees it.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineEntry {
    pub id: i64,
    pub reason: String,
    pub from_code: Option<String>,
    pub recipient_agency_id: Option<i64>,
    pub edxml_document_id: Option<String>,
    pub refusal_queued: bool,
    pub size: i64,
    pub received_at: String,
}

/// The quarantine: everything for an administrator of the province, the packages
/// addressed to their agencies for a clerk; newest first, at most `limit`.
pub async fn quarantine(
    db: &Db,
    who: &Principal,
    limit: i64,
) -> Result<Vec<QuarantineEntry>, ServiceError> {
    let admin = crate::org::require_province_admin(db, who).await.is_ok();
    let clerk_of = clerk_agencies(who);
    if !admin && clerk_of.is_empty() {
        return Err(ServiceError::Forbidden);
    }
    let filter = if admin {
        String::new()
    } else {
        let list: Vec<String> = clerk_of.iter().map(i64::to_string).collect();
        format!("WHERE recipient_agency_id IN ({})", list.join(", "))
    };
    let rows = sqlx::query(&format!(
        "SELECT id, reason, from_code, recipient_agency_id, edxml_document_id, refusal_queued,
                CAST(LENGTH(raw) AS BIGINT), received_at
         FROM exchange_quarantine {filter} ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(QuarantineEntry {
            id: r.try_get(0)?,
            reason: r.try_get(1)?,
            from_code: r.try_get(2)?,
            recipient_agency_id: r.try_get(3)?,
            edxml_document_id: r.try_get(4)?,
            refusal_queued: r.try_get::<i64, _>(5)? != 0,
            size: r.try_get::<i64, _>(6)?,
            received_at: r.try_get(7)?,
        });
    }
    Ok(out)
}

/// The bytes of a quarantined package exactly as received, to inspect them (with
/// `lienthong edxml verify` or `xmlsec1`, say): for the clerk of the agency it was
/// addressed to and for the province's administrators; to anyone else it does not
/// exist.
pub async fn quarantined_package(
    db: &Db,
    who: &Principal,
    id: i64,
) -> Result<Vec<u8>, ServiceError> {
    let row = sqlx::query("SELECT recipient_agency_id, raw FROM exchange_quarantine WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(ServiceError::NotFound)?;
    let recipient: Option<i64> = row.try_get(0)?;
    let clerk = recipient.is_some_and(|r| clerk_agencies(who).contains(&r));
    if !clerk && crate::org::require_province_admin(db, who).await.is_err() {
        return Err(ServiceError::NotFound);
    }
    Ok(row.try_get(1)?)
}

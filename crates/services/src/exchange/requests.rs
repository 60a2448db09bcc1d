//! Thu hồi, cập nhật, thay thế (recall, update, replace): a document package whose
//! Bussiness block is 1, 2 or 3 carries the DocumentId of an earlier package and
//! asks the receiver to take it back or to take the new version instead.
//!
//! Receiving: before the clerk registered the earlier package, the request is
//! applied at once (a recall takes it out of the queue with status 13 lấy lại; an
//! update or replace puts the new package in its place with status 15). Once it is
//! registered or refused, the request waits for the clerk, who agrees (15 đồng ý
//! cập nhật/thu hồi: a recalled document is marked so, an updated one gets the new
//! attachments and particulars) or refuses with a reason (16 từ chối cập nhật/thu
//! hồi). A request about nothing we received is quarantined with a status 16.
//!
//! Sending: [`recall`] queues, for each agency an issued document was sent to, a
//! package with the same header and DocumentId and the Bussiness block; like status
//! rows, it is signed by the delivery worker before its first attempt. Once every
//! agency a recall went to has answered 13 or 15, the outgoing document is recalled
//! ([`recalls_answered`]).

use lienthong_domain::access;
use lienthong_domain::document::Subject;
use lienthong_domain::Role;
use lienthong_edxml::{
    Business, BusinessDocType, MessageHeader, Organization, Package, StatusCode,
};
use lienthong_store::{time, Actor, BlobStore, Db, WriteTx};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::arrivals::{clerk_agencies, parse};
use super::outbox::{insert, queue_status, NewRow, NewStatus};
use super::package::{attachments_of, bind_particulars, compose, trace, urgency_of, Composed};
use super::receive::{document_id_of, Receipt, Refusal};
use super::{agency_by_id, LocalAgency};
use crate::auth::Principal;
use crate::documents::attachments;
use crate::documents::register::{add_event, add_event_by};
use crate::documents::Upload;
use crate::ServiceError;

/// What a request asks of the receiver (BussinessDocType 1, 2, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 1 thu hồi: take the document back.
    Recall,
    /// 2 cập nhật: the document is corrected.
    Update,
    /// 3 thay thế: the document is replaced by a new one.
    Replace,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Recall,
        RequestKind::Update,
        RequestKind::Replace,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Recall => "recall",
            RequestKind::Update => "update",
            RequestKind::Replace => "replace",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ServiceError::Invalid {
                field: "kind",
                code: "error.request_kind",
            })
    }

    fn business(self) -> BusinessDocType {
        match self {
            RequestKind::Recall => BusinessDocType::Recall,
            RequestKind::Update => BusinessDocType::Update,
            RequestKind::Replace => BusinessDocType::Replace,
        }
    }

    fn of(b: BusinessDocType) -> Option<Self> {
        match b {
            BusinessDocType::New => None,
            BusinessDocType::Recall => Some(RequestKind::Recall),
            BusinessDocType::Update => Some(RequestKind::Update),
            BusinessDocType::Replace => Some(RequestKind::Replace),
        }
    }
}

/// A request received, as the clerk of its recipient agency sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeRequest {
    pub id: i64,
    pub recipient_agency_id: i64,
    /// The arrival it is about (none when we never received that document).
    pub inbox_id: Option<i64>,
    /// The incoming document that arrival became, once registered.
    pub incoming_document_id: Option<i64>,
    pub edxml_document_id: String,
    pub from_code: String,
    pub from_name: String,
    /// recall | update | replace
    pub kind: String,
    /// Why the sender recalls, updates or replaces it.
    pub reason: String,
    /// The subject the new package gives.
    pub subject: String,
    pub attachment_count: i64,
    /// pending | agreed | refused
    pub state: String,
    /// The status sent back: 13, 15 or 16.
    pub answer: Option<String>,
    /// Why it was refused.
    pub decision_reason: Option<String>,
    pub decided_at: Option<String>,
    pub received_at: String,
}

const COLUMNS: &str =
    "r.id, r.recipient_agency_id, r.inbox_id, i.incoming_document_id, r.edxml_document_id,
    r.from_code, r.from_name, r.kind, r.reason, r.subject, r.attachment_count, r.state, r.answer,
    r.decision_reason, r.decided_at, r.received_at";

fn to_request(r: &sqlx::any::AnyRow) -> Result<ExchangeRequest, sqlx::Error> {
    Ok(ExchangeRequest {
        id: r.try_get(0)?,
        recipient_agency_id: r.try_get(1)?,
        inbox_id: r.try_get(2)?,
        incoming_document_id: r.try_get(3)?,
        edxml_document_id: r.try_get(4)?,
        from_code: r.try_get(5)?,
        from_name: r.try_get(6)?,
        kind: r.try_get(7)?,
        reason: r.try_get(8)?,
        subject: r.try_get(9)?,
        attachment_count: r.try_get(10)?,
        state: r.try_get(11)?,
        answer: r.try_get(12)?,
        decision_reason: r.try_get(13)?,
        decided_at: r.try_get(14)?,
        received_at: r.try_get(15)?,
    })
}

/// Whether a document package is a recall, update or replace.
pub(super) fn is_request(p: &Package) -> bool {
    p.business
        .as_ref()
        .and_then(|b| RequestKind::of(b.doc_type))
        .is_some()
}

/// How a request was answered on receipt, for one recipient agency.
enum OnReceipt {
    /// Applied at once, with this status back.
    Applied(StatusCode),
    /// Refused at once, with this reason (status 16).
    Refused(String),
    /// Waits for the clerk.
    Pending,
}

/// Files a request for each of our agencies it is addressed to. `Err` (a refusal
/// to quarantine, answered 16) when none of them received the document it is about.
pub(super) async fn file_request(
    db: &Db,
    bytes: &[u8],
    sha256: &str,
    package: Package,
    recipients: Vec<LocalAgency>,
) -> Result<Result<Receipt, Refusal>, ServiceError> {
    let kind = package
        .business
        .as_ref()
        .and_then(|b| RequestKind::of(b.doc_type))
        .ok_or(ServiceError::Conflict("not a request"))?;
    let reason = package
        .business
        .as_ref()
        .and_then(|b| b.reason.clone())
        .unwrap_or_default();
    let h = &package.header;
    let doc_id = document_id_of(&package).to_string();
    let actor = Actor::system("edxml");
    let now = time::now();
    let mut tx = db.write().await?;
    // Refused whole (quarantined, below) when none of our agencies received it.
    let mut known = false;
    for to in &recipients {
        known |= sqlx::query(
            "SELECT 1 FROM exchange_inbox WHERE recipient_agency_id = $1 AND edxml_document_id = $2
             UNION ALL SELECT 1 FROM exchange_requests WHERE recipient_agency_id = $1 AND sha256 = $3",
        )
        .bind(to.id)
        .bind(&doc_id)
        .bind(sha256)
        .fetch_optional(tx.conn())
        .await?
        .is_some();
    }
    let mut ids = Vec::new();
    let answered: &[LocalAgency] = if known { &recipients } else { &[] };
    for to in answered {
        // The same request package received before: nothing changes.
        if let Some(r) = sqlx::query(
            "SELECT id FROM exchange_requests WHERE recipient_agency_id = $1 AND sha256 = $2",
        )
        .bind(to.id)
        .bind(sha256)
        .fetch_optional(tx.conn())
        .await?
        {
            ids.push(r.try_get(0)?);
            continue;
        }
        let arrival = sqlx::query(
            "SELECT id, state FROM exchange_inbox WHERE recipient_agency_id = $1 AND edxml_document_id = $2",
        )
        .bind(to.id)
        .bind(&doc_id)
        .fetch_optional(tx.conn())
        .await?;
        let (inbox_id, outcome) = match arrival {
            None => (
                None,
                OnReceipt::Refused(format!(
                    "the {} is about document {doc_id}, which agency {} did not receive",
                    kind.as_str(),
                    to.code
                )),
            ),
            Some(r) => {
                let inbox_id: i64 = r.try_get(0)?;
                let state: String = r.try_get(1)?;
                let outcome = match (state.as_str(), kind) {
                    ("arrived", RequestKind::Recall) | ("recalled", RequestKind::Recall) => {
                        OnReceipt::Applied(StatusCode::TakenBack)
                    }
                    ("arrived", _) => OnReceipt::Applied(StatusCode::AgreesToUpdate),
                    ("recalled", _) => OnReceipt::Refused(format!(
                        "document {doc_id} was recalled before this {}",
                        kind.as_str()
                    )),
                    _ => OnReceipt::Pending,
                };
                (Some(inbox_id), outcome)
            }
        };
        let (state, answer, decision) = match &outcome {
            OnReceipt::Applied(code) => ("agreed", Some(code.as_str()), None),
            OnReceipt::Refused(why) => ("refused", Some("16"), Some(why.clone())),
            OnReceipt::Pending => ("pending", None, None),
        };
        let inserted = sqlx::query(
            "INSERT INTO exchange_requests (sha256, recipient_agency_id, inbox_id, edxml_document_id, from_code,
                from_name, kind, reason, subject, attachment_count, xml, state, answer, decision_reason,
                decided_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (recipient_agency_id, sha256) DO NOTHING RETURNING id",
        )
        .bind(sha256)
        .bind(to.id)
        .bind(inbox_id)
        .bind(&doc_id)
        .bind(h.from.organ_id.as_str())
        .bind(&h.from.organ_name)
        .bind(kind.as_str())
        .bind(&reason)
        .bind(&h.subject)
        .bind(package.attachments.len() as i64)
        .bind(bytes.to_vec())
        .bind(state)
        .bind(answer)
        .bind(&decision)
        .bind((!matches!(outcome, OnReceipt::Pending)).then_some(&now))
        .bind(&now)
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = inserted else {
            // Filed at the same moment by another delivery of the same bytes,
            // which did the rest: answer as it did.
            let r = sqlx::query(
                "SELECT id FROM exchange_requests WHERE recipient_agency_id = $1 AND sha256 = $2",
            )
            .bind(to.id)
            .bind(sha256)
            .fetch_one(tx.conn())
            .await?;
            ids.push(r.try_get(0)?);
            continue;
        };
        let id: i64 = row.try_get(0)?;
        tx.audit(
            &actor,
            "exchange.request",
            "exchange_request",
            id,
            json!({"kind": kind.as_str(), "reason": reason, "from": h.from.organ_id.as_str(),
                   "to": to.code.as_str(), "edxml_document_id": doc_id, "state": state, "answer": answer}),
        )
        .await?;
        if let (OnReceipt::Applied(_), Some(inbox_id)) = (&outcome, inbox_id) {
            apply_before_registration(&mut tx, &actor, inbox_id, kind, &reason, &package, bytes)
                .await?;
        }
        let code = match &outcome {
            OnReceipt::Applied(code) => Some(*code),
            OnReceipt::Refused(_) => Some(StatusCode::RefusesUpdate),
            OnReceipt::Pending => None,
        };
        if let Some(code) = code {
            queue_status(
                &mut tx,
                &actor,
                NewStatus {
                    from: to,
                    to_code: h.from.organ_id.as_str(),
                    to_name: &h.from.organ_name,
                    about: &doc_id,
                    document_id: None,
                    code,
                    description: decision.map(|d| d.chars().take(500).collect()),
                    staff: None,
                },
            )
            .await?;
        }
        ids.push(id);
    }
    if ids.is_empty() {
        drop(tx);
        let reason = format!(
            "the {} ({}) is about document {doc_id}, which none of its receiving agencies here received",
            kind.as_str(),
            BusinessDocType::label(kind.business())
        );
        return Ok(Err(Refusal {
            reason,
            answer: StatusCode::RefusesUpdate,
            recipient: recipients.first().cloned(),
            from_code: Some(h.from.organ_id.to_string()),
            package: Some(package),
        }));
    }
    tx.commit().await?;
    Ok(Ok(Receipt::Request {
        document_id: doc_id,
        kind: kind.as_str().to_owned(),
        request_ids: ids,
    }))
}

/// The arrival not registered yet: a recall takes it out of the queue; an update
/// or replace puts the new package's fields, attachments and XML in its place.
async fn apply_before_registration(
    tx: &mut WriteTx,
    actor: &Actor,
    inbox_id: i64,
    kind: RequestKind,
    reason: &str,
    package: &Package,
    bytes: &[u8],
) -> Result<(), ServiceError> {
    match kind {
        RequestKind::Recall => {
            recall_arrival(tx, inbox_id, reason, None).await?;
            tx.audit(
                actor,
                "exchange.recalled",
                "exchange_inbox",
                inbox_id,
                json!({"reason": reason}),
            )
            .await?;
        }
        RequestKind::Update | RequestKind::Replace => {
            replace_arrival(tx, inbox_id, package, bytes).await?;
            tx.audit(
                actor,
                "exchange.replaced",
                "exchange_inbox",
                inbox_id,
                json!({"kind": kind.as_str(), "reason": reason, "subject": package.header.subject,
                       "attachments": package.attachments.len()}),
            )
            .await?;
        }
    }
    Ok(())
}

async fn recall_arrival(
    tx: &mut WriteTx,
    inbox_id: i64,
    reason: &str,
    by: Option<i64>,
) -> Result<(), ServiceError> {
    sqlx::query(
        "UPDATE exchange_inbox SET state = 'recalled', reason = $1, decided_at = $2,
            decided_by = COALESCE($3, decided_by) WHERE id = $4",
    )
    .bind(reason)
    .bind(time::now())
    .bind(by)
    .bind(inbox_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The arrival's fields and package become the new package's. The new one is kept
/// inline, in place of the blob the arrival had: updates are rare.
async fn replace_arrival(
    tx: &mut WriteTx,
    inbox_id: i64,
    package: &Package,
    bytes: &[u8],
) -> Result<(), ServiceError> {
    let query = sqlx::query(
        "UPDATE exchange_inbox SET from_name = $1, symbol = $2, doc_type_name = $3, subject = $4, issued_on = $5,
            urgency = $6, due_on = $7, signer_name = $8, page_count = $9, attachment_count = $10, xml = $11,
            package_sha256 = NULL
         WHERE id = $12",
    );
    bind_particulars(query, package)
        .bind(bytes.to_vec())
        .bind(inbox_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The pending requests of every agency where `who` is a clerk, oldest first.
pub async fn requests(db: &Db, who: &Principal) -> Result<Vec<ExchangeRequest>, ServiceError> {
    let mut out = Vec::new();
    for agency in clerk_agencies(who) {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM exchange_requests r LEFT JOIN exchange_inbox i ON i.id = r.inbox_id
             WHERE r.recipient_agency_id = $1 AND r.state = 'pending' ORDER BY r.id"
        ))
        .bind(agency)
        .fetch_all(db.pool())
        .await?;
        for r in &rows {
            out.push(to_request(r)?);
        }
    }
    Ok(out)
}

/// One request, for a clerk of its recipient agency.
pub async fn request(db: &Db, who: &Principal, id: i64) -> Result<ExchangeRequest, ServiceError> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM exchange_requests r LEFT JOIN exchange_inbox i ON i.id = r.inbox_id WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let req = to_request(&r)?;
    if !access::has_role_in(&who.memberships(), req.recipient_agency_id, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    Ok(req)
}

/// The request, read again in the deciding transaction: still pending, and `who`
/// a clerk of its agency.
async fn pending(
    tx: &mut WriteTx,
    who: &Principal,
    id: i64,
) -> Result<(ExchangeRequest, Vec<u8>), ServiceError> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS}, r.xml FROM exchange_requests r LEFT JOIN exchange_inbox i ON i.id = r.inbox_id
         WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let req = to_request(&r)?;
    if !access::has_role_in(&who.memberships(), req.recipient_agency_id, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    if req.state != "pending" {
        return Err(ServiceError::Conflict("request already decided"));
    }
    Ok((req, r.try_get(16)?))
}

/// The clerk agrees (đồng ý, status 15): a recalled document is marked recalled;
/// an updated or replaced one gets the new package's attachments and particulars.
pub async fn agree_request(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    id: i64,
) -> Result<(), ServiceError> {
    // The new attachments are stored before the transaction (blob first, then the row).
    let first = request(db, who, id).await?;
    let xml: Vec<u8> = sqlx::query("SELECT xml FROM exchange_requests WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    let package = parse(&xml)?;
    let kind = RequestKind::parse(&first.kind)?;
    let files = if kind == RequestKind::Recall || first.incoming_document_id.is_none() {
        Vec::new()
    } else {
        let uploads: Vec<Upload> = package
            .attachments
            .iter()
            .map(|a| Upload {
                file_name: a.name.clone(),
                bytes: a.bytes.clone().into(),
                claimed_type: Some(a.content_type.clone()),
            })
            .collect();
        attachments::store_all(blobs, &uploads).await?
    };

    let mut tx = db.write().await?;
    let (req, locked_xml) = pending(&mut tx, who, id).await?;
    if locked_xml != xml {
        return Err(ServiceError::Conflict("request changed"));
    }
    let inbox_id = req
        .inbox_id
        .ok_or(ServiceError::Conflict("request without an arrival"))?;
    match kind {
        RequestKind::Recall => {
            recall_arrival(&mut tx, inbox_id, &req.reason, Some(who.person.id)).await?;
            if let Some(doc) = req.incoming_document_id {
                sqlx::query(
                    "UPDATE documents SET status = 'recalled', updated_at = $1 WHERE id = $2",
                )
                .bind(time::now())
                .bind(doc)
                .execute(tx.conn())
                .await?;
                // Nobody works on a recalled document any more: its open tasks end,
                // withdrawn (rút lại) with the sender's reason, not done.
                let withdrawn = sqlx::query(
                    "UPDATE assignments SET status = 'withdrawn', result = $1, closed_at = $2
                     WHERE document_id = $3 AND status = 'open'",
                )
                .bind(&req.reason)
                .bind(time::now())
                .bind(doc)
                .execute(tx.conn())
                .await?
                .rows_affected();
                let detail = json!({"reason": req.reason, "from": req.from_name,
                                    "tasks_withdrawn": withdrawn});
                add_event(&mut tx, doc, who, "exchange_recalled", &detail).await?;
                crate::search::enqueue(&mut tx, doc).await?;
            }
        }
        RequestKind::Update | RequestKind::Replace => {
            replace_arrival(&mut tx, inbox_id, &package, &xml).await?;
            if let Some(doc) = req.incoming_document_id {
                let h = &package.header;
                // A subject the register would refuse keeps the old one.
                let subject = Subject::parse(&h.subject)
                    .ok()
                    .map(|s| s.as_str().to_owned());
                sqlx::query(
                    "UPDATE documents SET subject = COALESCE($1, subject), due_on = COALESCE($2, due_on),
                        page_count = COALESCE($3, page_count), urgency = $4, updated_at = $5 WHERE id = $6",
                )
                .bind(&subject)
                .bind(h.due_date.map(time::date))
                .bind(h.other.page_amount.map(i64::from))
                .bind(urgency_of(h.other.priority).as_str())
                .bind(time::now())
                .bind(doc)
                .execute(tx.conn())
                .await?;
                let names = attachments::append_rows(&mut tx, doc, &files).await?;
                let detail = json!({"kind": req.kind, "reason": req.reason, "from": req.from_name,
                                    "subject": subject, "attachments": names});
                add_event(&mut tx, doc, who, "exchange_updated", &detail).await?;
                crate::search::enqueue(&mut tx, doc).await?;
            }
        }
    }
    decide(&mut tx, who, &req, StatusCode::AgreesToUpdate, None).await?;
    tx.commit().await.map_err(Into::into)
}

/// The clerk refuses (từ chối, status 16) with a reason sent back.
pub async fn refuse_request(
    db: &Db,
    who: &Principal,
    id: i64,
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
    let (req, _) = pending(&mut tx, who, id).await?;
    decide(&mut tx, who, &req, StatusCode::RefusesUpdate, Some(reason)).await?;
    tx.commit().await.map_err(Into::into)
}

/// Records the clerk's decision, audits it and queues the status back.
async fn decide(
    tx: &mut WriteTx,
    who: &Principal,
    req: &ExchangeRequest,
    code: StatusCode,
    reason: Option<&str>,
) -> Result<(), ServiceError> {
    let state = if code == StatusCode::AgreesToUpdate {
        "agreed"
    } else {
        "refused"
    };
    sqlx::query(
        "UPDATE exchange_requests SET state = $1, answer = $2, decision_reason = $3, decided_by = $4, decided_at = $5
         WHERE id = $6",
    )
    .bind(state)
    .bind(code.as_str())
    .bind(reason)
    .bind(who.person.id)
    .bind(time::now())
    .bind(req.id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        &who.actor(),
        if state == "agreed" {
            "exchange.agree_request"
        } else {
            "exchange.refuse_request"
        },
        "exchange_request",
        req.id,
        json!({"kind": req.kind, "answer": code.as_str(), "reason": reason,
               "document": req.incoming_document_id}),
    )
    .await?;
    let from = agency_by_id(tx.conn(), req.recipient_agency_id).await?;
    queue_status(
        tx,
        &who.actor(),
        NewStatus {
            from: &from,
            to_code: &req.from_code,
            to_name: &req.from_name,
            about: &req.edxml_document_id,
            document_id: req.incoming_document_id,
            code,
            description: reason.map(str::to_owned),
            staff: Some(who.person.full_name.clone()),
        },
    )
    .await?;
    Ok(())
}

/// Recalls, updates or replaces (thu hồi, cập nhật, thay thế) an issued outgoing
/// document: for each agency it was sent to, a package with the same header and
/// DocumentId and the Bussiness block (a recall carries no attachments; an update
/// or replace the document's current ones), queued unsigned for the worker to sign,
/// in one transaction with its audit entry and timeline event. Returns how many
/// were queued. Only a clerk (văn thư) of the issuing agency may.
pub async fn recall(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    outgoing_id: i64,
    kind: RequestKind,
    reason: &str,
) -> Result<usize, ServiceError> {
    let reason = reason.trim();
    let mut tx = db.write().await?;
    let r = sqlx::query("SELECT agency_id, direction, status FROM documents WHERE id = $1")
        .bind(outgoing_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(ServiceError::NotFound)?;
    let agency: i64 = r.try_get(0)?;
    if !access::has_role_in(&who.memberships(), agency, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    if r.try_get::<String, _>(1)? != "outgoing" || r.try_get::<String, _>(2)? != "issued" {
        return Err(ServiceError::Invalid {
            field: "status",
            code: "error.not_issued",
        });
    }
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ServiceError::Invalid {
            field: "reason",
            code: "error.recall_reason",
        });
    }
    // The agencies it went to (or is going to): not those that refused it for good.
    let sent = sqlx::query(
        "SELECT recipient_code, MIN(recipient_name) FROM exchange_outbox
         WHERE kind = 'document' AND document_id = $1 AND state <> 'dead'
         GROUP BY recipient_code ORDER BY recipient_code",
    )
    .bind(outgoing_id)
    .fetch_all(tx.conn())
    .await?;
    let mut to = Vec::new();
    for s in &sent {
        let code: String = s.try_get(0)?;
        let name: String = s.try_get(1)?;
        if let Ok(c) = lienthong_domain::OrgCode::parse(&code) {
            to.push(Organization::new(c, name));
        }
    }
    if to.is_empty() {
        return Err(ServiceError::Invalid {
            field: "status",
            code: "error.not_sent",
        });
    }
    let Composed {
        sender,
        document_id,
        header,
        ..
    } = compose(&mut tx, outgoing_id).await?;
    let files = match kind {
        RequestKind::Recall => Vec::new(),
        RequestKind::Update | RequestKind::Replace => {
            attachments_of(&mut tx, blobs, outgoing_id).await?
        }
    };
    let traces = trace(&sender.code);
    let edxml_id = document_id.to_string();
    for recipient in &to {
        let package = Package {
            header: MessageHeader {
                to: vec![recipient.clone()],
                ..header.clone()
            },
            traces: traces.clone(),
            business: Some(Business {
                doc_type: kind.business(),
                reason: Some(reason.to_owned()),
            }),
            attachments: files.clone(),
        };
        let xml = package.to_xml().map_err(|e| {
            tracing::error!(error = %e, "writing a request package");
            ServiceError::Conflict("request package")
        })?;
        let row = insert(
            &mut tx,
            NewRow {
                kind: "request",
                sender_agency_id: sender.id,
                sender_code: sender.code.as_str(),
                recipient_code: recipient.organ_id.as_str(),
                recipient_name: &recipient.organ_name,
                edxml_document_id: &edxml_id,
                document_id: Some(outgoing_id),
                status_code: None,
                xml: &xml,
                signed: false,
            },
        )
        .await?;
        tx.audit(
            &who.actor(),
            "exchange.queue_request",
            "exchange_outbox",
            row,
            json!({"document": outgoing_id, "kind": kind.as_str(), "to": recipient.organ_id.as_str(),
                   "edxml_document_id": edxml_id, "attachments": files.len()}),
        )
        .await?;
    }
    let detail = json!({"kind": kind.as_str(), "reason": reason,
                        "recipients": to.iter().map(|r| r.organ_id.to_string()).collect::<Vec<_>>()});
    add_event(&mut tx, outgoing_id, who, "exchange_request_sent", &detail).await?;
    tx.audit(
        &who.actor(),
        "exchange.recall",
        "document",
        outgoing_id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(to.len())
}

/// Marks recalled (đã thu hồi) the outgoing documents among `documents`, which have
/// just had a status 13 or 15, whose latest request was a recall that every agency
/// it went to has since answered with 13 (taken back) or 15 (agreed). An update or
/// replace agreed to leaves its document issued; so does a recall that any agency
/// refused (16) or has not answered yet.
pub(super) async fn recalls_answered(
    tx: &mut WriteTx,
    documents: &[i64],
) -> Result<(), ServiceError> {
    let mut documents = documents.to_vec();
    documents.sort_unstable();
    documents.dedup();
    for document in documents {
        let Some(sent) = sqlx::query(
            "SELECT at, detail FROM document_events
             WHERE document_id = $1 AND kind = 'exchange_request_sent' ORDER BY id DESC LIMIT 1",
        )
        .bind(document)
        .fetch_optional(tx.conn())
        .await?
        else {
            continue;
        };
        let (sent_at, detail): (String, String) = (sent.try_get(0)?, sent.try_get(1)?);
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        if detail["kind"] != RequestKind::Recall.as_str() {
            continue;
        }
        let recipients: Vec<&str> = detail["recipients"]
            .as_array()
            .map(|r| r.iter().filter_map(|c| c.as_str()).collect())
            .unwrap_or_default();
        let answered: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT recipient_code FROM exchange_statuses
             WHERE outgoing_document_id = $1 AND code IN ('13', '15') AND received_at >= $2",
        )
        .bind(document)
        .bind(&sent_at)
        .fetch_all(tx.conn())
        .await?;
        if recipients.is_empty() || !recipients.iter().all(|r| answered.iter().any(|a| a == r)) {
            continue;
        }
        let now = time::now();
        let recalled = sqlx::query(
            "UPDATE documents SET status = 'recalled', updated_at = $1
             WHERE id = $2 AND direction = 'outgoing' AND status = 'issued'",
        )
        .bind(&now)
        .bind(document)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if recalled == 0 {
            continue;
        }
        let detail = json!({"recipients": recipients});
        let actor = Actor::system("edxml");
        add_event_by(
            tx,
            document,
            None,
            &actor.name,
            "exchange_recall_done",
            &detail,
        )
        .await?;
        tx.audit(&actor, "exchange.recall_done", "document", document, detail)
            .await?;
    }
    Ok(())
}

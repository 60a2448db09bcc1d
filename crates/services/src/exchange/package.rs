//! From an issued văn bản đi (outgoing document) to one signed gói tin edXML per
//! recipient agency, written into the outbox in the issuing transaction.

use chrono::{FixedOffset, Offset, Utc};
use lienthong_domain::document::{DocumentType, Urgency};
use lienthong_domain::OrgCode;
use lienthong_edxml::{
    Attachment, Business, BusinessDocType, Code, DocumentId, DocumentType as EdxmlType,
    MessageHeader, Organization, OtherInfo, Package, PromulgationInfo, ResponseFor, SignerInfo,
    TraceHeader,
};
use lienthong_store::{time, BlobId, BlobStore, WriteTx};
use serde_json::json;
use sqlx::Row;

use super::outbox::{insert, NewRow};
use super::{agency_by_id, KeyStore};
use crate::auth::Principal;
use crate::documents::register::add_event;
use crate::ServiceError;

/// Vietnam time, in which edXML dates and timestamps are written.
pub(crate) fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix())
}

/// What every package of an issued document carries, whoever it goes to: the
/// header (with no recipient yet), the sending agency and the recipients with a code.
pub(crate) struct Composed {
    pub sender: super::LocalAgency,
    pub recipients: Vec<Organization>,
    pub document_id: DocumentId,
    /// `header.to` is empty: one package per recipient fills it.
    pub header: MessageHeader,
}

/// The header of the issued document `id` as edXML writes it.
pub(crate) async fn compose(tx: &mut WriteTx, id: i64) -> Result<Composed, ServiceError> {
    let r = sqlx::query(
        "SELECT agency_id, symbol, issued_on, doc_type, legal_normative, subject, urgency, signer_name,
                due_on, page_count, copies, in_reply_to
         FROM documents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let agency_id: i64 = r.try_get(0)?;
    let symbol: String = r.try_get(1)?;
    let issued_on = r
        .try_get::<Option<String>, _>(2)?
        .as_deref()
        .and_then(time::parse_date)
        .ok_or(ServiceError::Conflict("issued document without a date"))?;
    let doc_type = DocumentType::parse(&r.try_get::<String, _>(3)?)
        .map_err(|e| ServiceError::invalid("doc_type", e))?;
    let legal: i64 = r.try_get(4)?;
    let subject: String = r.try_get(5)?;
    let urgency = Urgency::parse(&r.try_get::<String, _>(6)?)
        .map_err(|e| ServiceError::invalid("urgency", e))?;
    let signer: String = r.try_get(7)?;
    let due_on = r
        .try_get::<Option<String>, _>(8)?
        .as_deref()
        .and_then(time::parse_date);
    let page_count: Option<i64> = r.try_get(9)?;
    let copies: Option<i64> = r.try_get(10)?;
    let in_reply_to: Option<i64> = r.try_get(11)?;

    let rows = sqlx::query(
        "SELECT r.name, a.code FROM document_recipients r LEFT JOIN agencies a ON a.id = r.agency_id
         WHERE r.document_id = $1 ORDER BY r.position",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let mut places = Vec::new();
    let mut recipients = Vec::new();
    for row in &rows {
        let name: String = row.try_get(0)?;
        places.push(name.chars().take(150).collect::<String>());
        if let Some(code) = row.try_get::<Option<String>, _>(1)? {
            if let Ok(code) = OrgCode::parse(&code) {
                recipients.push(Organization::new(code, name));
            }
        }
    }
    let sender = agency_by_id(tx.conn(), agency_id).await?;
    recipients.retain(|r| r.organ_id != sender.code);

    let code = match symbol.split_once('/') {
        Some((n, rest)) => Code {
            number: n.to_owned(),
            notation: rest.to_owned(),
        },
        None => Code {
            number: String::new(),
            notation: symbol.clone(),
        },
    };
    let document_id = DocumentId {
        organ_id: sender.code.clone(),
        date: issued_on,
        code: symbol.clone(),
    };
    let response_for = match in_reply_to {
        Some(incoming) => answered(tx, incoming).await?,
        None => Vec::new(),
    };
    let place = promulgation_place(tx, &sender.name).await?;
    let header = MessageHeader {
        from: Organization::new(sender.code.clone(), sender.name.clone()),
        to: Vec::new(),
        document_id: Some(document_id.clone()),
        code,
        promulgation: PromulgationInfo {
            place,
            date: issued_on,
        },
        document_type: EdxmlType {
            kind: if legal != 0 { "1" } else { "2" }.into(),
            detail: Some(doc_type.code().into()),
            name: doc_type.name_vi().into(),
        },
        subject,
        content: None,
        signer: SignerInfo {
            competence: None,
            position: None,
            full_name: (!signer.is_empty()).then_some(signer),
        },
        due_date: due_on,
        to_places: places,
        other: OtherInfo {
            priority: Some(priority(urgency)),
            promulgation_amount: copies.and_then(|c| u32::try_from(c).ok()),
            page_amount: page_count.and_then(|c| u32::try_from(c).ok()),
            ..OtherInfo::default()
        },
        steering_type: None,
        response_for,
    };
    Ok(Composed {
        sender,
        recipients,
        document_id,
        header,
    })
}

/// The document's current attachments, read from the blob store, as edXML carries them.
pub(crate) async fn attachments_of(
    tx: &mut WriteTx,
    blobs: &BlobStore,
    id: i64,
) -> Result<Vec<Attachment>, ServiceError> {
    let mut attachments = Vec::new();
    let files = sqlx::query(
        "SELECT file_name, blob_sha256, content_type FROM attachments WHERE document_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    for (i, f) in files.iter().enumerate() {
        let sha: String = f.try_get(1)?;
        let blob = BlobId::parse(&sha).map_err(|_| ServiceError::Conflict("bad blob id"))?;
        let bytes = blobs.get(&blob).await.map_err(|e| {
            tracing::error!(error = %e, "reading an attachment to send");
            ServiceError::Conflict("blob store unavailable")
        })?;
        attachments.push(Attachment {
            content_id: format!("cid:{}-{}", i + 1, &sha[..16]),
            content_type: f.try_get(2)?,
            description: None,
            name: f.try_get::<String, _>(0)?.chars().take(200).collect(),
            bytes: bytes.to_vec(),
        });
    }
    Ok(attachments)
}

/// A TraceHeader for a package leaving `sender` now.
pub(crate) fn trace(sender: &OrgCode) -> Vec<TraceHeader> {
    vec![TraceHeader {
        organ_id: sender.clone(),
        timestamp: Utc::now().with_timezone(&vietnam()),
    }]
}

/// Queues the issued document `id` for every recipient agency with a code. When
/// the issuing agency has no signing key, or signing fails, the document stays
/// issued (its number is taken and valid on paper) and its timeline says why it
/// was not sent electronically: refusing to issue would stop the clerk's work
/// for a missing file the clerk cannot fix.
pub(crate) async fn send_issued(
    tx: &mut WriteTx,
    blobs: &BlobStore,
    keys: &KeyStore,
    who: &Principal,
    id: i64,
) -> Result<usize, ServiceError> {
    let Composed {
        sender,
        recipients,
        document_id,
        header,
    } = compose(tx, id).await?;
    if recipients.is_empty() {
        return Ok(0);
    }

    let not_sent = |reason: String| json!({"reason": reason, "recipients": recipients.iter().map(|r| r.organ_id.to_string()).collect::<Vec<_>>()});
    let Some(signer_key) = keys.signer(&sender.code) else {
        let detail = not_sent(format!(
            "agency {} has no signing certificate on this system",
            sender.code
        ));
        add_event(tx, id, who, "exchange_not_sent", &detail).await?;
        tx.audit(&who.actor(), "exchange.not_sent", "document", id, detail)
            .await?;
        return Ok(0);
    };

    let attachments = attachments_of(tx, blobs, id).await?;
    let traces = trace(&sender.code);
    let mut queued = 0;
    for to in &recipients {
        let package = Package {
            header: MessageHeader {
                to: vec![to.clone()],
                ..header.clone()
            },
            traces: traces.clone(),
            business: Some(Business {
                doc_type: BusinessDocType::New,
                reason: None,
            }),
            attachments: attachments.clone(),
        };
        let signed = package.to_xml().map_err(|e| e.to_string()).and_then(|xml| {
            lienthong_edxml::sign(&xml, &signer_key.key, &signer_key.cert)
                .map_err(|e| e.to_string())
        });
        let xml = match signed {
            Ok(xml) => xml,
            Err(reason) => {
                let detail = json!({"reason": reason, "recipient": to.organ_id.to_string()});
                add_event(tx, id, who, "exchange_not_sent", &detail).await?;
                tx.audit(&who.actor(), "exchange.not_sent", "document", id, detail)
                    .await?;
                continue;
            }
        };
        let row = insert(
            tx,
            NewRow {
                kind: "document",
                sender_agency_id: sender.id,
                sender_code: sender.code.as_str(),
                recipient_code: to.organ_id.as_str(),
                recipient_name: &to.organ_name,
                edxml_document_id: &document_id.to_string(),
                document_id: Some(id),
                status_code: None,
                xml: &xml,
                signed: true,
            },
        )
        .await?;
        tx.audit(
            &who.actor(),
            "exchange.queue",
            "exchange_outbox",
            row,
            json!({"document": id, "to": to.organ_id.to_string(), "edxml_document_id": document_id.to_string(), "bytes": xml.len()}),
        )
        .await?;
        queued += 1;
    }
    if queued > 0 {
        let detail = json!({"recipients": recipients.iter().map(|r| r.organ_id.to_string()).collect::<Vec<_>>()});
        add_event(tx, id, who, "exchange_queued", &detail).await?;
    }
    Ok(queued)
}

/// Độ khẩn as edXML codes it: 0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc.
pub(crate) fn priority(u: Urgency) -> u8 {
    match u {
        Urgency::Normal => 0,
        Urgency::Urgent => 1,
        Urgency::VeryUrgent => 2,
        Urgency::Flash => 3,
    }
}

/// Binds the particulars an inbox row keeps of a package, in this order: from_name,
/// symbol, doc_type_name, subject, issued_on, urgency, due_on, signer_name,
/// page_count, attachment_count (filing an arrival, and an update replacing one).
pub(crate) fn bind_particulars<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    package: &'q Package,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let h = &package.header;
    query
        .bind(&h.from.organ_name)
        .bind(h.code.to_string())
        .bind(&h.document_type.name)
        .bind(&h.subject)
        .bind(time::date(h.promulgation.date))
        .bind(urgency_of(h.other.priority).as_str())
        .bind(h.due_date.map(time::date))
        .bind(h.signer.full_name.clone().unwrap_or_default())
        .bind(h.other.page_amount.map(i64::from))
        .bind(package.attachments.len() as i64)
}

pub(crate) fn urgency_of(priority: Option<u8>) -> Urgency {
    match priority {
        Some(1) => Urgency::Urgent,
        Some(2) => Urgency::VeryUrgent,
        Some(3) | Some(4) => Urgency::Flash,
        _ => Urgency::Normal,
    }
}

/// The ResponseFor of a reply to a document that arrived by exchange.
async fn answered(tx: &mut WriteTx, incoming: i64) -> Result<Vec<ResponseFor>, ServiceError> {
    let row = sqlx::query(
        "SELECT edxml_document_id FROM exchange_inbox WHERE incoming_document_id = $1 LIMIT 1",
    )
    .bind(incoming)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    Ok(DocumentId::parse(&row.try_get::<String, _>(0)?)
        .ok()
        .map(response_for)
        .into_iter()
        .collect())
}

pub(crate) fn response_for(id: DocumentId) -> ResponseFor {
    ResponseFor {
        organ_id: id.organ_id.clone(),
        code: id.code.clone(),
        promulgation_date: id.date,
        document_id: Some(id),
    }
}

/// Địa danh: the province's name, from its People's Committee ("Ủy ban nhân dân
/// tỉnh Vĩnh Long" gives "Vĩnh Long"), or the issuing agency's name.
async fn promulgation_place(tx: &mut WriteTx, fallback: &str) -> Result<String, ServiceError> {
    let name = super::province_agency(tx)
        .await?
        .map(|a| a.name)
        .unwrap_or_else(|| fallback.to_owned());
    for prefix in [
        "Ủy ban nhân dân tỉnh ",
        "Ủy ban nhân dân thành phố ",
        "UBND tỉnh ",
        "UBND thành phố ",
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return Ok(rest.to_owned());
        }
    }
    Ok(name)
}

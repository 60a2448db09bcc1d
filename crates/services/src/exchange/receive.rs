//! Receiving a package (tiếp nhận gói tin): from a peer over HTTP, or from the
//! delivery worker for an agency of this instance. Nothing received is dropped:
//! a valid document lands in the arrived queue, a valid status on the sender's
//! timeline, anything else in quarantine with the exact reason.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use lienthong_domain::OrgCode;
use lienthong_edxml::{
    Contents, DocumentId, EdxmlError, Limits, Package, Received, SignatureError, StatusCode,
    StatusPackage, Verified,
};
use lienthong_pki::TrustStore;
use lienthong_store::{
    parameter_list, placeholders, positional, time, Actor, AuditEntry, Backend, BlobId, BlobStore,
    Db, WriteTx,
};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::outbox::{queue_status, queue_statuses, route, NewStatus};
use super::package::bind_particulars;
use super::{
    ended_agencies, local_agencies, local_agency, province_agency, Ended, KeyStore, LocalAgency,
};
use crate::ServiceError;

/// The largest package accepted, attachments included.
pub const MAX_PACKAGE_BYTES: usize = 64 * 1024 * 1024;
/// Of a package refused for its size, this much is kept in quarantine.
const KEPT_OF_OVERSIZED: usize = 64 * 1024;

/// The answer to a package. Receiving the same package again gives the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Receipt {
    /// A document package, filed for each of our agencies it is addressed to.
    Arrived {
        document_id: String,
        inbox_ids: Vec<i64>,
    },
    /// A status package about a document we sent.
    Status { status_id: i64, code: String },
    /// A recall, update or replace (thu hồi, cập nhật, thay thế) of a document we
    /// received, recorded for each of our agencies that received it.
    Request {
        document_id: String,
        /// recall | update | replace
        kind: String,
        request_ids: Vec<i64>,
    },
    /// Refused and kept in quarantine.
    Quarantined { quarantine_id: i64, reason: String },
}

/// Why a package is refused, with what is known of it for the status sent back.
pub(super) struct Refusal {
    pub reason: String,
    /// The status that says so: 02, or 16 for a request about nothing we received.
    pub answer: StatusCode,
    /// Set when the package parsed as a document: whom to tell, about what.
    pub package: Option<Package>,
    /// Our agency it was addressed to, if any (whose clerk sees the quarantine).
    pub recipient: Option<LocalAgency>,
    pub from_code: Option<String>,
}

impl Refusal {
    fn bare(reason: impl ToString) -> Self {
        Refusal {
            reason: reason.to_string(),
            answer: StatusCode::Refused,
            package: None,
            recipient: None,
            from_code: None,
        }
    }
}

/// Receives one package (document or status): checks it, files it, answers.
pub async fn receive(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    bytes: impl Into<Bytes>,
) -> Result<Receipt, ServiceError> {
    receive_at(db, blobs, keys, bytes.into(), Utc::now()).await
}

/// [`receive`] as of `at`, the time certificates are checked for.
pub(crate) async fn receive_at(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    bytes: Bytes,
    at: DateTime<Utc>,
) -> Result<Receipt, ServiceError> {
    if bytes.len() > MAX_PACKAGE_BYTES {
        let sha256 = BlobId::of(&bytes).as_str().to_owned();
        if let Some(answer) = answered_before(db, &sha256).await? {
            return Ok(answer);
        }
        let reason = EdxmlError::TooLarge {
            max: MAX_PACKAGE_BYTES,
            found: bytes.len(),
        };
        return quarantine(
            db,
            &bytes[..KEPT_OF_OVERSIZED],
            &sha256,
            Refusal::bare(reason),
        )
        .await;
    }
    // Parsing and checking signatures is CPU work of a millisecond or so: it runs
    // off the async threads, which would otherwise stall every other request, and
    // as many at a time as there are cores, so as not to crowd out the threads that
    // write what was checked (the batched writes).
    let slot = checking_slots()
        .acquire()
        .await
        .map_err(|_| ServiceError::Conflict("package checks stopped"))?;
    let trust = keys.trust().map_err(|e| e.to_string());
    let checked = bytes.clone();
    let inspected = tokio::task::spawn_blocking(move || inspect(&checked, trust, at))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "checking a package panicked");
            ServiceError::Conflict("package check failed")
        })?;
    drop(slot);
    match inspected {
        Inspected::Document { package, signer } => {
            let signer = signer?;
            if signer.is_ok() && !super::requests::is_request(&package) {
                return arrive(db, blobs, keys, bytes, *package).await;
            }
            // Refused, or a recall, update or replace (which carries the DocumentId
            // of the package it is about: it is no arrival).
            let sha256 = BlobId::of(&bytes).as_str().to_owned();
            if let Some(answer) = answered_before(db, &sha256).await? {
                return Ok(answer);
            }
            match check_document(db, *package, signer).await? {
                Ok((package, recipients)) => {
                    match super::requests::file_request(db, &bytes, &sha256, package, recipients)
                        .await?
                    {
                        Ok(receipt) => Ok(receipt),
                        Err(refusal) => quarantine(db, &bytes, &sha256, refusal).await,
                    }
                }
                Err(refusal) => quarantine(db, &bytes, &sha256, refusal).await,
            }
        }
        Inspected::Status { status, signer } => {
            let signer = signer?;
            let sha256 = BlobId::of(&bytes).as_str().to_owned();
            let status = Arc::new(*status);
            let reason = match signer {
                Ok(()) => {
                    let checked = CheckedStatus {
                        sha256: sha256.clone(),
                        status: status.clone(),
                    };
                    match db
                        .write_batched("exchange.statuses", file_statuses, checked)
                        .await?
                    {
                        Ok(receipt) => return Ok(receipt),
                        Err(reason) => reason,
                    }
                }
                Err(reason) => match answered_before(db, &sha256).await? {
                    Some(answer) => return Ok(answer),
                    None => reason,
                },
            };
            let refusal = refuse_status(db, &status, reason).await?;
            quarantine(db, &bytes, &sha256, refusal).await
        }
        Inspected::Unreadable(e) => {
            let sha256 = BlobId::of(&bytes).as_str().to_owned();
            if let Some(answer) = answered_before(db, &sha256).await? {
                return Ok(answer);
            }
            quarantine(db, &bytes, &sha256, Refusal::bare(e)).await
        }
    }
}

/// Files a document package whose signature holds: stored, then filed with the
/// others that arrive at the same moment (see [`file_arrivals`]), or quarantined
/// when it is to none of our agencies.
async fn arrive(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    bytes: Bytes,
    package: Package,
) -> Result<Receipt, ServiceError> {
    // The package is on disk before its rows are. Its id is the hash of the bytes,
    // which quarantine is keyed by.
    let stored = blobs.put(bytes.clone()).await.map_err(|e| {
        tracing::error!(error = %e, "storing a package received");
        ServiceError::Conflict("package store unavailable")
    })?;
    let sha256 = stored.as_str().to_owned();
    let package = Arc::new(package);
    let arrival = CheckedArrival {
        sha256: sha256.clone(),
        package: package.clone(),
        keys: keys.clone(),
    };
    let (reason, recipient) = match db
        .write_batched("exchange.arrivals", file_arrivals, arrival)
        .await?
    {
        Ok(receipt) => return Ok(receipt),
        Err(refused) => refused,
    };
    // (Its stored copy stays behind unreferenced, as after a crash before filing.)
    let package = Arc::unwrap_or_clone(package);
    let refusal = Refusal {
        reason,
        answer: StatusCode::Refused,
        recipient,
        from_code: Some(package.header.from.organ_id.to_string()),
        package: Some(package),
    };
    quarantine(db, &bytes, &sha256, refusal).await
}

/// The slots for package checks, one per core.
fn checking_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// The answer given to the same bytes refused before, if they were.
async fn answered_before(db: &Db, sha256: &str) -> Result<Option<Receipt>, ServiceError> {
    let mut conn = db.pool().acquire().await?;
    Ok(refused_before(&mut conn, db.backend(), &[sha256])
        .await?
        .remove(sha256))
}

/// [`answered_before`] for several packages, by their hash.
async fn refused_before(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    sha256s: &[&str],
) -> Result<HashMap<String, Receipt>, ServiceError> {
    let mut found = HashMap::new();
    // One parameter a package: chunks far below both databases' limits.
    for chunk in sha256s.chunks(500) {
        let sql = format!(
            "SELECT sha256, id, reason FROM exchange_quarantine WHERE sha256 IN ({})",
            parameter_list(1, chunk.len())
        );
        let sql = positional(backend, &sql);
        let mut query = sqlx::query(&sql);
        for sha256 in chunk {
            query = query.bind(*sha256);
        }
        for r in query.fetch_all(&mut *conn).await? {
            found.insert(
                r.try_get(0)?,
                Receipt::Quarantined {
                    quarantine_id: r.try_get(1)?,
                    reason: r.try_get(2)?,
                },
            );
        }
    }
    Ok(found)
}

/// What the checks that need no database found: the package as read, and whether
/// its signature and signer's certificate hold for the agency it says it is from
/// (`Err` outside: the trust store could not be read).
enum Inspected {
    Document {
        package: Box<Package>,
        signer: Result<Result<(), String>, ServiceError>,
    },
    Status {
        status: Box<StatusPackage>,
        signer: Result<Result<(), String>, ServiceError>,
    },
    Unreadable(EdxmlError),
}

fn inspect(bytes: &[u8], trust: Result<Arc<TrustStore>, String>, at: DateTime<Utc>) -> Inspected {
    let limits = Limits {
        max_input_bytes: MAX_PACKAGE_BYTES,
        ..Limits::default()
    };
    // Failing to read the trust store is our fault, not the sender's: an error (the
    // sender is asked to try again later), not a refusal.
    let signer = |from: &OrgCode, verified: Result<Verified, SignatureError>| match &trust {
        Ok(trust) => Ok(check_signer(trust, verified, from, at)),
        Err(e) => {
            tracing::error!(error = %e, "the exchange's trust store cannot be read");
            Err(ServiceError::Conflict("trust store unavailable"))
        }
    };
    // One reading of the input serves the signature check and the package.
    let received = match Received::read(bytes, &limits) {
        Ok(received) => received,
        Err(e) => return Inspected::Unreadable(e),
    };
    let verified = received.verify();
    match received.contents() {
        Ok(Contents::Document(package)) => Inspected::Document {
            signer: signer(&package.header.from.organ_id, verified),
            package: Box::new(package),
        },
        Ok(Contents::Status(status)) => Inspected::Status {
            signer: signer(&status.from.organ_id, verified),
            status: Box::new(status),
        },
        Err(e) => Inspected::Unreadable(e),
    }
}

/// The signature and the signer's certificate, for the agency `from`.
fn check_signer(
    trust: &TrustStore,
    verified: Result<Verified, SignatureError>,
    from: &OrgCode,
    at: DateTime<Utc>,
) -> Result<(), String> {
    let Verified {
        certificate,
        certificates,
        ..
    } = verified.map_err(|e| format!("signature: {e}"))?;
    let chain: Vec<_> = certificates
        .into_iter()
        .filter(|c| c.to_der().ok() != certificate.to_der().ok())
        .collect();
    trust
        .verify_signer(&certificate, &chain, at, from)
        .map_err(|e| format!("certificate: {e}"))
}

type Checked<T> = Result<Result<T, Refusal>, ServiceError>;

async fn check_document(
    db: &Db,
    package: Package,
    signer: Result<(), String>,
) -> Checked<(Package, Vec<LocalAgency>)> {
    let mut conn = db.pool().acquire().await?;
    let mut recipients = Vec::new();
    for to in &package.header.to {
        if let Some(a) = local_agency(&mut conn, to.organ_id.as_str()).await? {
            recipients.push(a);
        }
    }
    drop(conn);
    let from = package.header.from.organ_id.clone();
    let refuse = |reason: String, package: Package, recipients: &[LocalAgency]| Refusal {
        reason,
        answer: StatusCode::Refused,
        recipient: recipients.first().cloned(),
        from_code: Some(from.to_string()),
        package: Some(package),
    };
    if let Err(reason) = signer {
        return Ok(Err(refuse(reason, package, &recipients)));
    }
    if recipients.is_empty() {
        let reason = not_served(&package, &HashMap::new());
        return Ok(Err(refuse(reason, package, &recipients)));
    }
    Ok(Ok((package, recipients)))
}

/// Why a package to none of our agencies is refused: the agencies of ours among its
/// addressees that have ended (`ended`, see [`ended_agencies`]), else that none is
/// served here.
fn not_served(package: &Package, ended: &HashMap<String, Ended>) -> String {
    let to: Vec<&str> = package
        .header
        .to
        .iter()
        .map(|t| t.organ_id.as_str())
        .collect();
    let reasons: Vec<&str> = to
        .iter()
        .filter_map(|c| ended.get(*c).map(|e| e.reason.as_str()))
        .collect();
    if reasons.is_empty() {
        format!(
            "none of the receiving agencies ({}) is served by this system",
            to.join(", ")
        )
    } else {
        reasons.join("; ")
    }
}

/// The DocumentId of a package: as sent, or built from its parts when absent.
pub(super) fn document_id_of(p: &Package) -> DocumentId {
    p.header.document_id.clone().unwrap_or_else(|| DocumentId {
        organ_id: p.header.from.organ_id.clone(),
        date: p.header.promulgation.date,
        code: p.header.code.to_string(),
    })
}

/// A document package whose signature holds, stored, to be filed for the agencies
/// of ours it is to.
struct CheckedArrival {
    /// The hash of the package's bytes: its id in the blob store.
    sha256: String,
    package: Arc<Package>,
    /// To tell whether an ended agency it is also addressed to can still sign its
    /// refusal (see [`file_arrivals`]).
    keys: KeyStore,
}

/// What filing one package came to: the answer, or the reason to refuse it (for
/// the caller to quarantine it, outside the batch).
type Filing = Result<Receipt, String>;

/// [`Filing`] for a document package: a refusal also says which of our agencies
/// answers it (`None`: the province's agency).
type ArrivalFiling = Result<Receipt, (String, Option<LocalAgency>)>;

/// The agencies of ours that have ended among a package's addressees and can still
/// sign, in the order addressed, each once: they answer 02 themselves, being the
/// recipients the sender's system knows (a status from anyone else is about
/// nothing it sent there).
fn ended_answering<'e>(
    package: &Package,
    ended: &'e HashMap<String, Ended>,
    keys: &KeyStore,
    at: DateTime<Utc>,
) -> Vec<&'e Ended> {
    let mut answering: Vec<&Ended> = Vec::new();
    for e in package
        .header
        .to
        .iter()
        .filter_map(|t| ended.get(t.organ_id.as_str()))
    {
        if !answering.iter().any(|a| a.agency.id == e.agency.id)
            && keys.can_sign(&e.agency.code, at)
        {
            answering.push(e);
        }
    }
    answering
}

/// Files checked document packages that arrived together (see `Db::write_batched`):
/// an inbox row for each of our agencies a package is to, audited, and a status 01
/// queued for its sender. The checks that need the database are made here, for the
/// whole batch at once: the same bytes refused before get the same answer, a
/// package received before changes nothing, one to none of our agencies is refused.
/// An agency of ours among the addressees that has ended answers 02 with the
/// reason, when it can still sign, so that the sender does not wait on it.
fn file_arrivals<'a>(
    tx: &'a mut WriteTx,
    arrivals: &'a [CheckedArrival],
) -> BoxFuture<'a, Result<Vec<ArrivalFiling>, ServiceError>> {
    Box::pin(async move {
        // 17 parameters a row: far below both databases' limits per statement.
        const CHUNK: usize = 64;
        let now = time::now();
        let backend = tx.backend();
        let sha256s: Vec<&str> = arrivals.iter().map(|a| a.sha256.as_str()).collect();
        let mut refused = refused_before(tx.conn(), backend, &sha256s).await?;
        let mut codes: Vec<&str> = arrivals
            .iter()
            .flat_map(|a| a.package.header.to.iter().map(|t| t.organ_id.as_str()))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let ours = local_agencies(tx.conn(), &codes).await?;
        let not_ours: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| !ours.contains_key(*c))
            .collect();
        let ended = ended_agencies(tx.conn(), &not_ours).await?;
        let at = Utc::now();
        let mut filings: Vec<Option<ArrivalFiling>> = Vec::with_capacity(arrivals.len());
        let mut recipients: Vec<Vec<&LocalAgency>> = Vec::with_capacity(arrivals.len());
        for a in arrivals {
            let mut to: Vec<&LocalAgency> = Vec::new();
            for agency in a
                .package
                .header
                .to
                .iter()
                .filter_map(|t| ours.get(t.organ_id.as_str()))
            {
                if !to.iter().any(|seen| seen.id == agency.id) {
                    to.push(agency);
                }
            }
            filings.push(if let Some(answer) = refused.remove(&a.sha256) {
                to.clear();
                Some(Ok(answer))
            } else if to.is_empty() {
                let answering = ended_answering(&a.package, &ended, &a.keys, at);
                Some(Err((
                    not_served(&a.package, &ended),
                    answering.first().map(|e| e.agency.clone()),
                )))
            } else {
                None
            });
            recipients.push(to);
        }
        let doc_ids: Vec<String> = arrivals
            .iter()
            .map(|a| document_id_of(&a.package).to_string())
            .collect();
        let pairs: Vec<(usize, &LocalAgency)> = recipients
            .iter()
            .enumerate()
            .flat_map(|(i, to)| to.iter().map(move |to| (i, *to)))
            .collect();
        let mut written: HashMap<(i64, String), i64> = HashMap::new();
        for chunk in pairs.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO exchange_inbox (recipient_agency_id, edxml_document_id, from_code, from_name, symbol,
                    doc_type_name, subject, issued_on, urgency, due_on, signer_name, page_count, attachment_count,
                    xml, package_sha256, state, received_at)
                 VALUES {} ON CONFLICT (recipient_agency_id, edxml_document_id) DO NOTHING
                 RETURNING id, recipient_agency_id, edxml_document_id",
                placeholders(chunk.len(), 17)
            );
            let sql = positional(tx.backend(), &sql);
            let mut query = sqlx::query(&sql);
            for (i, to) in chunk {
                let package = &arrivals[*i].package;
                query = query
                    .bind(to.id)
                    .bind(&doc_ids[*i])
                    .bind(package.header.from.organ_id.as_str());
                query = bind_particulars(query, package)
                    .bind(&[][..])
                    .bind(&arrivals[*i].sha256)
                    .bind("arrived")
                    .bind(&now);
            }
            for r in query.fetch_all(tx.conn()).await? {
                written.insert((r.try_get(1)?, r.try_get(2)?), r.try_get(0)?);
            }
        }
        let mut inbox_ids = vec![Vec::new(); arrivals.len()];
        let mut arrived_now = vec![false; arrivals.len()];
        let (mut audits, mut statuses) = (Vec::new(), Vec::new());
        for (i, to) in pairs {
            let (p, h) = (&arrivals[i].package, &arrivals[i].package.header);
            // Taken out once: the same package twice in one batch arrived once.
            let id = match written.remove(&(to.id, doc_ids[i].clone())) {
                Some(id) => {
                    arrived_now[i] = true;
                    audits.push(AuditEntry {
                        action: "exchange.arrived",
                        record_type: "exchange_inbox",
                        record_id: id.to_string(),
                        changes: json!({"from": h.from.organ_id.as_str(), "to": to.code.as_str(),
                                        "edxml_document_id": doc_ids[i], "subject": h.subject,
                                        "attachments": p.attachments.len()}),
                    });
                    statuses.push(NewStatus {
                        from: to,
                        to_code: h.from.organ_id.as_str(),
                        to_name: &h.from.organ_name,
                        about: &doc_ids[i],
                        document_id: None,
                        code: StatusCode::Arrived,
                        description: None,
                        staff: None,
                    });
                    id
                }
                // Received before: nothing changes.
                None => sqlx::query(
                    "SELECT id FROM exchange_inbox WHERE recipient_agency_id = $1 AND edxml_document_id = $2",
                )
                .bind(to.id)
                .bind(&doc_ids[i])
                .fetch_one(tx.conn())
                .await?
                .try_get(0)?,
            };
            inbox_ids[i].push(id);
        }
        for (i, a) in arrivals.iter().enumerate().filter(|(i, _)| arrived_now[*i]) {
            let h = &a.package.header;
            for e in ended_answering(&a.package, &ended, &a.keys, at) {
                statuses.push(NewStatus {
                    from: &e.agency,
                    to_code: h.from.organ_id.as_str(),
                    to_name: &h.from.organ_name,
                    about: &doc_ids[i],
                    document_id: None,
                    code: StatusCode::Refused,
                    description: Some(e.reason.chars().take(500).collect()),
                    staff: None,
                });
            }
        }
        let actor = Actor::system("edxml");
        tx.audit_many(&actor, &audits).await?;
        queue_statuses(tx, &actor, &statuses).await?;
        Ok(filings
            .into_iter()
            .zip(doc_ids.into_iter().zip(inbox_ids))
            .map(|(filing, (document_id, inbox_ids))| {
                filing.unwrap_or(Ok(Receipt::Arrived {
                    document_id,
                    inbox_ids,
                }))
            })
            .collect())
    })
}

/// A status package whose signature holds, to be filed on the timeline of the
/// document it is about.
struct CheckedStatus {
    /// The hash of the package's bytes (which quarantine is keyed by).
    sha256: String,
    status: Arc<StatusPackage>,
}

/// The DocumentId of the document a status is about.
fn about_of(status: &StatusPackage) -> DocumentId {
    status
        .response_for
        .document_id
        .clone()
        .unwrap_or_else(|| DocumentId {
            organ_id: status.response_for.organ_id.clone(),
            date: status.response_for.promulgation_date,
            code: status.response_for.code.clone(),
        })
}

/// Why a status package is refused, for the clerks of our agency that sent what
/// it is about.
async fn refuse_status(
    db: &Db,
    status: &StatusPackage,
    reason: String,
) -> Result<Refusal, ServiceError> {
    let mut conn = db.pool().acquire().await?;
    let sender = local_agency(&mut conn, about_of(status).organ_id.as_str()).await?;
    Ok(Refusal {
        reason,
        answer: StatusCode::Refused,
        package: None,
        recipient: sender,
        from_code: Some(status.from.organ_id.to_string()),
    })
}

/// What we sent, by DocumentId and recipient code, of the (DocumentId, recipient)
/// pairs named: the outgoing document's id (none for a package that was not one)
/// and the recipient's name, from the first package of each.
async fn sent_documents(
    tx: &mut WriteTx,
    sent_to: &[(&str, &str)],
) -> Result<HashMap<(String, String), (Option<i64>, String)>, ServiceError> {
    let mut pairs = sent_to.to_vec();
    pairs.sort_unstable();
    pairs.dedup();
    let mut sent = HashMap::new();
    // Two parameters a pair: chunks far below both databases' limits. By pair, not
    // by document: a document sent to thirty agencies has thirty rows, one of which
    // a status is about. An OR of pairs, not `(a, b) IN (VALUES …)`: SQLite searches
    // `exchange_outbox_sent` for each term of an OR but scans the table for the other.
    for chunk in pairs.chunks(250) {
        let terms: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(edxml_document_id = ${} AND recipient_code = ${})",
                    2 * i + 1,
                    2 * i + 2
                )
            })
            .collect();
        let sql = format!(
            "SELECT edxml_document_id, recipient_code, document_id, recipient_name FROM exchange_outbox
             WHERE kind = 'document' AND ({}) ORDER BY id",
            terms.join(" OR ")
        );
        let sql = positional(tx.backend(), &sql);
        let mut query = sqlx::query(&sql);
        for (id, to) in chunk {
            query = query.bind(*id).bind(*to);
        }
        for r in query.fetch_all(tx.conn()).await? {
            sent.entry((r.try_get(0)?, r.try_get(1)?))
                .or_insert((r.try_get(2)?, r.try_get(3)?));
        }
    }
    Ok(sent)
}

/// Files checked status packages that arrived together (see `Db::write_batched`)
/// on the timelines of the documents they are about, audited. The same bytes
/// refused before get the same answer; a status about nothing we sent to its sender
/// is refused; a status received before changes nothing.
fn file_statuses<'a>(
    tx: &'a mut WriteTx,
    statuses: &'a [CheckedStatus],
) -> BoxFuture<'a, Result<Vec<Filing>, ServiceError>> {
    Box::pin(async move {
        // 8 parameters a row: far below both databases' limits per statement.
        const CHUNK: usize = 128;
        let now = time::now();
        let backend = tx.backend();
        let sha256s: Vec<&str> = statuses.iter().map(|c| c.sha256.as_str()).collect();
        let mut refused = refused_before(tx.conn(), backend, &sha256s).await?;
        let about: Vec<(String, &str)> = statuses
            .iter()
            .map(|c| {
                (
                    about_of(&c.status).to_string(),
                    c.status.from.organ_id.as_str(),
                )
            })
            .collect();
        let sent_to: Vec<(&str, &str)> = about
            .iter()
            .map(|(id, from)| (id.as_str(), *from))
            .collect();
        let sent = sent_documents(tx, &sent_to).await?;
        // Each status is answered now (refused) or filed below as `to_file[i]`.
        let mut filings: Vec<Option<Filing>> = Vec::with_capacity(statuses.len());
        type Key = (i64, String, String, String);
        let mut to_file: Vec<(usize, Key, &str)> = Vec::new();
        for (i, (c, (about, from))) in statuses.iter().zip(&about).enumerate() {
            if let Some(answer) = refused.remove(&c.sha256) {
                filings.push(Some(Ok(answer)));
                continue;
            }
            match sent.get(&(about.clone(), (*from).to_owned())) {
                Some((Some(document_id), recipient_name)) => {
                    filings.push(None);
                    let key = (
                        *document_id,
                        (*from).to_owned(),
                        c.status.code.as_str().to_owned(),
                        time::timestamp(c.status.timestamp.with_timezone(&Utc)),
                    );
                    to_file.push((i, key, recipient_name.as_str()));
                }
                Some((None, _)) => filings.push(Some(Err(format!(
                    "the status is about {about}, which is not a document"
                )))),
                None => filings.push(Some(Err(format!(
                    "the status is about document {about}, which this system did not send to agency {from}"
                )))),
            }
        }
        let mut written: HashMap<Key, i64> = HashMap::new();
        for chunk in to_file.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO exchange_statuses (outgoing_document_id, recipient_code, recipient_name, code, description,
                    staff, at, received_at)
                 VALUES {} ON CONFLICT (outgoing_document_id, recipient_code, code, at) DO NOTHING
                 RETURNING id, outgoing_document_id, recipient_code, code, at",
                placeholders(chunk.len(), 8)
            );
            let sql = positional(backend, &sql);
            let mut query = sqlx::query(&sql);
            for (i, (document_id, from, code, at), recipient_name) in chunk {
                let status = &statuses[*i].status;
                let staff = [
                    status.staff.staff.as_deref(),
                    status.staff.department.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
                query = query
                    .bind(*document_id)
                    .bind(from)
                    .bind(*recipient_name)
                    .bind(code)
                    .bind(&status.description)
                    .bind((!staff.is_empty()).then_some(staff))
                    .bind(at)
                    .bind(&now);
            }
            for r in query.fetch_all(tx.conn()).await? {
                let key = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
                written.insert(key, r.try_get(0)?);
            }
        }
        let mut audits = Vec::new();
        let mut recall_answers = Vec::new();
        for (i, key, _) in to_file {
            let status = &statuses[i].status;
            // Taken out once: the same status twice in one batch arrived once.
            let id = match written.remove(&key) {
                Some(id) => {
                    if matches!(status.code, StatusCode::TakenBack | StatusCode::AgreesToUpdate) {
                        recall_answers.push(key.0);
                    }
                    audits.push(AuditEntry {
                        action: "exchange.status",
                        record_type: "document",
                        record_id: key.0.to_string(),
                        changes: json!({"from": key.1, "code": key.2,
                                        "description": status.description, "at": key.3}),
                    });
                    id
                }
                None => sqlx::query(
                    "SELECT id FROM exchange_statuses
                     WHERE outgoing_document_id = $1 AND recipient_code = $2 AND code = $3 AND at = $4",
                )
                .bind(key.0)
                .bind(&key.1)
                .bind(&key.2)
                .bind(&key.3)
                .fetch_one(tx.conn())
                .await?
                .try_get(0)?,
            };
            filings[i] = Some(Ok(Receipt::Status {
                status_id: id,
                code: key.2,
            }));
        }
        tx.audit_many(&Actor::system("edxml"), &audits).await?;
        super::requests::recalls_answered(tx, &recall_answers).await?;
        filings
            .into_iter()
            .map(|f| f.ok_or(ServiceError::Conflict("status not filed")))
            .collect()
    })
}

/// Keeps a refused package with its reason and, when we know who sent which
/// document and can reach them, queues a status 02 (or 16) saying why.
async fn quarantine(
    db: &Db,
    raw: &[u8],
    sha256: &str,
    refusal: Refusal,
) -> Result<Receipt, ServiceError> {
    let actor = Actor::system("edxml");
    let doc_id = refusal
        .package
        .as_ref()
        .map(|p| document_id_of(p).to_string());
    let mut tx = db.write().await?;
    let inserted = sqlx::query(
        "INSERT INTO exchange_quarantine (sha256, raw, reason, from_code, recipient_agency_id, edxml_document_id,
            refusal_queued, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT (sha256) DO NOTHING RETURNING id",
    )
    .bind(sha256)
    .bind(raw.to_vec())
    .bind(&refusal.reason)
    .bind(&refusal.from_code)
    .bind(refusal.recipient.as_ref().map(|a| a.id))
    .bind(&doc_id)
    .bind(time::now())
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = inserted else {
        // Refused at the same moment by another request: answer as it did.
        drop(tx);
        let r = sqlx::query("SELECT id, reason FROM exchange_quarantine WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(db.pool())
            .await?;
        return Ok(Receipt::Quarantined {
            quarantine_id: r.try_get(0)?,
            reason: r.try_get(1)?,
        });
    };
    let id: i64 = row.try_get(0)?;
    let queued = match (&refusal.package, &doc_id) {
        (Some(p), Some(doc_id)) => refuse_back(db, &mut tx, &actor, p, doc_id, &refusal).await?,
        _ => false,
    };
    if queued {
        sqlx::query("UPDATE exchange_quarantine SET refusal_queued = 1 WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    tx.audit(
        &actor,
        "exchange.quarantined",
        "exchange_quarantine",
        id,
        json!({"reason": refusal.reason, "from": refusal.from_code, "edxml_document_id": doc_id,
               "bytes": raw.len(), "refusal_queued": queued}),
    )
    .await?;
    tx.commit().await?;
    Ok(Receipt::Quarantined {
        quarantine_id: id,
        reason: refusal.reason,
    })
}

/// Queues the status 02 of a refused document package if its sender is reachable
/// (an agency of this instance or one the peer directory serves).
async fn refuse_back(
    db: &Db,
    tx: &mut WriteTx,
    actor: &Actor,
    p: &Package,
    doc_id: &str,
    refusal: &Refusal,
) -> Result<bool, ServiceError> {
    let sender = &p.header.from;
    let reachable = local_agency(tx.conn(), sender.organ_id.as_str())
        .await?
        .is_some()
        || route(db, sender.organ_id.as_str()).await?.is_some();
    let from = match &refusal.recipient {
        Some(a) => Some(a.clone()),
        None => province_agency(tx).await?,
    };
    let (true, Some(from)) = (reachable, from) else {
        return Ok(false);
    };
    queue_status(
        tx,
        actor,
        NewStatus {
            from: &from,
            to_code: sender.organ_id.as_str(),
            to_name: &sender.organ_name,
            about: doc_id,
            document_id: None,
            code: refusal.answer,
            description: Some(refusal.reason.chars().take(500).collect()),
            staff: None,
        },
    )
    .await?;
    Ok(true)
}

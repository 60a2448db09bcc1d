//! The outbox (hộp thư đi) and its delivery worker, and the peer directory.
//!
//! Rows are claimed from the database with a lease (claimed_by, claimed_until),
//! on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so any number of nodes can run the
//! worker. A row is only claimable when no earlier row from the same sender to the
//! same recipient is still pending, which keeps what one agency sends another in
//! order (a document before its update, 03 before 06) without letting one agency
//! whose packages cannot go out (no key, say) hold up the others' to the same
//! recipient.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lienthong_domain::OrgCode;
use lienthong_edxml::{DocumentId, Organization, StaffInfo, StatusCode, StatusPackage};
use lienthong_store::{
    parameter_list, placeholders, positional, time, AuditEntry, Backend, BlobStore, Db, WriteTx,
};
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use tokio::time::Instant;

use super::package::{response_for, vietnam};
use super::receive::{receive, Receipt};
use super::{agency_by_id, ended_agencies, local_agency, KeyStore, LocalAgency};
use crate::auth::Principal;
use crate::ServiceError;

/// Streams (sender → recipient) one call of [`deliver_due`] claims at most.
pub const CLAIM_STREAMS: usize = 16;
/// Streams the delivery worker of a server ([`deliver_continuously`]) keeps moving
/// at once.
pub const MOVING_STREAMS: usize = 32;
/// The worker claims again once this many of its streams are done. Claiming reads
/// the heads of all pending streams and commits: doing it for every stream that
/// finishes would cost more than the place is worth.
const CLAIM_AFTER_DONE: usize = 8;
/// How often, at least, the worker looks for new rows while it has places free.
const LOOK_AGAIN: Duration = Duration::from_secs(1);
/// Rows of one stream one claim takes at most, delivered one after another.
const STREAM_BATCH: i64 = 16;
/// Bytes of packages of one stream read from the database together at most.
const FETCH_BYTES: usize = 4 * 1024 * 1024;
/// How long a claim holds: past it, a crashed worker's rows are claimed again.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// How long a peer may take to answer one POST.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct NewRow<'a> {
    pub kind: &'a str,
    pub sender_agency_id: i64,
    pub sender_code: &'a str,
    pub recipient_code: &'a str,
    pub recipient_name: &'a str,
    pub edxml_document_id: &'a str,
    pub document_id: Option<i64>,
    pub status_code: Option<&'a str>,
    pub xml: &'a [u8],
    pub signed: bool,
}

/// Writes a package to deliver, due now, in the caller's transaction.
pub(crate) async fn insert(tx: &mut WriteTx, r: NewRow<'_>) -> Result<i64, ServiceError> {
    let ids = insert_many(tx, std::slice::from_ref(&r)).await?;
    ids.first()
        .copied()
        .ok_or(ServiceError::Conflict("outbox row not written"))
}

/// [`insert`] for several packages, with multi-row statements; their ids, in order.
pub(crate) async fn insert_many(
    tx: &mut WriteTx,
    rows: &[NewRow<'_>],
) -> Result<Vec<i64>, ServiceError> {
    // 13 parameters a row: far below both databases' limits per statement.
    const CHUNK: usize = 64;
    type Key = (String, String, String, String, Option<String>);
    let key = |r: &NewRow| -> Key {
        (
            r.kind.into(),
            r.sender_code.into(),
            r.recipient_code.into(),
            r.edxml_document_id.into(),
            r.status_code.map(str::to_owned),
        )
    };
    let now = time::now();
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO exchange_outbox (kind, sender_agency_id, sender_code, recipient_code, recipient_name,
                edxml_document_id, document_id, status_code, signed, state, attempts, next_attempt_at, created_at)
             VALUES {} RETURNING id, kind, sender_code, recipient_code, edxml_document_id, status_code",
            placeholders(chunk.len(), 13)
        );
        let sql = positional(tx.backend(), &sql);
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(r.kind)
                .bind(r.sender_agency_id)
                .bind(r.sender_code)
                .bind(r.recipient_code)
                .bind(r.recipient_name)
                .bind(r.edxml_document_id)
                .bind(r.document_id)
                .bind(r.status_code)
                .bind(r.signed as i64)
                .bind("pending")
                .bind(0_i64)
                .bind(&now)
                .bind(&now);
        }
        // RETURNING promises no order: each row is found again by what it is, and
        // rows alike in all of that take their ids in the order they were written.
        let mut written: HashMap<Key, VecDeque<i64>> = HashMap::new();
        for r in query.fetch_all(tx.conn()).await? {
            let k: Key = (
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            );
            written.entry(k).or_default().push_back(r.try_get(0)?);
        }
        written
            .values_mut()
            .for_each(|ids| ids.make_contiguous().sort_unstable());
        let first = ids.len();
        for r in chunk {
            let id = written
                .get_mut(&key(r))
                .and_then(VecDeque::pop_front)
                .ok_or(ServiceError::Conflict("outbox row not written"))?;
            ids.push(id);
        }
        let packages: Vec<_> = ids[first..]
            .iter()
            .copied()
            .zip(chunk.iter().map(|r| r.xml))
            .collect();
        write_packages(tx, &packages).await?;
    }
    Ok(ids)
}

/// Stores the packages of outbox rows (id, bytes), with multi-row statements.
async fn write_packages(tx: &mut WriteTx, packages: &[(i64, &[u8])]) -> Result<(), ServiceError> {
    for chunk in packages.chunks(64) {
        let sql = format!(
            "INSERT INTO exchange_outbox_packages (outbox_id, xml) VALUES {}",
            placeholders(chunk.len(), 2)
        );
        let sql = positional(tx.backend(), &sql);
        let mut query = sqlx::query(&sql);
        for (id, xml) in chunk {
            query = query.bind(*id).bind(*xml);
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// A status package to send back to the agency that sent us a document.
pub(crate) struct NewStatus<'a> {
    /// Our agency reporting the status.
    pub from: &'a LocalAgency,
    pub to_code: &'a str,
    pub to_name: &'a str,
    /// The DocumentId of the document the status is about.
    pub about: &'a str,
    /// The incoming document it became, once registered.
    pub document_id: Option<i64>,
    pub code: StatusCode,
    pub description: Option<String>,
    pub staff: Option<String>,
}

/// Queues a status package (unsigned: the worker signs it), audited.
pub(crate) async fn queue_status(
    tx: &mut WriteTx,
    actor: &lienthong_store::Actor,
    s: NewStatus<'_>,
) -> Result<i64, ServiceError> {
    let ids = queue_statuses(tx, actor, std::slice::from_ref(&s)).await?;
    ids.first()
        .copied()
        .ok_or(ServiceError::Conflict("outbox row not written"))
}

/// [`queue_status`] for several statuses, with multi-row statements.
pub(crate) async fn queue_statuses(
    tx: &mut WriteTx,
    actor: &lienthong_store::Actor,
    statuses: &[NewStatus<'_>],
) -> Result<Vec<i64>, ServiceError> {
    let mut packages = Vec::with_capacity(statuses.len());
    for s in statuses {
        let about =
            DocumentId::parse(s.about).map_err(|_| ServiceError::Conflict("bad DocumentId"))?;
        let package = StatusPackage {
            from: Organization::new(s.from.code.clone(), s.from.name.clone()),
            response_for: response_for(about),
            staff: StaffInfo {
                staff: s.staff.clone(),
                ..StaffInfo::default()
            },
            code: s.code,
            description: s.description.clone(),
            timestamp: Utc::now().with_timezone(&vietnam()),
        };
        packages.push(package.to_xml().map_err(|e| {
            tracing::error!(error = %e, "writing a status package");
            ServiceError::Conflict("status package")
        })?);
    }
    let rows: Vec<NewRow> = statuses
        .iter()
        .zip(&packages)
        .map(|(s, xml)| NewRow {
            kind: "status",
            sender_agency_id: s.from.id,
            sender_code: s.from.code.as_str(),
            recipient_code: s.to_code,
            recipient_name: s.to_name,
            edxml_document_id: s.about,
            document_id: s.document_id,
            status_code: Some(s.code.as_str()),
            xml,
            signed: false,
        })
        .collect();
    let ids = insert_many(tx, &rows).await?;
    let audits: Vec<AuditEntry> = statuses
        .iter()
        .zip(&ids)
        .map(|(s, id)| AuditEntry {
            action: "exchange.queue_status",
            record_type: "exchange_outbox",
            record_id: id.to_string(),
            changes: json!({"code": s.code.as_str(), "to": s.to_code, "about": s.about, "description": s.description}),
        })
        .collect();
    tx.audit_many(actor, &audits).await?;
    Ok(ids)
}

/// The workflow hook: when a document that arrived by exchange is assigned (04),
/// worked on (05) or finished (06), tell its sender, once per status, in the
/// step's own transaction. Documents that did not arrive by exchange are left alone.
pub(crate) async fn report(
    tx: &mut WriteTx,
    who: &Principal,
    incoming_document_id: i64,
    code: StatusCode,
) -> Result<(), ServiceError> {
    let row = sqlx::query(
        "SELECT recipient_agency_id, edxml_document_id, from_code, from_name FROM exchange_inbox
         WHERE incoming_document_id = $1 AND state = 'registered'",
    )
    .bind(incoming_document_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let already = sqlx::query(
        "SELECT 1 FROM exchange_outbox WHERE kind = 'status' AND document_id = $1 AND status_code = $2 LIMIT 1",
    )
    .bind(incoming_document_id)
    .bind(code.as_str())
    .fetch_optional(tx.conn())
    .await?;
    if already.is_some() {
        return Ok(());
    }
    let from = agency_by_id(tx.conn(), row.try_get(0)?).await?;
    let about: String = row.try_get(1)?;
    let to_code: String = row.try_get(2)?;
    let to_name: String = row.try_get(3)?;
    queue_status(
        tx,
        &who.actor(),
        NewStatus {
            from: &from,
            to_code: &to_code,
            to_name: &to_name,
            about: &about,
            document_id: Some(incoming_document_id),
            code,
            description: None,
            staff: Some(who.person.full_name.clone()),
        },
    )
    .await?;
    Ok(())
}

/// A claimed outbox row (its package is read when it is attempted).
struct Claimed {
    id: i64,
    kind: String,
    sender_code: String,
    recipient_code: String,
    signed: bool,
    attempts: i64,
    /// The size of its stored package.
    package_bytes: usize,
}

/// How one attempt ended.
enum Outcome {
    Delivered,
    /// Worth trying again later (unreachable, 5xx, 408, 429, no route yet).
    Retry(String),
    /// Refused for good (a 4xx, a package our own receiver quarantines).
    Dead(String),
    /// Not attempted: an earlier row of its stream is to be retried first.
    Released,
}

/// An attempted row: how it went, and its package if it was signed just now.
struct Attempted {
    row: Claimed,
    signed_now: Option<Vec<u8>>,
    outcome: Outcome,
}

/// Delivers the packages that are due; returns how many were delivered. `node_id`
/// names this process in the claims (e.g. host and pid). Meant to be called in a
/// loop by the server and directly by tests.
///
/// A claim takes the first rows of up to [`CLAIM_STREAMS`] streams. Streams go at
/// once, so one slow peer does not hold up the others; the rows of one stream go one
/// after another, in order, and stop at the first that must be retried. The
/// outcomes are then written in one transaction.
pub async fn deliver_due(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    http: &reqwest::Client,
    node_id: &str,
) -> Result<usize, ServiceError> {
    // The directory is read before claiming: failing to read it leaves nothing claimed.
    let peers = peers(db).await?;
    let streams = settle_and_claim(db, node_id, Vec::new(), CLAIM_STREAMS).await?;
    let attempted = futures::future::join_all(
        streams
            .into_iter()
            .map(|rows| deliver_stream(db, blobs, keys, http, &peers, rows)),
    )
    .await;
    let attempted: Vec<Attempted> = attempted.into_iter().flatten().collect();
    let delivered = attempted
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Delivered))
        .count();
    settle_and_claim(db, node_id, attempted, 0).await?;
    Ok(delivered)
}

/// The delivery worker of a server: [`deliver_due`] without rounds. Up to
/// [`MOVING_STREAMS`] streams move at once, and a stream whose claimed rows are
/// done does not wait for the slowest of the others (a commune's link timing out,
/// say): once a few streams are done, or a second has passed with places free, the
/// outcomes so far are written and new streams claimed, in one transaction. Runs until dropped;
/// failures are logged and the worker carries on (rows whose outcome could not be
/// written are claimed again when their lease ends, and receivers take a package
/// they already have as before).
pub async fn deliver_continuously(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    http: &reqwest::Client,
    node_id: &str,
) {
    // Each stream is a task of its own: a stream waiting for a database connection
    // must not wait on this loop, which may itself be waiting for one to claim.
    let mut moving = tokio::task::JoinSet::new();
    let mut done: Vec<Attempted> = Vec::new();
    // Streams done since the last claim, and when that was.
    let mut finished = 0;
    let mut looked = Instant::now();
    loop {
        let free = MOVING_STREAMS - moving.len();
        let look_again = looked + LOOK_AGAIN;
        if moving.is_empty()
            || (free > 0 && (finished >= CLAIM_AFTER_DONE || look_again <= Instant::now()))
        {
            let claimed = match peers(db).await {
                Ok(peers) => settle_and_claim(db, node_id, std::mem::take(&mut done), free)
                    .await
                    .map(|streams| (Arc::new(peers), streams)),
                Err(e) => Err(e),
            };
            (finished, looked) = (0, Instant::now());
            match claimed {
                Ok((peers, streams)) => {
                    for rows in streams {
                        let (db, blobs, keys, http, peers) = (
                            db.clone(),
                            blobs.clone(),
                            keys.clone(),
                            http.clone(),
                            peers.clone(),
                        );
                        moving.spawn(async move {
                            deliver_stream(&db, &blobs, &keys, &http, &peers, rows).await
                        });
                    }
                }
                // The outcomes taken are dropped with the transaction.
                Err(e) => tracing::warn!(error = %e, "delivering exchange packages failed"),
            }
            if moving.is_empty() {
                tokio::time::sleep(LOOK_AGAIN).await;
            }
            continue;
        }
        // Until a stream is done or, with places free, it is time to look again.
        let first = if free > 0 {
            match tokio::time::timeout_at(look_again, moving.join_next()).await {
                Ok(Some(first)) => first,
                Ok(None) | Err(_) => continue,
            }
        } else {
            match moving.join_next().await {
                Some(first) => first,
                None => continue,
            }
        };
        // With the others done by then. (A stream that panicked leaves its rows
        // claimed until the lease ends.)
        for attempted in std::iter::once(first).chain(std::iter::from_fn(|| moving.try_join_next()))
        {
            finished += 1;
            match attempted {
                Ok(attempted) => done.extend(attempted),
                Err(e) => tracing::error!(error = %e, "delivering a stream failed"),
            }
        }
    }
}

/// Writes the outcomes of attempted rows (see [`settle`]) and claims up to `streams`
/// due streams (see [`claim`]), in one transaction.
async fn settle_and_claim(
    db: &Db,
    node_id: &str,
    attempted: Vec<Attempted>,
    streams: usize,
) -> Result<Vec<Vec<Claimed>>, ServiceError> {
    if attempted.is_empty() && streams == 0 {
        return Ok(Vec::new());
    }
    let mut tx = db.write().await?;
    settle(&mut tx, node_id, attempted).await?;
    let claimed = if streams > 0 {
        claim(&mut tx, node_id, streams).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(claimed)
}

async fn deliver_stream(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    http: &reqwest::Client,
    peers: &[Peer],
    rows: Vec<Claimed>,
) -> Vec<Attempted> {
    let mut out = Vec::with_capacity(rows.len());
    let mut blocked = false;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        // The packages of the next rows are read in one go, a few megabytes at most.
        let mut group = Vec::new();
        let mut bytes = 0;
        while let Some(row) =
            rows.next_if(|r| group.is_empty() || bytes + r.package_bytes <= FETCH_BYTES)
        {
            bytes += row.package_bytes;
            group.push(row);
        }
        let mut packages = if blocked {
            Ok(HashMap::new())
        } else {
            stored_packages(db, &group).await
        };
        for row in group {
            if blocked {
                out.push(Attempted {
                    row,
                    signed_now: None,
                    outcome: Outcome::Released,
                });
                continue;
            }
            let stored = match &mut packages {
                Ok(found) => found.remove(&row.id).ok_or_else(|| {
                    format!("database: the package of outbox row {} is missing", row.id)
                }),
                Err(e) => Err(format!("database: {e}")),
            };
            let (signed_now, outcome) = attempt(db, blobs, keys, http, peers, &row, stored).await;
            blocked = matches!(outcome, Outcome::Retry(_));
            out.push(Attempted {
                row,
                signed_now,
                outcome,
            });
        }
    }
    out
}

/// The stored packages of outbox rows, by row id.
async fn stored_packages(db: &Db, rows: &[Claimed]) -> Result<HashMap<i64, Vec<u8>>, sqlx::Error> {
    let sql = format!(
        "SELECT outbox_id, xml FROM exchange_outbox_packages WHERE outbox_id IN ({})",
        parameter_list(1, rows.len())
    );
    let sql = positional(db.backend(), &sql);
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query.bind(row.id);
    }
    query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Claims the due streams: the first pending row of each (its head), locked, then
/// the rows after it, as far as they are due. Only heads are ever candidates, so
/// two workers cannot both take rows of one stream, and the lease on the head keeps
/// the rest of the stream for the worker that holds it.
async fn claim(
    tx: &mut WriteTx,
    node_id: &str,
    streams: usize,
) -> Result<Vec<Vec<Claimed>>, ServiceError> {
    let now = time::now();
    let until = time::timestamp(Utc::now() + LEASE);
    let heads = format!(
        "SELECT o.id, o.sender_code, o.recipient_code FROM exchange_outbox o
         WHERE o.state = 'pending' AND o.next_attempt_at <= $1
           AND (o.claimed_until IS NULL OR o.claimed_until < $1)
           AND NOT EXISTS (SELECT 1 FROM exchange_outbox e
                           WHERE e.sender_code = o.sender_code AND e.recipient_code = o.recipient_code
                             AND e.state = 'pending' AND e.id < o.id)
         ORDER BY o.id LIMIT $2{}",
        match tx.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            // One writer at a time: the write transaction is the lock.
            Backend::Sqlite => "",
        }
    );
    let heads = sqlx::query(&heads)
        .bind(&now)
        .bind(i64::try_from(streams).unwrap_or(i64::MAX))
        .fetch_all(tx.conn())
        .await?;
    let mut streams = Vec::with_capacity(heads.len());
    for head in &heads {
        let (head_id, sender, recipient): (i64, String, String) =
            (head.try_get(0)?, head.try_get(1)?, head.try_get(2)?);
        let rows = sqlx::query(
            "SELECT o.id, o.kind, o.sender_code, o.recipient_code, o.signed, o.attempts, o.next_attempt_at,
                    o.claimed_until, COALESCE(CAST(LENGTH(p.xml) AS BIGINT), 0)
             FROM exchange_outbox o LEFT JOIN exchange_outbox_packages p ON p.outbox_id = o.id
             WHERE o.sender_code = $1 AND o.recipient_code = $2 AND o.state = 'pending' AND o.id >= $3
             ORDER BY o.id LIMIT $4",
        )
        .bind(&sender)
        .bind(&recipient)
        .bind(head_id)
        .bind(STREAM_BATCH)
        .fetch_all(tx.conn())
        .await?;
        let mut stream = Vec::with_capacity(rows.len());
        for r in &rows {
            // The head was checked above; the rest go as far as they are due too.
            let due: String = r.try_get(6)?;
            let claimed_until: Option<String> = r.try_get(7)?;
            if !stream.is_empty() && (due > now || claimed_until.is_some_and(|c| c >= now)) {
                break;
            }
            stream.push(Claimed {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                sender_code: r.try_get(2)?,
                recipient_code: r.try_get(3)?,
                signed: r.try_get::<i64, _>(4)? != 0,
                attempts: r.try_get(5)?,
                package_bytes: usize::try_from(r.try_get::<i64, _>(8)?).unwrap_or(0),
            });
        }
        streams.push(stream);
    }
    let ids: Vec<i64> = streams.iter().flatten().map(|r| r.id).collect();
    for_each_chunk(
        tx,
        "UPDATE exchange_outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN",
        &[node_id, &until],
        &ids,
    )
    .await?;
    Ok(streams)
}

/// Runs `sql` followed by ` (ids…)` for the ids, a chunk at a time, with `texts`
/// bound first ($1, $2, …).
async fn for_each_chunk(
    tx: &mut WriteTx,
    sql: &str,
    texts: &[&str],
    ids: &[i64],
) -> Result<(), ServiceError> {
    for chunk in ids.chunks(500) {
        let list = parameter_list(texts.len() + 1, chunk.len());
        let sql = format!("{sql} ({list})");
        let sql = positional(tx.backend(), &sql);
        let mut query = sqlx::query(&sql);
        for t in texts {
            query = query.bind(*t);
        }
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

async fn attempt(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    http: &reqwest::Client,
    peers: &[Peer],
    row: &Claimed,
    stored: Result<Vec<u8>, String>,
) -> (Option<Vec<u8>>, Outcome) {
    let stored = match stored {
        Ok(xml) => xml,
        Err(e) => return (None, Outcome::Retry(e)),
    };
    let (xml, signed_now) = if row.signed {
        (stored, None)
    } else {
        match sign(keys, row, &stored) {
            Ok(xml) => (xml.clone(), Some(xml)),
            Err(outcome) => return (None, outcome),
        }
    };
    (
        signed_now,
        deliver(db, blobs, keys, http, peers, row, xml).await,
    )
}

async fn deliver(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    http: &reqwest::Client,
    peers: &[Peer],
    row: &Claimed,
    xml: Vec<u8>,
) -> Outcome {
    // The peer directory first: an agency from outside may also be kept here (to be
    // addressable as a recipient), and the administrator's route says where it lives.
    if let Some(base) = route_in(peers, &row.recipient_code) {
        let r = post(http, &base, xml).await;
        return r;
    }
    let mut conn = match db.pool().acquire().await {
        Ok(conn) => conn,
        Err(e) => return Outcome::Retry(format!("database: {e}")),
    };
    match local_agency(&mut conn, &row.recipient_code).await {
        Ok(Some(_)) => {
            drop(conn);
            match receive(db, blobs, keys, xml).await {
                Ok(Receipt::Quarantined { reason, .. }) => Outcome::Dead(reason),
                Ok(_) => Outcome::Delivered,
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
        // An agency of ours that has ended will never take it: retrying would only
        // hide that the clerk must send it to the successor.
        Ok(None) => match ended_agencies(&mut conn, &[&row.recipient_code]).await {
            Ok(mut ended) => match ended.remove(&row.recipient_code) {
                Some(ended) => Outcome::Dead(ended.reason),
                None => Outcome::Retry(format!(
                    "no route to agency {}: it is not on this system and no peer in the directory serves it",
                    row.recipient_code
                )),
            },
            Err(e) => Outcome::Retry(e.to_string()),
        },
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Signs a status package with its agency's key (the signed bytes are kept when
/// the attempt is settled, so a retry sends the same package).
fn sign(keys: &KeyStore, row: &Claimed, unsigned: &[u8]) -> Result<Vec<u8>, Outcome> {
    let code = OrgCode::parse(&row.sender_code).map_err(|e| Outcome::Dead(e.to_string()))?;
    let Some(signer) = keys.signer(&code) else {
        return Err(Outcome::Retry(format!(
            "agency {code} has no signing certificate on this system"
        )));
    };
    lienthong_edxml::sign(unsigned, &signer.key, &signer.cert)
        .map_err(|e| Outcome::Dead(format!("signing failed: {e}")))
}

async fn post(http: &reqwest::Client, base: &str, xml: Vec<u8>) -> Outcome {
    let url = format!("{}/edxml/v1/packages", base.trim_end_matches('/'));
    let sent = http
        .post(&url)
        .header("content-type", "application/xml")
        .timeout(HTTP_TIMEOUT)
        .body(xml)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Outcome::Retry(format!("POST {url}: {e}")),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let error = format!("POST {url}: {status} {body}");
    let code = status.as_u16();
    if status.is_client_error() && code != 408 && code != 429 {
        Outcome::Dead(error)
    } else {
        Outcome::Retry(error)
    }
}

/// After `attempts` failed attempts: 2 s · 2^(attempts−1), at most 10 minutes,
/// ±20 % so that many rows failing together do not retry together.
pub(crate) fn backoff(attempts: i64) -> chrono::Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let base = (2_i64 << exp).min(600) as f64;
    let jitter = rand::thread_rng().gen_range(0.8..=1.2);
    chrono::Duration::milliseconds((base * jitter * 1000.0) as i64)
}

/// Writes the outcomes of claimed rows in the caller's transaction: the common
/// outcomes (delivered, released) with one statement each, retries and refusals
/// row by row.
async fn settle(
    tx: &mut WriteTx,
    node_id: &str,
    attempted: Vec<Attempted>,
) -> Result<(), ServiceError> {
    if attempted.is_empty() {
        return Ok(());
    }
    let now = time::now();
    let actor = lienthong_store::Actor::system("exchange");
    let (mut delivered, mut released, mut signed) = (Vec::new(), Vec::new(), Vec::new());
    let mut audits = Vec::new();
    for Attempted {
        row,
        signed_now,
        outcome,
    } in attempted
    {
        if let Some(xml) = signed_now {
            signed.push((row.id, xml));
        }
        match outcome {
            Outcome::Delivered => {
                delivered.push(row.id);
                audits.push(AuditEntry {
                    action: "exchange.delivered",
                    record_type: "exchange_outbox",
                    record_id: row.id.to_string(),
                    changes: json!({"kind": row.kind, "to": row.recipient_code, "attempts": row.attempts + 1}),
                });
            }
            Outcome::Released => released.push(row.id),
            Outcome::Retry(error) => {
                let next = time::timestamp(Utc::now() + backoff(row.attempts + 1));
                // A retry is not a change of state: not audited, or the log would fill
                // with one entry per attempt to an unreachable peer.
                sqlx::query(
                    "UPDATE exchange_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2,
                        claimed_by = NULL, claimed_until = NULL
                     WHERE id = $3 AND claimed_by = $4",
                )
                .bind(&next)
                .bind(&error)
                .bind(row.id)
                .bind(node_id)
                .execute(tx.conn())
                .await?;
                tracing::info!(row = row.id, to = %row.recipient_code, error = %error, "exchange delivery will be retried");
            }
            Outcome::Dead(error) => {
                sqlx::query(
                    "UPDATE exchange_outbox SET state = 'dead', attempts = attempts + 1, last_error = $1,
                        claimed_by = NULL, claimed_until = NULL
                     WHERE id = $2 AND claimed_by = $3",
                )
                .bind(&error)
                .bind(row.id)
                .bind(node_id)
                .execute(tx.conn())
                .await?;
                audits.push(AuditEntry {
                    action: "exchange.dead",
                    record_type: "exchange_outbox",
                    record_id: row.id.to_string(),
                    changes: json!({"kind": row.kind, "to": row.recipient_code, "error": error}),
                });
            }
        }
    }
    // The packages signed at their attempt replace the unsigned ones.
    let signed_ids: Vec<i64> = signed.iter().map(|(id, _)| *id).collect();
    for_each_chunk(
        tx,
        "DELETE FROM exchange_outbox_packages WHERE outbox_id IN",
        &[],
        &signed_ids,
    )
    .await?;
    let packages: Vec<_> = signed
        .iter()
        .map(|(id, xml)| (*id, xml.as_slice()))
        .collect();
    write_packages(tx, &packages).await?;
    for_each_chunk(
        tx,
        "UPDATE exchange_outbox SET signed = 1 WHERE id IN",
        &[],
        &signed_ids,
    )
    .await?;
    for_each_chunk(
        tx,
        "UPDATE exchange_outbox SET state = 'delivered', delivered_at = $1, attempts = attempts + 1,
            last_error = NULL, claimed_by = NULL, claimed_until = NULL
         WHERE claimed_by = $2 AND id IN",
        &[&now, node_id],
        &delivered,
    )
    .await?;
    for_each_chunk(
        tx,
        "UPDATE exchange_outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND id IN",
        &[node_id],
        &released,
    )
    .await?;
    tx.audit_many(&actor, &audits).await?;
    Ok(())
}

/// An entry of the peer directory.
#[derive(Debug, Clone, Serialize)]
pub struct Peer {
    pub id: i64,
    /// An org code whose zero groups match anything (`000.00.00.H63`: a province).
    pub code_pattern: String,
    pub base_url: String,
    pub note: String,
}

pub async fn peers(db: &Db) -> Result<Vec<Peer>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, code_pattern, base_url, note FROM exchange_peers ORDER BY code_pattern",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Peer {
                id: r.try_get(0)?,
                code_pattern: r.try_get(1)?,
                base_url: r.try_get(2)?,
                note: r.try_get(3)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Adds or replaces the peer serving `pattern` (the CLI and tests; audited).
pub async fn add_peer(
    db: &Db,
    actor: &lienthong_store::Actor,
    pattern: &OrgCode,
    base_url: &str,
    note: &str,
) -> Result<i64, ServiceError> {
    let url = base_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(' ') {
        return Err(ServiceError::Invalid {
            field: "base_url",
            code: "error.peer_url",
        });
    }
    let mut tx = db.write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO exchange_peers (code_pattern, base_url, note, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code_pattern) DO UPDATE SET base_url = $2, note = $3 RETURNING id",
    )
    .bind(pattern.as_str())
    .bind(url)
    .bind(note.trim())
    .bind(time::now())
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    tx.audit(
        actor,
        "exchange.peer",
        "exchange_peer",
        id,
        json!({"code_pattern": pattern.as_str(), "base_url": url}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes the peer serving `pattern` (audited); returns whether there was one. What
/// waits for its agencies stays in the outbox and is retried, as with no route yet,
/// until a route is added again.
pub async fn remove_peer(
    db: &Db,
    actor: &lienthong_store::Actor,
    pattern: &OrgCode,
) -> Result<bool, ServiceError> {
    let mut tx = db.write().await?;
    let removed =
        sqlx::query("DELETE FROM exchange_peers WHERE code_pattern = $1 RETURNING id, base_url")
            .bind(pattern.as_str())
            .fetch_optional(tx.conn())
            .await?;
    let Some(removed) = removed else {
        return Ok(false);
    };
    let (id, url): (i64, String) = (removed.try_get(0)?, removed.try_get(1)?);
    tx.audit(
        actor,
        "exchange.peer_removed",
        "exchange_peer",
        id,
        json!({"code_pattern": pattern.as_str(), "base_url": url}),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The base URL of the most specific peer serving `code`.
pub(crate) async fn route(db: &Db, code: &str) -> Result<Option<String>, ServiceError> {
    Ok(route_in(&peers(db).await?, code))
}

/// [`route`] in a directory already read (a claim reads it once for all its rows).
fn route_in(peers: &[Peer], code: &str) -> Option<String> {
    let code = OrgCode::parse(code).ok()?;
    peers
        .iter()
        .filter_map(|p| {
            let pattern = OrgCode::parse(&p.code_pattern).ok()?;
            let specific = pattern
                .levels()
                .iter()
                .filter(|g| !g.chars().all(|c| c == '0'))
                .count();
            code.is_within(&pattern).then_some((specific, &p.base_url))
        })
        .max_by_key(|(specific, _)| *specific)
        .map(|(_, url)| url.clone())
}

#[cfg(test)]
mod route_tests {
    use super::{route_in, Peer};

    fn peer(pattern: &str, url: &str) -> Peer {
        Peer {
            id: 0,
            code_pattern: pattern.into(),
            base_url: url.into(),
            note: String::new(),
        }
    }

    #[test]
    fn the_most_specific_peer_serves_an_agency() {
        let peers = [
            peer("000.00.00.H63", "https://tinh"),
            peer("000.00.11.H63", "https://so"),
        ];
        assert_eq!(
            route_in(&peers, "000.00.11.H63").as_deref(),
            Some("https://so")
        );
        assert_eq!(
            route_in(&peers, "000.00.12.H63").as_deref(),
            Some("https://tinh")
        );
        assert_eq!(route_in(&peers, "000.00.11.H62"), None);
        assert_eq!(route_in(&peers, "not a code"), None);
    }
}

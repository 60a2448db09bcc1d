//! The outbox (hộp thư đi) and its delivery worker, and the peer directory.
//!
//! Rows are claimed from the database with a lease (claimed_by, claimed_until),
//! on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so any number of nodes can run the
//! worker. A row is only claimable when no earlier row from the same sender to the
//! same recipient is still pending, which keeps what one agency sends another in
//! order (a document before its update, 03 before 06) without letting one agency
//! whose packages cannot go out (no key, say) hold up the others' to the same
//! recipient.

use std::time::Duration;

use chrono::Utc;
use lienthong_domain::OrgCode;
use lienthong_edxml::{DocumentId, Organization, StaffInfo, StatusCode, StatusPackage};
use lienthong_store::{time, Backend, Db, WriteTx};
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::package::{response_for, vietnam};
use super::receive::{receive, Receipt};
use super::{agency_by_id, local_agency, KeyStore, LocalAgency};
use crate::auth::Principal;
use crate::ServiceError;

/// Rows one call of [`deliver_due`] claims at most.
pub const CLAIM_BATCH: i64 = 16;
/// How long a claim holds: past it, a crashed worker's row is claimed again.
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
    let now = time::now();
    let id: i64 = sqlx::query(
        "INSERT INTO exchange_outbox (kind, sender_agency_id, sender_code, recipient_code, recipient_name,
            edxml_document_id, document_id, status_code, xml, signed, state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $11) RETURNING id",
    )
    .bind(r.kind)
    .bind(r.sender_agency_id)
    .bind(r.sender_code)
    .bind(r.recipient_code)
    .bind(r.recipient_name)
    .bind(r.edxml_document_id)
    .bind(r.document_id)
    .bind(r.status_code)
    .bind(r.xml.to_vec())
    .bind(r.signed as i64)
    .bind(&now)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    Ok(id)
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
    let about = DocumentId::parse(s.about).map_err(|_| ServiceError::Conflict("bad DocumentId"))?;
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
    let xml = package.to_xml().map_err(|e| {
        tracing::error!(error = %e, "writing a status package");
        ServiceError::Conflict("status package")
    })?;
    let id = insert(
        tx,
        NewRow {
            kind: "status",
            sender_agency_id: s.from.id,
            sender_code: s.from.code.as_str(),
            recipient_code: s.to_code,
            recipient_name: s.to_name,
            edxml_document_id: s.about,
            document_id: s.document_id,
            status_code: Some(s.code.as_str()),
            xml: &xml,
            signed: false,
        },
    )
    .await?;
    tx.audit(
        actor,
        "exchange.queue_status",
        "exchange_outbox",
        id,
        json!({"code": s.code.as_str(), "to": s.to_code, "about": s.about, "description": s.description}),
    )
    .await?;
    Ok(id)
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

/// A claimed outbox row.
struct Claimed {
    id: i64,
    kind: String,
    sender_code: String,
    recipient_code: String,
    xml: Vec<u8>,
    signed: bool,
    attempts: i64,
}

/// How one attempt ended.
enum Outcome {
    Delivered,
    /// Worth trying again later (unreachable, 5xx, 408, 429, no route yet).
    Retry(String),
    /// Refused for good (a 4xx, a package our own receiver quarantines).
    Dead(String),
}

/// Delivers the packages that are due; returns how many were delivered. `node_id`
/// names this process in the claims (e.g. host and pid). Meant to be called in a
/// loop by the server and directly by tests.
pub async fn deliver_due(
    db: &Db,
    keys: &KeyStore,
    http: &reqwest::Client,
    node_id: &str,
) -> Result<usize, ServiceError> {
    let claimed = claim(db, node_id).await?;
    // A claim holds at most one row per sender and recipient, so the rows can go
    // at once without breaking any stream's order: one slow peer does not hold up
    // the others.
    let outcomes =
        futures::future::join_all(claimed.iter().map(|row| attempt(db, keys, http, row))).await;
    let mut delivered = 0;
    for (row, outcome) in claimed.iter().zip(outcomes) {
        if matches!(outcome, Outcome::Delivered) {
            delivered += 1;
        }
        settle(db, node_id, row, outcome).await?;
    }
    Ok(delivered)
}

async fn claim(db: &Db, node_id: &str) -> Result<Vec<Claimed>, ServiceError> {
    let now = time::now();
    let until = time::timestamp(Utc::now() + LEASE);
    const DUE: &str = "o.state = 'pending' AND o.next_attempt_at <= $1
          AND (o.claimed_until IS NULL OR o.claimed_until < $1)
          AND NOT EXISTS (SELECT 1 FROM exchange_outbox e
                          WHERE e.sender_code = o.sender_code AND e.recipient_code = o.recipient_code
                            AND e.state = 'pending' AND e.id < o.id)";
    const COLUMNS: &str = "id, kind, sender_code, recipient_code, xml, signed, attempts";
    let rows = match db.backend() {
        Backend::Postgres => {
            let mut tx = db.pool().begin().await?;
            let ids: Vec<i64> = sqlx::query(&format!(
                "SELECT o.id FROM exchange_outbox o WHERE {DUE} ORDER BY o.id LIMIT $2 FOR UPDATE SKIP LOCKED"
            ))
            .bind(&now)
            .bind(CLAIM_BATCH)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.push(
                    sqlx::query(&format!(
                        "UPDATE exchange_outbox SET claimed_by = $1, claimed_until = $2 WHERE id = $3 RETURNING {COLUMNS}"
                    ))
                    .bind(node_id)
                    .bind(&until)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?,
                );
            }
            tx.commit().await?;
            rows
        }
        // SQLite has one writer at a time: a single UPDATE is the whole claim.
        Backend::Sqlite => {
            sqlx::query(&format!(
                "UPDATE exchange_outbox SET claimed_by = $2, claimed_until = $3
                 WHERE id IN (SELECT o.id FROM exchange_outbox o WHERE {DUE} ORDER BY o.id LIMIT $4)
                 RETURNING {COLUMNS}"
            ))
            .bind(&now)
            .bind(node_id)
            .bind(&until)
            .bind(CLAIM_BATCH)
            .fetch_all(db.pool())
            .await?
        }
    };
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                sender_code: r.try_get(2)?,
                recipient_code: r.try_get(3)?,
                xml: r.try_get(4)?,
                signed: r.try_get::<i64, _>(5)? != 0,
                attempts: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    out.sort_by_key(|c| c.id);
    Ok(out)
}

async fn attempt(db: &Db, keys: &KeyStore, http: &reqwest::Client, row: &Claimed) -> Outcome {
    let xml = if row.signed {
        row.xml.clone()
    } else {
        match sign_once(db, keys, row).await {
            Ok(xml) => xml,
            Err(outcome) => return outcome,
        }
    };
    // The peer directory first: an agency from outside may also be kept here (to be
    // addressable as a recipient), and the administrator's route says where it lives.
    match route(db, &row.recipient_code).await {
        Ok(Some(base)) => return post(http, &base, xml).await,
        Ok(None) => {}
        Err(e) => return Outcome::Retry(e.to_string()),
    }
    let local = match db.pool().acquire().await {
        Ok(mut conn) => local_agency(&mut conn, &row.recipient_code).await,
        Err(e) => return Outcome::Retry(format!("database: {e}")),
    };
    match local {
        Ok(Some(_)) => match receive(db, keys, &xml).await {
            Ok(Receipt::Quarantined { reason, .. }) => Outcome::Dead(reason),
            Ok(_) => Outcome::Delivered,
            Err(e) => Outcome::Retry(e.to_string()),
        },
        Ok(None) => Outcome::Retry(format!(
            "no route to agency {}: it is not on this system and no peer in the directory serves it",
            row.recipient_code
        )),
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Signs a status package with its agency's key and keeps the signed bytes.
async fn sign_once(db: &Db, keys: &KeyStore, row: &Claimed) -> Result<Vec<u8>, Outcome> {
    let code = OrgCode::parse(&row.sender_code).map_err(|e| Outcome::Dead(e.to_string()))?;
    let Some(signer) = keys.signer(&code) else {
        return Err(Outcome::Retry(format!(
            "agency {code} has no signing certificate on this system"
        )));
    };
    let xml = lienthong_edxml::sign(&row.xml, &signer.key, &signer.cert)
        .map_err(|e| Outcome::Dead(format!("signing failed: {e}")))?;
    sqlx::query("UPDATE exchange_outbox SET xml = $1, signed = 1 WHERE id = $2")
        .bind(xml.clone())
        .bind(row.id)
        .execute(db.pool())
        .await
        .map_err(|e| Outcome::Retry(format!("database: {e}")))?;
    Ok(xml)
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

async fn settle(
    db: &Db,
    node_id: &str,
    row: &Claimed,
    outcome: Outcome,
) -> Result<(), ServiceError> {
    let now = time::now();
    let actor = lienthong_store::Actor::system("exchange");
    let mut tx = db.write().await?;
    match outcome {
        Outcome::Delivered => {
            sqlx::query(
                "UPDATE exchange_outbox SET state = 'delivered', delivered_at = $1, attempts = attempts + 1,
                    last_error = NULL, claimed_by = NULL, claimed_until = NULL
                 WHERE id = $2 AND claimed_by = $3",
            )
            .bind(&now)
            .bind(row.id)
            .bind(node_id)
            .execute(tx.conn())
            .await?;
            tx.audit(
                &actor,
                "exchange.delivered",
                "exchange_outbox",
                row.id,
                json!({"kind": row.kind, "to": row.recipient_code, "attempts": row.attempts + 1}),
            )
            .await?;
        }
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
            tx.audit(
                &actor,
                "exchange.dead",
                "exchange_outbox",
                row.id,
                json!({"kind": row.kind, "to": row.recipient_code, "error": error}),
            )
            .await?;
        }
    }
    tx.commit().await?;
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

/// The base URL of the most specific peer serving `code`.
pub(crate) async fn route(db: &Db, code: &str) -> Result<Option<String>, ServiceError> {
    let Ok(code) = OrgCode::parse(code) else {
        return Ok(None);
    };
    let best = peers(db)
        .await?
        .into_iter()
        .filter_map(|p| {
            let pattern = OrgCode::parse(&p.code_pattern).ok()?;
            let specific = pattern
                .levels()
                .iter()
                .filter(|g| !g.chars().all(|c| c == '0'))
                .count();
            code.is_within(&pattern).then_some((specific, p.base_url))
        })
        .max_by_key(|(specific, _)| *specific);
    Ok(best.map(|(_, url)| url))
}

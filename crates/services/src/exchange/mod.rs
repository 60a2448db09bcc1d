//! Exchange (liên thông văn bản): outgoing documents travel as signed gói tin edXML
//! (edXML packages) to the agencies they are addressed to, and gói tin trạng thái
//! (status packages) come back saying what the receiver did with them.
//!
//! - [`keys`]: the CA, the agencies' signing keys and the trust anchors on disk.
//! - Sending: issuing a document (`documents::outgoing::issue`) writes one signed
//!   package per recipient agency that has a code into the outbox, in the issuing
//!   transaction. [`deliver_due`] (the delivery worker) delivers them: directly to
//!   an agency of this instance, or over HTTP to the peer system found in the peer
//!   directory, retrying with backoff until delivered.
//! - Receiving: [`receive`] checks a package (size, XML, signature, certificate,
//!   recipient), files it as arrived (or records a status), and queues status 01
//!   back; an invalid package is quarantined with its reason and answered with a
//!   status 02 when the sender can be told.
//! - Arrivals: the clerk registers an arrived package ([`register_arrival`], status
//!   03) or refuses it ([`refuse_arrival`], status 02); assigning, progress and
//!   completion on the registered document then queue 04, 05 and 06.
//! - Recall, update, replace (thu hồi, cập nhật, thay thế): [`recall`] sends one;
//!   a received one is applied at once before registration (13, 15), or waits for
//!   the clerk's [`agree_request`] (15) or [`refuse_request`] (16).
//! - The sender's view: [`deliveries`], per recipient, state and statuses.
//!
//! Status packages are written unsigned into the outbox and signed by the worker
//! before the first attempt (then kept, so retries send the same bytes): the
//! workflow steps that queue them need no access to keys.

mod arrivals;
pub mod keys;
mod outbox;
mod package;
mod receive;
mod requests;
#[cfg(test)]
mod tests;
mod timeline;

use std::collections::HashMap;

use lienthong_domain::OrgCode;
use lienthong_store::{time, WriteTx};
use sqlx::Row;

use crate::ServiceError;

pub use arrivals::{
    arrival, arrivals, quarantine, quarantined_package, refuse_arrival, register_arrival, Arrival,
    ArrivalAttachment, Overrides, QuarantineEntry,
};
pub use keys::{KeyError, KeyStore, Signer};
pub use outbox::{
    add_peer, deliver_continuously, deliver_due, peers, remove_peer, Peer, CLAIM_STREAMS,
};
pub use receive::{receive, Receipt, MAX_PACKAGE_BYTES};
pub use requests::{
    agree_request, recall, refuse_request, request, requests, ExchangeRequest, RequestKind,
};
pub use timeline::{deliveries, Delivery, StatusEntry};

pub(crate) use outbox::report;

/// The HTTP client the delivery worker posts with (re-exported so that callers
/// need not depend on reqwest themselves).
pub type HttpClient = reqwest::Client;

/// A client for the delivery worker: a connect timeout, our name, HTTPS through
/// the system's OpenSSL and trust roots.
pub fn http_client() -> Result<HttpClient, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent(concat!("lienthong/", env!("CARGO_PKG_VERSION"), " edXML"))
        .build()
}
pub(crate) use package::send_issued;

/// An agency of this instance as the exchange names it.
#[derive(Debug, Clone)]
pub(crate) struct LocalAgency {
    pub id: i64,
    pub code: OrgCode,
    pub name: String,
}

/// The agency of this instance with that code, in force today.
pub(crate) async fn local_agency(
    conn: &mut sqlx::AnyConnection,
    code: &str,
) -> Result<Option<LocalAgency>, ServiceError> {
    Ok(local_agencies(conn, &[code]).await?.remove(code))
}

/// The agencies of this instance with those codes, in force today, by code.
pub(crate) async fn local_agencies(
    conn: &mut sqlx::AnyConnection,
    codes: &[&str],
) -> Result<HashMap<String, LocalAgency>, ServiceError> {
    let mut found = HashMap::new();
    let today = time::date(time::today());
    // One parameter a code: chunks far below both databases' limits.
    for chunk in codes.chunks(100) {
        let list = lienthong_store::parameter_list(2, chunk.len());
        let sql = format!(
            "SELECT a.id, a.code,
                    (SELECT v.name FROM agency_versions v WHERE v.agency_id = a.id AND v.valid_from <= $1
                     ORDER BY v.valid_from DESC LIMIT 1)
             FROM agencies a WHERE a.code IN ({list}) AND a.valid_from <= $1
               AND (a.valid_to IS NULL OR a.valid_to > $1)"
        );
        let mut query = sqlx::query(&sql).bind(&today);
        for code in chunk {
            query = query.bind(*code);
        }
        for r in query.fetch_all(&mut *conn).await? {
            let agency = to_local(&r)?;
            found.insert(agency.code.to_string(), agency);
        }
    }
    Ok(found)
}

/// Of those codes, the agencies of this instance that have ended (merged or split
/// away in a reorganisation), each with the reason a package to it is refused: when
/// it ended and who carries on its work today (through later reorganisations too),
/// named as they are today, so that the sender knows where to send instead. Other
/// systems go on addressing a merged agency for a while; "not served here" would
/// leave them guessing.
pub(crate) async fn ended_agencies(
    conn: &mut sqlx::AnyConnection,
    codes: &[&str],
) -> Result<HashMap<String, Ended>, ServiceError> {
    let today = time::date(time::today());
    let mut ended: Vec<(i64, String, String, String)> = Vec::new();
    for chunk in codes.chunks(100) {
        let list = lienthong_store::parameter_list(2, chunk.len());
        // Named as it was on its last day.
        let sql = format!(
            "SELECT a.id, a.code, a.valid_to,
                    (SELECT v.name FROM agency_versions v WHERE v.agency_id = a.id AND v.valid_from < a.valid_to
                     ORDER BY v.valid_from DESC LIMIT 1)
             FROM agencies a WHERE a.code IN ({list}) AND a.valid_to <= $1"
        );
        let mut query = sqlx::query(&sql).bind(&today);
        for code in chunk {
            query = query.bind(*code);
        }
        for r in query.fetch_all(&mut *conn).await? {
            ended.push((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
            ));
        }
    }
    if ended.is_empty() {
        return Ok(HashMap::new());
    }
    // The whole successor table (a few rows a reorganisation), with each
    // successor's end and name today: a successor that has ended since is followed
    // to the agencies that carry on its work now.
    let mut successors: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut agencies: HashMap<i64, (String, String, bool)> = HashMap::new();
    let rows = sqlx::query(
        "SELECT s.agency_id, a.id, a.code, a.valid_to,
                (SELECT v.name FROM agency_versions v WHERE v.agency_id = a.id AND v.valid_from <= $1
                 ORDER BY v.valid_from DESC LIMIT 1)
         FROM agency_successors s JOIN agencies a ON a.id = s.successor_id
         ORDER BY s.agency_id, s.position",
    )
    .bind(&today)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let id: i64 = r.try_get(1)?;
        successors.entry(r.try_get(0)?).or_default().push(id);
        let valid_to: Option<String> = r.try_get(3)?;
        agencies.insert(
            id,
            (
                r.try_get(2)?,
                r.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
                valid_to.is_some_and(|to| to <= today),
            ),
        );
    }
    let mut found = HashMap::new();
    for (id, code, valid_to, name) in ended {
        let now = lienthong_domain::agency::current_successors(
            id,
            &|a| successors.get(&a).cloned().unwrap_or_default(),
            &|a| agencies.get(&a).is_some_and(|(_, _, ended)| *ended),
        );
        let named: Vec<String> = now
            .iter()
            .filter_map(|a| agencies.get(a))
            .map(|(code, name, _)| format!("{code} ({name})"))
            .collect();
        let mut reason = format!("agency {code} ({name}) ended on {valid_to}");
        if !named.is_empty() {
            reason.push_str(&format!("; its work passed to {}", named.join(", ")));
        }
        let agency = LocalAgency {
            id,
            code: OrgCode::parse(&code).map_err(|e| ServiceError::invalid("code", e))?,
            name,
        };
        found.insert(code, Ended { agency, reason });
    }
    Ok(found)
}

/// An agency of this instance that has ended, as it was on its last day, with the
/// reason a package to it is refused (see [`ended_agencies`]).
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub agency: LocalAgency,
    pub reason: String,
}

/// The agency of this instance with that id (whatever its dates).
pub(crate) async fn agency_by_id(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<LocalAgency, ServiceError> {
    let today = time::date(time::today());
    let row = sqlx::query(
        "SELECT a.id, a.code,
                (SELECT v.name FROM agency_versions v WHERE v.agency_id = a.id AND v.valid_from <= $2
                 ORDER BY v.valid_from DESC LIMIT 1)
         FROM agencies a WHERE a.id = $1",
    )
    .bind(id)
    .bind(&today)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ServiceError::NotFound)?;
    to_local(&row)
}

fn to_local(r: &sqlx::any::AnyRow) -> Result<LocalAgency, ServiceError> {
    let code: String = r.try_get(1)?;
    Ok(LocalAgency {
        id: r.try_get(0)?,
        code: OrgCode::parse(&code).map_err(|e| ServiceError::invalid("code", e))?,
        name: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
    })
}

/// The province's own agency (its People's Committee, `000.00.00.Xdd`): it speaks
/// for the instance when a package names no agency of ours.
pub(crate) async fn province_agency(tx: &mut WriteTx) -> Result<Option<LocalAgency>, ServiceError> {
    let row = sqlx::query(
        "SELECT code FROM agencies WHERE code LIKE '000.00.00.%' AND valid_to IS NULL ORDER BY id LIMIT 1",
    )
    .fetch_optional(tx.conn())
    .await?;
    match row {
        Some(r) => local_agency(tx.conn(), &r.try_get::<String, _>(0)?).await,
        None => Ok(None),
    }
}

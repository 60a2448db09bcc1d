//! Registering an incoming document (vào sổ văn bản đến): the arrival number is
//! taken from the register's yearly counter in the same transaction as the row,
//! so numbers start at 1 on 1 January and have neither gaps nor duplicates.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use lienthong_domain::access;
use lienthong_domain::document::{
    agency_name_key, numbering_series, Classification, Direction, DocumentSymbol, DocumentType,
    Subject, Urgency,
};
use lienthong_domain::Role;
use lienthong_store::{time, BlobStore, Db, WriteTx};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::attachments::{self, Upload};
use crate::auth::Principal;
use crate::ServiceError;

/// Who issued an incoming document: an agency of the province, or one outside it
/// known only by name.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub agency_id: Option<i64>,
    pub name: String,
}

impl Issuer {
    /// The identity used to spot duplicates: the agency, or its folded name.
    pub(crate) fn key(&self) -> String {
        match self.agency_id {
            Some(id) => format!("agency:{id}"),
            None => format!("name:{}", agency_name_key(&self.name)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewIncoming {
    /// The register to number it in; by default the agency's ordinary (or, for a
    /// classified document, classified) incoming register.
    pub register_id: Option<i64>,
    pub issuer: Issuer,
    pub symbol: DocumentSymbol,
    pub issued_on: NaiveDate,
    pub doc_type: DocumentType,
    pub subject: Subject,
    pub urgency: Urgency,
    pub classification: Classification,
    pub page_count: Option<i64>,
    pub due_on: Option<NaiveDate>,
    pub signer_name: String,
    pub arrived_on: NaiveDate,
    pub note: String,
    /// Register even though the same số/ký hiệu from the same issuer exists.
    pub allow_duplicate: bool,
    /// For a classified document: who else may read it (the registering clerk always may).
    pub readers: Vec<i64>,
    pub attachments: Vec<Upload>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub id: i64,
    pub arrival_number: i64,
    pub year: i64,
    pub register_id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisterInfo {
    pub id: i64,
    pub name: String,
    pub classified: bool,
}

/// The agency's registers for a direction, creating the two default ones (ordinary
/// and classified) the first time.
pub async fn registers(
    db: &Db,
    agency_id: i64,
    direction: Direction,
) -> Result<Vec<RegisterInfo>, ServiceError> {
    let found = read_registers(db, agency_id, direction).await?;
    if !found.is_empty() {
        return Ok(found);
    }
    let mut tx = db.write().await?;
    ensure_default_registers(&mut tx, agency_id, direction).await?;
    tx.commit().await?;
    read_registers(db, agency_id, direction).await
}

async fn read_registers(
    db: &Db,
    agency_id: i64,
    direction: Direction,
) -> Result<Vec<RegisterInfo>, ServiceError> {
    let rows = sqlx::query("SELECT id, name, classified FROM registers WHERE agency_id = $1 AND direction = $2 ORDER BY classified, id")
        .bind(agency_id)
        .bind(direction.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RegisterInfo {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                classified: r.try_get::<i64, _>(2)? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

pub(crate) async fn ensure_default_registers(
    tx: &mut WriteTx,
    agency_id: i64,
    direction: Direction,
) -> Result<(), ServiceError> {
    let exists =
        sqlx::query("SELECT 1 FROM registers WHERE agency_id = $1 AND direction = $2 LIMIT 1")
            .bind(agency_id)
            .bind(direction.as_str())
            .fetch_optional(tx.conn())
            .await?;
    if exists.is_some() {
        return Ok(());
    }
    let names = match direction {
        Direction::Incoming => [("Sổ văn bản đến", 0), ("Sổ văn bản mật đến", 1)],
        Direction::Outgoing => [("Sổ văn bản đi", 0), ("Sổ văn bản mật đi", 1)],
    };
    for (name, classified) in names {
        sqlx::query("INSERT INTO registers (agency_id, direction, name, classified, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(agency_id)
            .bind(direction.as_str())
            .bind(name)
            .bind(classified as i64)
            .bind(time::now())
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Takes the next number of a register's series for a year, in the caller's transaction.
pub(crate) async fn next_number(
    tx: &mut WriteTx,
    register_id: i64,
    year: i64,
    series: &str,
) -> Result<i64, ServiceError> {
    reserve_numbers(tx, register_id, year, series, 1).await
}

/// Takes the next `count` numbers of a register's series for a year, in the caller's
/// transaction; returns the first. The counter row is locked until the transaction
/// ends, so concurrent registrations wait rather than share numbers.
async fn reserve_numbers(
    tx: &mut WriteTx,
    register_id: i64,
    year: i64,
    series: &str,
    count: i64,
) -> Result<i64, ServiceError> {
    sqlx::query(
        "INSERT INTO register_counters (register_id, year, series, last_number) VALUES ($1, $2, $3, 0)
         ON CONFLICT (register_id, year, series) DO NOTHING",
    )
    .bind(register_id)
    .bind(year)
    .bind(series)
    .execute(tx.conn())
    .await?;
    let row = sqlx::query(
        "UPDATE register_counters SET last_number = last_number + $4
         WHERE register_id = $1 AND year = $2 AND series = $3 RETURNING last_number",
    )
    .bind(register_id)
    .bind(year)
    .bind(series)
    .bind(count)
    .fetch_one(tx.conn())
    .await?;
    let last: i64 = row.try_get(0)?;
    Ok(last - count + 1)
}

/// Registers an incoming document with its attachments. Only a clerk of the agency may.
pub async fn register_incoming(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    agency_id: i64,
    new: NewIncoming,
) -> Result<Registered, ServiceError> {
    if !access::has_role_in(&who.memberships(), agency_id, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    check_dates(&new)?;
    // Blobs first: a crash after this leaves only unreferenced blobs (swept later),
    // never a row pointing at a missing file.
    let files = attachments::store_all(blobs, &new.attachments).await?;
    let mut tx = db.write().await?;
    let registered = register_in(&mut tx, who, agency_id, &new, &files).await?;
    tx.commit().await?;
    Ok(registered)
}

/// Checks the dates of a registration (before anything is stored).
pub(crate) fn check_dates(new: &NewIncoming) -> Result<(), ServiceError> {
    if let Some(due) = new.due_on {
        if due < new.issued_on {
            return Err(ServiceError::Invalid {
                field: "due_on",
                code: "error.due_before_issue",
            });
        }
    }
    if new.arrived_on < new.issued_on {
        return Err(ServiceError::Invalid {
            field: "arrived_on",
            code: "error.arrival_before_issue",
        });
    }
    Ok(())
}

/// Registers in the caller's transaction, attachments already stored: the
/// register, the duplicate check, the number, the row and its audit entry. The
/// caller has checked the clerk's role and the dates.
pub(crate) async fn register_in(
    tx: &mut WriteTx,
    who: &Principal,
    agency_id: i64,
    new: &NewIncoming,
    files: &[attachments::Stored],
) -> Result<Registered, ServiceError> {
    let classified = new.classification.is_classified();
    let symbol_folded = new.symbol.folded();
    let issuer_key = new.issuer.key();
    ensure_default_registers(tx, agency_id, Direction::Incoming).await?;
    let register_id = match new.register_id {
        Some(id) => id,
        None => {
            let row = sqlx::query(
                "SELECT id FROM registers WHERE agency_id = $1 AND direction = 'incoming' AND classified = $2 ORDER BY id LIMIT 1",
            )
            .bind(agency_id)
            .bind(classified as i64)
            .fetch_one(tx.conn())
            .await?;
            row.try_get(0)?
        }
    };
    let register = sqlx::query("SELECT classified FROM registers WHERE id = $1 AND agency_id = $2 AND direction = 'incoming'")
        .bind(register_id)
        .bind(agency_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(ServiceError::Invalid { field: "register_id", code: "error.register" })?;
    if (register.try_get::<i64, _>(0)? != 0) != classified {
        return Err(ServiceError::Invalid {
            field: "register_id",
            code: "error.register_classification",
        });
    }

    if !new.allow_duplicate {
        let dups = sqlx::query(
            "SELECT id FROM documents WHERE agency_id = $1 AND direction = 'incoming' AND symbol_folded = $2 AND issuer_key = $3 ORDER BY id",
        )
        .bind(agency_id)
        .bind(&symbol_folded)
        .bind(&issuer_key)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
        if !dups.is_empty() {
            return Err(ServiceError::Duplicate(dups));
        }
    }

    let item = ToInsert {
        register_id,
        new,
        files,
    };
    let (registered, detail) = insert_numbered(tx, who, agency_id, &[item], false)
        .await?
        .pop()
        .ok_or(ServiceError::Conflict("registration wrote nothing"))?;
    let Registered {
        id,
        arrival_number: number,
        ..
    } = registered;
    // Classified subjects stay out of the audit log's readable text.
    let audited = if classified {
        json!({"arrival_number": number, "classification": new.classification.as_str()})
    } else {
        detail
    };
    tx.audit(
        &who.actor(),
        "document.register_incoming",
        "document",
        id,
        audited,
    )
    .await?;
    Ok(registered)
}

/// A checked incoming document to number and write.
pub(crate) struct ToInsert<'a> {
    pub register_id: i64,
    pub new: &'a NewIncoming,
    /// Its attachments, already in the blob store.
    pub files: &'a [attachments::Stored],
}

/// Documents per multi-row INSERT: 22 parameters a row stays far below both
/// databases' limits on parameters in one statement.
const ROWS_PER_INSERT: usize = 200;

/// Numbers checked incoming documents in their registers, in the order given, and
/// writes them: the rows, their attachments' rows, their readers when classified,
/// the timeline events and the search-queue rows. Returns each registration and its
/// event's detail, in the same order. Shared by single registration (one item) and
/// the bulk import, which is why the rows go in with multi-row statements.
pub(crate) async fn insert_numbered(
    tx: &mut WriteTx,
    who: &Principal,
    agency_id: i64,
    items: &[ToInsert<'_>],
    imported: bool,
) -> Result<Vec<(Registered, serde_json::Value)>, ServiceError> {
    let numbers = allocate(tx, items).await?;
    let now = time::now();
    let mut ids: HashMap<(i64, i64, String, i64), i64> = HashMap::with_capacity(items.len());
    for (chunk, chunk_numbers) in items
        .chunks(ROWS_PER_INSERT)
        .zip(numbers.chunks(ROWS_PER_INSERT))
    {
        // $1 is the time (created and updated); then 21 parameters a row.
        let rows = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=21).map(|k| format!("${}", 1 + i * 21 + k)).collect();
                format!(
                    "({}, 'incoming', {}, 0, {}, 'registered', {}, $1, $1)",
                    p[0],
                    p[1..8].join(", "),
                    p[8..19].join(", "),
                    p[19..21].join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO documents (agency_id, direction, register_id, year, series, number, symbol, symbol_folded, doc_type,
                legal_normative, issuer_agency_id, issuer_name, issuer_key, issued_on, subject, urgency, classification,
                page_count, due_on, signer_name, arrived_on, status, note, created_by, created_at, updated_at)
             VALUES {rows}
             RETURNING id, register_id, year, series, number"
        );
        let mut query = sqlx::query(&sql).bind(&now);
        for (item, (year, series, number)) in chunk.iter().zip(chunk_numbers) {
            let new = item.new;
            query = query
                .bind(agency_id)
                .bind(item.register_id)
                .bind(*year)
                .bind(series.as_str())
                .bind(*number)
                .bind(new.symbol.to_string())
                .bind(new.symbol.folded())
                .bind(new.doc_type.code())
                .bind(new.issuer.agency_id)
                .bind(new.issuer.name.trim().to_owned())
                .bind(new.issuer.key())
                .bind(time::date(new.issued_on))
                .bind(new.subject.as_str().to_owned())
                .bind(new.urgency.as_str())
                .bind(new.classification.as_str())
                .bind(new.page_count)
                .bind(new.due_on.map(time::date))
                .bind(new.signer_name.trim().to_owned())
                .bind(time::date(new.arrived_on))
                .bind(new.note.trim().to_owned())
                .bind(who.person.id);
        }
        // RETURNING gives no order guarantee: match rows by their (unique) number.
        for r in query.fetch_all(tx.conn()).await? {
            ids.insert(
                (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?),
                r.try_get(0)?,
            );
        }
    }

    let mut out = Vec::with_capacity(items.len());
    for (item, (year, series, number)) in items.iter().zip(numbers) {
        let id = ids
            .remove(&(item.register_id, year, series, number))
            .ok_or(ServiceError::Conflict(
                "a registered document was not written",
            ))?;
        attachments::insert_rows(tx, id, item.files).await?;
        if item.new.classification.is_classified() {
            grant_readers(tx, who, id, &item.new.readers, &now).await?;
        }
        let mut detail = json!({"arrival_number": number, "year": year, "register_id": item.register_id,
                                "symbol": item.new.symbol.to_string(), "issuer": item.new.issuer.name.trim(),
                                "attachments": item.files.len()});
        if imported {
            detail["imported"] = json!(true);
        }
        out.push((
            Registered {
                id,
                arrival_number: number,
                year,
                register_id: item.register_id,
            },
            detail,
        ));
    }
    add_events(tx, who, "registered", &out, &now).await?;
    let ids: Vec<i64> = out.iter().map(|(r, _)| r.id).collect();
    crate::search::enqueue_all(tx, &ids).await?;
    Ok(out)
}

/// The (year, series, number) of each item, in order: each series' numbers are taken
/// in one step, then handed out in the order of the items.
async fn allocate(
    tx: &mut WriteTx,
    items: &[ToInsert<'_>],
) -> Result<Vec<(i64, String, i64)>, ServiceError> {
    let keyed: Vec<(i64, i64, String)> = items
        .iter()
        .map(|item| {
            let series = numbering_series(item.new.doc_type, false, item.new.classification);
            (item.register_id, item.new.arrived_on.year() as i64, series)
        })
        .collect();
    let mut counts: BTreeMap<&(i64, i64, String), i64> = BTreeMap::new();
    for key in &keyed {
        *counts.entry(key).or_default() += 1;
    }
    // In key order, so two imports into the same registers lock their counters alike.
    let mut next: HashMap<&(i64, i64, String), i64> = HashMap::with_capacity(counts.len());
    for (key, count) in counts {
        let (register_id, year, series) = key;
        next.insert(
            key,
            reserve_numbers(tx, *register_id, *year, series, count).await?,
        );
    }
    let mut out = Vec::with_capacity(keyed.len());
    for key in &keyed {
        let number = next
            .get_mut(key)
            .ok_or(ServiceError::Conflict("numbering"))?;
        out.push((key.1, key.2.clone(), *number));
        *number += 1;
    }
    Ok(out)
}

/// Gives the readers of a classified document (and the registering clerk) access.
async fn grant_readers(
    tx: &mut WriteTx,
    who: &Principal,
    document_id: i64,
    readers: &[i64],
    now: &str,
) -> Result<(), ServiceError> {
    let mut readers = readers.to_vec();
    readers.push(who.person.id);
    readers.sort_unstable();
    readers.dedup();
    for person in readers {
        sqlx::query("INSERT INTO document_readers (document_id, person_id, granted_by, granted_at) VALUES ($1, $2, $3, $4)")
            .bind(document_id)
            .bind(person)
            .bind(&who.person.username)
            .bind(now)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// The same timeline step for several documents, with each one's detail.
async fn add_events(
    tx: &mut WriteTx,
    who: &Principal,
    kind: &str,
    events: &[(Registered, serde_json::Value)],
    now: &str,
) -> Result<(), ServiceError> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let rows = (0..chunk.len())
            .map(|i| format!("(${}, $1, $2, $3, $4, ${})", 5 + 2 * i, 6 + 2 * i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO document_events (document_id, at, actor_id, actor, kind, detail) VALUES {rows}"
        );
        let mut query = sqlx::query(&sql)
            .bind(now)
            .bind(who.person.id)
            .bind(&who.person.full_name)
            .bind(kind);
        for (registered, detail) in chunk {
            query = query.bind(registered.id).bind(detail.to_string());
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Appends a step to a document's timeline, taken by `who`.
pub(crate) async fn add_event(
    tx: &mut WriteTx,
    document_id: i64,
    who: &Principal,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), ServiceError> {
    let person = &who.person;
    add_event_by(
        tx,
        document_id,
        Some(person.id),
        &person.full_name,
        kind,
        detail,
    )
    .await
}

/// [`add_event`] for any actor: a person (by id, with the name shown), or the system
/// itself (no id).
pub(crate) async fn add_event_by(
    tx: &mut WriteTx,
    document_id: i64,
    actor_id: Option<i64>,
    actor_name: &str,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), ServiceError> {
    sqlx::query("INSERT INTO document_events (document_id, at, actor_id, actor, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(document_id)
        .bind(time::now())
        .bind(actor_id)
        .bind(actor_name)
        .bind(kind)
        .bind(detail.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

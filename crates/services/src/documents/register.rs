//! Registering an incoming document (vào sổ văn bản đến): the arrival number is
//! taken from the register's yearly counter in the same transaction as the row,
//! so numbers start at 1 on 1 January and have neither gaps nor duplicates.

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
        "UPDATE register_counters SET last_number = last_number + 1
         WHERE register_id = $1 AND year = $2 AND series = $3 RETURNING last_number",
    )
    .bind(register_id)
    .bind(year)
    .bind(series)
    .fetch_one(tx.conn())
    .await?;
    Ok(row.try_get(0)?)
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
    // Blobs first: a crash after this leaves only unreferenced blobs (swept later),
    // never a row pointing at a missing file.
    let files = attachments::store_all(blobs, &new.attachments).await?;
    let classified = new.classification.is_classified();
    let symbol_folded = new.symbol.folded();
    let issuer_key = new.issuer.key();

    let mut tx = db.write().await?;
    ensure_default_registers(&mut tx, agency_id, Direction::Incoming).await?;
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

    let (registered, detail) =
        insert_numbered(&mut tx, who, agency_id, register_id, &new, &files, false).await?;
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
    tx.commit().await?;
    Ok(registered)
}

/// Numbers a checked incoming document in its register and writes it: the row, its
/// attachments' rows, its readers when classified, the timeline event and the
/// search-queue row. Returns the registration and the event's detail. Shared by
/// single registration and the bulk import.
pub(crate) async fn insert_numbered(
    tx: &mut WriteTx,
    who: &Principal,
    agency_id: i64,
    register_id: i64,
    new: &NewIncoming,
    files: &[attachments::Stored],
    imported: bool,
) -> Result<(Registered, serde_json::Value), ServiceError> {
    let year = new.arrived_on.year() as i64;
    let series = numbering_series(new.doc_type, false, new.classification);
    let number = next_number(tx, register_id, year, &series).await?;
    let now = time::now();
    let symbol = new.symbol.to_string();
    let id: i64 = sqlx::query(
        "INSERT INTO documents (agency_id, direction, register_id, year, series, number, symbol, symbol_folded, doc_type,
            legal_normative, issuer_agency_id, issuer_name, issuer_key, issued_on, subject, urgency, classification,
            page_count, due_on, signer_name, arrived_on, status, note, created_by, created_at, updated_at)
         VALUES ($1, 'incoming', $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
            'registered', $20, $21, $22, $22)
         RETURNING id",
    )
    .bind(agency_id)
    .bind(register_id)
    .bind(year)
    .bind(&series)
    .bind(number)
    .bind(&symbol)
    .bind(new.symbol.folded())
    .bind(new.doc_type.code())
    .bind(new.issuer.agency_id)
    .bind(new.issuer.name.trim())
    .bind(new.issuer.key())
    .bind(time::date(new.issued_on))
    .bind(new.subject.as_str())
    .bind(new.urgency.as_str())
    .bind(new.classification.as_str())
    .bind(new.page_count)
    .bind(new.due_on.map(time::date))
    .bind(new.signer_name.trim())
    .bind(time::date(new.arrived_on))
    .bind(new.note.trim())
    .bind(who.person.id)
    .bind(&now)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    attachments::insert_rows(tx, id, files).await?;
    if new.classification.is_classified() {
        let mut readers = new.readers.clone();
        readers.push(who.person.id);
        readers.sort_unstable();
        readers.dedup();
        for person in readers {
            sqlx::query("INSERT INTO document_readers (document_id, person_id, granted_by, granted_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(person)
                .bind(&who.person.username)
                .bind(&now)
                .execute(tx.conn())
                .await?;
        }
    }
    let mut detail = json!({"arrival_number": number, "year": year, "register_id": register_id, "symbol": symbol,
                            "issuer": new.issuer.name.trim(), "attachments": files.len()});
    if imported {
        detail["imported"] = json!(true);
    }
    add_event(tx, id, who, "registered", &detail).await?;
    crate::search::enqueue(tx, id).await?;
    Ok((
        Registered {
            id,
            arrival_number: number,
            year,
            register_id,
        },
        detail,
    ))
}

/// Appends a step to a document's timeline.
pub(crate) async fn add_event(
    tx: &mut WriteTx,
    document_id: i64,
    who: &Principal,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), ServiceError> {
    sqlx::query("INSERT INTO document_events (document_id, at, actor_id, actor, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(document_id)
        .bind(time::now())
        .bind(who.person.id)
        .bind(&who.person.full_name)
        .bind(kind)
        .bind(detail.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

//! The province model: agencies (cơ quan) with their history, and units (phòng, ban)
//! inside them. Everything is read "as of" a date, because the map changes:
//! names, parents and existence are all dated.

mod reorganise;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::NaiveDate;
use lienthong_domain::agency::{AgencyName, ShortName};
use lienthong_domain::{AgencyKind, OrgCode};
use lienthong_store::{time, Actor, Db};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

pub use reorganise::{as_of_or_today, history, reorganise, ReorganisationView};

use crate::error::is_unique_violation;
use crate::ServiceError;

/// An agency as it stood on a given date.
#[derive(Debug, Clone, Serialize)]
pub struct Agency {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub name: String,
    pub short_name: String,
    pub parent_id: Option<i64>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    /// Who took over, when the agency has ended (primary first).
    pub successors: Vec<AgencyRef>,
}

impl Agency {
    pub fn is_in_force(&self, day: NaiveDate) -> bool {
        let d = time::date(day);
        self.valid_from <= d && self.valid_to.as_ref().is_none_or(|t| *t > d)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AgencyRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub id: i64,
    pub agency_id: i64,
    pub name: String,
    pub short_name: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

pub struct NewAgency {
    pub code: OrgCode,
    pub kind: AgencyKind,
    pub name: AgencyName,
    pub short_name: ShortName,
    pub parent_id: Option<i64>,
    pub valid_from: NaiveDate,
}

/// The latest name/parent version at or before the date, for every agency.
const AGENCY_AS_OF: &str = "
    SELECT a.id, a.code, a.kind, v.name, v.short_name, v.parent_id, a.valid_from, a.valid_to
    FROM agencies a
    JOIN agency_versions v ON v.agency_id = a.id
    WHERE v.valid_from = (SELECT MAX(v2.valid_from) FROM agency_versions v2
                          WHERE v2.agency_id = a.id AND v2.valid_from <= $1)";

fn agency_from_row(r: &sqlx::any::AnyRow) -> Result<Agency, sqlx::Error> {
    Ok(Agency {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        kind: r.try_get(2)?,
        name: r.try_get(3)?,
        short_name: r.try_get(4)?,
        parent_id: r.try_get(5)?,
        valid_from: r.try_get(6)?,
        valid_to: r.try_get(7)?,
        successors: Vec::new(),
    })
}

/// Every agency that existed on `as_of` (and, with `include_ended`, every one that
/// existed before and has since ended), named as on that date.
pub async fn list(
    db: &Db,
    as_of: NaiveDate,
    include_ended: bool,
) -> Result<Vec<Agency>, ServiceError> {
    let filter = if include_ended {
        " AND a.valid_from <= $1"
    } else {
        " AND a.valid_from <= $1 AND (a.valid_to IS NULL OR a.valid_to > $1)"
    };
    let sql = format!("{AGENCY_AS_OF}{filter} ORDER BY a.code");
    let rows = sqlx::query(&sql)
        .bind(time::date(as_of))
        .fetch_all(db.pool())
        .await?;
    let mut agencies = rows
        .iter()
        .map(agency_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_successors(db, &mut agencies).await?;
    Ok(agencies)
}

pub async fn get(db: &Db, id: i64, as_of: NaiveDate) -> Result<Agency, ServiceError> {
    let sql = format!("{AGENCY_AS_OF} AND a.id = $2");
    let row = sqlx::query(&sql)
        .bind(time::date(as_of))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let mut agency = vec![agency_from_row(&row.ok_or(ServiceError::NotFound)?)?];
    attach_successors(db, &mut agency).await?;
    agency.pop().ok_or(ServiceError::NotFound)
}

/// The code of the province's People's Committee (UBND tỉnh), the first one
/// recorded if there were ever several.
pub async fn province_code(db: &Db) -> Result<Option<OrgCode>, ServiceError> {
    let row = sqlx::query(
        "SELECT code FROM agencies WHERE kind = 'provincial_committee' ORDER BY id LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        let code: String = r.try_get(0)?;
        OrgCode::parse(&code).map_err(|e| ServiceError::invalid("code", e))
    })
    .transpose()
}

pub async fn id_by_code(db: &Db, code: &OrgCode) -> Result<Option<i64>, ServiceError> {
    let row = sqlx::query("SELECT id FROM agencies WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

async fn attach_successors(db: &Db, agencies: &mut [Agency]) -> Result<(), ServiceError> {
    if agencies.iter().all(|a| a.valid_to.is_none()) {
        return Ok(());
    }
    // Successors are named as they are today, which is what a reader looking for
    // "who handles this now" needs.
    let today = time::date(time::today());
    let sql = "SELECT s.agency_id, a.id, a.code, v.name
         FROM agency_successors s
         JOIN agencies a ON a.id = s.successor_id
         JOIN agency_versions v ON v.agency_id = a.id
         WHERE v.valid_from = (SELECT MAX(v2.valid_from) FROM agency_versions v2
                               WHERE v2.agency_id = a.id AND v2.valid_from <= $1)
         ORDER BY s.agency_id, s.position";
    let rows = sqlx::query(sql).bind(&today).fetch_all(db.pool()).await?;
    let mut by_agency: HashMap<i64, Vec<AgencyRef>> = HashMap::new();
    for r in rows {
        by_agency.entry(r.try_get(0)?).or_default().push(AgencyRef {
            id: r.try_get(1)?,
            code: r.try_get(2)?,
            name: r.try_get(3)?,
        });
    }
    for a in agencies {
        a.successors = by_agency.remove(&a.id).unwrap_or_default();
    }
    Ok(())
}

/// Parent of every agency in force on `as_of`.
async fn parents(db: &Db, as_of: NaiveDate) -> Result<HashMap<i64, Option<i64>>, ServiceError> {
    let sql = format!(
        "{AGENCY_AS_OF} AND a.valid_from <= $1 AND (a.valid_to IS NULL OR a.valid_to > $1)"
    );
    let rows = sqlx::query(&sql)
        .bind(time::date(as_of))
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(5)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The agency followed by its parents up to the root, as of a date. Empty when the
/// agency does not exist on that date.
pub async fn ancestry(db: &Db, id: i64, as_of: NaiveDate) -> Result<Vec<i64>, ServiceError> {
    let parents = parents(db, as_of).await?;
    let mut chain = Vec::new();
    let mut next = parents.contains_key(&id).then_some(id);
    while let Some(a) = next {
        if chain.contains(&a) {
            break; // a cycle in stored data must not hang a request
        }
        chain.push(a);
        next = parents.get(&a).copied().flatten();
    }
    Ok(chain)
}

/// Every agency below `id` on `as_of`, at any depth.
pub async fn descendants(db: &Db, id: i64, as_of: NaiveDate) -> Result<Vec<i64>, ServiceError> {
    let parents = parents(db, as_of).await?;
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for (child, parent) in &parents {
        if let Some(p) = parent {
            children.entry(*p).or_default().push(*child);
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![id];
    while let Some(a) = stack.pop() {
        for c in children.get(&a).into_iter().flatten() {
            if !out.contains(c) && *c != id {
                out.push(*c);
                stack.push(*c);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

pub async fn create(db: &Db, actor: &Actor, new: NewAgency) -> Result<i64, ServiceError> {
    let mut tx = db.write().await?;
    if let Some(parent) = new.parent_id {
        let exists = sqlx::query(
            "SELECT 1 FROM agencies WHERE id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)",
        )
        .bind(parent)
        .bind(time::date(new.valid_from))
        .fetch_optional(tx.conn())
        .await?;
        if exists.is_none() {
            return Err(ServiceError::Invalid {
                field: "parent_id",
                code: "error.parent",
            });
        }
    }
    let inserted = sqlx::query(
        "INSERT INTO agencies (code, kind, valid_from, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(new.code.as_str())
    .bind(new.kind.as_str())
    .bind(time::date(new.valid_from))
    .bind(time::now())
    .fetch_one(tx.conn())
    .await
    .map_err(ServiceError::from);
    let id: i64 = match inserted {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => {
            return Err(ServiceError::Invalid {
                field: "code",
                code: "error.code_taken",
            })
        }
        Err(e) => return Err(e),
    };
    sqlx::query(
        "INSERT INTO agency_versions (agency_id, valid_from, name, short_name, parent_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(time::date(new.valid_from))
    .bind(new.name.as_str())
    .bind(new.short_name.as_str())
    .bind(new.parent_id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        actor,
        "agency.create",
        "agency",
        id,
        json!({"code": new.code, "kind": new.kind, "name": new.name.as_str(),
               "short_name": new.short_name.as_str(), "parent_id": new.parent_id,
               "valid_from": time::date(new.valid_from)}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Units of an agency on a date.
pub async fn units(db: &Db, agency_id: i64, as_of: NaiveDate) -> Result<Vec<Unit>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, agency_id, name, short_name, valid_from, valid_to FROM units
         WHERE agency_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
         ORDER BY name",
    )
    .bind(agency_id)
    .bind(time::date(as_of))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Unit {
                id: r.try_get(0)?,
                agency_id: r.try_get(1)?,
                name: r.try_get(2)?,
                short_name: r.try_get(3)?,
                valid_from: r.try_get(4)?,
                valid_to: r.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

pub async fn create_unit(
    db: &Db,
    actor: &Actor,
    agency_id: i64,
    name: &AgencyName,
    short_name: &ShortName,
    valid_from: NaiveDate,
) -> Result<i64, ServiceError> {
    let mut tx = db.write().await?;
    let row = sqlx::query(
        "INSERT INTO units (agency_id, name, short_name, valid_from, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(agency_id)
    .bind(name.as_str())
    .bind(short_name.as_str())
    .bind(time::date(valid_from))
    .bind(time::now())
    .fetch_one(tx.conn())
    .await?;
    let id: i64 = row.try_get(0)?;
    tx.audit(
        actor,
        "unit.create",
        "unit",
        id,
        json!({"agency_id": agency_id, "name": name.as_str(), "short_name": short_name.as_str(),
               "valid_from": time::date(valid_from)}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The agency that a unit belongs to (for permission checks on unit routes).
pub async fn unit_agency(db: &Db, unit_id: i64) -> Result<i64, ServiceError> {
    let row = sqlx::query("SELECT agency_id FROM units WHERE id = $1")
        .bind(unit_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(row.try_get(0)?)
}

/// Forbidden unless `who` administers a root agency (the province itself).
pub async fn require_province_admin(
    db: &Db,
    who: &crate::auth::Principal,
) -> Result<(), ServiceError> {
    for m in who.memberships() {
        if m.role == lienthong_domain::Role::Admin
            && ancestry(db, m.agency_id, time::today()).await?.len() == 1
        {
            return Ok(());
        }
    }
    Err(ServiceError::Forbidden)
}

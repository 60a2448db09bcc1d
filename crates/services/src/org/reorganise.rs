//! Recording a reorganisation (merge, split, rename, move) with its effective date.
//!
//! For a merge or a split, the agencies concerned end on the effective date, their
//! units reopen under the primary successor, their people's roles move with them,
//! and their sub-agencies move under the primary successor. Old records keep the
//! agency that issued or received them; readers find the successor through
//! `agency_successors`.

use std::collections::HashMap;

use chrono::NaiveDate;
use lienthong_domain::agency::{
    check_reorganisation, ReorganisationFacts, ReorganisationRequest, Validity,
};
use lienthong_domain::ReorganisationKind;
use lienthong_store::{time, Actor, Db, WriteTx};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::{descendants, parents};
use crate::ServiceError;

#[derive(Debug, Clone, Serialize)]
pub struct ReorganisationView {
    pub id: i64,
    pub kind: String,
    pub effective_on: String,
    pub note: String,
    pub subjects: Vec<i64>,
    pub successors: Vec<i64>,
}

pub async fn reorganise(
    db: &Db,
    actor: &Actor,
    req: &ReorganisationRequest,
    note: &str,
) -> Result<i64, ServiceError> {
    let on = req.effective_on;
    let day = time::date(on);
    let subject_descendants = match (req.kind, req.subjects.first()) {
        (ReorganisationKind::Move, Some(s)) => descendants(db, *s, on).await?,
        _ => Vec::new(),
    };
    let children = parents(db, on).await?;
    let mut tx = db.write().await?;
    let validity = validities(&mut tx).await?;
    let lookup = |id: i64| validity.get(&id).copied();
    check_reorganisation(
        req,
        &ReorganisationFacts {
            validity: &lookup,
            descendants_of_subject: &subject_descendants,
        },
    )
    .map_err(|e| ServiceError::invalid("reorganisation", e))?;

    let id: i64 = sqlx::query(
        "INSERT INTO reorganisations (kind, effective_on, note, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(req.kind.as_str())
    .bind(&day)
    .bind(note)
    .bind(actor.id)
    .bind(time::now())
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    for s in &req.subjects {
        sqlx::query(
            "INSERT INTO reorganisation_subjects (reorganisation_id, agency_id) VALUES ($1, $2)",
        )
        .bind(id)
        .bind(s)
        .execute(tx.conn())
        .await?;
    }

    let mut moved = json!({});
    match req.kind {
        ReorganisationKind::Merge | ReorganisationKind::Split => {
            let primary = req.successors[0];
            for subject in &req.subjects {
                sqlx::query("UPDATE agencies SET valid_to = $1 WHERE id = $2")
                    .bind(&day)
                    .bind(subject)
                    .execute(tx.conn())
                    .await?;
                for (position, successor) in req.successors.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO agency_successors (agency_id, successor_id, position, reorganisation_id)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(subject)
                    .bind(successor)
                    .bind(position as i64)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
                }
                let units = move_units(&mut tx, *subject, primary, &day).await?;
                let people = move_memberships(&mut tx, *subject, primary, &units, &day).await?;
                let mut sub_agencies = Vec::new();
                let grandparent = children.get(subject).copied().flatten();
                for (child, parent) in &children {
                    if *parent == Some(*subject) {
                        // A successor that sat under the subject (a district split into
                        // its own communes) goes up a level instead of under itself.
                        let new_parent = if req.successors.contains(child) {
                            grandparent
                        } else {
                            Some(primary)
                        };
                        set_version(&mut tx, *child, &day, None, Some(new_parent)).await?;
                        sub_agencies.push(*child);
                    }
                }
                sub_agencies.sort_unstable();
                moved[subject.to_string()] = json!({
                    "units": units.len(), "memberships": people, "sub_agencies": sub_agencies,
                });
            }
        }
        ReorganisationKind::Rename => {
            let name = req.new_name.as_ref().map(|n| n.as_str().to_owned());
            set_version(&mut tx, req.subjects[0], &day, name, None).await?;
        }
        ReorganisationKind::Move => {
            set_version(&mut tx, req.subjects[0], &day, None, Some(req.new_parent)).await?;
        }
    }

    tx.audit(
        actor,
        &format!("agency.{}", req.kind.as_str()),
        "reorganisation",
        id,
        json!({
            "effective_on": day, "subjects": req.subjects, "successors": req.successors,
            "new_name": req.new_name.as_ref().map(|n| n.as_str()), "new_parent": req.new_parent,
            "note": note, "moved": moved,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn validities(tx: &mut WriteTx) -> Result<HashMap<i64, Validity>, ServiceError> {
    let rows = sqlx::query("SELECT id, valid_from, valid_to FROM agencies")
        .fetch_all(tx.conn())
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let from: String = r.try_get(1)?;
        let to: Option<String> = r.try_get(2)?;
        let (Some(from), to) = (
            time::parse_date(&from),
            to.as_deref().and_then(time::parse_date),
        ) else {
            continue;
        };
        out.insert(r.try_get(0)?, Validity { from, to });
    }
    Ok(out)
}

/// Adds (or replaces) the version of an agency starting on `day`, copying whatever
/// is not changed from the version in force that day.
async fn set_version(
    tx: &mut WriteTx,
    agency: i64,
    day: &str,
    name: Option<String>,
    parent: Option<Option<i64>>,
) -> Result<(), ServiceError> {
    let current = sqlx::query(
        "SELECT name, short_name, parent_id FROM agency_versions
         WHERE agency_id = $1 AND valid_from <= $2 ORDER BY valid_from DESC LIMIT 1",
    )
    .bind(agency)
    .bind(day)
    .fetch_one(tx.conn())
    .await?;
    let old_name: String = current.try_get(0)?;
    let old_parent: Option<i64> = current.try_get(2)?;
    let name = name.unwrap_or_else(|| old_name.clone());
    let short_name: String = current.try_get(1)?;
    let parent = parent.unwrap_or(old_parent);
    sqlx::query("DELETE FROM agency_versions WHERE agency_id = $1 AND valid_from = $2")
        .bind(agency)
        .bind(day)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO agency_versions (agency_id, valid_from, name, short_name, parent_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(agency)
    .bind(day)
    .bind(&name)
    .bind(short_name)
    .bind(parent)
    .execute(tx.conn())
    .await?;
    // A change recorded late (a move effective in 2020 recorded after a 2024 rename)
    // carries into the later versions that still had the value it replaces, up to
    // the first later version that changed that value itself.
    let later = sqlx::query(
        "SELECT valid_from, name, parent_id FROM agency_versions
         WHERE agency_id = $1 AND valid_from > $2 ORDER BY valid_from",
    )
    .bind(agency)
    .bind(day)
    .fetch_all(tx.conn())
    .await?;
    let (mut carry_name, mut carry_parent) = (name != old_name, parent != old_parent);
    for v in later {
        let from: String = v.try_get(0)?;
        carry_name &= v.try_get::<String, _>(1)? == old_name;
        carry_parent &= v.try_get::<Option<i64>, _>(2)? == old_parent;
        if !carry_name && !carry_parent {
            break;
        }
        if carry_name {
            sqlx::query(
                "UPDATE agency_versions SET name = $1 WHERE agency_id = $2 AND valid_from = $3",
            )
            .bind(&name)
            .bind(agency)
            .bind(&from)
            .execute(tx.conn())
            .await?;
        }
        if carry_parent {
            sqlx::query("UPDATE agency_versions SET parent_id = $1 WHERE agency_id = $2 AND valid_from = $3")
                .bind(parent)
                .bind(agency)
                .bind(&from)
                .execute(tx.conn())
                .await?;
        }
    }
    Ok(())
}

/// Ends the subject's open units and reopens each under the successor. Returns old → new.
async fn move_units(
    tx: &mut WriteTx,
    from: i64,
    to: i64,
    day: &str,
) -> Result<HashMap<i64, i64>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, name, short_name FROM units WHERE agency_id = $1 AND (valid_to IS NULL OR valid_to > $2)",
    )
    .bind(from)
    .bind(day)
    .fetch_all(tx.conn())
    .await?;
    let mut map = HashMap::new();
    for r in rows {
        let old: i64 = r.try_get(0)?;
        let name: String = r.try_get(1)?;
        let short_name: String = r.try_get(2)?;
        sqlx::query("UPDATE units SET valid_to = $1 WHERE id = $2")
            .bind(day)
            .bind(old)
            .execute(tx.conn())
            .await?;
        let new: i64 = sqlx::query(
            "INSERT INTO units (agency_id, name, short_name, valid_from, previous_unit_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(to)
        .bind(name)
        .bind(short_name)
        .bind(day)
        .bind(old)
        .bind(time::now())
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        map.insert(old, new);
    }
    Ok(map)
}

/// Ends the subject's open memberships and reopens them at the successor, in the
/// moved unit. Returns how many moved.
async fn move_memberships(
    tx: &mut WriteTx,
    from: i64,
    to: i64,
    units: &HashMap<i64, i64>,
    day: &str,
) -> Result<usize, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, person_id, unit_id, role, title FROM memberships
         WHERE agency_id = $1 AND (valid_to IS NULL OR valid_to > $2)",
    )
    .bind(from)
    .bind(day)
    .fetch_all(tx.conn())
    .await?;
    let n = rows.len();
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let person: i64 = r.try_get(1)?;
        let unit: Option<i64> = r.try_get(2)?;
        let role: String = r.try_get(3)?;
        let title: String = r.try_get(4)?;
        sqlx::query("UPDATE memberships SET valid_to = $1 WHERE id = $2")
            .bind(day)
            .bind(id)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO memberships (person_id, agency_id, unit_id, role, title, valid_from, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(person)
        .bind(to)
        .bind(unit.and_then(|u| units.get(&u).copied()))
        .bind(role)
        .bind(title)
        .bind(day)
        .bind(time::now())
        .execute(tx.conn())
        .await?;
    }
    Ok(n)
}

/// Reorganisations that concern an agency (as subject or successor), oldest first.
pub async fn history(db: &Db, agency_id: i64) -> Result<Vec<ReorganisationView>, ServiceError> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.id, r.kind, r.effective_on, r.note FROM reorganisations r
         LEFT JOIN reorganisation_subjects s ON s.reorganisation_id = r.id
         LEFT JOIN agency_successors x ON x.reorganisation_id = r.id
         WHERE s.agency_id = $1 OR x.successor_id = $1
         ORDER BY r.effective_on, r.id",
    )
    .bind(agency_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let subjects = sqlx::query("SELECT agency_id FROM reorganisation_subjects WHERE reorganisation_id = $1 ORDER BY agency_id")
            .bind(id)
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<i64>, _>>()?;
        let mut successors = sqlx::query(
            "SELECT DISTINCT successor_id, position FROM agency_successors WHERE reorganisation_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
        successors.dedup();
        out.push(ReorganisationView {
            id,
            kind: r.try_get(1)?,
            effective_on: r.try_get(2)?,
            note: r.try_get(3)?,
            subjects,
            successors,
        });
    }
    Ok(out)
}

/// Dates for the "as of" picker: today unless the reader asks for another day.
pub fn as_of_or_today(day: Option<NaiveDate>) -> NaiveDate {
    day.unwrap_or_else(time::today)
}

//! People (cán bộ, công dân) and the roles they hold in agencies. A held role is a
//! `Position` (vị trí công tác): dated like everything else, so a reorganisation
//! can end one and open its successor without losing who held what when.

use chrono::NaiveDate;
use lienthong_domain::{Email, FullName, Membership, Password, PersonKind, Role, Username};
use lienthong_store::{time, Actor, Db};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::auth::password;
use crate::error::is_unique_violation;
use crate::ServiceError;

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub kind: String,
    pub lang: Option<String>,
    pub disabled: bool,
}

impl Person {
    /// The person as the author of a change in the audit log.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            name: self.username.clone(),
        }
    }
}

/// A role held in an agency, with the names a page needs to show it.
#[derive(Debug, Clone, Serialize)]
pub struct Position {
    pub id: i64,
    pub agency_id: i64,
    pub agency_code: String,
    pub agency_name: String,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub role: Role,
    /// Chức danh as printed under a signature: "Giám đốc", "Chuyên viên"…
    pub title: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

impl Position {
    pub fn membership(&self) -> Membership {
        Membership {
            agency_id: self.agency_id,
            unit_id: self.unit_id,
            role: self.role,
        }
    }
}

pub struct NewPerson {
    pub username: Username,
    pub full_name: FullName,
    pub email: Option<Email>,
    pub kind: PersonKind,
    pub password: Password,
}

pub struct NewPosition {
    pub agency_id: i64,
    pub unit_id: Option<i64>,
    pub role: Role,
    pub title: String,
    pub valid_from: NaiveDate,
}

const PERSON_COLUMNS: &str = "id, username, full_name, email, kind, lang, disabled_at";

fn person_from_row(r: &sqlx::any::AnyRow) -> Result<Person, sqlx::Error> {
    let disabled: Option<String> = r.try_get(6)?;
    Ok(Person {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        full_name: r.try_get(2)?,
        email: r.try_get(3)?,
        kind: r.try_get(4)?,
        lang: r.try_get(5)?,
        disabled: disabled.is_some(),
    })
}

pub async fn create(db: &Db, actor: &Actor, new: NewPerson) -> Result<i64, ServiceError> {
    let hash = password::hash(&new.password)?;
    create_with_hash(db, actor, &new, &hash).await
}

/// Creates a person whose password hash is already computed (the demo hashes its
/// shared password once instead of once per person).
pub async fn create_with_hash(
    db: &Db,
    actor: &Actor,
    new: &NewPerson,
    hash: &str,
) -> Result<i64, ServiceError> {
    let mut tx = db.write().await?;
    let now = time::now();
    let inserted = sqlx::query(
        "INSERT INTO people (username, full_name, email, kind, password_hash, created_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(new.username.as_str())
    .bind(new.full_name.as_str())
    .bind(new.email.as_ref().map(|e| e.as_str()))
    .bind(new.kind.as_str())
    .bind(hash)
    .bind(&now)
    .fetch_one(tx.conn())
    .await
    .map_err(ServiceError::from);
    let id: i64 = match inserted {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => {
            return Err(ServiceError::Invalid {
                field: "username",
                code: "error.username_taken",
            })
        }
        Err(e) => return Err(e),
    };
    tx.audit(
        actor,
        "person.create",
        "person",
        id,
        json!({"username": new.username.as_str(), "full_name": new.full_name.as_str(),
               "email": new.email.as_ref().map(|e| e.as_str()), "kind": new.kind.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn add_position(
    db: &Db,
    actor: &Actor,
    person_id: i64,
    p: &NewPosition,
) -> Result<i64, ServiceError> {
    let mut tx = db.write().await?;
    if let Some(unit) = p.unit_id {
        let ok = sqlx::query("SELECT 1 FROM units WHERE id = $1 AND agency_id = $2")
            .bind(unit)
            .bind(p.agency_id)
            .fetch_optional(tx.conn())
            .await?;
        if ok.is_none() {
            return Err(ServiceError::Invalid {
                field: "unit_id",
                code: "error.unit_not_in_agency",
            });
        }
    }
    let staff = sqlx::query("SELECT kind FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(ServiceError::NotFound)?;
    if staff.try_get::<String, _>(0)? != PersonKind::Staff.as_str() {
        return Err(ServiceError::Invalid {
            field: "role",
            code: "error.role_for_staff_only",
        });
    }
    let id: i64 = sqlx::query(
        "INSERT INTO memberships (person_id, agency_id, unit_id, role, title, valid_from, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(person_id)
    .bind(p.agency_id)
    .bind(p.unit_id)
    .bind(p.role.as_str())
    .bind(&p.title)
    .bind(time::date(p.valid_from))
    .bind(time::now())
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    tx.audit(
        actor,
        "position.create",
        "person",
        person_id,
        json!({"position_id": id, "agency_id": p.agency_id, "unit_id": p.unit_id,
               "role": p.role, "title": p.title, "valid_from": time::date(p.valid_from)}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn end_position(
    db: &Db,
    actor: &Actor,
    position_id: i64,
    on: NaiveDate,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let row = sqlx::query("SELECT person_id FROM memberships WHERE id = $1 AND valid_to IS NULL")
        .bind(position_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(ServiceError::NotFound)?;
    let person: i64 = row.try_get(0)?;
    sqlx::query("UPDATE memberships SET valid_to = $1 WHERE id = $2")
        .bind(time::date(on))
        .bind(position_id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        actor,
        "position.end",
        "person",
        person,
        json!({"position_id": position_id, "valid_to": time::date(on)}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The agency a position belongs to (for permission checks).
pub async fn position_agency(db: &Db, position_id: i64) -> Result<i64, ServiceError> {
    let row = sqlx::query("SELECT agency_id FROM memberships WHERE id = $1")
        .bind(position_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(row.try_get(0)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Person, ServiceError> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(person_from_row(&row)?)
}

pub async fn by_username(db: &Db, username: &str) -> Result<Option<Person>, ServiceError> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(person_from_row).transpose()?)
}

/// Everyone, for the command line and the province administrator.
pub async fn list_all(db: &Db) -> Result<Vec<Person>, ServiceError> {
    let rows = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people ORDER BY username"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(person_from_row).collect::<Result<_, _>>()?)
}

/// People holding a role in `agency_id` on `as_of`.
pub async fn list_in_agency(
    db: &Db,
    agency_id: i64,
    as_of: NaiveDate,
) -> Result<Vec<Person>, ServiceError> {
    let rows = sqlx::query(
        "SELECT DISTINCT p.id, p.username, p.full_name, p.email, p.kind, p.lang, p.disabled_at
         FROM people p JOIN memberships m ON m.person_id = p.id
         WHERE m.agency_id = $1 AND m.valid_from <= $2 AND (m.valid_to IS NULL OR m.valid_to > $2)
         ORDER BY p.username",
    )
    .bind(agency_id)
    .bind(time::date(as_of))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(person_from_row).collect::<Result<_, _>>()?)
}

/// Positions a person holds on `as_of` (or, with `None`, every one they ever held).
pub async fn positions(
    db: &Db,
    person_id: i64,
    as_of: Option<NaiveDate>,
) -> Result<Vec<Position>, ServiceError> {
    let day = as_of.map(time::date);
    let rows = sqlx::query(
        "SELECT m.id, m.agency_id, a.code, v.name, m.unit_id, u.name, m.role, m.title, m.valid_from, m.valid_to
         FROM memberships m
         JOIN agencies a ON a.id = m.agency_id
         JOIN agency_versions v ON v.agency_id = a.id
         LEFT JOIN units u ON u.id = m.unit_id
         WHERE m.person_id = $1
           AND v.valid_from = (SELECT MAX(v2.valid_from) FROM agency_versions v2
                               WHERE v2.agency_id = a.id AND v2.valid_from <= m.valid_from)
           AND ($2 IS NULL OR (m.valid_from <= $2 AND (m.valid_to IS NULL OR m.valid_to > $2)))
         ORDER BY m.valid_from, m.id",
    )
    .bind(person_id)
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let role: String = r.try_get(6)?;
        let Ok(role) = role.parse::<Role>() else {
            continue;
        };
        out.push(Position {
            id: r.try_get(0)?,
            agency_id: r.try_get(1)?,
            agency_code: r.try_get(2)?,
            agency_name: r.try_get(3)?,
            unit_id: r.try_get(4)?,
            unit_name: r.try_get(5)?,
            role,
            title: r.try_get(7)?,
            valid_from: r.try_get(8)?,
            valid_to: r.try_get(9)?,
        });
    }
    Ok(out)
}

/// Sets a new password (by an administrator, or by the person after checking the
/// current one) and signs the person out everywhere else.
pub async fn set_password(
    db: &Db,
    actor: &Actor,
    person_id: i64,
    new: &Password,
) -> Result<(), ServiceError> {
    let hash = password::hash(new)?;
    let mut tx = db.write().await?;
    let n =
        sqlx::query("UPDATE people SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(time::now())
            .bind(person_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if n == 0 {
        return Err(ServiceError::NotFound);
    }
    sqlx::query("DELETE FROM sessions WHERE person_id = $1")
        .bind(person_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM api_tokens WHERE person_id = $1")
        .bind(person_id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        actor,
        "person.password_change",
        "person",
        person_id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers the language a person chose.
pub async fn set_lang(
    db: &Db,
    actor: &Actor,
    person_id: i64,
    lang: &str,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    sqlx::query("UPDATE people SET lang = $1 WHERE id = $2")
        .bind(lang)
        .bind(person_id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        actor,
        "person.lang",
        "person",
        person_id,
        json!({"lang": lang}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Someone holding a role in an agency today, for pickers ("assign to", "send to").
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    pub person_id: i64,
    pub full_name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
}

/// Everyone holding a role (or `role`) in the agency today, by name.
pub async fn holders(
    db: &Db,
    agency_id: i64,
    role: Option<Role>,
) -> Result<Vec<Holder>, ServiceError> {
    let today = time::date(time::today());
    let rows = sqlx::query(
        "SELECT p.id, p.full_name, m.role, m.unit_id, u.name FROM memberships m
         JOIN people p ON p.id = m.person_id LEFT JOIN units u ON u.id = m.unit_id
         WHERE m.agency_id = $1 AND ($2 IS NULL OR m.role = $2) AND m.valid_from <= $3
           AND (m.valid_to IS NULL OR m.valid_to > $3) AND p.disabled_at IS NULL
         ORDER BY p.full_name, m.role",
    )
    .bind(agency_id)
    .bind(role.map(Role::as_str))
    .bind(&today)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let Ok(role) = r.try_get::<String, _>(2)?.parse::<Role>() else {
            continue;
        };
        out.push(Holder {
            person_id: r.try_get(0)?,
            full_name: r.try_get(1)?,
            role,
            unit_id: r.try_get(3)?,
            unit_name: r.try_get(4)?,
        });
    }
    Ok(out)
}

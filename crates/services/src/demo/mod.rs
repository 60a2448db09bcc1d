//! The demo province: Vĩnh Long as it stands today, with its 2025 history (the
//! Sở TT&TT merged into the Sở KH&CN on 1 March 2025, the districts dissolved into
//! their communes on 1 July 2025) and people for every role, all signing in with
//! [`DEMO_PASSWORD`].
//!
//! Everything is written through the ordinary use cases (`org::create`,
//! `org::reorganise`, `people::create_with_hash`…), so the audit log tells the story
//! and the views "as of" a past date read right.

pub mod documents;
mod province;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::NaiveDate;
use lienthong_domain::agency::{AgencyName, ReorganisationRequest, ShortName};
use lienthong_domain::{AgencyKind, FullName, OrgCode, Password, ReorganisationKind, Username};
use lienthong_store::{time, Actor, Db};
use sqlx::Row;

use self::province::{
    AgencySpec, PositionSpec, AGENCIES, COMMITTEE_CODE, COMMITTEE_NAME, COMMUNE_UNITS, DISTRICTS,
    LOCAL_GOVERNMENT_DAY, LONG_HO_NAME, MERGES, MERGE_DAY, PEOPLE, RETITLES, SKHCN_NAME,
    WARD_UNITS,
};
use crate::auth::password;
use crate::org::{self, NewAgency};
use crate::people::{self, NewPerson, NewPosition};
use crate::ServiceError;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "lienthong-demo";

/// A fixed demo account, shown to whoever starts the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSignIn {
    pub username: &'static str,
    /// The role, in English with the Vietnamese term, e.g. "clerk (văn thư)".
    pub role: &'static str,
    /// The agency the role is held in, named as it is today.
    pub agency: &'static str,
}

/// The fixed demo sign-ins, printed by `lienthong demo` and `serve --demo`.
pub fn sign_ins() -> Vec<DemoSignIn> {
    let s = |username, role, agency| DemoSignIn {
        username,
        role,
        agency,
    };
    vec![
        s(
            "admin",
            "province administrator (quản trị hệ thống tỉnh)",
            COMMITTEE_NAME,
        ),
        s("vanthu.skhcn", "clerk (văn thư)", SKHCN_NAME),
        s("giamdoc.skhcn", "leader (lãnh đạo: giám đốc)", SKHCN_NAME),
        s("truongphong.skhcn", "unit head (trưởng phòng)", SKHCN_NAME),
        s("chuyenvien.skhcn", "specialist (chuyên viên)", SKHCN_NAME),
        s(
            "motcua.skhcn",
            "one-stop officer (cán bộ một cửa)",
            SKHCN_NAME,
        ),
        s("bientap.skhcn", "editor (biên tập viên)", SKHCN_NAME),
        s("vanthu.xa", "clerk (văn thư)", LONG_HO_NAME),
        s("congdan.demo", "citizen (công dân)", "—"),
    ]
}

/// What [`load`] did: whether it created the province, and how many agencies and
/// people the database holds afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub created: bool,
    pub agencies: usize,
    pub people: usize,
}

/// Loads the demo province; idempotent: if it is already loaded (the province
/// committee's code or the `admin` account exists) it changes nothing and returns
/// `created: false`.
pub async fn load(db: &Db) -> Result<DemoReport, ServiceError> {
    if already_loaded(db).await? {
        return report(db, false).await;
    }
    let actor = Actor::system("demo");
    let hash = demo_password_hash().await?;
    let mut loader = Loader {
        db,
        actor,
        agencies: HashMap::new(),
        people: HashMap::new(),
    };

    for spec in AGENCIES {
        loader.create_agency(spec).await?;
    }
    for p in PEOPLE {
        let new = NewPerson {
            username: Username::parse(p.username)
                .map_err(|e| ServiceError::invalid("username", e))?,
            full_name: FullName::parse(p.full_name)
                .map_err(|e| ServiceError::invalid("full_name", e))?,
            email: None,
            kind: p.kind,
            password: Password::parse(DEMO_PASSWORD)
                .map_err(|e| ServiceError::invalid("password", e))?,
        };
        let id = people::create_with_hash(db, &loader.actor, &new, &hash).await?;
        loader.people.insert(p.username, id);
    }
    // Roles held before the reorganisations move with them.
    loader.add_positions(|p| p.from < MERGE_DAY).await?;
    loader.merges().await?;
    loader.districts().await?;
    loader.commune_units().await?;
    loader.add_positions(|p| p.from >= MERGE_DAY).await?;
    report(db, true).await
}

/// Every agency in force today, the province's People's Committee first: what
/// [`crate::exchange::KeyStore::ensure_demo`] gives a certificate to.
pub async fn agencies_for_keys(db: &Db) -> Result<Vec<(OrgCode, String)>, ServiceError> {
    let today = time::date(time::today());
    let rows = sqlx::query(
        "SELECT a.code, (SELECT v.name FROM agency_versions v WHERE v.agency_id = a.id AND v.valid_from <= $1
                         ORDER BY v.valid_from DESC LIMIT 1)
         FROM agencies a WHERE a.valid_from <= $1 AND (a.valid_to IS NULL OR a.valid_to > $1)
         ORDER BY CASE WHEN a.code = $2 THEN 0 ELSE 1 END, a.code",
    )
    .bind(&today)
    .bind(COMMITTEE_CODE)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let code = OrgCode::parse(&r.try_get::<String, _>(0)?)
            .map_err(|e| ServiceError::invalid("code", e))?;
        out.push((code, r.try_get::<Option<String>, _>(1)?.unwrap_or_default()));
    }
    Ok(out)
}

async fn already_loaded(db: &Db) -> Result<bool, ServiceError> {
    let code = OrgCode::parse(COMMITTEE_CODE).map_err(|e| ServiceError::invalid("code", e))?;
    Ok(org::id_by_code(db, &code).await?.is_some()
        || people::by_username(db, "admin").await?.is_some())
}

async fn report(db: &Db, created: bool) -> Result<DemoReport, ServiceError> {
    let count = |table: &'static str| async move {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.pool())
            .await?
            .try_get(0)?;
        Ok::<usize, ServiceError>(usize::try_from(n).unwrap_or_default())
    };
    Ok(DemoReport {
        created,
        agencies: count("agencies").await?,
        people: count("people").await?,
    })
}

/// Hashing is deliberately slow: the shared password is hashed once, off the
/// async threads, and the hash reused for every demo account.
async fn demo_password_hash() -> Result<String, ServiceError> {
    let pw = Password::parse(DEMO_PASSWORD).map_err(|e| ServiceError::invalid("password", e))?;
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| ServiceError::Conflict("password hashing failed"))?
}

fn day(s: &str) -> Result<NaiveDate, ServiceError> {
    time::parse_date(s).ok_or(ServiceError::Invalid {
        field: "valid_from",
        code: "error.date",
    })
}

fn names(name: &str, short: &str) -> Result<(AgencyName, ShortName), ServiceError> {
    Ok((
        AgencyName::parse(name).map_err(|e| ServiceError::invalid("name", e))?,
        ShortName::parse(short).map_err(|e| ServiceError::invalid("short_name", e))?,
    ))
}

struct Loader<'a> {
    db: &'a Db,
    actor: Actor,
    agencies: HashMap<&'static str, i64>,
    people: HashMap<&'static str, i64>,
}

impl Loader<'_> {
    fn agency(&self, key: &str) -> Result<i64, ServiceError> {
        self.agencies
            .get(key)
            .copied()
            .ok_or(ServiceError::Conflict("demo data names an unknown agency"))
    }

    fn person(&self, username: &str) -> Result<i64, ServiceError> {
        self.people
            .get(username)
            .copied()
            .ok_or(ServiceError::Conflict("demo data names an unknown person"))
    }

    async fn create_agency(&mut self, spec: &AgencySpec) -> Result<(), ServiceError> {
        let (name, short_name) = names(spec.name, spec.short)?;
        let new = NewAgency {
            code: OrgCode::parse(spec.code).map_err(|e| ServiceError::invalid("code", e))?,
            kind: spec.kind,
            name,
            short_name,
            parent_id: spec.parent.map(|p| self.agency(p)).transpose()?,
            valid_from: day(spec.from)?,
        };
        let id = org::create(self.db, &self.actor, new).await?;
        self.agencies.insert(spec.key, id);
        for (unit, short) in spec.units {
            let (unit, short) = names(unit, short)?;
            org::create_unit(self.db, &self.actor, id, &unit, &short, day(spec.from)?).await?;
        }
        Ok(())
    }

    /// The unit of `agency` with this short name on `on` (units move when agencies merge).
    async fn unit(&self, agency: i64, short: &str, on: NaiveDate) -> Result<i64, ServiceError> {
        org::units(self.db, agency, on)
            .await?
            .into_iter()
            .find(|u| u.short_name == short)
            .map(|u| u.id)
            .ok_or(ServiceError::Conflict("demo data names an unknown unit"))
    }

    async fn add_positions(
        &self,
        which: impl Fn(&PositionSpec) -> bool,
    ) -> Result<(), ServiceError> {
        for p in PEOPLE {
            for pos in p.positions.iter().filter(|pos| which(pos)) {
                let agency_id = self.agency(pos.agency)?;
                let from = day(pos.from)?;
                let unit_id = match pos.unit {
                    Some(short) => Some(self.unit(agency_id, short, from).await?),
                    None => None,
                };
                let new = NewPosition {
                    agency_id,
                    unit_id,
                    role: pos.role,
                    title: pos.title.to_owned(),
                    valid_from: from,
                };
                people::add_position(self.db, &self.actor, self.person(p.username)?, &new).await?;
            }
        }
        Ok(())
    }

    async fn reorganise(&self, req: ReorganisationRequest, note: &str) -> Result<(), ServiceError> {
        org::reorganise(self.db, &self.actor, &req, note)
            .await
            .map(|_| ())
    }

    /// 1 March 2025: the departments that merged, then the titles that changed.
    async fn merges(&self) -> Result<(), ServiceError> {
        let on = day(MERGE_DAY)?;
        for m in MERGES {
            let subjects = m
                .subjects
                .iter()
                .map(|s| self.agency(s))
                .collect::<Result<Vec<_>, _>>()?;
            let req = ReorganisationRequest {
                kind: ReorganisationKind::Merge,
                effective_on: on,
                subjects,
                successors: vec![self.agency(m.successor)?],
                new_name: None,
                new_parent: None,
            };
            self.reorganise(req, m.note).await?;
        }
        for r in RETITLES {
            let person = self.person(r.username)?;
            let agency_id = self.agency(r.agency)?;
            let on = day(r.on)?;
            let held = people::positions(self.db, person, Some(on))
                .await?
                .into_iter()
                .find(|p| p.agency_id == agency_id && p.role == r.role)
                .ok_or(ServiceError::Conflict(
                    "demo data retitles a role nobody holds",
                ))?;
            people::end_position(self.db, &self.actor, held.id, on).await?;
            let new = NewPosition {
                agency_id,
                unit_id: held.unit_id,
                role: r.role,
                title: r.title.to_owned(),
                valid_from: on,
            };
            people::add_position(self.db, &self.actor, person, &new).await?;
        }
        Ok(())
    }

    /// 1 July 2025: each district's seat town becomes a commune, every commune moves
    /// directly under the province, and the district splits into its communes (the
    /// seat first: it takes over the district's units and staff).
    async fn districts(&self) -> Result<(), ServiceError> {
        let on = day(LOCAL_GOVERNMENT_DAY)?;
        let committee = self.agency("ubnd")?;
        let single = |kind, subject| ReorganisationRequest {
            kind,
            effective_on: on,
            subjects: vec![subject],
            successors: Vec::new(),
            new_name: None,
            new_parent: None,
        };
        for d in DISTRICTS {
            let seat = self.agency(d.seat)?;
            let (new_name, _) = names(d.seat_new_name, "UBND")?;
            let rename = ReorganisationRequest {
                new_name: Some(new_name),
                ..single(ReorganisationKind::Rename, seat)
            };
            self.reorganise(
                rename,
                "Thị trấn sắp xếp thành xã (chính quyền địa phương hai cấp)",
            )
            .await?;
            let mut successors = vec![seat];
            for c in d.communes {
                successors.push(self.agency(c)?);
            }
            for c in &successors {
                let req = ReorganisationRequest {
                    new_parent: Some(committee),
                    ..single(ReorganisationKind::Move, *c)
                };
                self.reorganise(
                    req,
                    "Xã trực thuộc Ủy ban nhân dân tỉnh (chính quyền địa phương hai cấp)",
                )
                .await?;
            }
            let split = ReorganisationRequest {
                kind: ReorganisationKind::Split,
                effective_on: on,
                subjects: vec![self.agency(d.key)?],
                successors,
                new_name: None,
                new_parent: None,
            };
            self.reorganise(split, "Kết thúc hoạt động của đơn vị hành chính cấp huyện")
                .await?;
        }
        Ok(())
    }

    /// Every commune and ward gets the standard units of the 2025 reform that it
    /// does not have yet (the seat communes already have the district's).
    async fn commune_units(&self) -> Result<(), ServiceError> {
        let on = day(LOCAL_GOVERNMENT_DAY)?;
        for spec in AGENCIES {
            let standard = match spec.kind {
                AgencyKind::Commune => COMMUNE_UNITS,
                AgencyKind::Ward => WARD_UNITS,
                _ => continue,
            };
            let id = self.agency(spec.key)?;
            let existing = org::units(self.db, id, on).await?;
            for (unit, short) in standard {
                if existing.iter().any(|u| u.short_name == *short) {
                    continue;
                }
                let (unit, short) = names(unit, short)?;
                org::create_unit(self.db, &self.actor, id, &unit, &short, on).await?;
            }
        }
        Ok(())
    }
}

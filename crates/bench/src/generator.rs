//! A synthetic province for benchmarks: a provincial People's Committee, `agencies`
//! agencies under it with a couple of units each, `people` staff spread across them
//! with a mix of roles, and a known clerk to sign in as.
//!
//! Everything goes through the ordinary service functions (one audited write
//! transaction per row), so the database looks exactly like one grown by hand and
//! the audit chain stays valid. The shared password is hashed once: argon2 is
//! deliberately slow and would otherwise dominate generation time.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use lienthong_domain::agency::{AgencyName, ShortName};
use lienthong_domain::{
    AgencyKind, Email, FullName, OrgCode, Password, PersonKind, Role, Username,
};
use lienthong_services::auth::password;
use lienthong_services::{org, people};
use lienthong_store::{Actor, Db};
use serde::Serialize;

/// The sign-in name of the user every load scenario signs in as.
pub const BENCH_CLERK: &str = "bench.clerk";
/// The password of [`BENCH_CLERK`] and of every generated person.
pub const BENCH_PASSWORD: &str = "lienthong-bench";
/// Level-1 group of every generated code: `H99` is no real province, so a synthetic
/// province never collides with a demo or a real one in the same database.
pub const LEVEL1: &str = "H99";
/// Units created in every agency (before records).
pub const UNITS_PER_AGENCY: usize = 2;
/// Agencies whose kind is `department`; the rest alternate commune and ward.
const DEPARTMENTS: usize = 20;

/// How big a province to generate.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Shape {
    /// Agencies under the provincial committee (the committee itself is extra).
    pub agencies: usize,
    /// Staff spread round-robin across the agencies ([`BENCH_CLERK`] is extra).
    pub people: usize,
    /// Placeholder for the business records (documents, dossiers) that later issues
    /// add. There is no document table yet, so for now each record is one extra
    /// audited unit row, spread round-robin across the agencies: `records` still
    /// grows the database and the audit log, and keeps its meaning as "rows of work
    /// data" once the generator learns to create real documents instead.
    pub records: usize,
}

/// What [`generate`] created, and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub province_id: i64,
    /// Including the provincial committee.
    pub agencies: usize,
    /// Including the units created as records.
    pub units: usize,
    /// Including [`BENCH_CLERK`].
    pub people: usize,
    pub positions: usize,
    pub records: usize,
    pub clerk_id: i64,
    pub clerk_agency_id: i64,
    #[serde(rename = "seconds", serialize_with = "as_seconds")]
    pub elapsed: Duration,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Roles handed out in turn inside each agency: with ten people per agency (the
/// default 200 agencies and 2000 people) every agency gets exactly this mix.
const ROLE_MIX: [(Role, &str); 10] = [
    (Role::Leader, "Giám đốc"),
    (Role::Admin, "Quản trị hệ thống"),
    (Role::Clerk, "Văn thư"),
    (Role::UnitHead, "Trưởng phòng"),
    (Role::Specialist, "Chuyên viên"),
    (Role::Specialist, "Chuyên viên"),
    (Role::Specialist, "Chuyên viên"),
    (Role::UnitHead, "Phó Trưởng phòng"),
    (Role::OneStopOfficer, "Cán bộ một cửa"),
    (Role::Editor, "Biên tập viên"),
];

const FAMILY: [&str; 10] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ",
];
const MIDDLE: [&str; 5] = ["Văn", "Thị", "Minh", "Ngọc", "Quốc"];
const GIVEN: [&str; 12] = [
    "An", "Bình", "Châu", "Dũng", "Hà", "Khoa", "Lan", "Nam", "Phúc", "Tâm", "Thảo", "Vy",
];

/// The organization code of the provincial committee.
pub fn province_code() -> String {
    format!("000.00.00.{LEVEL1}")
}

/// The code of the `i`-th generated agency (1-based), unique for every
/// `i` up to [`max_agencies`]: level 2 counts 01–99, then levels 3 and 4 carry.
pub fn agency_code(i: usize) -> anyhow::Result<String> {
    if i == 0 || i > max_agencies() {
        bail!("agency number {i} is outside 1..={}", max_agencies());
    }
    let n = i - 1;
    let level2 = n % 99 + 1;
    let level3 = (n / 99) % 100;
    let level4 = n / (99 * 100);
    Ok(format!("{level4:03}.{level3:02}.{level2:02}.{LEVEL1}"))
}

/// How many distinct agency codes [`agency_code`] can make.
pub const fn max_agencies() -> usize {
    99 * 100 * 1000
}

fn agency_kind(i: usize) -> AgencyKind {
    match (i <= DEPARTMENTS, i % 2) {
        (true, _) => AgencyKind::Department,
        (false, 0) => AgencyKind::Commune,
        (false, _) => AgencyKind::Ward,
    }
}

fn agency_names(i: usize, kind: AgencyKind) -> (String, String) {
    match kind {
        AgencyKind::Department => (format!("Sở Thử nghiệm số {i}"), format!("STN{i}")),
        AgencyKind::Commune => (format!("UBND xã Thử Nghiệm {i}"), format!("XTN{i}")),
        _ => (format!("UBND phường Thử Nghiệm {i}"), format!("PTN{i}")),
    }
}

pub(crate) fn full_name(j: usize) -> String {
    let family = FAMILY[j % FAMILY.len()];
    let middle = MIDDLE[(j / FAMILY.len()) % MIDDLE.len()];
    let given = GIVEN[(j / (FAMILY.len() * MIDDLE.len())) % GIVEN.len()];
    format!("{family} {middle} {given}")
}

/// The day every generated agency, unit and position starts: well in the past, so
/// everything is in force today.
fn founding_day() -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2020, 1, 1).context("founding day")
}

/// Generates a province of the given shape into `db` (migrated, without a province
/// coded `000.00.00.H99` yet), and makes sure [`BENCH_CLERK`] exists as a clerk of
/// the first agency (or of the committee when `agencies` is 0).
pub async fn generate(db: &Db, shape: Shape) -> anyhow::Result<Generated> {
    let started = Instant::now();
    if shape.agencies > max_agencies() {
        bail!("at most {} agencies can be generated", max_agencies());
    }
    let actor = Actor::system("bench");
    let day = founding_day()?;

    let province_code = OrgCode::parse(&province_code())?;
    if org::id_by_code(db, &province_code).await?.is_some() {
        bail!("this database already holds a generated province ({province_code})");
    }
    let province_id = org::create(
        db,
        &actor,
        org::NewAgency {
            code: province_code,
            kind: AgencyKind::ProvincialCommittee,
            name: AgencyName::parse("UBND tỉnh Thử Nghiệm")?,
            short_name: ShortName::parse("UBNDTN")?,
            parent_id: None,
            valid_from: day,
        },
    )
    .await?;

    let office = (AgencyName::parse("Văn phòng")?, ShortName::parse("VP")?);
    let business = (
        AgencyName::parse("Phòng Nghiệp vụ")?,
        ShortName::parse("NV")?,
    );
    let mut agencies = Vec::with_capacity(shape.agencies);
    let mut units: Vec<[i64; UNITS_PER_AGENCY]> = Vec::with_capacity(shape.agencies);
    for i in 1..=shape.agencies {
        let kind = agency_kind(i);
        let (name, short) = agency_names(i, kind);
        let id = org::create(
            db,
            &actor,
            org::NewAgency {
                code: OrgCode::parse(&agency_code(i)?)?,
                kind,
                name: AgencyName::parse(&name)?,
                short_name: ShortName::parse(&short)?,
                parent_id: Some(province_id),
                valid_from: day,
            },
        )
        .await
        .with_context(|| format!("creating agency {i}"))?;
        let a = org::create_unit(db, &actor, id, &office.0, &office.1, day).await?;
        let b = org::create_unit(db, &actor, id, &business.0, &business.1, day).await?;
        agencies.push(id);
        units.push([a, b]);
    }

    let shared = Password::parse(BENCH_PASSWORD)?;
    let hash = password::hash(&shared)?;
    // People and records need an agency to belong to.
    let (people_wanted, records) = if agencies.is_empty() {
        (0, 0)
    } else {
        (shape.people, shape.records)
    };
    let mut positions = 0;
    for j in 0..people_wanted {
        let slot = j % agencies.len();
        let turn = j / agencies.len();
        let username = format!("bench.p{j:06}");
        let id = people::create_with_hash(
            db,
            &actor,
            &people::NewPerson {
                username: Username::parse(&username)?,
                full_name: FullName::parse(&full_name(j))?,
                email: Some(Email::parse(&format!("{username}@bench.lienthong.vn"))?),
                kind: PersonKind::Staff,
                password: shared.clone(),
            },
            &hash,
        )
        .await
        .with_context(|| format!("creating {username}"))?;
        let (role, title) = ROLE_MIX[turn % ROLE_MIX.len()];
        let unit_id = match role {
            Role::Leader | Role::Admin => None,
            _ => Some(units[slot][turn % UNITS_PER_AGENCY]),
        };
        let position = people::NewPosition {
            agency_id: agencies[slot],
            unit_id,
            role,
            title: title.to_owned(),
            valid_from: day,
        };
        people::add_position(db, &actor, id, &position).await?;
        positions += 1;
    }

    // Records: extra audited units until there are documents to create (see `Shape`).
    for k in 0..records {
        let name = AgencyName::parse(&format!("Tổ hồ sơ thử nghiệm {k}"))?;
        let short = ShortName::parse(&format!("HS{k}"))?;
        org::create_unit(db, &actor, agencies[k % agencies.len()], &name, &short, day).await?;
    }

    let clerk_agency_id = agencies.first().copied().unwrap_or(province_id);
    let (clerk_id, clerk_created) = ensure_clerk(db, &actor, &hash, clerk_agency_id, day).await?;

    Ok(Generated {
        province_id,
        agencies: 1 + agencies.len(),
        units: agencies.len() * UNITS_PER_AGENCY + records,
        people: people_wanted + usize::from(clerk_created.person),
        positions: positions + usize::from(clerk_created.position),
        records,
        clerk_id,
        clerk_agency_id,
        elapsed: started.elapsed(),
    })
}

struct Created {
    person: bool,
    position: bool,
}

/// Makes sure [`BENCH_CLERK`] exists and is a clerk of `agency_id` today.
async fn ensure_clerk(
    db: &Db,
    actor: &Actor,
    hash: &str,
    agency_id: i64,
    day: NaiveDate,
) -> anyhow::Result<(i64, Created)> {
    let (id, person) = match people::by_username(db, BENCH_CLERK).await? {
        Some(p) => (p.id, false),
        None => {
            let new = people::NewPerson {
                username: Username::parse(BENCH_CLERK)?,
                full_name: FullName::parse("Văn thư Đo Tải")?,
                email: Some(Email::parse("bench.clerk@bench.lienthong.vn")?),
                kind: PersonKind::Staff,
                password: Password::parse(BENCH_PASSWORD)?,
            };
            (people::create_with_hash(db, actor, &new, hash).await?, true)
        }
    };
    let held = people::positions(db, id, Some(lienthong_store::time::today()))
        .await?
        .iter()
        .any(|p| p.agency_id == agency_id && p.role == Role::Clerk);
    if !held {
        let position = people::NewPosition {
            agency_id,
            unit_id: None,
            role: Role::Clerk,
            title: "Văn thư".to_owned(),
            valid_from: day,
        };
        people::add_position(db, actor, id, &position).await?;
    }
    Ok((
        id,
        Created {
            person,
            position: !held,
        },
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use lienthong_services::auth;
    use sqlx::Row;

    use super::*;

    async fn count(db: &Db, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    #[test]
    fn agency_codes_are_valid_unique_and_inside_the_province() {
        let province = OrgCode::parse(&province_code()).unwrap();
        let mut seen = HashSet::new();
        for i in (1..=20_000).chain([max_agencies()]) {
            let code = OrgCode::parse(&agency_code(i).unwrap()).unwrap();
            assert!(code.is_within(&province), "{code}");
            assert_ne!(code, province);
            assert!(seen.insert(code), "agency {i} repeats a code");
        }
        assert_eq!(agency_code(1).unwrap(), "000.00.01.H99");
        assert_eq!(agency_code(100).unwrap(), "000.01.01.H99");
        assert!(agency_code(0).is_err());
        assert!(agency_code(max_agencies() + 1).is_err());
    }

    #[tokio::test]
    async fn generates_the_expected_counts() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_sqlite(dir.path()).await.unwrap();
        db.migrate().await.unwrap();

        let shape = Shape {
            agencies: 5,
            people: 23,
            records: 7,
        };
        let g = generate(&db, shape).await.unwrap();
        assert_eq!(g.agencies, 6);
        assert_eq!(g.units, 5 * UNITS_PER_AGENCY + 7);
        assert_eq!(g.people, 24);
        assert_eq!(g.positions, 24);
        assert_eq!(g.records, 7);

        assert_eq!(count(&db, "agencies").await, 6);
        assert_eq!(count(&db, "units").await, 17);
        assert_eq!(count(&db, "people").await, 24);
        assert_eq!(count(&db, "memberships").await, 24);
        assert_eq!(
            count(&db, "audit_log").await,
            6 + 17 + 24 + 24,
            "every row is audited"
        );

        let today = lienthong_store::time::today();
        let listed = org::list(&db, today, false).await.unwrap();
        assert_eq!(listed.len(), 6);
        assert!(listed.iter().all(|a| OrgCode::parse(&a.code).is_ok()));
        assert_eq!(
            org::descendants(&db, g.province_id, today)
                .await
                .unwrap()
                .len(),
            5
        );

        // The bench clerk signs in with the shared password and is a clerk today.
        let clerk = auth::check_credentials(&db, BENCH_CLERK, BENCH_PASSWORD, "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(clerk.id, g.clerk_id);
        let positions = people::positions(&db, clerk.id, Some(today)).await.unwrap();
        assert!(positions
            .iter()
            .any(|p| p.role == Role::Clerk && p.agency_id == g.clerk_agency_id));

        // A second run on the same database refuses rather than half-duplicating.
        assert!(generate(&db, shape).await.is_err());
    }
}

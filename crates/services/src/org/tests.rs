//! The province model on both databases: creating agencies and units, reading them
//! as of a date, and recording reorganisations.

use chrono::NaiveDate;
use lienthong_domain::agency::{AgencyName, ReorganisationRequest, ShortName};
use lienthong_domain::{
    AgencyKind, FullName, OrgCode, Password, PersonKind, ReorganisationKind, Role, Username,
};
use lienthong_store::{Actor, Db};
use sqlx::Row;

use super::*;
use crate::audit::{self, AuditFilter};
use crate::people::{self, NewPerson, NewPosition};
use crate::testing::databases;
use crate::ServiceError;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn actor() -> Actor {
    Actor::system("org-tests")
}

fn new_agency(
    code: &str,
    kind: AgencyKind,
    name: &str,
    short: &str,
    parent: Option<i64>,
    from: &str,
) -> NewAgency {
    NewAgency {
        code: OrgCode::parse(code).unwrap(),
        kind,
        name: AgencyName::parse(name).unwrap(),
        short_name: ShortName::parse(short).unwrap(),
        parent_id: parent,
        valid_from: d(from),
    }
}

async fn agency(
    db: &Db,
    code: &str,
    kind: AgencyKind,
    name: &str,
    short: &str,
    parent: Option<i64>,
    from: &str,
) -> i64 {
    create(
        db,
        &actor(),
        new_agency(code, kind, name, short, parent, from),
    )
    .await
    .unwrap()
}

async fn unit(db: &Db, agency_id: i64, name: &str, short: &str, from: &str) -> i64 {
    create_unit(
        db,
        &actor(),
        agency_id,
        &AgencyName::parse(name).unwrap(),
        &ShortName::parse(short).unwrap(),
        d(from),
    )
    .await
    .unwrap()
}

/// A staff member holding `role` in `agency_id` (a fake hash: nobody signs in here).
async fn staff(
    db: &Db,
    username: &str,
    agency_id: i64,
    unit_id: Option<i64>,
    role: Role,
    from: &str,
) -> i64 {
    let new = NewPerson {
        username: Username::parse(username).unwrap(),
        full_name: FullName::parse("Nguyễn Văn Thử").unwrap(),
        email: None,
        kind: PersonKind::Staff,
        password: Password::parse("not-used-here").unwrap(),
    };
    let id = people::create_with_hash(db, &actor(), &new, "not-a-hash")
        .await
        .unwrap();
    let position = NewPosition {
        agency_id,
        unit_id,
        role,
        title: "Chuyên viên".into(),
        valid_from: d(from),
    };
    people::add_position(db, &actor(), id, &position)
        .await
        .unwrap();
    id
}

fn request(
    kind: ReorganisationKind,
    on: &str,
    subjects: &[i64],
    successors: &[i64],
) -> ReorganisationRequest {
    ReorganisationRequest {
        kind,
        effective_on: d(on),
        subjects: subjects.to_vec(),
        successors: successors.to_vec(),
        new_name: None,
        new_parent: None,
    }
}

fn rename(id: i64, on: &str, name: &str) -> ReorganisationRequest {
    ReorganisationRequest {
        new_name: Some(AgencyName::parse(name).unwrap()),
        ..request(ReorganisationKind::Rename, on, &[id], &[])
    }
}

fn move_to(id: i64, on: &str, parent: i64) -> ReorganisationRequest {
    ReorganisationRequest {
        new_parent: Some(parent),
        ..request(ReorganisationKind::Move, on, &[id], &[])
    }
}

fn ids(agencies: &[Agency]) -> Vec<i64> {
    agencies.iter().map(|a| a.id).collect()
}

fn assert_invalid<T: std::fmt::Debug>(r: Result<T, ServiceError>, field: &str, code: &str) {
    match r {
        Err(ServiceError::Invalid { field: f, code: c }) => {
            assert_eq!((f, c), (field, code));
        }
        other => panic!("expected Invalid {{ {field}, {code} }}, got {other:?}"),
    }
}

/// A committee with two departments and a district with two communes, all from 2000.
struct Province {
    committee: i64,
    ict: i64,
    science: i64,
    district: i64,
    commune_a: i64,
    commune_b: i64,
}

async fn province(db: &Db) -> Province {
    let committee = agency(
        db,
        "000.00.00.H62",
        AgencyKind::ProvincialCommittee,
        "Ủy ban nhân dân tỉnh",
        "UBND",
        None,
        "2000-01-01",
    )
    .await;
    let c = Some(committee);
    let ict = agency(
        db,
        "000.00.10.H62",
        AgencyKind::Department,
        "Sở Thông tin và Truyền thông",
        "STTTT",
        c,
        "2008-01-01",
    )
    .await;
    let science = agency(
        db,
        "000.00.08.H62",
        AgencyKind::Department,
        "Sở Khoa học và Công nghệ",
        "SKHCN",
        c,
        "2000-01-01",
    )
    .await;
    let district = agency(
        db,
        "000.00.52.H62",
        AgencyKind::District,
        "Huyện Long Hồ",
        "UBND",
        c,
        "2000-01-01",
    )
    .await;
    let dd = Some(district);
    let commune_a = agency(
        db,
        "000.01.52.H62",
        AgencyKind::Commune,
        "Thị trấn Long Hồ",
        "UBND",
        dd,
        "2000-01-01",
    )
    .await;
    let commune_b = agency(
        db,
        "000.02.52.H62",
        AgencyKind::Commune,
        "Xã Phú Quới",
        "UBND",
        dd,
        "2000-01-01",
    )
    .await;
    Province {
        committee,
        ict,
        science,
        district,
        commune_a,
        commune_b,
    }
}

#[tokio::test]
async fn create_checks_code_and_parent() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let a = get(db, p.science, d("2020-01-01")).await.unwrap();
        assert_eq!(
            (a.code.as_str(), a.kind.as_str(), a.short_name.as_str()),
            ("000.00.08.H62", "department", "SKHCN")
        );
        assert_eq!(a.parent_id, Some(p.committee));
        assert_eq!(a.valid_from, "2000-01-01");
        assert!(a.valid_to.is_none() && a.successors.is_empty());
        assert_eq!(
            id_by_code(db, &OrgCode::parse("000.00.08.H62").unwrap())
                .await
                .unwrap(),
            Some(p.science),
            "{}",
            t.name
        );
        assert_eq!(
            id_by_code(db, &OrgCode::parse("000.00.99.H62").unwrap())
                .await
                .unwrap(),
            None
        );

        // The same code twice is an input error on the code, not a database error.
        let dup = new_agency(
            "000.00.08.H62",
            AgencyKind::Department,
            "Sở Y tế",
            "SYT",
            Some(p.committee),
            "2000-01-01",
        );
        assert_invalid(create(db, &actor(), dup).await, "code", "error.code_taken");

        // A parent that does not exist, has ended, or is not yet founded that day.
        let orphan = new_agency(
            "000.00.07.H62",
            AgencyKind::Department,
            "Sở Y tế",
            "SYT",
            Some(999_999),
            "2000-01-01",
        );
        assert_invalid(
            create(db, &actor(), orphan).await,
            "parent_id",
            "error.parent",
        );
        let early = new_agency(
            "000.00.07.H62",
            AgencyKind::Department,
            "Sở Y tế",
            "SYT",
            Some(p.ict),
            "2005-01-01",
        );
        assert_invalid(
            create(db, &actor(), early).await,
            "parent_id",
            "error.parent",
        );
        reorganise(
            db,
            &actor(),
            &request(
                ReorganisationKind::Merge,
                "2025-03-01",
                &[p.ict],
                &[p.science],
            ),
            "",
        )
        .await
        .unwrap();
        let late = new_agency(
            "000.00.07.H62",
            AgencyKind::Department,
            "Sở Y tế",
            "SYT",
            Some(p.ict),
            "2025-03-01",
        );
        assert_invalid(
            create(db, &actor(), late).await,
            "parent_id",
            "error.parent",
        );
        // Before the parent ended is fine.
        let ok = new_agency(
            "000.00.07.H62",
            AgencyKind::Other,
            "Trung tâm CNTT",
            "TTCNTT",
            Some(p.ict),
            "2010-01-01",
        );
        create(db, &actor(), ok).await.unwrap();

        // Nothing was written by the rejected attempts.
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM agencies")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 7, "{}", t.name);
        let created = audit::list(
            db,
            &AuditFilter {
                action: Some("agency.create".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(created.len(), 7);
        assert_eq!(
            get(db, p.science, d("1999-12-31"))
                .await
                .err()
                .map(|e| e.to_string()),
            Some("not found".into())
        );
        assert!(matches!(
            get(db, 999_999, d("2020-01-01")).await,
            Err(ServiceError::NotFound)
        ));
        audit::verify(db).await.unwrap();
    }
}

#[tokio::test]
async fn units_are_dated_and_belong_to_their_agency() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let vp = unit(db, p.science, "Văn phòng", "VP", "2000-01-01").await;
        let khtc = unit(
            db,
            p.science,
            "Phòng Kế hoạch - Tài chính",
            "KHTC",
            "2021-01-01",
        )
        .await;
        let names = |us: Vec<Unit>| us.into_iter().map(|u| u.short_name).collect::<Vec<_>>();
        assert_eq!(
            names(units(db, p.science, d("2020-01-01")).await.unwrap()),
            ["VP"]
        );
        assert_eq!(
            names(units(db, p.science, d("2021-01-01")).await.unwrap()),
            ["KHTC", "VP"],
            "{}",
            t.name
        );
        assert!(units(db, p.ict, d("2021-01-01")).await.unwrap().is_empty());
        assert_eq!(unit_agency(db, vp).await.unwrap(), p.science);
        assert_eq!(unit_agency(db, khtc).await.unwrap(), p.science);
        assert!(matches!(
            unit_agency(db, 999_999).await,
            Err(ServiceError::NotFound)
        ));
    }
}

#[tokio::test]
async fn list_and_get_as_of_dates() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let (a, b) = (p.commune_a, p.commune_b);

        assert!(list(db, d("1999-12-31"), false).await.unwrap().is_empty());
        let y2000 = ids(&list(db, d("2000-01-01"), false).await.unwrap());
        assert_eq!(
            y2000,
            vec![p.committee, p.science, p.district, a, b],
            "{} (ordered by code)",
            t.name
        );
        assert!(list(db, d("2010-01-01"), false)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == p.ict));

        // Rename, then move, then the district is split into its communes.
        reorganise(db, &actor(), &rename(a, "2025-07-01", "Xã Long Hồ"), "")
            .await
            .unwrap();
        reorganise(db, &actor(), &move_to(a, "2025-07-01", p.committee), "")
            .await
            .unwrap();
        reorganise(db, &actor(), &move_to(b, "2025-07-01", p.committee), "")
            .await
            .unwrap();
        let split = request(
            ReorganisationKind::Split,
            "2025-07-01",
            &[p.district],
            &[a, b],
        );
        reorganise(db, &actor(), &split, "giải thể cấp huyện")
            .await
            .unwrap();

        let before = get(db, a, d("2025-06-30")).await.unwrap();
        assert_eq!(
            (before.name.as_str(), before.parent_id),
            ("Thị trấn Long Hồ", Some(p.district))
        );
        let after = get(db, a, d("2025-07-01")).await.unwrap();
        assert_eq!(
            (after.name.as_str(), after.parent_id),
            ("Xã Long Hồ", Some(p.committee)),
            "{}",
            t.name
        );
        assert_eq!(after.short_name, "UBND", "a rename keeps the short name");
        assert_eq!(
            after.valid_from, "2000-01-01",
            "a rename keeps the founding date"
        );

        let june = list(db, d("2025-06-30"), false).await.unwrap();
        assert!(june.iter().any(|x| x.id == p.district));
        assert_eq!(
            june.iter()
                .filter(|x| x.parent_id == Some(p.district))
                .count(),
            2
        );
        let july = list(db, d("2025-07-01"), false).await.unwrap();
        assert!(
            !july.iter().any(|x| x.id == p.district),
            "an ended agency is not listed"
        );
        assert!(july
            .iter()
            .filter(|x| x.id == a || x.id == b)
            .all(|x| x.parent_id == Some(p.committee)));
        let with_ended = list(db, d("2025-07-01"), true).await.unwrap();
        let district = with_ended.iter().find(|x| x.id == p.district).unwrap();
        assert_eq!(district.valid_to.as_deref(), Some("2025-07-01"));
        assert_eq!(
            ids_of_refs(&district.successors),
            vec![a, b],
            "successors, primary first"
        );
        assert_eq!(
            district.successors[0].name, "Xã Long Hồ",
            "successors are named as they are today"
        );
        assert!(!with_ended
            .iter()
            .any(|x| x.id == p.ict && x.valid_to.is_some()));
        assert!(
            !list(db, d("2005-01-01"), true)
                .await
                .unwrap()
                .iter()
                .any(|x| x.id == p.ict),
            "not yet founded"
        );

        // An ended agency can still be read, with its successors.
        let gone = get(db, p.district, d("2026-01-01")).await.unwrap();
        assert!(!gone.is_in_force(d("2026-01-01")));
        assert!(gone.is_in_force(d("2025-06-30")));
        assert_eq!(ids_of_refs(&gone.successors), vec![a, b]);
    }
}

fn ids_of_refs(refs: &[AgencyRef]) -> Vec<i64> {
    refs.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn ancestry_and_descendants_follow_the_date() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let hamlet = agency(
            db,
            "001.01.52.H62",
            AgencyKind::Other,
            "Ấp Phú Hòa",
            "APH",
            Some(p.commune_a),
            "2010-01-01",
        )
        .await;
        assert_eq!(
            ancestry(db, hamlet, d("2020-01-01")).await.unwrap(),
            vec![hamlet, p.commune_a, p.district, p.committee]
        );
        assert_eq!(
            ancestry(db, hamlet, d("2009-12-31")).await.unwrap(),
            Vec::<i64>::new(),
            "not founded yet"
        );
        let mut all = vec![
            p.ict,
            p.science,
            p.district,
            p.commune_a,
            p.commune_b,
            hamlet,
        ];
        all.sort_unstable();
        assert_eq!(
            descendants(db, p.committee, d("2020-01-01")).await.unwrap(),
            all,
            "{}",
            t.name
        );
        let mut under_district = vec![p.commune_a, p.commune_b, hamlet];
        under_district.sort_unstable();
        assert_eq!(
            descendants(db, p.district, d("2020-01-01")).await.unwrap(),
            under_district
        );
        assert!(
            descendants(db, p.district, d("2009-01-01"))
                .await
                .unwrap()
                .len()
                == 2
        );
        assert!(descendants(db, hamlet, d("2020-01-01"))
            .await
            .unwrap()
            .is_empty());

        reorganise(
            db,
            &actor(),
            &move_to(p.commune_a, "2025-07-01", p.committee),
            "",
        )
        .await
        .unwrap();
        assert_eq!(
            ancestry(db, hamlet, d("2025-07-01")).await.unwrap(),
            vec![hamlet, p.commune_a, p.committee]
        );
        assert_eq!(
            ancestry(db, hamlet, d("2025-06-30")).await.unwrap(),
            vec![hamlet, p.commune_a, p.district, p.committee]
        );
        assert_eq!(
            descendants(db, p.district, d("2025-07-01")).await.unwrap(),
            vec![p.commune_b]
        );
    }
}

#[tokio::test]
async fn merge_moves_units_people_and_sub_agencies() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let bcvt = unit(
            db,
            p.ict,
            "Phòng Bưu chính, Viễn thông và Công nghệ thông tin",
            "BCVTCNTT",
            "2008-01-01",
        )
        .await;
        let old = unit(db, p.ict, "Phòng Báo chí", "BC", "2008-01-01").await;
        let centre = agency(
            db,
            "000.01.10.H62",
            AgencyKind::Other,
            "Trung tâm CNTT",
            "TTCNTT",
            Some(p.ict),
            "2010-01-01",
        )
        .await;
        let head = staff(
            db,
            "truongphong.stttt",
            p.ict,
            Some(bcvt),
            Role::UnitHead,
            "2015-01-01",
        )
        .await;
        let director = staff(db, "giamdoc.stttt", p.ict, None, Role::Leader, "2015-01-01").await;
        let retired = staff(
            db,
            "nghihuu.stttt",
            p.ict,
            None,
            Role::Specialist,
            "2015-01-01",
        )
        .await;
        let retired_position = people::positions(db, retired, None).await.unwrap()[0].id;
        people::end_position(db, &actor(), retired_position, d("2020-01-01"))
            .await
            .unwrap();
        // A unit that closed before the merge does not move.
        sqlx::query("UPDATE units SET valid_to = '2020-01-01' WHERE id = $1")
            .bind(old)
            .execute(db.pool())
            .await
            .unwrap();

        let merge = request(
            ReorganisationKind::Merge,
            "2025-03-01",
            &[p.ict],
            &[p.science],
        );
        let reorg = reorganise(db, &actor(), &merge, "Sáp nhập Sở TT&TT vào Sở KH&CN")
            .await
            .unwrap();

        // The agency ended, with its successor.
        let ict = get(db, p.ict, d("2025-03-01")).await.unwrap();
        assert_eq!(ict.valid_to.as_deref(), Some("2025-03-01"), "{}", t.name);
        assert_eq!(ids_of_refs(&ict.successors), vec![p.science]);
        assert!(list(db, d("2025-02-28"), false)
            .await
            .unwrap()
            .iter()
            .any(|a| a.id == p.ict));
        assert!(!list(db, d("2025-03-01"), false)
            .await
            .unwrap()
            .iter()
            .any(|a| a.id == p.ict));

        // Its open unit ended and reopened under the successor, pointing back.
        assert!(units(db, p.ict, d("2025-03-01")).await.unwrap().is_empty());
        let ict_units = units(db, p.ict, d("2025-02-28")).await.unwrap();
        assert_eq!(ict_units.len(), 1);
        assert_eq!(ict_units[0].valid_to.as_deref(), Some("2025-03-01"));
        let moved = units(db, p.science, d("2025-03-01")).await.unwrap();
        assert_eq!(moved.len(), 1, "{}", t.name);
        assert_eq!(
            (moved[0].short_name.as_str(), moved[0].valid_from.as_str()),
            ("BCVTCNTT", "2025-03-01")
        );
        let previous: Option<i64> = sqlx::query("SELECT previous_unit_id FROM units WHERE id = $1")
            .bind(moved[0].id)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(previous, Some(bcvt));
        let closed: i64 = sqlx::query("SELECT COUNT(*) FROM units WHERE previous_unit_id = $1")
            .bind(old)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(closed, 0);

        // Roles ended and reopened at the successor, in the moved unit.
        let all = people::positions(db, head, None).await.unwrap();
        assert_eq!(all.len(), 2, "{}", t.name);
        assert_eq!(
            (all[0].agency_id, all[0].unit_id, all[0].valid_to.as_deref()),
            (p.ict, Some(bcvt), Some("2025-03-01"))
        );
        assert_eq!(all[0].agency_name, "Sở Thông tin và Truyền thông");
        assert_eq!(
            (all[1].agency_id, all[1].unit_id, all[1].role),
            (p.science, Some(moved[0].id), Role::UnitHead)
        );
        assert_eq!(
            (all[1].valid_from.as_str(), all[1].valid_to.as_deref()),
            ("2025-03-01", None)
        );
        assert_eq!(
            all[1].unit_name.as_deref(),
            Some("Phòng Bưu chính, Viễn thông và Công nghệ thông tin")
        );
        let now = people::positions(db, director, Some(d("2026-01-01")))
            .await
            .unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!(
            (now[0].agency_id, now[0].unit_id, now[0].role),
            (p.science, None, Role::Leader)
        );
        let then = people::positions(db, director, Some(d("2020-01-01")))
            .await
            .unwrap();
        assert_eq!(then[0].agency_id, p.ict);
        assert_eq!(
            people::positions(db, retired, None).await.unwrap().len(),
            1,
            "an ended role does not move"
        );
        let at_science = people::list_in_agency(db, p.science, d("2025-03-01"))
            .await
            .unwrap();
        assert_eq!(
            at_science
                .iter()
                .map(|x| x.username.as_str())
                .collect::<Vec<_>>(),
            ["giamdoc.stttt", "truongphong.stttt"]
        );
        assert!(people::list_in_agency(db, p.ict, d("2025-03-01"))
            .await
            .unwrap()
            .is_empty());

        // The sub-agency now sits under the successor.
        assert_eq!(
            get(db, centre, d("2025-02-28")).await.unwrap().parent_id,
            Some(p.ict)
        );
        assert_eq!(
            get(db, centre, d("2025-03-01")).await.unwrap().parent_id,
            Some(p.science)
        );
        assert_eq!(
            ancestry(db, centre, d("2025-03-01")).await.unwrap(),
            vec![centre, p.science, p.committee]
        );

        // One audit entry describes the whole change.
        let entries = audit::list(
            db,
            &AuditFilter {
                action: Some("agency.merge".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(entries.len(), 1, "{}", t.name);
        assert_eq!(
            (
                entries[0].record_type.as_str(),
                entries[0].record_id.clone()
            ),
            ("reorganisation", reorg.to_string())
        );
        let changes: serde_json::Value = serde_json::from_str(&entries[0].changes).unwrap();
        let moved = &changes["moved"][p.ict.to_string()];
        assert_eq!(moved["units"], 1);
        assert_eq!(moved["memberships"], 2);
        assert_eq!(moved["sub_agencies"], serde_json::json!([centre]));
        assert_eq!(changes["effective_on"], "2025-03-01");
        audit::verify(db).await.unwrap();

        // It cannot happen twice: the agency has ended.
        let again = reorganise(db, &actor(), &merge, "").await;
        assert_invalid(again, "reorganisation", "error.reorg_not_in_force");
    }
}

#[tokio::test]
async fn merge_of_several_into_a_new_agency() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let c = Some(p.committee);
        let land = agency(
            db,
            "000.00.13.H62",
            AgencyKind::Department,
            "Sở Tài nguyên và Môi trường",
            "STNMT",
            c,
            "2003-01-01",
        )
        .await;
        let farm = agency(
            db,
            "000.00.14.H62",
            AgencyKind::Department,
            "Sở Nông nghiệp và PTNT",
            "SNNPTNT",
            c,
            "2000-01-01",
        )
        .await;
        let new = agency(
            db,
            "000.00.12.H62",
            AgencyKind::Department,
            "Sở Nông nghiệp và Môi trường",
            "SNNMT",
            c,
            "2025-03-01",
        )
        .await;
        unit(db, land, "Phòng Quản lý đất đai", "QLĐĐ", "2003-01-01").await;
        unit(db, farm, "Phòng Trồng trọt", "TT", "2003-01-01").await;
        let merge = request(
            ReorganisationKind::Merge,
            "2025-03-01",
            &[land, farm],
            &[new],
        );
        reorganise(db, &actor(), &merge, "").await.unwrap();
        let names: Vec<String> = units(db, new, d("2025-03-01"))
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.short_name)
            .collect();
        assert_eq!(names.len(), 2, "{}", t.name);
        for old in [land, farm] {
            assert_eq!(
                ids_of_refs(&get(db, old, d("2026-01-01")).await.unwrap().successors),
                vec![new]
            );
        }
        let h = history(db, new).await.unwrap();
        assert_eq!(h.len(), 1, "{}", t.name);
        assert_eq!(h[0].subjects, {
            let mut s = vec![land, farm];
            s.sort_unstable();
            s
        });
        assert_eq!(
            h[0].successors,
            vec![new],
            "{}: one successor even for two subjects",
            t.name
        );
    }
}

#[tokio::test]
async fn split_ends_the_agency_and_names_successors_in_order() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let vp = unit(db, p.district, "Văn phòng HĐND và UBND", "VP", "2000-01-01").await;
        let clerk = staff(
            db,
            "vanthu.huyen",
            p.district,
            Some(vp),
            Role::Clerk,
            "2010-01-01",
        )
        .await;
        reorganise(
            db,
            &actor(),
            &move_to(p.commune_a, "2025-07-01", p.committee),
            "",
        )
        .await
        .unwrap();
        reorganise(
            db,
            &actor(),
            &move_to(p.commune_b, "2025-07-01", p.committee),
            "",
        )
        .await
        .unwrap();
        let split = request(
            ReorganisationKind::Split,
            "2025-07-01",
            &[p.district],
            &[p.commune_b, p.commune_a],
        );
        let id = reorganise(db, &actor(), &split, "").await.unwrap();

        let district = get(db, p.district, d("2025-07-01")).await.unwrap();
        assert_eq!(district.valid_to.as_deref(), Some("2025-07-01"));
        assert_eq!(
            ids_of_refs(&district.successors),
            vec![p.commune_b, p.commune_a],
            "{}",
            t.name
        );
        // People and units go to the first successor.
        let now = people::positions(db, clerk, Some(d("2025-07-01")))
            .await
            .unwrap();
        assert_eq!((now[0].agency_id, now[0].role), (p.commune_b, Role::Clerk));
        let u = units(db, p.commune_b, d("2025-07-01")).await.unwrap();
        assert_eq!(
            u.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![now[0].unit_id.unwrap()]
        );
        assert!(units(db, p.commune_a, d("2025-07-01"))
            .await
            .unwrap()
            .is_empty());

        let h = history(db, p.district).await.unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].id, h[0].kind.as_str(), h[0].effective_on.as_str()),
            (id, "split", "2025-07-01")
        );
        assert_eq!(h[0].subjects, vec![p.district]);
        assert_eq!(
            h[0].successors,
            vec![p.commune_b, p.commune_a],
            "{}",
            t.name
        );
        // The successors see the split and the move that preceded it.
        let kinds: Vec<String> = history(db, p.commune_a)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds, ["move", "split"], "{}", t.name);
        audit::verify(db).await.unwrap();
    }
}

#[tokio::test]
async fn split_into_own_sub_agencies_keeps_the_tree_sound() {
    // Dissolving a district straight into its communes, without moving them first:
    // the communes must not end up as their own parents.
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let hamlet = agency(
            db,
            "001.01.52.H62",
            AgencyKind::Other,
            "Ấp Phú Hòa",
            "APH",
            Some(p.commune_a),
            "2010-01-01",
        )
        .await;
        let split = request(
            ReorganisationKind::Split,
            "2025-07-01",
            &[p.district],
            &[p.commune_a, p.commune_b],
        );
        reorganise(db, &actor(), &split, "").await.unwrap();
        for c in [p.commune_a, p.commune_b] {
            let a = get(db, c, d("2025-07-01")).await.unwrap();
            assert_eq!(
                a.parent_id,
                Some(p.committee),
                "{}: {c} goes to the district's parent",
                t.name
            );
            assert_eq!(
                ancestry(db, c, d("2025-07-01")).await.unwrap(),
                vec![c, p.committee]
            );
        }
        assert_eq!(
            get(db, hamlet, d("2025-07-01")).await.unwrap().parent_id,
            Some(p.commune_a)
        );
        let mut all = descendants(db, p.committee, d("2025-07-01")).await.unwrap();
        all.sort_unstable();
        let mut expected = vec![p.ict, p.science, p.commune_a, p.commune_b, hamlet];
        expected.sort_unstable();
        assert_eq!(all, expected);
    }
}

#[tokio::test]
async fn rename_and_move_are_dated_versions() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let town = p.commune_a;
        reorganise(
            db,
            &actor(),
            &rename(town, "2009-04-10", "Thị trấn Long Hồ mới"),
            "",
        )
        .await
        .unwrap();
        reorganise(db, &actor(), &move_to(town, "2025-07-01", p.committee), "")
            .await
            .unwrap();
        let name_on = |day: &'static str| async move { get(db, town, d(day)).await.unwrap() };
        assert_eq!(name_on("2009-04-09").await.name, "Thị trấn Long Hồ");
        assert_eq!(
            name_on("2009-04-10").await.name,
            "Thị trấn Long Hồ mới",
            "{}",
            t.name
        );
        let after = name_on("2025-07-01").await;
        assert_eq!(
            (after.name.as_str(), after.parent_id),
            ("Thị trấn Long Hồ mới", Some(p.committee))
        );
        assert_eq!(name_on("2025-06-30").await.parent_id, Some(p.district));
        let kinds: Vec<String> = history(db, town)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds, ["rename", "move"]);
        for kind in ["agency.rename", "agency.move"] {
            let e = audit::list(
                db,
                &AuditFilter {
                    action: Some(kind.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            assert_eq!(e.len(), 1, "{}: {kind}", t.name);
        }
        // Neither ends the agency nor names a successor.
        let a = get(db, town, d("2026-01-01")).await.unwrap();
        assert!(a.valid_to.is_none() && a.successors.is_empty());
    }
}

#[tokio::test]
async fn invalid_reorganisations_are_rejected_and_write_nothing() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let before: i64 = sqlx::query("SELECT seq FROM audit_head")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);

        // A move under itself or under one of its own sub-agencies.
        assert_invalid(
            reorganise(
                db,
                &actor(),
                &move_to(p.district, "2020-01-01", p.commune_a),
                "",
            )
            .await,
            "reorganisation",
            "error.reorg_cycle",
        );
        assert_invalid(
            reorganise(
                db,
                &actor(),
                &move_to(p.district, "2020-01-01", p.district),
                "",
            )
            .await,
            "reorganisation",
            "error.reorg_cycle",
        );
        // Shapes.
        assert_invalid(
            reorganise(
                db,
                &actor(),
                &request(
                    ReorganisationKind::Split,
                    "2020-01-01",
                    &[p.district],
                    &[p.commune_a],
                ),
                "",
            )
            .await,
            "reorganisation",
            "error.reorg_split_shape",
        );
        assert_invalid(
            reorganise(
                db,
                &actor(),
                &request(ReorganisationKind::Merge, "2020-01-01", &[p.ict], &[p.ict]),
                "",
            )
            .await,
            "reorganisation",
            "error.reorg_own_successor",
        );
        // Agencies that do not exist on the effective date: not yet founded, unknown.
        assert_invalid(
            reorganise(
                db,
                &actor(),
                &request(
                    ReorganisationKind::Merge,
                    "2005-01-01",
                    &[p.ict],
                    &[p.science],
                ),
                "",
            )
            .await,
            "reorganisation",
            "error.reorg_not_in_force",
        );
        assert_invalid(
            reorganise(
                db,
                &actor(),
                &request(
                    ReorganisationKind::Merge,
                    "2020-01-01",
                    &[999_999],
                    &[p.science],
                ),
                "",
            )
            .await,
            "reorganisation",
            "error.reorg_not_in_force",
        );
        let after: i64 = sqlx::query("SELECT seq FROM audit_head")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(before, after, "{}", t.name);
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM reorganisations")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0);

        // An agency that has ended cannot be reorganised again, nor be a successor or a new parent.
        reorganise(
            db,
            &actor(),
            &request(
                ReorganisationKind::Merge,
                "2025-03-01",
                &[p.ict],
                &[p.science],
            ),
            "",
        )
        .await
        .unwrap();
        for req in [
            rename(p.ict, "2025-06-01", "Sở TT&TT"),
            move_to(p.ict, "2025-06-01", p.district),
            move_to(p.commune_b, "2025-06-01", p.ict),
            request(
                ReorganisationKind::Merge,
                "2025-06-01",
                &[p.commune_b],
                &[p.ict],
            ),
        ] {
            assert_invalid(
                reorganise(db, &actor(), &req, "").await,
                "reorganisation",
                "error.reorg_not_in_force",
            );
        }
        // Before it ended, it could be renamed.
        reorganise(
            db,
            &actor(),
            &rename(p.ict, "2024-01-01", "Sở Thông tin và Truyền thông tỉnh"),
            "",
        )
        .await
        .unwrap();
        audit::verify(db).await.unwrap();
    }
}

#[tokio::test]
async fn a_change_recorded_late_carries_into_later_versions() {
    for t in databases().await {
        let db = &t.db;
        let p = province(db).await;
        let town = p.commune_a;
        reorganise(
            db,
            &actor(),
            &rename(town, "2024-01-01", "Thị trấn Long Hồ 2024"),
            "",
        )
        .await
        .unwrap();
        // Recorded afterwards, effective earlier: the move still holds in 2024.
        reorganise(db, &actor(), &move_to(town, "2020-01-01", p.committee), "")
            .await
            .unwrap();
        let v2024 = get(db, town, d("2024-06-01")).await.unwrap();
        assert_eq!(
            (v2024.name.as_str(), v2024.parent_id),
            ("Thị trấn Long Hồ 2024", Some(p.committee)),
            "{}",
            t.name
        );
        assert_eq!(
            get(db, town, d("2019-12-31")).await.unwrap().parent_id,
            Some(p.district)
        );
        // A late rename carries up to the next rename, not past it.
        reorganise(
            db,
            &actor(),
            &rename(town, "2010-01-01", "Thị trấn Long Hồ 2010"),
            "",
        )
        .await
        .unwrap();
        let v2021 = get(db, town, d("2021-01-01")).await.unwrap();
        assert_eq!(
            (v2021.name.as_str(), v2021.parent_id),
            ("Thị trấn Long Hồ 2010", Some(p.committee))
        );
        assert_eq!(
            get(db, town, d("2024-06-01")).await.unwrap().name,
            "Thị trấn Long Hồ 2024"
        );
        assert_eq!(
            get(db, town, d("2015-01-01")).await.unwrap().parent_id,
            Some(p.district)
        );
        // A later move is not undone by an earlier one recorded late.
        reorganise(db, &actor(), &move_to(town, "2022-01-01", p.district), "")
            .await
            .unwrap();
        reorganise(db, &actor(), &move_to(town, "2015-01-01", p.committee), "")
            .await
            .unwrap();
        assert_eq!(
            get(db, town, d("2016-01-01")).await.unwrap().parent_id,
            Some(p.committee)
        );
        assert_eq!(
            get(db, town, d("2023-01-01")).await.unwrap().parent_id,
            Some(p.district),
            "{}",
            t.name
        );
    }
}

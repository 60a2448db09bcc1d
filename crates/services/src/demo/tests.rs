//! The demo province on both databases.

use std::collections::HashSet;

use chrono::NaiveDate;
use lienthong_domain::{OrgCode, Role};
use lienthong_store::{time, Db};
use sqlx::Row;

use super::*;
use crate::audit;
use crate::auth;
use crate::testing::databases;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn id(db: &Db, code: &str) -> i64 {
    org::id_by_code(db, &OrgCode::parse(code).unwrap())
        .await
        .unwrap()
        .unwrap()
}

async fn audit_seq(db: &Db) -> i64 {
    sqlx::query("SELECT seq FROM audit_head")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn loads_once_and_the_audit_chain_holds() {
    for t in databases().await {
        let db = &t.db;
        let first = load(db).await.unwrap();
        assert!(first.created, "{}", t.name);
        assert_eq!(first.agencies, AGENCIES.len());
        assert_eq!(first.people, PEOPLE.len());
        assert!(first.people < 80);
        let seq = audit_seq(db).await;

        let second = load(db).await.unwrap();
        assert_eq!(
            second,
            DemoReport {
                created: false,
                ..first
            },
            "{}",
            t.name
        );
        assert_eq!(
            audit_seq(db).await,
            seq,
            "{}: a second load writes nothing",
            t.name
        );

        let entries = audit::verify(db).await.unwrap();
        assert_eq!(entries, seq);
        let by_demo: i64 =
            sqlx::query("SELECT COUNT(*) FROM audit_log WHERE actor = 'demo' AND actor_id IS NULL")
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get(0);
        assert_eq!(
            by_demo, seq,
            "{}: every change is recorded as the demo's",
            t.name
        );
    }
}

#[tokio::test]
async fn an_existing_admin_account_counts_as_loaded() {
    for t in databases().await {
        let db = &t.db;
        let new = NewPerson {
            username: Username::parse("admin").unwrap(),
            full_name: FullName::parse("Quản trị").unwrap(),
            email: None,
            kind: lienthong_domain::PersonKind::Staff,
            password: Password::parse(DEMO_PASSWORD).unwrap(),
        };
        people::create_with_hash(db, &Actor::system("test"), &new, "x")
            .await
            .unwrap();
        let r = load(db).await.unwrap();
        assert_eq!(
            r,
            DemoReport {
                created: false,
                agencies: 0,
                people: 1
            },
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn the_map_today_and_before_the_2025_reforms() {
    for t in databases().await {
        let db = &t.db;
        load(db).await.unwrap();
        let today = time::today();
        let committee = id(db, COMMITTEE_CODE).await;
        let skhcn = id(db, "000.00.08.H62").await;
        let stttt = id(db, "000.00.10.H62").await;

        // Today: departments and communes directly under the committee, no districts.
        let now = org::list(db, today, false).await.unwrap();
        let under = |kinds: &[&str]| {
            now.iter()
                .filter(|a| kinds.contains(&a.kind.as_str()) && a.parent_id == Some(committee))
                .count()
        };
        assert!(
            under(&["department"]) >= 15,
            "{}: {} departments",
            t.name,
            under(&["department"])
        );
        assert!(
            under(&["commune", "ward"]) >= 30,
            "{}: {} communes",
            t.name,
            under(&["commune", "ward"])
        );
        assert_eq!(
            under(&["commune", "ward"]),
            now.iter()
                .filter(|a| a.kind == "commune" || a.kind == "ward")
                .count()
        );
        assert!(!now.iter().any(|a| a.kind == "district"), "{}", t.name);
        assert!(!now.iter().any(|a| a.id == stttt));
        let c = now.iter().find(|a| a.id == committee).unwrap();
        assert_eq!(
            (c.name.as_str(), c.kind.as_str(), c.parent_id),
            (COMMITTEE_NAME, "provincial_committee", None)
        );
        let s = now.iter().find(|a| a.id == skhcn).unwrap();
        assert_eq!(
            (s.name.as_str(), s.short_name.as_str(), s.kind.as_str()),
            (SKHCN_NAME, "SKHCN", "department")
        );
        let centre = now.iter().find(|a| a.kind == "service_centre").unwrap();
        assert_eq!(centre.name, "Trung tâm Phục vụ hành chính công tỉnh");
        assert_eq!(
            org::ancestry(db, centre.id, today).await.unwrap().last(),
            Some(&committee)
        );
        let codes: HashSet<&str> = now.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes.len(), now.len());
        assert!(now.iter().all(|a| a.code.ends_with(".H62")));

        // The Sở TT&TT ended on 1 March 2025 and the Sở KH&CN took over.
        let ended = org::get(db, stttt, today).await.unwrap();
        assert_eq!(
            (ended.short_name.as_str(), ended.valid_from.as_str()),
            ("STTTT", "2008-01-01")
        );
        assert_eq!(ended.valid_to.as_deref(), Some("2025-03-01"), "{}", t.name);
        assert_eq!(
            ended.successors.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![skhcn]
        );
        let with_ended = org::list(db, today, true).await.unwrap();
        assert!(with_ended
            .iter()
            .any(|a| a.id == stttt && a.successors.len() == 1));
        let h = org::history(db, skhcn).await.unwrap();
        assert_eq!(h.len(), 1, "{}", t.name);
        assert_eq!(
            (h[0].kind.as_str(), h[0].effective_on.as_str()),
            ("merge", "2025-03-01")
        );
        assert_eq!(
            (h[0].subjects.clone(), h[0].successors.clone()),
            (vec![stttt], vec![skhcn])
        );
        let units: Vec<String> = org::units(db, skhcn, today)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.short_name)
            .collect();
        for u in ["VP", "KHTC", "QLKH", "BCVTCNTT", "CĐS"] {
            assert!(
                units.iter().any(|x| x == u),
                "{}: SKHCN has {u}: {units:?}",
                t.name
            );
        }
        assert!(org::units(db, stttt, today).await.unwrap().is_empty());
        assert_eq!(
            org::units(db, stttt, d("2025-02-01")).await.unwrap().len(),
            2
        );

        // Before 1 March 2025: the Sở TT&TT; before 1 July 2025: the districts.
        let feb = org::list(db, d("2025-02-01"), false).await.unwrap();
        assert!(
            feb.iter()
                .any(|a| a.id == stttt && a.parent_id == Some(committee)),
            "{}",
            t.name
        );
        let districts: Vec<&org::Agency> = feb.iter().filter(|a| a.kind == "district").collect();
        assert!(districts.len() >= 3, "{}", t.name);
        let mut moved = Vec::new();
        for district in &districts {
            assert_eq!(district.parent_id, Some(committee));
            let children: Vec<&org::Agency> = feb
                .iter()
                .filter(|a| a.parent_id == Some(district.id))
                .collect();
            assert!(
                children.len() >= 2,
                "{}: {} has {} communes",
                t.name,
                district.name,
                children.len()
            );
            assert!(children.iter().all(|c| c.kind == "commune"));
            moved.extend(children.iter().map(|c| c.id));
            // Ended, split into its communes, the seat first.
            let gone = org::get(db, district.id, today).await.unwrap();
            assert_eq!(gone.valid_to.as_deref(), Some("2025-07-01"));
            let mut successors: Vec<i64> = gone.successors.iter().map(|s| s.id).collect();
            assert!(
                successors[0]
                    == children
                        .iter()
                        .find(|c| c.name.starts_with("Thị trấn"))
                        .unwrap()
                        .id
            );
            successors.sort_unstable();
            let mut expected: Vec<i64> = children.iter().map(|c| c.id).collect();
            expected.sort_unstable();
            assert_eq!(successors, expected, "{}: {}", t.name, district.name);
        }
        assert_eq!(
            feb.iter()
                .filter(|a| a.kind == "commune" || a.kind == "ward")
                .count(),
            moved.len()
        );
        for c in &moved {
            let a = now.iter().find(|a| a.id == *c).unwrap();
            assert_eq!(a.parent_id, Some(committee), "{}: {}", t.name, a.name);
            assert!(a.name.starts_with("Xã "), "{}", a.name);
            assert_eq!(
                org::ancestry(db, *c, today).await.unwrap(),
                vec![*c, committee]
            );
        }
        let long_ho = now.iter().find(|a| a.name == LONG_HO_NAME).unwrap();
        assert_eq!(
            org::get(db, long_ho.id, d("2025-06-30"))
                .await
                .unwrap()
                .name,
            "Thị trấn Long Hồ"
        );
        let unit_names: Vec<String> = org::units(db, long_ho.id, today)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.short_name)
            .collect();
        assert_eq!(unit_names.len(), 4, "{}: {unit_names:?}", t.name);
        // Every commune and ward has its standard units.
        for a in now
            .iter()
            .filter(|a| a.kind == "commune" || a.kind == "ward")
        {
            assert_eq!(
                org::units(db, a.id, today).await.unwrap().len(),
                4,
                "{}: {}",
                t.name,
                a.name
            );
        }
        // Nothing of today's map existed in 1991.
        assert!(org::list(db, d("1991-12-31"), true)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn every_sign_in_holds_its_role_today() {
    for t in databases().await {
        let db = &t.db;
        load(db).await.unwrap();
        let today = time::today();
        let expected: [(&str, Option<Role>); 9] = [
            ("admin", Some(Role::Admin)),
            ("vanthu.skhcn", Some(Role::Clerk)),
            ("giamdoc.skhcn", Some(Role::Leader)),
            ("truongphong.skhcn", Some(Role::UnitHead)),
            ("chuyenvien.skhcn", Some(Role::Specialist)),
            ("motcua.skhcn", Some(Role::OneStopOfficer)),
            ("bientap.skhcn", Some(Role::Editor)),
            ("vanthu.xa", Some(Role::Clerk)),
            ("congdan.demo", None),
        ];
        let sign_ins = sign_ins();
        assert_eq!(
            sign_ins.iter().map(|s| s.username).collect::<Vec<_>>(),
            expected.map(|e| e.0)
        );
        for (s, (_, role)) in sign_ins.iter().zip(expected) {
            let person = people::by_username(db, s.username)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{}", s.username));
            assert!(!person.disabled);
            let positions = people::positions(db, person.id, Some(today)).await.unwrap();
            match role {
                Some(role) => {
                    assert_eq!(person.kind, "staff");
                    assert!(
                        positions
                            .iter()
                            .any(|p| p.role == role && p.agency_name == s.agency),
                        "{}: {} should be {role} at {}: {positions:?}",
                        t.name,
                        s.username,
                        s.agency
                    );
                }
                None => {
                    assert_eq!(person.kind, "citizen");
                    assert!(people::positions(db, person.id, None)
                        .await
                        .unwrap()
                        .is_empty());
                }
            }
        }
        // The province administrator administers the committee, the root of today's map.
        let admin = people::by_username(db, "admin").await.unwrap().unwrap();
        let admin_at = people::positions(db, admin.id, Some(today)).await.unwrap();
        assert_eq!(admin_at[0].agency_code, COMMITTEE_CODE);

        // Every role is held by someone today, in some agency.
        let mut roles = HashSet::new();
        for p in people::list_all(db).await.unwrap() {
            for pos in people::positions(db, p.id, Some(today)).await.unwrap() {
                roles.insert(pos.role);
                assert!(!pos.title.is_empty());
            }
        }
        assert_eq!(roles.len(), Role::ALL.len(), "{}: {roles:?}", t.name);

        // The demo password works (one check: argon2 is slow).
        let who = auth::check_credentials(db, "vanthu.skhcn", DEMO_PASSWORD, "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(who.username, "vanthu.skhcn");
    }
}

#[tokio::test]
async fn staff_of_merged_and_dissolved_agencies_moved_with_them() {
    for t in databases().await {
        let db = &t.db;
        load(db).await.unwrap();
        let today = time::today();
        let skhcn = id(db, "000.00.08.H62").await;
        let stttt = id(db, "000.00.10.H62").await;

        // A unit head of the Sở TT&TT is the same unit head at the Sở KH&CN.
        let head = people::by_username(db, "truongphong.skhcn")
            .await
            .unwrap()
            .unwrap();
        let all = people::positions(db, head.id, None).await.unwrap();
        assert_eq!(all.len(), 2, "{}", t.name);
        assert_eq!(
            (all[0].agency_id, all[0].role, all[0].valid_to.as_deref()),
            (stttt, Role::UnitHead, Some("2025-03-01"))
        );
        assert_eq!(all[0].agency_name, "Sở Thông tin và Truyền thông");
        assert_eq!(
            (all[1].agency_id, all[1].role, all[1].valid_to.as_deref()),
            (skhcn, Role::UnitHead, None)
        );
        assert_eq!(
            all[1].unit_name.as_deref(),
            Some("Phòng Bưu chính, Viễn thông và Công nghệ thông tin")
        );
        assert_eq!(all[1].title, all[0].title);
        let then = people::positions(db, head.id, Some(d("2025-02-28")))
            .await
            .unwrap();
        assert_eq!(
            then.iter().map(|p| p.agency_id).collect::<Vec<_>>(),
            vec![stttt]
        );
        let former = people::list_in_agency(db, stttt, d("2025-02-01"))
            .await
            .unwrap();
        assert!(former.len() >= 3, "{}", t.name);
        assert!(people::list_in_agency(db, stttt, today)
            .await
            .unwrap()
            .is_empty());
        let staff_now: HashSet<String> = people::list_in_agency(db, skhcn, today)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.username)
            .collect();
        for p in &former {
            assert!(
                staff_now.contains(&p.username),
                "{}: {} moved to SKHCN",
                t.name,
                p.username
            );
        }

        // The former director is a deputy director now.
        let deputy = people::by_username(db, "phogiamdoc.skhcn")
            .await
            .unwrap()
            .unwrap();
        let now = people::positions(db, deputy.id, Some(today)).await.unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!(
            (now[0].agency_id, now[0].role, now[0].title.as_str()),
            (skhcn, Role::Leader, "Phó Giám đốc")
        );
        let before = people::positions(db, deputy.id, Some(d("2024-12-31")))
            .await
            .unwrap();
        assert_eq!(
            (before[0].agency_id, before[0].title.as_str()),
            (stttt, "Giám đốc")
        );

        // The district clerk is the clerk of the commune at the district's seat.
        let clerk = people::by_username(db, "vanthu.xa").await.unwrap().unwrap();
        let then = people::positions(db, clerk.id, Some(d("2025-06-30")))
            .await
            .unwrap();
        assert_eq!(then[0].agency_name, "Huyện Long Hồ", "{}", t.name);
        let now = people::positions(db, clerk.id, Some(today)).await.unwrap();
        assert_eq!(
            (now[0].agency_name.as_str(), now[0].role),
            (LONG_HO_NAME, Role::Clerk)
        );
        assert_eq!(now[0].unit_name.as_deref(), Some("Văn phòng HĐND và UBND"));
    }
}

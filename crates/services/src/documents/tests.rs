use chrono::NaiveDate;
use lienthong_domain::document::{
    Classification, Direction, DocumentSymbol, DocumentType, Subject, Urgency,
};
use lienthong_store::BlobStore;

use super::*;
use crate::testing::{demo_databases, principal};
use crate::ServiceError;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn incoming(symbol: &str, arrived: &str) -> NewIncoming {
    NewIncoming {
        register_id: None,
        issuer: Issuer {
            agency_id: None,
            name: "Văn phòng UBND tỉnh".into(),
        },
        symbol: DocumentSymbol::parse(symbol).unwrap(),
        issued_on: d("2026-01-01").min(d(arrived)),
        doc_type: DocumentType::QuyetDinh,
        subject: Subject::parse("Về việc triển khai chuyển đổi số năm 2026").unwrap(),
        urgency: Urgency::Normal,
        classification: Classification::Normal,
        page_count: Some(2),
        due_on: None,
        signer_name: "Nguyễn Văn A".into(),
        arrived_on: d(arrived),
        note: String::new(),
        allow_duplicate: false,
        readers: vec![],
        attachments: vec![],
    }
}

fn blobs() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::filesystem(dir.path()).unwrap();
    (dir, store)
}

async fn agency_of(db: &lienthong_store::Db, username: &str) -> i64 {
    principal(db, username).await.positions[0].agency_id
}

#[tokio::test]
async fn arrival_numbers_run_per_register_and_year() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        let a = register_incoming(
            &t.db,
            &blobs,
            &clerk,
            agency,
            incoming("1/QĐ-UBND", "2026-12-30"),
        )
        .await
        .unwrap();
        let b = register_incoming(
            &t.db,
            &blobs,
            &clerk,
            agency,
            incoming("2/QĐ-UBND", "2026-12-31"),
        )
        .await
        .unwrap();
        let c = register_incoming(
            &t.db,
            &blobs,
            &clerk,
            agency,
            incoming("3/QĐ-UBND", "2027-01-01"),
        )
        .await
        .unwrap();
        assert_eq!(
            (a.arrival_number, b.arrival_number, c.arrival_number),
            (1, 2, 1),
            "{}",
            t.name
        );
        assert_eq!((a.year, c.year), (2026, 2027));

        let mut secret = incoming("4/QĐ-UBND", "2026-12-31");
        secret.classification = Classification::Confidential;
        let s = register_incoming(&t.db, &blobs, &clerk, agency, secret)
            .await
            .unwrap();
        assert_eq!(
            s.arrival_number, 1,
            "classified documents have their own register"
        );
        assert_ne!(s.register_id, a.register_id);
        let regs = registers(&t.db, agency, Direction::Incoming).await.unwrap();
        assert_eq!(regs.len(), 2);
        assert!(regs.iter().any(|r| r.classified && r.id == s.register_id));

        // A classified document in an ordinary register is refused.
        let mut wrong = incoming("5/QĐ-UBND", "2026-12-31");
        wrong.classification = Classification::Secret;
        wrong.register_id = Some(a.register_id);
        assert!(matches!(
            register_incoming(&t.db, &blobs, &clerk, agency, wrong).await,
            Err(ServiceError::Invalid {
                field: "register_id",
                ..
            })
        ));
    }
}

#[tokio::test]
async fn two_hundred_concurrent_registrations_get_distinct_gapless_numbers() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        let mut tasks = Vec::new();
        for i in 0..200 {
            let (db, blobs, clerk) = (t.db.clone(), blobs.clone(), clerk.clone());
            tasks.push(tokio::spawn(async move {
                register_incoming(
                    &db,
                    &blobs,
                    &clerk,
                    agency,
                    incoming(&format!("{}/TB-STC", i + 1), "2026-06-01"),
                )
                .await
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.unwrap().unwrap().arrival_number);
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=200).collect::<Vec<i64>>(), "{}", t.name);
        assert!(
            crate::audit::verify(&t.db).await.is_ok(),
            "the audit chain stays linear under concurrency"
        );
    }
}

#[tokio::test]
async fn the_same_symbol_from_the_same_issuer_is_flagged_as_a_duplicate() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        let first = register_incoming(
            &t.db,
            &blobs,
            &clerk,
            agency,
            incoming("12/QĐ-UBND", "2026-03-02"),
        )
        .await
        .unwrap();
        let again = register_incoming(
            &t.db,
            &blobs,
            &clerk,
            agency,
            incoming("12/QD-UBND", "2026-03-03"),
        )
        .await;
        match again {
            Err(ServiceError::Duplicate(ids)) => assert_eq!(ids, vec![first.id]),
            other => panic!("{}: expected a duplicate warning, got {other:?}", t.name),
        }
        // Another issuer with the same symbol is not a duplicate.
        let mut other = incoming("12/QĐ-UBND", "2026-03-03");
        other.issuer.name = "Sở Tài chính".into();
        register_incoming(&t.db, &blobs, &clerk, agency, other)
            .await
            .unwrap();
        // The clerk may register it anyway, knowingly.
        let mut forced = incoming("12/QĐ-UBND", "2026-03-03");
        forced.allow_duplicate = true;
        let forced = register_incoming(&t.db, &blobs, &clerk, agency, forced)
            .await
            .unwrap();
        assert_eq!(forced.arrival_number, first.arrival_number + 2);
    }
}

#[tokio::test]
async fn only_a_clerk_of_the_agency_registers_and_only_its_staff_read() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        for outsider in ["chuyenvien.skhcn", "vanthu.xa", "admin"] {
            let p = principal(&t.db, outsider).await;
            let r = register_incoming(
                &t.db,
                &blobs,
                &p,
                agency,
                incoming("9/CT-UBND", "2026-04-01"),
            )
            .await;
            assert!(
                matches!(r, Err(ServiceError::Forbidden)),
                "{outsider} may not register"
            );
        }
        let mut new = incoming("9/CT-UBND", "2026-04-01");
        new.attachments.push(Upload {
            file_name: "../../ct9.pdf".into(),
            bytes: bytes::Bytes::from_static(b"%PDF-1.4\n%test\n"),
            claimed_type: Some("application/pdf".into()),
        });
        let r = register_incoming(&t.db, &blobs, &clerk, agency, new)
            .await
            .unwrap();
        let specialist = principal(&t.db, "chuyenvien.skhcn").await;
        let doc = get(&t.db, &specialist, r.id).await.unwrap();
        assert_eq!(doc.attachments.len(), 1);
        assert_eq!(doc.attachments[0].file_name, "ct9.pdf");
        assert_eq!(doc.events[0].kind, "registered");
        let (meta, bytes) = attachment(&t.db, &blobs, &specialist, r.id, doc.attachments[0].id)
            .await
            .unwrap();
        assert_eq!(meta.content_type, "application/pdf");
        assert!(bytes.starts_with(b"%PDF"));

        let commune_clerk = principal(&t.db, "vanthu.xa").await;
        assert!(matches!(
            get(&t.db, &commune_clerk, r.id).await,
            Err(ServiceError::NotFound)
        ));
        assert!(matches!(
            attachment(&t.db, &blobs, &commune_clerk, r.id, doc.attachments[0].id).await,
            Err(ServiceError::NotFound)
        ));
        let commune = agency_of(&t.db, "vanthu.xa").await;
        assert!(matches!(
            list_register(
                &t.db,
                &commune_clerk,
                agency,
                Direction::Incoming,
                &RegisterFilter::default()
            )
            .await,
            Err(ServiceError::Forbidden)
        ));
        let (rows, _) = list_register(
            &t.db,
            &commune_clerk,
            commune,
            Direction::Incoming,
            &RegisterFilter::default(),
        )
        .await
        .unwrap();
        assert!(rows.iter().all(|row| row.id != r.id));
    }
}

#[tokio::test]
async fn classified_documents_are_invisible_to_everyone_not_granted() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let leader = principal(&t.db, "giamdoc.skhcn").await;
        let specialist = principal(&t.db, "chuyenvien.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        let mut secret = incoming("7/CĐ-UBND", "2026-05-05");
        secret.classification = Classification::Secret;
        secret.subject = Subject::parse("Phương án bảo vệ bí mật nhà nước").unwrap();
        secret.readers = vec![leader.person.id];
        let r = register_incoming(&t.db, &blobs, &clerk, agency, secret)
            .await
            .unwrap();
        assert!(
            get(&t.db, &clerk, r.id).await.is_ok(),
            "the registering clerk reads it"
        );
        assert!(
            get(&t.db, &leader, r.id).await.is_ok(),
            "a granted reader reads it"
        );
        assert!(matches!(
            get(&t.db, &specialist, r.id).await,
            Err(ServiceError::NotFound)
        ));
        for (who, sees) in [(&clerk, true), (&leader, true), (&specialist, false)] {
            let (rows, _) = list_register(
                &t.db,
                who,
                agency,
                Direction::Incoming,
                &RegisterFilter::default(),
            )
            .await
            .unwrap();
            assert_eq!(
                rows.iter().any(|x| x.id == r.id),
                sees,
                "{}",
                who.person.username
            );
        }
        // The audit log does not carry the classified subject.
        let log = crate::audit::list(
            &t.db,
            &crate::audit::AuditFilter {
                record_id: Some(r.id.to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(log.iter().all(|e| !e.changes.contains("bí mật")));
    }
}

#[tokio::test]
async fn register_filters() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        for (i, day) in ["2026-01-05", "2026-02-05", "2026-03-05"]
            .iter()
            .enumerate()
        {
            let mut n = incoming(&format!("{}/KH-SNV", i + 1), day);
            n.doc_type = if i == 0 {
                DocumentType::KeHoach
            } else {
                DocumentType::CongVan
            };
            n.issuer.name = if i == 2 {
                "Sở Nội vụ".into()
            } else {
                "Sở Y tế".into()
            };
            register_incoming(&t.db, &blobs, &clerk, agency, n)
                .await
                .unwrap();
        }
        let list = |f: RegisterFilter| {
            let (db, clerk) = (t.db.clone(), clerk.clone());
            async move {
                list_register(&db, &clerk, agency, Direction::Incoming, &f)
                    .await
                    .unwrap()
                    .0
            }
        };
        let all = list(RegisterFilter::default()).await;
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0].arrived_on.as_deref(),
            Some("2026-03-05"),
            "newest first"
        );
        let feb = list(RegisterFilter {
            from: Some(d("2026-02-01")),
            to: Some(d("2026-02-28")),
            ..Default::default()
        })
        .await;
        assert_eq!(feb.len(), 1);
        assert_eq!(
            list(RegisterFilter {
                doc_type: Some("KH".into()),
                ..Default::default()
            })
            .await
            .len(),
            1
        );
        assert_eq!(
            list(RegisterFilter {
                issuer: Some("Nội vụ".into()),
                ..Default::default()
            })
            .await
            .len(),
            1
        );
        assert_eq!(
            list(RegisterFilter {
                status: Some("registered".into()),
                ..Default::default()
            })
            .await
            .len(),
            3
        );
        assert_eq!(
            list(RegisterFilter {
                page: 1,
                ..Default::default()
            })
            .await
            .len(),
            0
        );
    }
}

#[tokio::test]
async fn impossible_dates_are_refused_and_nothing_is_saved() {
    let (_dir, blobs) = blobs();
    for t in demo_databases().await {
        let clerk = principal(&t.db, "vanthu.skhcn").await;
        let agency = agency_of(&t.db, "vanthu.skhcn").await;
        let mut early = incoming("1/TB-UBND", "2026-01-10");
        early.issued_on = d("2026-02-01");
        assert!(matches!(
            register_incoming(&t.db, &blobs, &clerk, agency, early).await,
            Err(ServiceError::Invalid {
                field: "arrived_on",
                ..
            })
        ));
        let mut due = incoming("1/TB-UBND", "2026-01-10");
        due.due_on = Some(d("2025-12-31"));
        assert!(matches!(
            register_incoming(&t.db, &blobs, &clerk, agency, due).await,
            Err(ServiceError::Invalid {
                field: "due_on",
                ..
            })
        ));
        let mut empty_file = incoming("1/TB-UBND", "2026-01-10");
        empty_file.attachments.push(Upload {
            file_name: "a.pdf".into(),
            bytes: bytes::Bytes::new(),
            claimed_type: None,
        });
        assert!(register_incoming(&t.db, &blobs, &clerk, agency, empty_file)
            .await
            .is_err());
        let (rows, _) = list_register(
            &t.db,
            &clerk,
            agency,
            Direction::Incoming,
            &RegisterFilter::default(),
        )
        .await
        .unwrap();
        assert!(rows.is_empty(), "{}: nothing half-saved", t.name);
        let ok = register_incoming(
            &t.db,
            &blobs,
            &clerk,
            agency,
            incoming("1/TB-UBND", "2026-01-10"),
        )
        .await
        .unwrap();
        assert_eq!(ok.arrival_number, 1, "refused attempts burnt no number");
    }
}

use lienthong_domain::document::{Classification, Direction, DocumentType, Subject, Urgency};
use lienthong_domain::Role;
use lienthong_store::{time, BlobStore, Db};

use super::outgoing::*;
use super::*;
use crate::testing::{demo_databases, principal};
use crate::ServiceError;

fn blobs() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let b = BlobStore::filesystem(dir.path()).unwrap();
    (dir, b)
}

/// A key store with no keys: documents to recipients without a code need none.
fn no_keys() -> crate::exchange::KeyStore {
    crate::exchange::KeyStore::open("/nonexistent/lienthong-pki")
}

fn draft_of(
    doc_type: DocumentType,
    legal: bool,
    classification: Classification,
    unit: Option<i64>,
) -> NewDraft {
    NewDraft {
        doc_type,
        legal_normative: legal,
        subject: Subject::parse("Về việc triển khai nền tảng số dùng chung của tỉnh").unwrap(),
        urgency: Urgency::Normal,
        classification,
        drafting_unit_id: unit,
        in_reply_to: None,
        recipients: vec![Recipient {
            agency_id: None,
            name: "Bộ Khoa học và Công nghệ".into(),
        }],
        signer_name: "Giám đốc".into(),
        page_count: Some(2),
        copies: Some(3),
        retained_copy: "Lưu: VT, VP".into(),
        note: String::new(),
        attachments: vec![],
    }
}

/// Drafts, reviews, approves and returns the id, ready to issue.
async fn approved(db: &Db, blobs: &BlobStore, d: NewDraft) -> i64 {
    let specialist = principal(db, "chuyenvien.skhcn").await;
    let head = principal(db, "truongphong.skhcn").await;
    let leader = principal(db, "giamdoc.skhcn").await;
    let agency = specialist.positions[0].agency_id;
    let id = create_draft(db, blobs, &specialist, agency, d)
        .await
        .unwrap();
    submit_for_review(db, &specialist, id, head.person.id)
        .await
        .unwrap();
    review(
        db,
        &head,
        id,
        Decision::Accept {
            approver_id: Some(leader.person.id),
        },
    )
    .await
    .unwrap();
    approve(db, &leader, id, Decision::Accept { approver_id: None })
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn issuing_numbers_each_series_and_builds_the_nd30_symbol() {
    let (_d, blobs) = blobs();
    for t in demo_databases().await {
        let db = &t.db;
        let clerk = principal(db, "vanthu.skhcn").await;
        let vp = crate::org::units(db, clerk.positions[0].agency_id, time::today())
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.short_name == "VP")
            .map(|u| u.id);
        let a = approved(
            db,
            &blobs,
            draft_of(DocumentType::QuyetDinh, false, Classification::Normal, vp),
        )
        .await;
        let b = approved(
            db,
            &blobs,
            draft_of(DocumentType::CongVan, false, Classification::Normal, vp),
        )
        .await;
        let c = approved(
            db,
            &blobs,
            draft_of(DocumentType::QuyetDinh, true, Classification::Normal, vp),
        )
        .await;
        let s = approved(
            db,
            &blobs,
            draft_of(
                DocumentType::CongVan,
                false,
                Classification::Confidential,
                vp,
            ),
        )
        .await;
        let ia = issue(db, &blobs, &no_keys(), &clerk, a).await.unwrap();
        let ib = issue(db, &blobs, &no_keys(), &clerk, b).await.unwrap();
        let ic = issue(db, &blobs, &no_keys(), &clerk, c).await.unwrap();
        let is = issue(db, &blobs, &no_keys(), &clerk, s).await.unwrap();
        assert_eq!(
            (ia.number, ia.symbol.as_str()),
            (1, "1/QĐ-SKHCN"),
            "{}",
            t.name
        );
        assert_eq!(
            (ib.number, ib.symbol.as_str()),
            (2, "2/SKHCN-VP"),
            "a công văn shares the ordinary series"
        );
        assert_eq!(
            (ic.number, ic.symbol.as_str()),
            (1, "1/QĐ-SKHCN"),
            "legal normative decisions have their own series"
        );
        assert_eq!(is.number, 1, "classified documents have their own series");
        assert_eq!(ia.issued_on, time::date(time::today()));
        assert!(
            matches!(
                issue(db, &blobs, &no_keys(), &clerk, a).await,
                Err(ServiceError::Invalid {
                    field: "status",
                    ..
                })
            ),
            "issued once only"
        );

        let doc = get(db, &clerk, a).await.unwrap();
        assert_eq!(doc.status, "issued");
        let kinds: Vec<_> = doc.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "drafted",
                "submitted_for_review",
                "reviewed",
                "approved",
                "issued"
            ]
        );
        let (rows, _) = list_register(
            db,
            &clerk,
            doc.agency_id,
            Direction::Outgoing,
            &RegisterFilter::default(),
        )
        .await
        .unwrap();
        assert!(
            rows.iter().any(|r| r.id == a) && rows.iter().all(|r| r.number.is_some()),
            "the register lists issued documents"
        );
        assert_eq!(
            recipients(db, a).await.unwrap()[0].name,
            "Bộ Khoa học và Công nghệ"
        );
    }
}

#[tokio::test]
async fn a_returned_draft_goes_back_round_and_only_the_right_people_act() {
    let (_d, blobs) = blobs();
    for t in demo_databases().await {
        let db = &t.db;
        let specialist = principal(db, "chuyenvien.skhcn").await;
        let head = principal(db, "truongphong.skhcn").await;
        let leader = principal(db, "giamdoc.skhcn").await;
        let clerk = principal(db, "vanthu.skhcn").await;
        let agency = specialist.positions[0].agency_id;
        let outsider = principal(db, "vanthu.xa").await;
        let d = draft_of(DocumentType::BaoCao, false, Classification::Normal, None);
        assert!(matches!(
            create_draft(db, &blobs, &outsider, agency, d.clone()).await,
            Err(ServiceError::Forbidden)
        ));
        let id = create_draft(db, &blobs, &specialist, agency, d)
            .await
            .unwrap();
        assert!(matches!(
            submit_for_review(db, &specialist, id, specialist.person.id).await,
            Err(ServiceError::Invalid {
                field: "reviewer_id",
                ..
            })
        ));
        assert!(matches!(
            submit_for_review(db, &clerk, id, head.person.id).await,
            Err(ServiceError::Forbidden)
        ));
        submit_for_review(db, &specialist, id, head.person.id)
            .await
            .unwrap();
        assert!(matches!(
            review(
                db,
                &leader,
                id,
                Decision::Return {
                    comment: "x".into()
                }
            )
            .await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            review(
                db,
                &head,
                id,
                Decision::Return {
                    comment: " ".into()
                }
            )
            .await,
            Err(ServiceError::Invalid {
                field: "comment",
                ..
            })
        ));
        review(
            db,
            &head,
            id,
            Decision::Accept {
                approver_id: Some(leader.person.id),
            },
        )
        .await
        .unwrap();
        assert!(
            matches!(
                issue(db, &blobs, &no_keys(), &clerk, id).await,
                Err(ServiceError::Invalid {
                    field: "status",
                    ..
                })
            ),
            "not before approval"
        );
        approve(
            db,
            &leader,
            id,
            Decision::Return {
                comment: "Bổ sung số liệu quý IV".into(),
            },
        )
        .await
        .unwrap();
        let waiting = drafts(db, &specialist).await.unwrap();
        assert!(waiting
            .mine
            .iter()
            .any(|(d, s, _)| *d == id && s == "returned"));
        submit_for_review(db, &specialist, id, head.person.id)
            .await
            .unwrap();
        review(
            db,
            &head,
            id,
            Decision::Accept {
                approver_id: Some(leader.person.id),
            },
        )
        .await
        .unwrap();
        assert!(drafts(db, &leader)
            .await
            .unwrap()
            .to_approve
            .iter()
            .any(|(d, _, _)| *d == id));
        approve(db, &leader, id, Decision::Accept { approver_id: None })
            .await
            .unwrap();
        assert!(drafts(db, &clerk)
            .await
            .unwrap()
            .to_issue
            .iter()
            .any(|(d, _, _)| *d == id));
        assert!(
            matches!(
                issue(db, &blobs, &no_keys(), &specialist, id).await,
                Err(ServiceError::Forbidden)
            ),
            "only a clerk issues"
        );
        assert!(clerk.positions.iter().any(|p| p.role == Role::Clerk));
        issue(db, &blobs, &no_keys(), &clerk, id).await.unwrap();
    }
}

#[tokio::test]
async fn concurrent_issuing_gives_gapless_numbers_and_a_crash_burns_none() {
    let (_d, blobs) = blobs();
    for t in demo_databases().await {
        let db = &t.db;
        let clerk = principal(db, "vanthu.skhcn").await;
        let mut ids = Vec::new();
        for _ in 0..20 {
            ids.push(
                approved(
                    db,
                    &blobs,
                    draft_of(DocumentType::ThongBao, false, Classification::Normal, None),
                )
                .await,
            );
        }
        // A transaction that takes a number and then dies takes nothing with it.
        let register: i64 = sqlx::query_scalar("SELECT register_id FROM documents WHERE id = $1")
            .bind(ids[0])
            .fetch_one(db.pool())
            .await
            .unwrap();
        {
            let mut tx = db.write().await.unwrap();
            let n = super::register::next_number(
                &mut tx,
                register,
                time::today().format("%Y").to_string().parse().unwrap(),
                "",
            )
            .await
            .unwrap();
            assert_eq!(n, 1);
            drop(tx); // the process "crashes" before commit
        }
        let mut tasks = Vec::new();
        for id in ids {
            let (db, clerk, blobs) = (db.clone(), clerk.clone(), blobs.clone());
            tasks.push(tokio::spawn(async move {
                issue(&db, &blobs, &no_keys(), &clerk, id).await
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.unwrap().unwrap().number);
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=20).collect::<Vec<i64>>(), "{}", t.name);
    }
}

/// Issuing signs the attached PDF with the agency's certificate (PAdES), as checked
/// by poppler's `pdfsig`, and the outgoing document keeps the signed file.
#[tokio::test]
async fn issuing_signs_the_attached_pdf_as_the_agency() {
    let pdf = lienthong_files::to_pdf(&lienthong_files::Table {
        title: "CÔNG VĂN".into(),
        subtitle: "Về việc triển khai chữ ký số".into(),
        columns: vec!["Nội dung".into()],
        rows: vec![vec![
            "Sở Khoa học và Công nghệ đề nghị các đơn vị phối hợp.".into(),
        ]],
    })
    .unwrap();
    for t in demo_databases().await {
        let db = &t.db;
        let (_dir, blobs) = blobs();
        let pki = tempfile::tempdir().unwrap();
        let agencies = crate::demo::agencies_for_keys(db).await.unwrap();
        let (keys, _) = crate::exchange::KeyStore::ensure_demo(pki.path(), &agencies).unwrap();
        let mut d = draft_of(DocumentType::CongVan, false, Classification::Normal, None);
        d.attachments = vec![Upload {
            file_name: "cong-van.pdf".into(),
            bytes: pdf.clone().into(),
            claimed_type: Some("application/pdf".into()),
        }];
        let id = approved(db, &blobs, d).await;
        let clerk = principal(db, "vanthu.skhcn").await;
        issue(db, &blobs, &keys, &clerk, id).await.unwrap();

        let doc = get(db, &clerk, id).await.unwrap();
        let (_, signed) = attachment(db, &blobs, &clerk, id, doc.attachments[0].id)
            .await
            .unwrap();
        assert!(
            signed.starts_with(&pdf),
            "an incremental update keeps the original bytes"
        );
        let found = lienthong_pdfsign::signatures(&signed).unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].verifies && found[0].covers_whole_document,
            "{:?}",
            found[0]
        );
        assert!(
            found[0]
                .signer_subject
                .as_deref()
                .is_some_and(|s| s.contains("Sở Khoa học và Công nghệ")),
            "{:?}",
            found[0]
        );
        let issued = doc.events.iter().find(|e| e.kind == "issued").unwrap();
        assert!(issued.detail.contains("cong-van.pdf"), "{}", issued.detail);

        if std::process::Command::new("pdfsig")
            .arg("-v")
            .output()
            .is_ok()
        {
            let file = pki.path().join("signed.pdf");
            std::fs::write(&file, &signed).unwrap();
            let out = std::process::Command::new("pdfsig")
                .arg(&file)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("Signature is Valid"), "{text}");
            assert!(text.contains("ETSI.CAdES.detached"), "{text}");
            assert!(text.contains("Total document signed"), "{text}");
        } else {
            assert!(std::env::var("CI").is_err(), "pdfsig is required in CI");
            eprintln!("SKIPPED: pdfsig (poppler-utils) is not installed");
        }
    }
}

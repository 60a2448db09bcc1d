use lienthong_domain::calendar::WorkingCalendar;
use lienthong_domain::document::{Classification, DocumentSymbol, DocumentType, Subject, Urgency};
use lienthong_domain::Role;
use lienthong_store::{time, BlobStore, Db};

use super::workflow::*;
use super::*;
use crate::testing::{demo_databases, principal};
use crate::ServiceError;

async fn registered(db: &Db, blobs: &BlobStore, symbol: &str) -> i64 {
    let clerk = principal(db, "vanthu.skhcn").await;
    let agency = clerk.positions[0].agency_id;
    let new = NewIncoming {
        register_id: None,
        issuer: Issuer {
            agency_id: None,
            name: "Bộ Khoa học và Công nghệ".into(),
        },
        symbol: DocumentSymbol::parse(symbol).unwrap(),
        issued_on: time::today(),
        doc_type: DocumentType::CongVan,
        subject: Subject::parse("Đề nghị báo cáo tình hình chuyển đổi số").unwrap(),
        urgency: Urgency::Urgent,
        classification: Classification::Normal,
        page_count: None,
        due_on: None,
        signer_name: String::new(),
        arrived_on: time::today(),
        note: String::new(),
        allow_duplicate: true,
        readers: vec![],
        attachments: vec![],
    };
    register_incoming(db, blobs, &clerk, agency, new)
        .await
        .unwrap()
        .id
}

fn blobs() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let b = BlobStore::filesystem(dir.path()).unwrap();
    (dir, b)
}

async fn status(db: &Db, who: &str, id: i64) -> String {
    get(db, &principal(db, who).await, id).await.unwrap().status
}

#[tokio::test]
async fn from_registration_to_completion() {
    let (_d, blobs) = blobs();
    let cal = WorkingCalendar::statutory();
    for t in demo_databases().await {
        let db = &t.db;
        let id = registered(db, &blobs, "101/BKHCN-CĐS").await;
        let clerk = principal(db, "vanthu.skhcn").await;
        let leader = principal(db, "giamdoc.skhcn").await;
        let head = principal(db, "truongphong.skhcn").await;
        let specialist = principal(db, "chuyenvien.skhcn").await;

        // Only a clerk forwards, and only to a leader.
        assert!(matches!(
            forward_to_leader(db, &specialist, id, leader.person.id).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            forward_to_leader(db, &clerk, id, specialist.person.id).await,
            Err(ServiceError::Invalid {
                field: "leader_id",
                ..
            })
        ));
        forward_to_leader(db, &clerk, id, leader.person.id)
            .await
            .unwrap();
        assert_eq!(status(db, "vanthu.skhcn", id).await, "submitted");
        let inbox_leader = inbox(db, &leader, &cal).await.unwrap();
        assert!(
            inbox_leader.to_assign.iter().any(|(d, _, _)| *d == id),
            "{}",
            t.name
        );

        // The leader assigns: the unit head's unit leads, a specialist coordinates, the clerk is informed.
        let unit = head
            .positions
            .iter()
            .find(|p| p.role == Role::UnitHead)
            .and_then(|p| p.unit_id)
            .unwrap();
        let deadline = cal.add_working_days(time::today(), 5);
        let outsider = principal(db, "vanthu.xa").await;
        let bad = Assign {
            instruction: "Giao phòng chủ trì".into(),
            lead: Target::Person(outsider.person.id),
            coordinate: vec![],
            inform: vec![],
            deadline: Some(deadline),
        };
        assert!(matches!(
            assign(db, &leader, id, &bad).await,
            Err(ServiceError::Invalid { field: "lead", .. })
        ));
        let good = Assign {
            instruction: "Phòng chủ trì tham mưu báo cáo, trình trước hạn.".into(),
            lead: Target::Unit(unit),
            coordinate: vec![Target::Person(specialist.person.id)],
            inform: vec![Target::Person(clerk.person.id)],
            deadline: Some(deadline),
        };
        assert!(matches!(
            assign(db, &specialist, id, &good).await,
            Err(ServiceError::Forbidden)
        ));
        let tasks = assign(db, &leader, id, &good).await.unwrap();
        assert_eq!(tasks.len(), 3);
        assert_eq!(status(db, "vanthu.skhcn", id).await, "assigned");
        let head_inbox = inbox(db, &head, &cal).await.unwrap();
        assert!(
            head_inbox.to_handle.iter().any(|x| x.id == tasks[0]),
            "the unit head sees the unit's task"
        );
        assert!(inbox(db, &clerk, &cal)
            .await
            .unwrap()
            .for_information
            .iter()
            .any(|x| x.id == tasks[2]));

        // The unit head splits the unit's task to someone of the unit.
        let colleague = sqlx::query_scalar::<_, i64>(
            "SELECT person_id FROM memberships WHERE unit_id = $1 AND person_id <> $2 AND valid_to IS NULL LIMIT 1",
        )
        .bind(unit)
        .bind(head.person.id)
        .fetch_optional(db.pool())
        .await
        .unwrap();
        let worker_id = colleague.unwrap_or(head.person.id);
        assert!(matches!(
            split(db, &head, tasks[0], &[outsider.person.id], "").await,
            Err(ServiceError::Invalid {
                field: "people",
                ..
            })
        ));
        let sub = split(
            db,
            &head,
            tasks[0],
            &[worker_id],
            "Đồng chí chủ trì soạn báo cáo",
        )
        .await
        .unwrap();
        let worker_name = crate::people::get(db, worker_id).await.unwrap().username;
        let worker = principal(db, &worker_name).await;
        assert!(inbox(db, &worker, &cal)
            .await
            .unwrap()
            .to_handle
            .iter()
            .any(|x| x.id == sub[0]));

        // Progress, a request for more time, and completion.
        assert!(matches!(
            record_progress(db, &blobs, &outsider, sub[0], "x", &[]).await,
            Err(ServiceError::Forbidden)
        ));
        record_progress(
            db,
            &blobs,
            &worker,
            sub[0],
            "Đã tổng hợp số liệu của các phòng.",
            &[],
        )
        .await
        .unwrap();
        assert_eq!(status(db, "vanthu.skhcn", id).await, "in_progress");
        request_extension(
            db,
            &worker,
            sub[0],
            deadline + chrono::Duration::days(7),
            "Chờ số liệu",
        )
        .await
        .unwrap();
        grant_extension(db, &leader, tasks[0], deadline + chrono::Duration::days(7))
            .await
            .unwrap();
        complete(db, &worker, sub[0], "Đã trình báo cáo số 15/BC-SKHCN", None)
            .await
            .unwrap();
        assert_eq!(status(db, "vanthu.skhcn", id).await, "done", "{}", t.name);
        assert!(
            inbox(db, &head, &cal)
                .await
                .unwrap()
                .to_handle
                .iter()
                .all(|x| x.id != tasks[0]),
            "the unit's task closed too"
        );
        let doc = get(db, &clerk, id).await.unwrap();
        let kinds: Vec<_> = doc.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "registered",
                "forwarded",
                "assigned",
                "split",
                "progress",
                "extension_requested",
                "extension_granted",
                "completed"
            ]
        );
        assert!(crate::audit::verify(db).await.is_ok());
    }
}

#[tokio::test]
async fn take_back_reassign_and_late_work() {
    let (_d, blobs) = blobs();
    let cal = WorkingCalendar::statutory();
    for t in demo_databases().await {
        let db = &t.db;
        let id = registered(db, &blobs, "102/BKHCN-CĐS").await;
        let leader = principal(db, "giamdoc.skhcn").await;
        let specialist = principal(db, "chuyenvien.skhcn").await;
        let head = principal(db, "truongphong.skhcn").await;
        let a = Assign {
            instruction: "Xử lý".into(),
            lead: Target::Person(specialist.person.id),
            coordinate: vec![],
            inform: vec![],
            deadline: Some(cal.add_working_days(time::today(), 1)),
        };
        let past = Assign {
            deadline: Some(time::today() - chrono::Duration::days(1)),
            ..a.clone()
        };
        assert!(matches!(
            assign(db, &leader, id, &past).await,
            Err(ServiceError::Invalid {
                field: "deadline",
                ..
            })
        ));
        let tasks = assign(db, &leader, id, &a).await.unwrap();
        let inbox1 = inbox(db, &specialist, &cal).await.unwrap();
        assert!(
            inbox1.due_soon.iter().any(|x| x.id == tasks[0]),
            "due within three working days"
        );

        // Overdue work shows in the leader's view by person.
        sqlx::query("UPDATE assignments SET deadline = '2020-01-02' WHERE id = $1")
            .bind(tasks[0])
            .execute(db.pool())
            .await
            .unwrap();
        assert!(inbox(db, &specialist, &cal)
            .await
            .unwrap()
            .overdue
            .iter()
            .any(|x| x.id == tasks[0]));
        let agency = leader.positions[0].agency_id;
        let late = late_work(db, &leader, agency, &cal).await.unwrap();
        assert!(
            late.iter()
                .any(|l| l.person == specialist.person.full_name && l.overdue >= 1),
            "{late:?}"
        );
        assert!(matches!(
            late_work(db, &specialist, agency, &cal).await,
            Err(ServiceError::Forbidden)
        ));

        let new = take_back(db, &leader, tasks[0], Some(Target::Person(head.person.id)))
            .await
            .unwrap()
            .unwrap();
        assert!(inbox(db, &specialist, &cal)
            .await
            .unwrap()
            .to_handle
            .iter()
            .all(|x| x.id != tasks[0]));
        assert!(inbox(db, &head, &cal)
            .await
            .unwrap()
            .to_handle
            .iter()
            .any(|x| x.id == new));
        assert!(matches!(
            take_back(db, &leader, tasks[0], None).await,
            Err(ServiceError::Conflict(_))
        ));
        take_back(db, &leader, new, None).await.unwrap();
        let doc = get(db, &leader, id).await.unwrap();
        assert!(
            doc.events.iter().any(|e| e.kind == "reassigned")
                && doc.events.iter().any(|e| e.kind == "taken_back")
        );
        let tasks_now = tasks_of(db, id).await.unwrap();
        assert_eq!(
            tasks_now
                .iter()
                .map(|x| x.status.as_str())
                .collect::<Vec<_>>(),
            ["reassigned", "taken_back"]
        );
    }
}

//! Exchange on both databases: issuing into the outbox, local delivery with the
//! whole status timeline, replays, every kind of invalid package, and the worker
//! against unreachable, refusing and accepting peers.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{Duration, Utc};
use lienthong_domain::calendar::WorkingCalendar;
use lienthong_domain::document::{Classification, DocumentType, Subject, Urgency};
use lienthong_domain::OrgCode;
use lienthong_edxml::{
    Code, DocumentId, DocumentType as EdxmlType, Limits, MessageHeader, Organization, OtherInfo,
    Package, PromulgationInfo, SignerInfo,
};
use lienthong_pki::{Ca, RevocationReason, RevokeTarget};
use lienthong_store::{time, Actor, BlobStore, Db};
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::outbox::{insert, NewRow};
use super::receive::receive_at;
use super::*;
use crate::documents::outgoing::{self, Decision, NewDraft, Recipient};
use crate::documents::workflow::{self, Assign, Target};
use crate::documents::{self, Upload};
use crate::testing::{demo_databases, principal};

const SKHCN: &str = "000.00.08.H62";
const SYT: &str = "000.00.07.H62";
const STC: &str = "000.00.03.H62";
const UBND: &str = "000.00.00.H62";
/// The demo's Sở TT&TT, merged into the Sở KH&CN on 1 March 2025.
const STTTT: &str = "000.00.10.H62";

/// Why a package to Sở TT&TT is refused while the Sở KH&CN is in force.
fn stttt_ended() -> String {
    format!(
        "agency {STTTT} (Sở Thông tin và Truyền thông) ended on 2025-03-01; \
         its work passed to {SKHCN} (Sở Khoa học và Công nghệ)"
    )
}

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

struct Env {
    _dir: tempfile::TempDir,
    blobs: BlobStore,
    keys: KeyStore,
    http: reqwest::Client,
}

/// Blobs and a CA with certificates for SKHCN, SYT and the People's Committee
/// (not STC: it has no key).
fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::filesystem(&dir.path().join("blobs")).unwrap();
    let (keys, issued) = KeyStore::ensure_demo(
        dir.path().join("pki"),
        &[
            (code(UBND), "Ủy ban nhân dân tỉnh Vĩnh Long".into()),
            (code(SKHCN), "Sở Khoa học và Công nghệ".into()),
            (code(SYT), "Sở Y tế".into()),
        ],
    )
    .unwrap();
    assert_eq!(issued, 3);
    Env {
        _dir: dir,
        blobs,
        keys,
        http: reqwest::Client::new(),
    }
}

/// Issues `agency` a signing certificate from the tests' CA, and makes what waited
/// for one due again.
async fn with_a_key(db: &Db, e: &Env, agency: &str, name: &str) {
    let (_, issued) = KeyStore::ensure_demo(e.keys.dir(), &[(code(agency), name.into())]).unwrap();
    assert_eq!(issued, 1);
    sqlx::query("UPDATE exchange_outbox SET next_attempt_at = $1 WHERE state = 'pending'")
        .bind(time::now())
        .execute(db.pool())
        .await
        .unwrap();
}

async fn agency_id(db: &Db, c: &str) -> i64 {
    crate::org::id_by_code(db, &code(c)).await.unwrap().unwrap()
}

/// An outgoing công văn of SKHCN to SYT, STC and an agency outside by name,
/// with a PDF attached, approved and ready to issue.
async fn approved(db: &Db, e: &Env) -> i64 {
    let specialist = principal(db, "chuyenvien.skhcn").await;
    let head = principal(db, "truongphong.skhcn").await;
    let leader = principal(db, "giamdoc.skhcn").await;
    let agency = specialist.positions[0].agency_id;
    let draft = NewDraft {
        doc_type: DocumentType::CongVan,
        legal_normative: false,
        subject: Subject::parse("Về việc triển khai liên thông văn bản điện tử").unwrap(),
        urgency: Urgency::Urgent,
        classification: Classification::Normal,
        drafting_unit_id: None,
        in_reply_to: None,
        recipients: vec![
            Recipient {
                agency_id: Some(agency_id(db, SYT).await),
                name: "Sở Y tế".into(),
            },
            Recipient {
                agency_id: Some(agency_id(db, STC).await),
                name: "Sở Tài chính".into(),
            },
            Recipient {
                agency_id: None,
                name: "Bộ Khoa học và Công nghệ".into(),
            },
        ],
        signer_name: "Nguyễn Văn Hải".into(),
        page_count: Some(2),
        copies: Some(4),
        retained_copy: "Lưu: VT".into(),
        note: String::new(),
        attachments: vec![Upload {
            file_name: "cong-van.pdf".into(),
            bytes: Bytes::from(
                lienthong_files::to_pdf(&lienthong_files::Table {
                    title: "CÔNG VĂN".into(),
                    subtitle: "Về việc triển khai liên thông văn bản điện tử".into(),
                    columns: vec!["Nội dung".into()],
                    rows: vec![vec!["Đề nghị các đơn vị phối hợp.".into()]],
                })
                .unwrap(),
            ),
            claimed_type: Some("application/pdf".into()),
        }],
    };
    let id = outgoing::create_draft(db, &e.blobs, &specialist, agency, draft)
        .await
        .unwrap();
    outgoing::submit_for_review(db, &specialist, id, head.person.id)
        .await
        .unwrap();
    outgoing::review(
        db,
        &head,
        id,
        Decision::Accept {
            approver_id: Some(leader.person.id),
        },
    )
    .await
    .unwrap();
    outgoing::approve(db, &leader, id, Decision::Accept { approver_id: None })
        .await
        .unwrap();
    id
}

async fn issued(db: &Db, e: &Env) -> i64 {
    let id = approved(db, e).await;
    let clerk = principal(db, "vanthu.skhcn").await;
    outgoing::issue(db, &e.blobs, &e.keys, &clerk, id)
        .await
        .unwrap();
    id
}

/// (id, recipient_code, state, attempts, last_error, xml) of the outbox rows.
async fn outbox(db: &Db, kind: &str) -> Vec<(i64, String, String, i64, Option<String>, Vec<u8>)> {
    sqlx::query("SELECT o.id, o.recipient_code, o.state, o.attempts, o.last_error, p.xml, o.status_code FROM exchange_outbox o JOIN exchange_outbox_packages p ON p.outbox_id = o.id WHERE o.kind = $1 ORDER BY o.id")
        .bind(kind)
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
            )
        })
        .collect()
}

/// The status codes queued, in order, with their recipient.
async fn statuses_queued(db: &Db) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT status_code, recipient_code FROM exchange_outbox WHERE kind = 'status' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// The status package queued with `code` (the only one with it), as written.
async fn queued_status(db: &Db, code: &str) -> lienthong_edxml::StatusPackage {
    let row = sqlx::query(
        "SELECT p.xml FROM exchange_outbox o JOIN exchange_outbox_packages p ON p.outbox_id = o.id
         WHERE o.status_code = $1",
    )
    .bind(code)
    .fetch_one(db.pool())
    .await
    .unwrap();
    lienthong_edxml::StatusPackage::parse(&row.get::<Vec<u8>, _>(0), &Limits::default()).unwrap()
}

/// An outbox row's state and last error.
async fn outbox_state(db: &Db, row: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, last_error FROM exchange_outbox WHERE id = $1")
        .bind(row)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get(0)
}

/// Runs the worker until nothing more is delivered.
async fn drain(db: &Db, e: &Env) -> usize {
    let mut total = 0;
    loop {
        let n = deliver_due(db, &e.blobs, &e.keys, &e.http, "test")
            .await
            .unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

#[tokio::test]
async fn issuing_queues_one_signed_package_per_recipient_with_a_code() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let id = issued(db, &e).await;
        let rows = outbox(db, "document").await;
        let to: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(to, [SYT, STC], "{}", t.name);
        let doc = documents::get(db, &principal(db, "vanthu.skhcn").await, id)
            .await
            .unwrap();
        for (_, recipient, state, attempts, _, xml) in &rows {
            assert_eq!((state.as_str(), *attempts), ("pending", 0));
            let v = lienthong_edxml::verify(xml).unwrap();
            assert_eq!(
                lienthong_pki::agency_code_of(&v.certificate),
                Some(code(SKHCN))
            );
            e.keys
                .trust()
                .unwrap()
                .verify_signer(&v.certificate, &[], Utc::now(), &code(SKHCN))
                .unwrap();
            let p = Package::parse(xml, &Limits::default()).unwrap();
            let h = &p.header;
            assert_eq!(h.from.organ_id, code(SKHCN));
            assert_eq!(h.to.len(), 1);
            assert_eq!(h.to[0].organ_id.as_str(), recipient);
            assert_eq!(h.code.to_string(), doc.symbol);
            let expected = format!(
                "{SKHCN},{},{}",
                time::today().format("%Y/%m/%d"),
                doc.symbol
            );
            assert_eq!(h.document_id.as_ref().unwrap().to_string(), expected);
            assert_eq!(h.document_type.name, "Công văn");
            assert_eq!(h.subject, "Về việc triển khai liên thông văn bản điện tử");
            assert_eq!(h.signer.full_name.as_deref(), Some("Nguyễn Văn Hải"));
            assert_eq!(h.promulgation.place, "Vĩnh Long");
            assert_eq!(h.other.priority, Some(1));
            assert_eq!(h.other.page_amount, Some(2));
            assert_eq!(h.to_places.len(), 3);
            assert_eq!(p.attachments.len(), 1);
            assert_eq!(p.attachments[0].name, "cong-van.pdf");
            assert!(p.attachments[0].bytes.starts_with(b"%PDF-"));
        }
        let events: Vec<String> = doc.events.iter().map(|e| e.kind.clone()).collect();
        assert!(events.contains(&"exchange_queued".to_owned()), "{events:?}");
    }
}

#[tokio::test]
async fn a_failed_issue_leaves_no_outbox_row_and_a_missing_key_sends_nothing() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let clerk = principal(db, "vanthu.skhcn").await;
        // The attachment's blob is gone: the issue fails and rolls back whole.
        let id = approved(db, &e).await;
        let empty = BlobStore::filesystem(&e._dir.path().join("empty")).unwrap();
        assert!(outgoing::issue(db, &empty, &e.keys, &clerk, id)
            .await
            .is_err());
        assert_eq!(count(db, "exchange_outbox").await, 0, "{}", t.name);
        let doc = documents::get(db, &clerk, id).await.unwrap();
        assert_eq!((doc.status.as_str(), doc.number), ("approved", None));

        // Without the agency's key: issued, not sent, and the timeline says why.
        let no_keys = KeyStore::open(e._dir.path().join("nothing"));
        outgoing::issue(db, &e.blobs, &no_keys, &clerk, id)
            .await
            .unwrap();
        assert_eq!(count(db, "exchange_outbox").await, 0);
        let doc = documents::get(db, &clerk, id).await.unwrap();
        assert_eq!(doc.status, "issued");
        let event = doc
            .events
            .iter()
            .find(|e| e.kind == "exchange_not_sent")
            .unwrap();
        assert!(
            event.detail.contains("has no signing certificate"),
            "{}",
            event.detail
        );
    }
}

#[tokio::test]
async fn local_delivery_and_every_status_back_to_the_sender() {
    let e = env();
    let cal = WorkingCalendar::statutory();
    for t in demo_databases().await {
        let db = &t.db;
        let id = issued(db, &e).await;
        let sender = principal(db, "vanthu.skhcn").await;
        // SYT and STC are on this instance (STC needs no key to receive); then
        // SYT's 01 comes back, while STC's waits for a key STC does not have.
        assert_eq!(drain(db, &e).await, 3, "{}", t.name);
        let clerk = principal(db, "vanthu.syt").await;
        let queue = arrivals(db, &clerk).await.unwrap();
        assert_eq!(queue.len(), 1);
        let a = arrival(db, &e.blobs, &clerk, queue[0].id).await.unwrap();
        let doc = documents::get(db, &sender, id).await.unwrap();
        assert_eq!(a.from_code, SKHCN);
        assert_eq!(a.from_name, "Sở Khoa học và Công nghệ");
        assert_eq!(a.from_agency_id, Some(agency_id(db, SKHCN).await));
        assert_eq!(a.symbol, doc.symbol);
        assert_eq!(a.doc_type_name, "Công văn");
        assert_eq!(a.doc_type.as_deref(), Some("CV"));
        assert_eq!(a.subject, doc.subject);
        assert_eq!(Some(a.issued_on.clone()), doc.issued_on);
        assert_eq!(a.urgency, "urgent");
        assert_eq!(a.signer_name, "Nguyễn Văn Hải");
        assert_eq!(a.page_count, Some(2));
        assert_eq!(a.attachment_count, 1);
        assert_eq!(a.attachments[0].name, "cong-van.pdf");
        assert_eq!(a.state, "arrived");
        // Another agency's clerk sees neither the queue nor the arrival.
        assert!(arrivals(db, &sender).await.unwrap().is_empty());
        assert!(matches!(
            arrival(db, &e.blobs, &sender, a.id).await,
            Err(ServiceError::Forbidden)
        ));

        // 01 reached the sender.
        let d = deliveries(db, &sender, id).await.unwrap();
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|one| one.state == "delivered"));
        let codes: Vec<&str> = d[0].statuses.iter().map(|s| s.code.as_str()).collect();
        assert_eq!((d[0].recipient_code.as_str(), codes), (SYT, vec!["01"]));
        assert!(d[1].statuses.is_empty());

        // Registered (03), assigned (04), worked on (05), finished (06).
        let r = register_arrival(db, &e.blobs, &clerk, a.id, Overrides::default())
            .await
            .unwrap();
        let incoming = documents::get(db, &clerk, r.id).await.unwrap();
        assert_eq!(incoming.symbol, doc.symbol);
        assert_eq!(incoming.issuer_agency_id, Some(agency_id(db, SKHCN).await));
        assert_eq!(incoming.issuer_name, "Sở Khoa học và Công nghệ");
        assert_eq!(incoming.attachments.len(), 1);
        assert_eq!(incoming.urgency, "urgent");
        assert!(matches!(
            register_arrival(db, &e.blobs, &clerk, a.id, Overrides::default()).await,
            Err(ServiceError::Conflict(_))
        ));
        let leader = principal(db, "giamdoc.syt").await;
        let specialist = principal(db, "chuyenvien.syt").await;
        let tasks = workflow::assign(
            db,
            &leader,
            r.id,
            &Assign {
                instruction: "Chuyên viên tham mưu.".into(),
                lead: Target::Person(specialist.person.id),
                coordinate: vec![],
                inform: vec![],
                deadline: Some(cal.add_working_days(time::today(), 3)),
            },
        )
        .await
        .unwrap();
        workflow::record_progress(db, &e.blobs, &specialist, tasks[0], "Đang tổng hợp.", &[])
            .await
            .unwrap();
        workflow::record_progress(db, &e.blobs, &specialist, tasks[0], "Còn một phần.", &[])
            .await
            .unwrap();
        workflow::complete(db, &specialist, tasks[0], "Đã báo cáo.", None)
            .await
            .unwrap();
        drain(db, &e).await;
        let d = deliveries(db, &sender, id).await.unwrap();
        let syt = d.iter().find(|x| x.recipient_code == SYT).unwrap();
        let codes: Vec<&str> = syt.statuses.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["01", "03", "04", "05", "06"], "{}", t.name);
        assert_eq!(syt.statuses[1].label, "accepted (đã tiếp nhận)");
        assert_eq!(
            syt.statuses[1].staff.as_deref(),
            Some(clerk.person.full_name.as_str())
        );
        let stc = d.iter().find(|x| x.recipient_code == STC).unwrap();
        assert!(stc.statuses.is_empty());
        // STC's 01 is retried, with the reason recorded, and holds up no one else.
        let waiting: Vec<_> = outbox(db, "status")
            .await
            .into_iter()
            .filter(|r| r.2 == "pending")
            .collect();
        assert_eq!(waiting.len(), 1);
        assert!(waiting[0]
            .4
            .as_deref()
            .unwrap_or("")
            .contains("has no signing certificate"));
        // A status received again changes nothing and gets the same answer; a
        // tampered one is quarantined, and no status answers a status.
        let xml: Vec<u8> = sqlx::query(
            "SELECT p.xml FROM exchange_outbox o JOIN exchange_outbox_packages p ON p.outbox_id = o.id WHERE o.kind = 'status' AND o.state = 'delivered' ORDER BY o.id LIMIT 1",
        )
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get(0);
        let recorded = count(db, "exchange_statuses").await;
        let queued = count(db, "exchange_outbox").await;
        let again = receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap();
        assert!(
            matches!(again, Receipt::Status { ref code, .. } if code == "01"),
            "{again:?}"
        );
        assert_eq!(
            receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap(),
            again
        );
        assert_eq!(count(db, "exchange_statuses").await, recorded);
        let forged = String::from_utf8(xml)
            .unwrap()
            .replace("StatusCode>01<", "StatusCode>06<");
        assert!(forged.contains("StatusCode>06<"));
        let reason = quarantined(db, &e, forged.as_bytes()).await;
        assert!(reason.starts_with("signature: "), "{reason}");
        assert_eq!(count(db, "exchange_outbox").await, queued);
        // A reader of another agency may not see the sender's timeline.
        assert!(deliveries(db, &clerk, id).await.is_err());
    }
}

#[tokio::test]
async fn a_replayed_package_changes_nothing_and_gets_the_same_answer() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        issued(db, &e).await;
        let xml = outbox(db, "document").await[0].5.clone();
        let first = receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap();
        assert!(matches!(first, Receipt::Arrived { .. }), "{first:?}");
        let (inbox, out, audit) = (
            count(db, "exchange_inbox").await,
            count(db, "exchange_outbox").await,
            count(db, "audit_log").await,
        );
        let again = receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap();
        assert_eq!(again, first, "{}", t.name);
        assert_eq!(count(db, "exchange_inbox").await, inbox);
        assert_eq!(count(db, "exchange_outbox").await, out);
        assert_eq!(count(db, "audit_log").await, audit);

        // A refused package replayed: the same quarantine row and answer.
        let bad = receive(db, &e.blobs, &e.keys, &b"not xml"[..])
            .await
            .unwrap();
        let quarantined = count(db, "exchange_quarantine").await;
        assert_eq!(
            receive(db, &e.blobs, &e.keys, &b"not xml"[..])
                .await
                .unwrap(),
            bad
        );
        assert_eq!(count(db, "exchange_quarantine").await, quarantined);
    }
}

/// A package from `from` to `to` with the fields a receiver needs.
fn package(from: &str, to: &str, number: u32) -> Package {
    let date = time::today();
    let symbol = format!("{number}/SKHCN-VP");
    Package {
        header: MessageHeader {
            from: Organization::new(code(from), "Sở Khoa học và Công nghệ"),
            to: vec![Organization::new(code(to), "Sở Y tế")],
            document_id: Some(DocumentId {
                organ_id: code(from),
                date,
                code: symbol,
            }),
            code: Code {
                number: number.to_string(),
                notation: "SKHCN-VP".into(),
            },
            promulgation: PromulgationInfo {
                place: "Vĩnh Long".into(),
                date,
            },
            document_type: EdxmlType {
                kind: "2".into(),
                detail: None,
                name: "Công văn".into(),
            },
            subject: "Về việc kiểm thử".into(),
            content: None,
            signer: SignerInfo::default(),
            due_date: None,
            to_places: vec![],
            other: OtherInfo::default(),
            steering_type: None,
            response_for: vec![],
        },
        traces: vec![],
        business: None,
        attachments: vec![],
    }
}

fn signed(e: &Env, signer: &str, p: &Package) -> Vec<u8> {
    let s = e.keys.signer(&code(signer)).unwrap();
    lienthong_edxml::sign(&p.to_xml().unwrap(), &s.key, &s.cert).unwrap()
}

async fn quarantined(db: &Db, e: &Env, bytes: &[u8]) -> String {
    match receive(db, &e.blobs, &e.keys, bytes.to_vec())
        .await
        .unwrap()
    {
        Receipt::Quarantined { reason, .. } => reason,
        other => panic!("accepted: {other:?}"),
    }
}

#[tokio::test]
async fn invalid_packages_are_quarantined_with_the_exact_reason() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        // A changed byte after signing.
        let good = signed(&e, SKHCN, &package(SKHCN, SYT, 1));
        let text = String::from_utf8(good.clone()).unwrap();
        let tampered = text.replace("kiểm thử", "kiểm thữ").into_bytes();
        assert_ne!(tampered, good);
        assert_eq!(
            quarantined(db, &e, &tampered).await,
            "signature: the digest does not match: the package was changed after it was signed",
            "{}",
            t.name
        );
        assert_eq!(
            statuses_queued(db).await,
            [("02".to_owned(), SKHCN.to_owned())]
        );

        // Signed by SKHCN, claiming to come from STC.
        let forged = signed(&e, SKHCN, &package(STC, SYT, 2));
        assert_eq!(
            quarantined(db, &e, &forged).await,
            format!("certificate: the certificate belongs to agency {SKHCN}, not to the sending agency {STC}")
        );

        // Expired: the same good package, checked three years on.
        let reason = match receive_at(
            db,
            &e.blobs,
            &e.keys,
            good.clone().into(),
            Utc::now() + Duration::days(3 * 365),
        )
        .await
        .unwrap()
        {
            Receipt::Quarantined { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert!(
            reason.starts_with("certificate: the certificate expired on "),
            "{reason}"
        );

        // Unknown recipient.
        let elsewhere = signed(&e, SKHCN, &package(SKHCN, "000.00.11.H63", 3));
        assert_eq!(
            quarantined(db, &e, &elsewhere).await,
            "none of the receiving agencies (000.00.11.H63) is served by this system"
        );

        // Not XML, and a DTD: nobody to answer.
        let before = statuses_queued(db).await.len();
        let reason = quarantined(db, &e, b"\x00\x01 garbage").await;
        assert!(reason.starts_with("not well-formed XML"), "{reason}");
        let dtd = br#"<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>"#;
        assert_eq!(
            quarantined(db, &e, dtd).await,
            lienthong_edxml::EdxmlError::DoctypeRefused.to_string()
        );
        assert_eq!(statuses_queued(db).await.len(), before);

        // Revoked (key compromise): refused from the moment of revocation.
        let mut ca = Ca::open(e.keys.ca_dir()).unwrap();
        let fresh = signed(&e, SYT, &package(SYT, SKHCN, 4));
        ca.revoke(
            &RevokeTarget::Org(code(SYT)),
            RevocationReason::KeyCompromise,
        )
        .unwrap();
        let reason = quarantined(db, &e, &fresh).await;
        assert!(
            reason.starts_with("certificate: the certificate (serial "),
            "{reason}"
        );
        assert!(reason.contains("was revoked on"), "{reason}");

        // The clerk of the recipient agency and the administrator see them.
        let admin = principal(db, "admin").await;
        let all = quarantine(db, &admin, 100).await.unwrap();
        assert_eq!(all.len(), 7, "{all:?}");
        let syt = quarantine(db, &principal(db, "vanthu.syt").await, 100)
            .await
            .unwrap();
        assert!(syt.iter().any(|q| q.reason.contains("digest")));
        let syt_id = agency_id(db, SYT).await;
        assert!(syt.iter().all(|q| q.recipient_agency_id == Some(syt_id)));
        assert!(matches!(
            quarantine(db, &principal(db, "chuyenvien.syt").await, 100).await,
            Err(ServiceError::Forbidden)
        ));
        // Undo the revocation for the next database: a fresh certificate.
        std::fs::remove_file(e.keys.agencies_dir().join(format!("{SYT}.pem"))).unwrap();
        std::fs::remove_file(e.keys.agencies_dir().join(format!("{SYT}.key"))).unwrap();
        KeyStore::ensure_demo(e.keys.dir(), &[(code(SYT), "Sở Y tế".into())]).unwrap();
    }
}

#[tokio::test]
async fn refusing_an_arrival_sends_status_02_with_the_reason() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let xml = signed(&e, SKHCN, &package(SKHCN, SYT, 9));
        let Receipt::Arrived { inbox_ids, .. } =
            receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap()
        else {
            panic!()
        };
        let clerk = principal(db, "vanthu.syt").await;
        assert!(matches!(
            refuse_arrival(db, &clerk, inbox_ids[0], " ").await,
            Err(ServiceError::Invalid {
                field: "reason",
                ..
            })
        ));
        refuse_arrival(db, &clerk, inbox_ids[0], "Gửi nhầm cơ quan")
            .await
            .unwrap();
        assert!(arrivals(db, &clerk).await.unwrap().is_empty(), "{}", t.name);
        let status = queued_status(db, "02").await;
        assert_eq!(status.description.as_deref(), Some("Gửi nhầm cơ quan"));
        assert_eq!(status.from.organ_id, code(SYT));
    }
}

/// A package row to an agency of another province, served by `base`.
async fn queue_to_peer(db: &Db, to: &str, body: &str) -> i64 {
    let skhcn = agency_id(db, SKHCN).await;
    let mut tx = db.write().await.unwrap();
    let id = insert(
        &mut tx,
        NewRow {
            kind: "document",
            sender_agency_id: skhcn,
            sender_code: SKHCN,
            recipient_code: to,
            recipient_name: "Sở ngoài tỉnh",
            edxml_document_id: "000.00.08.H62,2026/01/01,1/SKHCN-VP",
            document_id: None,
            status_code: None,
            xml: body.as_bytes(),
            signed: true,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Empties the outbox and the peer directory, for the next backend's turn.
async fn forget_outbox_and_peers(db: &Db) {
    for table in ["exchange_outbox", "exchange_peers"] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(db.pool())
            .await
            .unwrap();
    }
}

/// A peer that answers every POST with `status` and records the bodies.
async fn peer(status: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 8192];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
                    buf.drain(..head_end + len);
                    record.lock().unwrap().push(body);
                    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
                    if socket.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn an_unreachable_peer_is_retried_with_backoff_in_order() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let admin = Actor::system("test");
        // Port 1 on the loopback: nothing listens there.
        add_peer(
            db,
            &admin,
            &code("000.00.00.H63"),
            "http://127.0.0.1:1",
            "Tỉnh H63",
        )
        .await
        .unwrap();
        let first = queue_to_peer(db, "000.00.11.H63", "<first/>").await;
        let second = queue_to_peer(db, "000.00.11.H63", "<second/>").await;
        let before = Utc::now();
        assert_eq!(
            deliver_due(db, &e.blobs, &e.keys, &e.http, "n1")
                .await
                .unwrap(),
            0
        );
        let row = sqlx::query("SELECT state, attempts, last_error, next_attempt_at, claimed_by FROM exchange_outbox WHERE id = $1")
            .bind(first)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), "pending", "{}", t.name);
        assert_eq!(row.get::<i64, _>(1), 1);
        let error: String = row.get(2);
        assert!(
            error.starts_with("POST http://127.0.0.1:1/edxml/v1/packages"),
            "{error}"
        );
        let next: String = row.get(3);
        assert!(
            next >= time::timestamp(before + Duration::milliseconds(1500)),
            "{next}"
        );
        assert!(
            next <= time::timestamp(Utc::now() + Duration::milliseconds(2500)),
            "{next}"
        );
        assert_eq!(row.get::<Option<String>, _>(4), None);
        // The second waits behind the first.
        let attempts: i64 = sqlx::query("SELECT attempts FROM exchange_outbox WHERE id = $1")
            .bind(second)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(attempts, 0);
        // Not due yet: nothing is attempted.
        assert_eq!(
            deliver_due(db, &e.blobs, &e.keys, &e.http, "n1")
                .await
                .unwrap(),
            0
        );
        assert_eq!(outbox(db, "document").await[0].3, 1);
        // Due again: the second failure waits about twice as long.
        sqlx::query("UPDATE exchange_outbox SET next_attempt_at = $1")
            .bind(time::now())
            .execute(db.pool())
            .await
            .unwrap();
        deliver_due(db, &e.blobs, &e.keys, &e.http, "n1")
            .await
            .unwrap();
        let rows = outbox(db, "document").await;
        assert_eq!((rows[0].2.as_str(), rows[0].3), ("pending", 2));
        assert_eq!(rows[1].3, 0);

        // The peer comes up and refuses the first for good: the second goes next.
        let (url, seen) = peer("400 Bad Request").await;
        add_peer(db, &admin, &code("000.00.00.H63"), &url, "Tỉnh H63")
            .await
            .unwrap();
        sqlx::query("UPDATE exchange_outbox SET next_attempt_at = $1")
            .bind(time::now())
            .execute(db.pool())
            .await
            .unwrap();
        // One claim takes both; the second goes only once the first has its answer.
        deliver_due(db, &e.blobs, &e.keys, &e.http, "n1")
            .await
            .unwrap();
        let rows = outbox(db, "document").await;
        assert_eq!(rows[0].2, "dead");
        assert!(
            rows[0].4.as_deref().unwrap().contains("400"),
            "{:?}",
            rows[0].4
        );
        assert_eq!((rows[1].2.as_str(), rows[1].3), ("dead", 1));
        assert_eq!(*seen.lock().unwrap(), ["<first/>", "<second/>"]);
        forget_outbox_and_peers(db).await;
    }
}

#[test]
fn backoff_doubles_up_to_ten_minutes_with_jitter() {
    for (attempts, base) in [
        (1, 2.0),
        (2, 4.0),
        (5, 32.0),
        (9, 512.0),
        (10, 600.0),
        (50, 600.0),
    ] {
        for _ in 0..20 {
            let d = super::outbox::backoff(attempts).num_milliseconds() as f64 / 1000.0;
            assert!(
                d >= base * 0.8 - 0.001 && d <= base * 1.2 + 0.001,
                "{attempts}: {d}"
            );
        }
    }
}

#[tokio::test]
async fn a_removed_peer_leaves_its_packages_waiting_for_a_route() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let admin = Actor::system("test");
        let (url, seen) = peer("200 OK").await;
        add_peer(db, &admin, &code("000.00.00.H63"), &url, "Tỉnh H63")
            .await
            .unwrap();
        assert!(
            remove_peer(db, &admin, &code("000.00.00.H63"))
                .await
                .unwrap(),
            "{}",
            t.name
        );
        assert!(!remove_peer(db, &admin, &code("000.00.00.H63"))
            .await
            .unwrap());
        assert!(peers(db).await.unwrap().is_empty());
        let removals: i64 =
            sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'exchange.peer_removed'")
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get(0);
        assert_eq!(removals, 1, "only the removal that happened is audited");

        let row = queue_to_peer(db, "000.00.11.H63", "<waits/>").await;
        assert_eq!(
            deliver_due(db, &e.blobs, &e.keys, &e.http, "n1")
                .await
                .unwrap(),
            0
        );
        let (state, error) = outbox_state(db, row).await;
        assert_eq!(state, "pending", "{}", t.name);
        assert!(error.is_some_and(|e| e.contains("no route")));
        assert!(seen.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_package_to_a_merged_agency_is_refused_naming_its_successor() {
    let ended = stttt_ended();
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        // From another system that still has the old code: refused with the reason,
        // and the sender told so with a 02.
        let xml = signed(&e, SYT, &package(SYT, STTTT, 91));
        assert_eq!(quarantined(db, &e, &xml).await, ended, "{}", t.name);
        assert_eq!(
            statuses_queued(db).await,
            vec![("02".to_owned(), SYT.to_owned())]
        );
        let status = queued_status(db, "02").await;
        assert_eq!(status.description.as_deref(), Some(ended.as_str()));

        // Queued here for it: given up at once with the same reason, not retried.
        let row = queue_to_peer(db, STTTT, "<never-sent/>").await;
        deliver_due(db, &e.blobs, &e.keys, &e.http, "n1")
            .await
            .unwrap();
        let (state, error) = outbox_state(db, row).await;
        assert_eq!(
            (state.as_str(), error.as_deref()),
            ("dead", Some(ended.as_str())),
            "{}",
            t.name
        );
    }
}

/// The status packages queued, as (code, from, to), in order.
async fn statuses_from(db: &Db) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT status_code, sender_code, recipient_code FROM exchange_outbox WHERE kind = 'status' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn an_ended_agency_that_can_still_sign_answers_for_itself() {
    // A status is filed by its sender against the recipient it comes from: a 02
    // from the province's agency about a package sent to Sở TT&TT is about nothing
    // sent there. When Sở TT&TT (merged in 2025) still holds a valid certificate,
    // the refusal comes from it.
    let ended = stttt_ended();
    for t in demo_databases().await {
        // A key store each: Sở TT&TT is given a key below.
        let e = env();
        let db = &t.db;
        let xml = signed(&e, SYT, &package(SYT, STTTT, 93));
        assert_eq!(quarantined(db, &e, &xml).await, ended, "{}", t.name);
        // Without a key of its own the province's agency answers, as before.
        let (syt, ubnd) = (SYT.to_owned(), UBND.to_owned());
        assert_eq!(
            statuses_from(db).await,
            vec![("02".into(), ubnd, syt.clone())]
        );

        with_a_key(db, &e, STTTT, "Sở Thông tin và Truyền thông").await;
        let xml = signed(&e, SYT, &package(SYT, STTTT, 94));
        assert_eq!(quarantined(db, &e, &xml).await, ended, "{}", t.name);
        let stttt = STTTT.to_owned();
        assert_eq!(
            statuses_from(db).await.last(),
            Some(&("02".into(), stttt.clone(), syt.clone())),
            "{}",
            t.name
        );
        sqlx::query("DELETE FROM exchange_outbox")
            .execute(db.pool())
            .await
            .unwrap();

        // To Sở KH&CN and Sở TT&TT together: filed for the one, refused by the other
        // in the same breath; received again, nothing more is queued.
        let mut both = package(SYT, SKHCN, 95);
        both.header.to.push(lienthong_edxml::Organization::new(
            code(STTTT),
            "Sở Thông tin và Truyền thông",
        ));
        let xml = signed(&e, SYT, &both);
        let receipt = receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap();
        assert!(
            matches!(receipt, Receipt::Arrived { ref inbox_ids, .. } if inbox_ids.len() == 1),
            "{receipt:?}"
        );
        let expected = vec![
            ("01".to_owned(), SKHCN.to_owned(), syt.clone()),
            ("02".to_owned(), stttt.clone(), syt.clone()),
        ];
        assert_eq!(statuses_from(db).await, expected, "{}", t.name);
        assert_eq!(
            queued_status(db, "02").await.description.as_deref(),
            Some(ended.as_str())
        );
        assert_eq!(receive(db, &e.blobs, &e.keys, xml).await.unwrap(), receipt);
        assert_eq!(statuses_from(db).await, expected, "{}", t.name);
    }
}

#[tokio::test]
async fn a_refusal_names_who_carries_on_today_when_the_successor_merged_again() {
    // Sở TT&TT merged into the Sở KH&CN in March 2025; say the Sở KH&CN is merged
    // in turn into the Sở Tài chính today. A sender still using the oldest code is
    // sent to the agency in force, not to the one that has ended too.
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let request = lienthong_domain::agency::ReorganisationRequest {
            kind: lienthong_domain::ReorganisationKind::Merge,
            effective_on: time::today(),
            subjects: vec![agency_id(db, SKHCN).await],
            successors: vec![agency_id(db, STC).await],
            new_name: None,
            new_parent: None,
        };
        crate::org::reorganise(db, &Actor::system("test"), &request, "")
            .await
            .unwrap();
        let xml = signed(&e, SYT, &package(SYT, STTTT, 92));
        assert_eq!(
            quarantined(db, &e, &xml).await,
            format!(
                "agency {STTTT} (Sở Thông tin và Truyền thông) ended on 2025-03-01; \
                 its work passed to {STC} (Sở Tài chính)"
            ),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn concurrent_workers_deliver_each_row_once_and_in_order() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let (url, seen) = peer("200 OK").await;
        add_peer(db, &Actor::system("test"), &code("000.00.00.H63"), &url, "")
            .await
            .unwrap();
        let mut expected = Vec::new();
        for i in 0..40 {
            let to = format!("000.00.{:02}.H63", 10 + i % 4);
            let body = format!("<p to=\"{to}\" n=\"{i}\"/>");
            queue_to_peer(db, &to, &body).await;
            expected.push(body);
        }
        let mut workers = Vec::new();
        for n in 0..3 {
            let (db, blobs, keys, http) =
                (db.clone(), e.blobs.clone(), e.keys.clone(), e.http.clone());
            workers.push(tokio::spawn(async move {
                let node = format!("node-{n}");
                for _ in 0..200 {
                    deliver_due(&db, &blobs, &keys, &http, &node).await.unwrap();
                    let left: i64 =
                        sqlx::query("SELECT COUNT(*) FROM exchange_outbox WHERE state = 'pending'")
                            .fetch_one(db.pool())
                            .await
                            .unwrap()
                            .get(0);
                    if left == 0 {
                        return;
                    }
                }
            }));
        }
        for w in workers {
            w.await.unwrap();
        }
        let got = seen.lock().unwrap().clone();
        let mut sorted = got.clone();
        sorted.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(sorted, want, "each row exactly once ({})", t.name);
        // Per recipient, in the order queued.
        for r in 10..14 {
            let to = format!("to=\"000.00.{r}.H63\"");
            let mine: Vec<&String> = got.iter().filter(|b| b.contains(&to)).collect();
            let queued: Vec<&String> = expected.iter().filter(|b| b.contains(&to)).collect();
            assert_eq!(mine, queued);
        }
        forget_outbox_and_peers(db).await;
    }
}

/// A peer that takes requests and never answers.
async fn silent_peer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut sink = [0u8; 8192];
                while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
            });
        }
    });
    url
}

#[tokio::test]
async fn a_peer_that_never_answers_holds_up_only_its_own_packages() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let admin = Actor::system("test");
        add_peer(db, &admin, &code("000.00.00.H63"), &silent_peer().await, "")
            .await
            .unwrap();
        let (url, seen) = peer("200 OK").await;
        add_peer(db, &admin, &code("000.00.00.H64"), &url, "")
            .await
            .unwrap();
        let stuck = queue_to_peer(db, "000.00.11.H63", "<stuck/>").await;
        let worker = {
            let (db, blobs, keys, http) =
                (db.clone(), e.blobs.clone(), e.keys.clone(), e.http.clone());
            tokio::spawn(
                async move { deliver_continuously(&db, &blobs, &keys, &http, "node-1").await },
            )
        };
        // Queued once the worker is waiting on the silent peer, on two servers.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let mut rows = Vec::new();
        for (i, to) in ["000.00.11.H64", "000.00.12.H64", "000.00.11.H64"]
            .iter()
            .enumerate()
        {
            rows.push(queue_to_peer(db, to, &format!("<p to=\"{to}\" n=\"{i}\"/>")).await);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let mut states = Vec::new();
            for row in &rows {
                states.push(outbox_state(db, *row).await.0);
            }
            if states.iter().all(|s| s == "delivered") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: the answering peer's packages wait behind the silent one: {states:?}",
                t.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        worker.abort();
        // In order per recipient; the silent peer's package still waits for its answer.
        let got = seen.lock().unwrap().clone();
        let to_11: Vec<&String> = got.iter().filter(|b| b.contains("000.00.11.H64")).collect();
        assert_eq!(
            to_11,
            [
                "<p to=\"000.00.11.H64\" n=\"0\"/>",
                "<p to=\"000.00.11.H64\" n=\"2\"/>"
            ]
        );
        assert_eq!(got.len(), 3);
        assert_eq!(outbox_state(db, stuck).await, ("pending".to_owned(), None));
        forget_outbox_and_peers(db).await;
    }
}

#[tokio::test]
async fn without_a_trust_store_a_package_is_not_refused_but_left_for_later() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let xml = signed(&e, SKHCN, &package(SKHCN, SYT, 11));
        let nothing = KeyStore::open(e._dir.path().join("no-pki"));
        assert!(
            receive(db, &e.blobs, &nothing, xml.clone()).await.is_err(),
            "{}",
            t.name
        );
        assert_eq!(count(db, "exchange_quarantine").await, 0);
        assert_eq!(count(db, "exchange_inbox").await, 0);
        // Once the keys are in place, the same package is accepted.
        assert!(matches!(
            receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap(),
            Receipt::Arrived { .. }
        ));
    }
}

/// The codes of the statuses `recipient` sent back about outgoing document `id`.
async fn codes_from(db: &Db, id: i64, recipient: &str) -> Vec<(String, Option<String>)> {
    let sender = principal(db, "vanthu.skhcn").await;
    deliveries(db, &sender, id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.recipient_code == recipient)
        .unwrap()
        .statuses
        .into_iter()
        .map(|s| (s.code, s.description))
        .collect()
}

fn codes(v: &[(String, Option<String>)]) -> Vec<&str> {
    v.iter().map(|(c, _)| c.as_str()).collect()
}

#[tokio::test]
async fn a_recall_before_registration_takes_the_arrival_back_with_13() {
    for t in demo_databases().await {
        // Its own keys: STC is given one along the way.
        let e = env();
        let db = &t.db;
        let id = issued(db, &e).await;
        drain(db, &e).await;
        let clerk = principal(db, "vanthu.syt").await;
        assert_eq!(arrivals(db, &clerk).await.unwrap().len(), 1, "{}", t.name);
        let sender = principal(db, "vanthu.skhcn").await;
        // Nobody but a clerk of the issuing agency recalls it.
        for who in ["chuyenvien.skhcn", "vanthu.syt"] {
            let p = principal(db, who).await;
            assert!(
                matches!(
                    recall(db, &e.blobs, &p, id, RequestKind::Recall, "Sai sót").await,
                    Err(ServiceError::Forbidden)
                ),
                "{who}"
            );
        }
        assert!(matches!(
            recall(db, &e.blobs, &sender, id, RequestKind::Recall, "  ").await,
            Err(ServiceError::Invalid {
                field: "reason",
                ..
            })
        ));
        let audit = count(db, "audit_log").await;
        let queued = recall(
            db,
            &e.blobs,
            &sender,
            id,
            RequestKind::Recall,
            "Sai sót số liệu",
        )
        .await
        .unwrap();
        assert_eq!(queued, 2, "SYT and STC, which it was sent to");
        assert!(count(db, "audit_log").await > audit);
        let rows = outbox(db, "request").await;
        assert_eq!(rows.len(), 2);
        drain(db, &e).await;
        // Signed by the worker, with the Bussiness block and no attachment.
        let rows = outbox(db, "request").await;
        assert!(rows.iter().all(|r| r.2 == "delivered"), "{rows:?}");
        let v = lienthong_edxml::verify(&rows[0].5).unwrap();
        assert_eq!(
            lienthong_pki::agency_code_of(&v.certificate),
            Some(code(SKHCN))
        );
        let p = Package::parse(&rows[0].5, &Limits::default()).unwrap();
        let b = p.business.unwrap();
        assert_eq!(b.doc_type, lienthong_edxml::BusinessDocType::Recall);
        assert_eq!(b.reason.as_deref(), Some("Sai sót số liệu"));
        assert!(p.attachments.is_empty());

        assert!(arrivals(db, &clerk).await.unwrap().is_empty(), "{}", t.name);
        assert_eq!(codes(&codes_from(db, id, SYT).await), ["01", "13"]);
        let doc = documents::get(db, &sender, id).await.unwrap();
        assert!(doc.events.iter().any(|e| e.kind == "exchange_request_sent"));
        // STC (without a key in these tests) has not answered yet: still issued.
        assert_eq!(doc.status, "issued", "{}", t.name);
        // Once it has one, its 01 and 13 go out: every agency gave it back, and the
        // sender's document is recalled, once.
        with_a_key(db, &e, STC, "Sở Tài chính").await;
        drain(db, &e).await;
        assert_eq!(codes(&codes_from(db, id, STC).await), ["01", "13"]);
        let doc = documents::get(db, &sender, id).await.unwrap();
        assert_eq!(doc.status, "recalled", "{}", t.name);
        let done: Vec<_> = doc
            .events
            .iter()
            .filter(|e| e.kind == "exchange_recall_done")
            .collect();
        assert_eq!(done.len(), 1);
        assert!(matches!(
            recall(db, &e.blobs, &sender, id, RequestKind::Recall, "Lần nữa").await,
            Err(ServiceError::Invalid {
                field: "status",
                ..
            })
        ));
        // Nothing to register any more.
        let inbox: i64 = sqlx::query(
            "SELECT id FROM exchange_inbox WHERE state = 'recalled' ORDER BY id LIMIT 1",
        )
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get(0);
        assert!(
            register_arrival(db, &e.blobs, &clerk, inbox, Overrides::default())
                .await
                .is_err()
        );

        // A replay of the same request package: the same answer, nothing changes.
        let xml = rows[0].5.clone();
        let (requests_before, out, audit) = (
            count(db, "exchange_requests").await,
            count(db, "exchange_outbox").await,
            count(db, "audit_log").await,
        );
        let first = receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap();
        assert!(matches!(first, Receipt::Request { .. }), "{first:?}");
        assert_eq!(
            receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap(),
            first
        );
        assert_eq!(count(db, "exchange_requests").await, requests_before);
        assert_eq!(count(db, "exchange_outbox").await, out);
        assert_eq!(count(db, "audit_log").await, audit);
    }
}

#[tokio::test]
async fn an_update_before_registration_replaces_the_arrival_with_15() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let id = issued(db, &e).await;
        drain(db, &e).await;
        let sender = principal(db, "vanthu.skhcn").await;
        sqlx::query("UPDATE documents SET subject = $1 WHERE id = $2")
            .bind("Về việc triển khai liên thông văn bản điện tử (đính chính)")
            .bind(id)
            .execute(db.pool())
            .await
            .unwrap();
        recall(
            db,
            &e.blobs,
            &sender,
            id,
            RequestKind::Update,
            "Đính chính trích yếu",
        )
        .await
        .unwrap();
        drain(db, &e).await;
        let clerk = principal(db, "vanthu.syt").await;
        let queue = arrivals(db, &clerk).await.unwrap();
        assert_eq!(queue.len(), 1, "{}", t.name);
        let a = arrival(db, &e.blobs, &clerk, queue[0].id).await.unwrap();
        assert_eq!(
            a.subject,
            "Về việc triển khai liên thông văn bản điện tử (đính chính)"
        );
        assert_eq!(a.attachments.len(), 1);
        assert_eq!(codes(&codes_from(db, id, SYT).await), ["01", "15"]);
        // Registered, the document has the new particulars.
        let r = register_arrival(db, &e.blobs, &clerk, a.id, Overrides::default())
            .await
            .unwrap();
        let incoming = documents::get(db, &clerk, r.id).await.unwrap();
        assert!(incoming.subject.ends_with("(đính chính)"));
    }
}

#[tokio::test]
async fn after_registration_the_clerk_agrees_or_refuses_with_15_or_16() {
    for t in demo_databases().await {
        // Its own keys: STC is given one along the way.
        let e = env();
        let db = &t.db;
        let id = issued(db, &e).await;
        drain(db, &e).await;
        let sender = principal(db, "vanthu.skhcn").await;
        let clerk = principal(db, "vanthu.syt").await;
        let a = arrivals(db, &clerk).await.unwrap()[0].id;
        let r = register_arrival(db, &e.blobs, &clerk, a, Overrides::default())
            .await
            .unwrap();

        // A recall waits for the clerk, who refuses it with a reason: 16.
        recall(db, &e.blobs, &sender, id, RequestKind::Recall, "Gửi nhầm")
            .await
            .unwrap();
        drain(db, &e).await;
        let pending = requests(db, &clerk).await.unwrap();
        assert_eq!(pending.len(), 1, "{}", t.name);
        assert_eq!(
            (pending[0].kind.as_str(), pending[0].reason.as_str()),
            ("recall", "Gửi nhầm")
        );
        assert_eq!(pending[0].incoming_document_id, Some(r.id));
        assert!(requests(db, &sender).await.unwrap().is_empty());
        assert!(matches!(
            request(db, &sender, pending[0].id).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            refuse_request(db, &sender, pending[0].id, "Không").await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            refuse_request(db, &clerk, pending[0].id, " ").await,
            Err(ServiceError::Invalid { .. })
        ));
        refuse_request(db, &clerk, pending[0].id, "Văn bản đã được phân công xử lý")
            .await
            .unwrap();
        assert!(matches!(
            agree_request(db, &e.blobs, &clerk, pending[0].id).await,
            Err(ServiceError::Conflict(_))
        ));
        drain(db, &e).await;
        let back = codes_from(db, id, SYT).await;
        assert_eq!(codes(&back), ["01", "03", "16"]);
        // SYT refused: the document stays issued.
        assert_eq!(
            documents::get(db, &sender, id).await.unwrap().status,
            "issued",
            "{}",
            t.name
        );
        assert_eq!(
            back[2].1.as_deref(),
            Some("Văn bản đã được phân công xử lý")
        );

        // An update, agreed: 15, the new attachments added, the timeline says so.
        recall(
            db,
            &e.blobs,
            &sender,
            id,
            RequestKind::Update,
            "Bổ sung phụ lục",
        )
        .await
        .unwrap();
        drain(db, &e).await;
        let pending = requests(db, &clerk).await.unwrap();
        assert_eq!(pending.len(), 1);
        agree_request(db, &e.blobs, &clerk, pending[0].id)
            .await
            .unwrap();
        let incoming = documents::get(db, &clerk, r.id).await.unwrap();
        assert_eq!(incoming.attachments.len(), 2);
        assert!(incoming.events.iter().any(|e| e.kind == "exchange_updated"));
        drain(db, &e).await;
        assert_eq!(
            documents::get(db, &sender, id).await.unwrap().status,
            "issued",
            "an update agreed to (15) is no recall"
        );

        // A recall, agreed: 15, the incoming document is marked recalled, and the
        // task it was being handled under is withdrawn.
        let leader = principal(db, "giamdoc.syt").await;
        let specialist = principal(db, "chuyenvien.syt").await;
        let task = documents::workflow::assign(
            db,
            &leader,
            r.id,
            &documents::workflow::Assign {
                instruction: "Nghiên cứu, tham mưu".into(),
                lead: documents::workflow::Target::Person(specialist.person.id),
                coordinate: vec![],
                inform: vec![],
                deadline: None,
            },
        )
        .await
        .unwrap()[0];
        recall(
            db,
            &e.blobs,
            &sender,
            id,
            RequestKind::Recall,
            "Thu hồi để ban hành lại",
        )
        .await
        .unwrap();
        drain(db, &e).await;
        let pending = requests(db, &clerk).await.unwrap();
        agree_request(db, &e.blobs, &clerk, pending[0].id)
            .await
            .unwrap();
        drain(db, &e).await;
        let incoming = documents::get(db, &clerk, r.id).await.unwrap();
        assert_eq!(incoming.status, "recalled");
        assert!(incoming
            .events
            .iter()
            .any(|e| e.kind == "exchange_recalled"));
        let tasks = documents::workflow::tasks_of(db, r.id).await.unwrap();
        let task = tasks.iter().find(|t| t.id == task).unwrap();
        assert_eq!(
            (task.status.as_str(), task.result.as_str()),
            ("withdrawn", "Thu hồi để ban hành lại"),
            "{}",
            t.name
        );
        assert_eq!(
            codes(&codes_from(db, id, SYT).await),
            ["01", "03", "16", "15", "04", "15"]
        );
        assert!(requests(db, &clerk).await.unwrap().is_empty());
        // SYT agreed, but STC (without a key) has not answered.
        assert_eq!(
            documents::get(db, &sender, id).await.unwrap().status,
            "issued"
        );
        // It took the document back before registering it, and answers each recall
        // so: once its answers go out, the document is recalled.
        with_a_key(db, &e, STC, "Sở Tài chính").await;
        drain(db, &e).await;
        let outgoing = documents::get(db, &sender, id).await.unwrap();
        assert_eq!(outgoing.status, "recalled", "{}", t.name);
        assert!(outgoing
            .events
            .iter()
            .any(|e| e.kind == "exchange_recall_done"));
    }
}

#[tokio::test]
async fn a_recall_of_a_document_never_received_is_refused_with_16() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        let mut p = package(SKHCN, SYT, 31);
        p.business = Some(lienthong_edxml::Business {
            doc_type: lienthong_edxml::BusinessDocType::Recall,
            reason: Some("Sai sót".into()),
        });
        let xml = signed(&e, SKHCN, &p);
        let reason = quarantined(db, &e, &xml).await;
        assert!(
            reason.contains("which none of its receiving agencies here received"),
            "{reason}"
        );
        assert_eq!(
            statuses_queued(db).await,
            [("16".to_owned(), SKHCN.to_owned())],
            "{}",
            t.name
        );
        let status = queued_status(db, "16").await;
        assert_eq!(status.description.as_deref(), Some(reason.as_str()));
        assert_eq!(count(db, "exchange_inbox").await, 0);
        assert_eq!(count(db, "exchange_requests").await, 0);
        // Again: the same answer, nothing more queued.
        assert_eq!(quarantined(db, &e, &xml).await, reason);
        assert_eq!(statuses_queued(db).await.len(), 1);
    }
}

#[tokio::test]
async fn refusals_found_with_the_filing_answer_replays_the_same() {
    let e = env();
    for t in demo_databases().await {
        let db = &t.db;
        // A status from SYT about a document SKHCN never sent it: checked with the
        // filing of the statuses that arrive together, and refused.
        let status = lienthong_edxml::StatusPackage {
            from: Organization::new(code(SYT), "Sở Y tế"),
            response_for: lienthong_edxml::ResponseFor {
                organ_id: code(SKHCN),
                code: "77/SKHCN-VP".into(),
                promulgation_date: time::today(),
                document_id: None,
            },
            staff: lienthong_edxml::StaffInfo::default(),
            code: lienthong_edxml::StatusCode::Assigned,
            description: None,
            timestamp: Utc::now().fixed_offset(),
        };
        let s = e.keys.signer(&code(SYT)).unwrap();
        let xml = lienthong_edxml::sign(&status.to_xml().unwrap(), &s.key, &s.cert).unwrap();
        let first = receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap();
        let Receipt::Quarantined { reason, .. } = &first else {
            panic!("{}: {first:?}", t.name)
        };
        assert_eq!(
            reason,
            &format!("the status is about document {SKHCN},{},77/SKHCN-VP, which this system did not send to agency {SYT}",
                time::today().format("%Y/%m/%d")),
            "{}",
            t.name
        );
        assert_eq!(
            receive(db, &e.blobs, &e.keys, xml.clone()).await.unwrap(),
            first
        );

        // A document to none of our agencies, received twice: one entry, one answer.
        let elsewhere = signed(&e, SKHCN, &package(SKHCN, "000.00.11.H63", 78));
        let first = receive(db, &e.blobs, &e.keys, elsewhere.clone())
            .await
            .unwrap();
        assert!(matches!(first, Receipt::Quarantined { .. }), "{first:?}");
        assert_eq!(
            receive(db, &e.blobs, &e.keys, elsewhere.clone())
                .await
                .unwrap(),
            first
        );
        let admin = principal(db, "admin").await;
        assert_eq!(quarantine(db, &admin, 100).await.unwrap().len(), 2);
    }
}

/// Sets every file under `dir` back by two days, as if stored then.
fn age_files(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            age_files(&path);
        } else {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(
                    std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400),
                )
                .unwrap();
        }
    }
}

#[tokio::test]
async fn the_sweep_removes_only_blobs_no_row_points_at() {
    use crate::blob_sweep::{sweep, Swept, GRACE};
    for t in demo_databases().await {
        // A store of its own: the other database's rows point at nothing here.
        let e = env();
        let db = &t.db;
        let id = issued(db, &e).await;
        assert_eq!(drain(db, &e).await, 3, "{}", t.name);
        let orphan = e
            .blobs
            .put(Bytes::from_static(b"a package refused after it was stored"))
            .await
            .unwrap();
        // Nothing is old enough yet.
        assert_eq!(
            sweep(db, &e.blobs, GRACE).await.unwrap(),
            Some(Swept {
                examined: 0,
                removed: 0
            }),
            "{}",
            t.name
        );
        age_files(&e._dir.path().join("blobs"));
        let swept = sweep(db, &e.blobs, GRACE).await.unwrap().unwrap();
        assert_eq!(swept.removed, 1, "{}: {swept:?}", t.name);
        assert!(
            swept.examined >= 4,
            "{}: the draft PDF, the signed PDF, the package, the orphan: {swept:?}",
            t.name
        );
        assert!(e.blobs.get(&orphan).await.is_err());
        // What rows point at is all still there: the arrival with its package and
        // attachment, the issued document's signed PDF.
        let clerk = principal(db, "vanthu.syt").await;
        let queue = arrivals(db, &clerk).await.unwrap();
        let a = arrival(db, &e.blobs, &clerk, queue[0].id).await.unwrap();
        assert_eq!(a.attachments.len(), 1);
        let sender = principal(db, "vanthu.skhcn").await;
        let doc = documents::get(db, &sender, id).await.unwrap();
        for file in &doc.attachments {
            let blob = lienthong_store::BlobId::parse(&file.sha256).unwrap();
            assert!(
                e.blobs.get(&blob).await.is_ok(),
                "{}: {}",
                t.name,
                file.sha256
            );
        }
        assert!(!doc.attachments.is_empty());
        // A second sweep finds nothing more to remove.
        let again = sweep(db, &e.blobs, GRACE).await.unwrap().unwrap();
        assert_eq!(again.removed, 0, "{}", t.name);
        assert_eq!(again.examined, swept.examined - 1, "{}", t.name);
    }
}

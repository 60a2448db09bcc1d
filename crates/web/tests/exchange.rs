//! The edXML endpoint and the clerk's pages: a valid package arrives and is
//! registered in one click from its prefilled form; garbage is quarantined, never
//! a server error; the sender's document page shows the delivery and statuses.

mod common;

use common::*;
use serde_json::Value;

async fn post_package(s: &TestServer, body: Vec<u8>) -> (u16, Value) {
    let res = client()
        .post(format!("{}/edxml/v1/packages", s.base))
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn a_valid_package_arrives_and_is_registered_from_its_prefilled_form() {
    for s in servers() {
        let xml = signed_package(s, SKHCN, SYT, 8101);
        let (status, receipt) = post_package(s, xml.clone()).await;
        assert_eq!(status, 200, "{}: {receipt}", s.backend);
        assert_eq!(receipt["outcome"], "arrived");
        let id = receipt["inbox_ids"][0].as_i64().unwrap();
        // The same package again: the same answer.
        assert_eq!(post_package(s, xml).await, (200, receipt.clone()));

        let c = sign_in(s, "vanthu.syt").await;
        let queue = c
            .get(format!("{}/exchange/arrived", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(queue.contains("Về việc thử liên thông số 8101"), "{queue}");
        let page = c
            .get(format!("{}/exchange/arrived/{id}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(
            page.contains(r#"value="8101/GUI-VP""#),
            "the form is prefilled"
        );
        assert!(page.contains("van-ban.pdf"));
        let csrf = csrf_of(&page);

        // Another agency's clerk does not learn it exists.
        let other = sign_in(s, "vanthu.skhcn").await;
        let res = other
            .get(format!("{}/exchange/arrived/{id}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);

        // One click: the prefilled fields as they are.
        let form: Vec<(String, String)> = vec![
            ("_csrf".into(), csrf),
            ("symbol".into(), "8101/GUI-VP".into()),
            (
                "issued_on".into(),
                lienthong_store::time::date(lienthong_store::time::today()),
            ),
            ("doc_type".into(), "CV".into()),
            ("subject".into(), "Về việc thử liên thông số 8101".into()),
            ("urgency".into(), "normal".into()),
            ("classification".into(), "normal".into()),
            ("due_on".into(), String::new()),
            ("signer".into(), String::new()),
            ("page_count".into(), String::new()),
            ("note".into(), String::new()),
        ];
        let res = c
            .post(format!("{}/exchange/arrived/{id}/register", s.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/documents/"), "{to}");
        let doc = c
            .get(format!("{}{to}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(doc.contains("8101/GUI-VP"));
        assert!(doc.contains("van-ban.pdf"));
        // Decided: registering again is refused.
        let again = c
            .post(format!("{}/exchange/arrived/{id}/register", s.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 422);
    }
}

#[tokio::test]
async fn garbage_is_quarantined_not_a_server_error() {
    for s in servers() {
        keys(s);
        for body in [
            b"this is not xml".to_vec(),
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]><edXML/>".to_vec(),
            Vec::new(),
            vec![0xff; 1000],
        ] {
            let (status, receipt) = post_package(s, body).await;
            assert_eq!(status, 422, "{}: {receipt}", s.backend);
            assert_eq!(receipt["outcome"], "quarantined");
            assert!(!receipt["reason"].as_str().unwrap().is_empty());
        }
        let admin = sign_in(s, "admin").await;
        let page = admin
            .get(format!("{}/exchange/quarantine", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("DOCTYPE"));
    }
}

#[tokio::test]
async fn the_sender_sees_delivery_and_statuses_on_the_document_page() {
    use lienthong_domain::document::*;
    use lienthong_services::documents::outgoing::{self, Decision, NewDraft, Recipient};
    for s in servers() {
        let keys = keys(s);
        let db = s.db().await;
        let who = |u: &'static str| async move {
            let person = lienthong_services::people::by_username(&s.db().await, u)
                .await
                .unwrap()
                .unwrap();
            let positions = lienthong_services::people::positions(
                &s.db().await,
                person.id,
                Some(lienthong_store::time::today()),
            )
            .await
            .unwrap();
            lienthong_services::auth::Principal { person, positions }
        };
        let (specialist, head, leader, clerk) = (
            who("chuyenvien.skhcn").await,
            who("truongphong.skhcn").await,
            who("giamdoc.skhcn").await,
            who("vanthu.skhcn").await,
        );
        let blobs = lienthong_store::BlobStore::filesystem(&s.data.join("blobs")).unwrap();
        let draft = NewDraft {
            doc_type: DocumentType::CongVan,
            legal_normative: false,
            subject: Subject::parse("Về việc gửi thử liên thông đến Sở Y tế").unwrap(),
            urgency: Urgency::Normal,
            classification: Classification::Normal,
            drafting_unit_id: None,
            in_reply_to: None,
            recipients: vec![Recipient {
                agency_id: Some(agency_id(s, SYT).await),
                name: "Sở Y tế".into(),
            }],
            signer_name: "Nguyễn Văn Hải".into(),
            page_count: None,
            copies: None,
            retained_copy: String::new(),
            note: String::new(),
            attachments: vec![],
        };
        let agency = specialist.positions[0].agency_id;
        let id = outgoing::create_draft(&db, &blobs, &specialist, agency, draft)
            .await
            .unwrap();
        outgoing::submit_for_review(&db, &specialist, id, head.person.id)
            .await
            .unwrap();
        outgoing::review(
            &db,
            &head,
            id,
            Decision::Accept {
                approver_id: Some(leader.person.id),
            },
        )
        .await
        .unwrap();
        outgoing::approve(&db, &leader, id, Decision::Accept { approver_id: None })
            .await
            .unwrap();
        outgoing::issue(&db, &blobs, &keys, &clerk, id)
            .await
            .unwrap();

        // The server's worker delivers it to SYT and brings back the 01.
        let c = sign_in(s, "vanthu.skhcn").await;
        let mut page = String::new();
        for _ in 0..60 {
            page = c
                .get(format!("{}/documents/{id}", s.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if page.contains(r#"data-status="01""#) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(
            page.contains(r#"data-testid="deliveries""#),
            "{}",
            s.backend
        );
        assert!(page.contains(r#"data-delivery="delivered""#));
        assert!(
            page.contains(r#"data-status="01""#),
            "no status 01 came back"
        );
    }
}

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
        let html = page.text().await.unwrap();
        assert!(html.contains("DOCTYPE"));
        // Each refused package can be downloaded byte for byte, never rendered.
        let (status, receipt) = post_package(s, b"<not-edxml/>".to_vec()).await;
        assert_eq!(status, 422, "{receipt}");
        let id = receipt["quarantine_id"].as_i64().unwrap();
        assert!(
            html.contains("/package\" download>"),
            "a download link per row"
        );
        let file = admin
            .get(format!("{}/exchange/quarantine/{id}/package", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), 200);
        assert_eq!(file.headers()["content-type"], "application/octet-stream");
        assert!(file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(file.bytes().await.unwrap().as_ref(), b"<not-edxml/>");
        // A package addressed to nobody here is the administrators' alone.
        let clerk = sign_in(s, "vanthu.skhcn").await;
        let hidden = clerk
            .get(format!("{}/exchange/quarantine/{id}/package", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(hidden.status(), 404, "{}", s.backend);
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

        // The clerk recalls it (thu hồi) from the API; SYT had not registered it,
        // so its system takes it back and answers 13.
        assert!(
            page.contains(r#"id="recall""#),
            "a recall form for the clerk"
        );
        let api = token(s, "vanthu.skhcn").await;
        let recall = |body: serde_json::Value| {
            client()
                .post(format!("{}/api/v1/documents/{id}/recall", s.base))
                .bearer_auth(&api)
                .json(&body)
                .send()
        };
        let res = recall(serde_json::json!({"kind": "recall", "reason": " "}))
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let res = recall(serde_json::json!({"kind": "withdraw", "reason": "Sai sót"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let res = recall(serde_json::json!({"kind": "recall", "reason": "Sai sót số liệu"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        // Nobody else may.
        let other = token(s, "vanthu.syt").await;
        let res = client()
            .post(format!("{}/api/v1/documents/{id}/recall", s.base))
            .bearer_auth(&other)
            .json(&serde_json::json!({"kind": "recall", "reason": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        for _ in 0..60 {
            page = c
                .get(format!("{}/documents/{id}", s.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if page.contains(r#"data-status="13""#) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(
            page.contains(r#"data-status="13""#),
            "no status 13 came back"
        );
        assert!(page.contains(r#"data-event="exchange_request_sent""#));
        // SYT, the only agency it went to, gave it back: it is recalled, and its
        // timeline stays on the page.
        assert!(
            page.contains(r#"data-event="exchange_recall_done""#),
            "{}",
            s.backend
        );
        assert!(page.contains(r#"data-testid="deliveries""#));
    }
}

#[tokio::test]
async fn the_clerk_agrees_to_or_refuses_a_recall_of_a_registered_document() {
    for s in servers() {
        let (status, receipt) = post_package(s, signed_package(s, SKHCN, SYT, 8201)).await;
        assert_eq!(status, 200, "{}: {receipt}", s.backend);
        let inbox = receipt["inbox_ids"][0].as_i64().unwrap();
        let api = token(s, "vanthu.syt").await;
        let res = client()
            .post(format!(
                "{}/api/v1/exchange/arrivals/{inbox}/register",
                s.base
            ))
            .bearer_auth(&api)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let doc = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

        // The sender recalls it: registered, so the request waits for the clerk.
        let recall = signed_request(s, SKHCN, SYT, 8201, "Ban hành nhầm");
        let (status, receipt) = post_package(s, recall.clone()).await;
        assert_eq!(status, 200, "{receipt}");
        assert_eq!(receipt["outcome"], "request");
        assert_eq!(receipt["kind"], "recall");
        let id = receipt["request_ids"][0].as_i64().unwrap();
        assert_eq!(post_package(s, recall).await, (200, receipt.clone()));

        let list: Value = client()
            .get(format!("{}/api/v1/exchange/requests", s.base))
            .bearer_auth(&api)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mine = list["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap();
        assert_eq!(mine["reason"], "Ban hành nhầm");
        assert_eq!(mine["incoming_document_id"], doc);

        let c = sign_in(s, "vanthu.syt").await;
        let queue = c
            .get(format!("{}/exchange/arrived", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(queue.contains(&format!(r#"data-request-id="{id}""#)));
        let page = c
            .get(format!("{}/documents/{doc}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!(r#"data-request-id="{id}""#)),
            "{page}"
        );
        let csrf = csrf_of(&page);
        // Refusing needs a reason.
        let res = c
            .post(format!("{}/exchange/requests/{id}/refuse", s.base))
            .form(&[("_csrf", csrf.as_str()), ("reason", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        // Another agency's clerk does not learn it exists.
        let other = token(s, "vanthu.skhcn").await;
        let res = client()
            .post(format!("{}/api/v1/exchange/requests/{id}/agree", s.base))
            .bearer_auth(&other)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let res = client()
            .post(format!("{}/api/v1/exchange/requests/{id}/agree", s.base))
            .bearer_auth(&api)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let decided: Value = res.json().await.unwrap();
        assert_eq!(
            (decided["state"].as_str(), decided["answer"].as_str()),
            (Some("agreed"), Some("15"))
        );
        let page = c
            .get(format!("{}/documents/{doc}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(r#"data-status="recalled""#));
        assert!(page.contains(r#"data-event="exchange_recalled""#));
        // The register finds it among the recalled, and only there.
        let syt = agency_id(s, SYT).await;
        let register = |status: &'static str| {
            let c = c.clone();
            let url = format!("{}/documents/incoming?agency={syt}&status={status}", s.base);
            async move { c.get(url).send().await.unwrap().text().await.unwrap() }
        };
        let link = format!(r#"href="/documents/{doc}""#);
        let recalled = register("recalled").await;
        assert!(recalled.contains(r#"<option value="recalled" selected>"#));
        assert!(recalled.contains(&link), "{recalled}");
        assert!(!register("registered").await.contains(&link));
    }
}

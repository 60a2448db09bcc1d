//! The whole life of a document through the JSON API: register, forward, assign,
//! draft a reply, complete, review, approve, issue — with the inbox along the way
//! and refusals for the wrong people.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = client()
        .post(format!("{}{path}", s.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(s: &TestServer, token: &str, path: &str) -> Value {
    client()
        .get(format!("{}{path}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_document_goes_from_arrival_to_an_issued_reply() {
    for s in servers() {
        let clerk = token(s, "vanthu.skhcn").await;
        let leader = token(s, "giamdoc.skhcn").await;
        let head = token(s, "truongphong.skhcn").await;
        let specialist = token(s, "chuyenvien.skhcn").await;
        let outsider = token(s, "vanthu.xa").await;
        let ids = |name: &str| {
            let name = name.to_owned();
            async move { person_id(s, &name).await }
        };
        let (leader_id, head_id, specialist_id) = (
            ids("giamdoc.skhcn").await,
            ids("truongphong.skhcn").await,
            ids("chuyenvien.skhcn").await,
        );

        let (st, doc) = post(s, &clerk, "/api/v1/documents/incoming", json!({
            "issuer": "Văn phòng UBND tỉnh", "symbol": format!("{}/KH-UBND", 400 + s.backend.len()), "issued_on": "2026-11-20",
            "type": "KH", "subject": "Kế hoạch ứng dụng trí tuệ nhân tạo trong cơ quan nhà nước", "urgency": "urgent"})).await;
        assert_eq!(st, 201, "{doc}");
        let id = doc["id"].as_i64().unwrap();

        // Forward: only the clerk, only to a leader; outsiders learn nothing.
        assert_eq!(
            post(
                s,
                &outsider,
                &format!("/api/v1/documents/{id}/forward"),
                json!({"leader_id": leader_id})
            )
            .await
            .0,
            404
        );
        let (st, err) = post(
            s,
            &clerk,
            &format!("/api/v1/documents/{id}/forward"),
            json!({"leader_id": specialist_id}),
        )
        .await;
        assert_eq!(
            (st, err["error"]["code"].as_str()),
            (422, Some("not_a_leader"))
        );
        let (st, doc) = post(
            s,
            &clerk,
            &format!("/api/v1/documents/{id}/forward"),
            json!({"leader_id": leader_id}),
        )
        .await;
        assert_eq!((st, doc["status"].as_str()), (200, Some("submitted")));
        let inbox = get(s, &leader, "/api/v1/inbox").await;
        assert!(
            inbox["tasks"]["to_assign"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d[0] == id),
            "{inbox}"
        );

        // Assign: the lead must be inside the agency.
        let outsider_id = person_id(s, "vanthu.xa").await;
        let (st, err) = post(
            s,
            &leader,
            &format!("/api/v1/documents/{id}/assign"),
            json!({
            "instruction": "Xử lý", "lead": format!("p:{outsider_id}")}),
        )
        .await;
        assert_eq!(
            (
                st,
                err["error"]["code"].as_str(),
                err["error"]["field"].as_str()
            ),
            (422, Some("assignee_outside_agency"), Some("lead"))
        );
        let (st, err) = post(s, &leader, &format!("/api/v1/documents/{id}/assign"), json!({"instruction": "Xử lý", "lead": format!("p:{specialist_id}"), "deadline": "2020-01-01"})).await;
        assert_eq!(
            (st, err["error"]["code"].as_str()),
            (422, Some("deadline_past"))
        );
        let (st, doc) = post(s, &leader, &format!("/api/v1/documents/{id}/assign"), json!({
            "instruction": "Đồng chí chủ trì, báo cáo trước hạn", "lead": format!("p:{specialist_id}"),
            "inform": [format!("p:{head_id}")], "deadline": "2099-12-31"})).await;
        assert_eq!(
            (st, doc["status"].as_str()),
            (200, Some("assigned")),
            "{doc}"
        );
        let inbox = get(s, &specialist, "/api/v1/inbox").await;
        let task = inbox["tasks"]["to_handle"]
            .as_array()
            .unwrap_or_else(|| panic!("{inbox}"))
            .iter()
            .find(|t| t["document_id"] == id)
            .unwrap_or_else(|| panic!("{inbox}"))
            .clone();
        let task_id = task["id"].as_i64().unwrap();

        // The specialist drafts a reply and completes the task with it.
        let (st, draft) = post(s, &specialist, "/api/v1/documents/outgoing", json!({
            "doc_type": "CV", "subject": "Báo cáo kết quả ứng dụng trí tuệ nhân tạo", "in_reply_to": id,
            "recipients_other": "Ủy ban nhân dân tỉnh", "retained_copy": "Lưu: VT, VP", "copies": 2})).await;
        assert_eq!(st, 201, "{draft}");
        let draft_id = draft["id"].as_i64().unwrap();
        assert_eq!(draft["status"], "draft");
        let (st, _) = post(
            s,
            &specialist,
            &format!("/api/v1/tasks/{task_id}/progress"),
            json!({"note": "Đang tổng hợp"}),
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(
            post(
                s,
                &clerk,
                &format!("/api/v1/tasks/{task_id}/complete"),
                json!({"result": "x"})
            )
            .await
            .0,
            403
        );
        let (st, doc) = post(
            s,
            &specialist,
            &format!("/api/v1/tasks/{task_id}/complete"),
            json!({"result": "Đã dự thảo báo cáo", "reply_id": draft_id}),
        )
        .await;
        assert_eq!((st, doc["status"].as_str()), (200, Some("done")), "{doc}");

        // Review, approval (after one return), issue.
        let (st, d) = post(
            s,
            &specialist,
            &format!("/api/v1/documents/{draft_id}/submit"),
            json!({"reviewer_id": head_id}),
        )
        .await;
        assert_eq!((st, d["status"].as_str()), (200, Some("in_review")));
        let (st, d) = post(
            s,
            &head,
            &format!("/api/v1/documents/{draft_id}/review"),
            json!({"decision": "accept", "approver_id": leader_id}),
        )
        .await;
        assert_eq!((st, d["status"].as_str()), (200, Some("awaiting_approval")));
        let (st, err) = post(
            s,
            &leader,
            &format!("/api/v1/documents/{draft_id}/approve"),
            json!({"decision": "return"}),
        )
        .await;
        assert_eq!(
            (st, err["error"]["code"].as_str()),
            (422, Some("comment_required"))
        );
        let (_, d) = post(
            s,
            &leader,
            &format!("/api/v1/documents/{draft_id}/approve"),
            json!({"decision": "return", "comment": "Bổ sung số liệu"}),
        )
        .await;
        assert_eq!(d["status"], "returned");
        post(
            s,
            &specialist,
            &format!("/api/v1/documents/{draft_id}/submit"),
            json!({"reviewer_id": head_id}),
        )
        .await;
        post(
            s,
            &head,
            &format!("/api/v1/documents/{draft_id}/review"),
            json!({"decision": "accept", "approver_id": leader_id}),
        )
        .await;
        let (_, d) = post(
            s,
            &leader,
            &format!("/api/v1/documents/{draft_id}/approve"),
            json!({"decision": "accept"}),
        )
        .await;
        assert_eq!(d["status"], "approved");
        assert!(get(s, &clerk, "/api/v1/inbox").await["drafts"]["to_issue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x[0] == draft_id));
        assert_eq!(
            post(
                s,
                &specialist,
                &format!("/api/v1/documents/{draft_id}/issue"),
                json!({})
            )
            .await
            .0,
            403
        );
        let (st, issued) = post(
            s,
            &clerk,
            &format!("/api/v1/documents/{draft_id}/issue"),
            json!({}),
        )
        .await;
        assert_eq!(
            (st, issued["status"].as_str()),
            (200, Some("issued")),
            "{issued}"
        );
        let symbol = issued["symbol"].as_str().unwrap();
        assert!(
            symbol.ends_with("/SKHCN") || symbol.contains("/SKHCN-"),
            "{symbol}"
        );
        assert!(issued["number"].as_i64().unwrap() >= 1);
        let events: Vec<_> = issued["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            events,
            [
                "drafted",
                "submitted_for_review",
                "reviewed",
                "approved",
                "submitted_for_review",
                "reviewed",
                "approved",
                "issued"
            ]
        );
        let incoming: Value = get(s, &clerk, &format!("/api/v1/documents/{id}")).await;
        let kinds: Vec<_> = incoming["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            kinds,
            [
                "registered",
                "forwarded",
                "assigned",
                "progress",
                "completed"
            ]
        );
        let list = get(s, &clerk, "/api/v1/documents?direction=outgoing").await;
        assert!(list["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == draft_id));
        assert_eq!(
            post(
                s,
                &clerk,
                &format!("/api/v1/documents/{id}/dance"),
                json!({})
            )
            .await
            .0,
            404
        );
    }
}

#[tokio::test]
async fn registers_export_as_csv_xlsx_and_pdf_with_vietnamese_intact() {
    for s in servers() {
        let clerk_token = token(s, "vanthu.skhcn").await;
        let (st, _) = post(s, &clerk_token, "/api/v1/documents/incoming", json!({
            "issuer": "Sở Tài chính", "symbol": "88/TB-STC", "issued_on": "2026-10-01", "arrived_on": "2026-10-02",
            "type": "TB", "subject": "Thông báo thẩm định dự toán Đồng Tháp Mười", "allow_duplicate": true})).await;
        assert_eq!(st, 201);
        let c = sign_in(s, "vanthu.skhcn").await;
        for (format, mime) in [
            ("csv", "text/csv"),
            ("xlsx", "application/vnd.openxmlformats"),
            ("pdf", "application/pdf"),
        ] {
            let res = c
                .get(format!(
                    "{}/documents/incoming/export?format={format}&from=2026-10-01&to=2026-10-31",
                    s.base
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{format}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(mime),
                "{format}"
            );
            let bytes = res.bytes().await.unwrap();
            match format {
                "csv" => {
                    let text = String::from_utf8(bytes.to_vec()).unwrap();
                    assert!(
                        text.starts_with('\u{feff}')
                            && text.contains("Đồng Tháp Mười")
                            && text.contains("88/TB-STC"),
                        "{text}"
                    );
                    assert!(text.contains("Số đến"), "Vietnamese headings");
                }
                "pdf" => {
                    let text = lienthong_files_text(&bytes);
                    assert!(text.contains("Đồng Tháp Mười"), "{text}");
                }
                _ => assert!(bytes.starts_with(b"PK"), "an xlsx is a zip"),
            }
        }
        let bad = c
            .get(format!("{}/documents/incoming/export?format=exe", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let outsider = sign_in(s, "vanthu.xa").await;
        let dept = agency_of(s, "vanthu.skhcn").await;
        let res = outsider
            .get(format!(
                "{}/documents/incoming/export?format=csv&agency={dept}",
                s.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
    }
}

/// Text of a PDF, by the independent `pdftotext` when installed, else by our extractor.
fn lienthong_files_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            eprintln!("pdftotext not installed: checking the PDF with our own extractor only");
            lienthong_files::extract_text(lienthong_files::FileKind::Pdf, pdf, &Default::default())
                .unwrap()
        }
    }
}

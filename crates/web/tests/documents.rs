//! Incoming documents through the real server: the API, the registration form
//! with attachments, bad input, downloads, and who may see what.

mod common;

use std::io::{Read, Write};

use common::*;
use serde_json::{json, Value};

/// A small but real PDF (one page, one line of text).
fn pdf() -> Vec<u8> {
    pdf_saying("Ke hoach chuyen doi so")
}

async fn post_incoming(s: &TestServer, token: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}/api/v1/documents/incoming", s.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn api_registers_reads_and_lists_incoming_documents() {
    for s in servers() {
        let clerk = token(s, "vanthu.skhcn").await;
        let symbol = format!("12/QĐ-UBND-{}", s.backend.len());
        let res = post_incoming(
            s,
            &clerk,
            json!({"issuer": "Văn phòng UBND tỉnh", "symbol": symbol, "issued_on": "2026-11-20", "type": "QĐ",
                   "subject": "Về việc ban hành kế hoạch chuyển đổi số năm 2027"}),
        )
        .await;
        assert_eq!(res.status(), 201, "{}", s.backend);
        let created: Value = res.json().await.unwrap();
        let id = created["id"].as_i64().unwrap();
        assert!(created["arrival_number"].as_i64().unwrap() >= 1);
        assert_eq!(created["doc_type"], "QĐ");
        assert_eq!(created["urgency"], "normal");
        assert_eq!(created["status"], "registered");
        assert!(
            created["issuer_agency_id"].is_i64(),
            "a province agency named exactly is linked"
        );

        let got: Value = client()
            .get(format!("{}/api/v1/documents/{id}", s.base))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["symbol"], symbol);
        let list: Value = client()
            .get(format!("{}/api/v1/documents?direction=incoming", s.base))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(list["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id));

        // Another agency's clerk neither reads nor lists it.
        let other = token(s, "vanthu.xa").await;
        let res = client()
            .get(format!("{}/api/v1/documents/{id}", s.base))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let dept = created["agency_id"].as_i64().unwrap();
        let res = client()
            .get(format!("{}/api/v1/documents?agency={dept}", s.base))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        // A specialist may read but not register.
        let specialist = token(s, "chuyenvien.skhcn").await;
        assert_eq!(
            client()
                .get(format!("{}/api/v1/documents/{id}", s.base))
                .bearer_auth(&specialist)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let res = post_incoming(s, &specialist, json!({"issuer": "X", "symbol": "1/TB-X", "issued_on": "2026-11-20", "type": "TB", "subject": "S"})).await;
        assert_eq!(
            res.status(),
            403,
            "{}: {}",
            s.backend,
            res.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn api_bad_input_is_refused_at_the_field_and_duplicates_flagged() {
    for s in servers() {
        let clerk = token(s, "vanthu.skhcn").await;
        let base = json!({"issuer": "Bộ Khoa học và Công nghệ", "symbol": "99/BKHCN-VP", "issued_on": "2026-11-02", "type": "CV",
                          "subject": "Hướng dẫn triển khai"});
        let cases = [
            ("issued_on", json!("2026-02-30"), "date"),
            ("symbol", json!("không phải ký hiệu"), "symbol"),
            ("type", json!("XYZ"), "doc_type"),
            ("subject", json!("   "), "subject"),
            ("urgency", json!("asap"), "urgency"),
        ];
        for (field, value, code) in cases {
            let mut body = base.clone();
            body[field] = value;
            let res = post_incoming(s, &clerk, body).await;
            assert_eq!(res.status(), 422, "{field}");
            let err: Value = res.json().await.unwrap();
            assert_eq!(err["error"]["code"], code, "{field}: {err}");
            assert_eq!(err["error"]["field"], field, "{field}: {err}");
        }
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove("subject");
        let res = post_incoming(s, &clerk, missing).await;
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("subject"));
        let mut fake = base.clone();
        fake["attachments"] = json!([{"file_name": "qd.pdf", "content_type": "application/pdf", "content_base64": "PGh0bWw+PC9odG1sPg=="}]);
        let res = post_incoming(s, &clerk, fake).await;
        assert_eq!(res.status(), 422);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "file_not_pdf"
        );

        let first = post_incoming(s, &clerk, base.clone()).await;
        assert_eq!(first.status(), 201);
        let first_id = first.json::<Value>().await.unwrap()["id"].clone();
        let mut folded = base.clone();
        folded["symbol"] = json!("99/BKHCN-VP");
        let dup = post_incoming(s, &clerk, folded.clone()).await;
        assert_eq!(dup.status(), 409);
        let err: Value = dup.json().await.unwrap();
        assert_eq!(err["error"]["duplicate_of"], json!([first_id]));
        folded["allow_duplicate"] = json!(true);
        assert_eq!(post_incoming(s, &clerk, folded).await.status(), 201);
    }
}

#[tokio::test]
async fn a_clerk_registers_through_the_form_with_a_pdf_and_others_download_it_safely() {
    for s in servers() {
        let c = sign_in(s, "vanthu.skhcn").await;
        let page = c
            .get(format!("{}/documents/incoming/new", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("enctype=\"multipart/form-data\""));
        let csrf = csrf_of(&page);
        let agency = agency_of(s, "vanthu.skhcn").await.to_string();
        let form = |symbol: &str, subject: &str, file: (&str, Vec<u8>, &str)| {
            reqwest::multipart::Form::new()
                .text("_csrf", csrf.clone())
                .text("agency_id", agency.clone())
                .text("issuer", "Sở Tài chính tỉnh Đồng Tháp")
                .text("symbol", symbol.to_owned())
                .text("issued_on", "2026-11-18")
                .text("doc_type", "KH")
                .text("subject", subject.to_owned())
                .text("urgency", "urgent")
                .text("classification", "normal")
                .text("arrived_on", "2026-11-24")
                .part(
                    "files",
                    reqwest::multipart::Part::bytes(file.1)
                        .file_name(file.0.to_owned())
                        .mime_str(file.2)
                        .unwrap(),
                )
        };
        // A file that claims to be a PDF but is HTML is refused at the field.
        let res = c
            .post(format!("{}/documents/incoming", s.base))
            .multipart(form(
                "5/KH-STC",
                "Kế hoạch giả",
                (
                    "ke-hoach.pdf",
                    b"<html>hi</html>".to_vec(),
                    "application/pdf",
                ),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Tệp khai là PDF nhưng nội dung không phải PDF."),
            "{body}"
        );
        assert!(
            body.contains("value=\"5/KH-STC\""),
            "what was typed is kept"
        );
        // A missing subject is reported at its field.
        let res = c
            .post(format!("{}/documents/incoming", s.base))
            .multipart(form(
                "5/KH-STC",
                "",
                ("ke-hoach.pdf", pdf(), "application/pdf"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("Trích yếu không được để trống"));

        let res = c
            .post(format!("{}/documents/incoming", s.base))
            .multipart(form(
                "5/KH-STC",
                "Kế hoạch chuyển đổi số ngành tài chính",
                ("Kế hoạch 5.pdf", pdf(), "application/pdf"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("registered="), "{location}");
        let register = c
            .get(format!("{}{location}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(register.contains("data-testid=\"registered\""));
        assert!(register.contains("Kế hoạch chuyển đổi số ngành tài chính"));
        // Other tests register in the same agency at the same time: find this row by its subject.
        let before = &register[..register
            .find("Kế hoạch chuyển đổi số ngành tài chính")
            .unwrap()];
        let link =
            &before[before.rfind("href=\"/documents/").unwrap() + "href=\"/documents/".len()..];
        let id: i64 = link[..link.find('"').unwrap()].parse().unwrap();

        let specialist = sign_in(s, "chuyenvien.skhcn").await;
        let page = specialist
            .get(format!("{}/documents/{id}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Kế hoạch 5.pdf") && page.contains("data-testid=\"timeline\""),
            "{page}"
        );
        let href = page
            .split(&format!("/documents/{id}/attachments/"))
            .nth(1)
            .unwrap();
        let att: i64 = href[..href.find('"').unwrap()].parse().unwrap();
        let res = specialist
            .get(format!("{}/documents/{id}/attachments/{att}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline"));
        assert_eq!(res.headers()["content-security-policy"], "sandbox");
        assert_eq!(res.bytes().await.unwrap().to_vec(), pdf());

        let outsider = sign_in(s, "vanthu.xa").await;
        assert_eq!(
            outsider
                .get(format!("{}/documents/{id}", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            outsider
                .get(format!("{}/documents/{id}/attachments/{att}", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            client()
                .get(format!("{}/documents/{id}/attachments/{att}", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            303
        );
    }
}

#[test]
fn a_two_gigabyte_upload_is_refused_before_it_is_read() {
    let s = &servers()[0];
    let addr = s.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /api/v1/documents/incoming HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer x\r\nContent-Length: 2147483648\r\n\r\n{{\"symbol\":"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        answer.starts_with("HTTP/1.1 413") || answer.starts_with("HTTP/1.1 401"),
        "{answer}"
    );
}

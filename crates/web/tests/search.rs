//! Search through the real server: a registered document is found within a
//! second, by its metadata and its attachment's text, with or without
//! diacritics; classified documents are never found or counted by others.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use serde_json::{json, Value};

async fn search(s: &TestServer, token: &str, q: &str) -> Value {
    client()
        .get(format!("{}/api/v1/search", s.base))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls until `q` finds document `id` (or a second and a half passes).
async fn found_within(s: &TestServer, token: &str, q: &str, id: i64) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        let r = search(s, token, q).await;
        if r["hits"].as_array().unwrap().iter().any(|h| h["id"] == id) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test]
async fn a_registered_document_is_searchable_within_a_second() {
    for s in servers() {
        let clerk = token(s, "vanthu.skhcn").await;
        let pdf = base64::engine::general_purpose::STANDARD.encode(pdf_saying(
            "Phuong an san xuat lua huu co vung Dong Thap Muoi",
        ));
        let res = client()
            .post(format!("{}/api/v1/documents/incoming", s.base))
            .bearer_auth(&clerk)
            .json(&json!({"issuer": "Sở Nông nghiệp và Môi trường", "symbol": "31/QĐ-SNNMT", "issued_on": "2026-11-10",
                          "type": "QĐ", "subject": "Quyết định phê duyệt đề án Đông Hải xanh",
                          "attachments": [{"file_name": "phuong-an.pdf", "content_base64": pdf}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

        let took = found_within(s, &clerk, "quyet dinh dong hai", id).await;
        assert!(
            took.is_some_and(|t| t <= Duration::from_secs(1)),
            "{}: not searchable within a second ({took:?})",
            s.backend
        );
        // By a word that is only in the attachment's text.
        assert!(
            found_within(s, &clerk, "huu co", id).await.is_some(),
            "attachment text is searchable"
        );
        // By the symbol, with or without diacritics.
        for q in ["31/QĐ-SNNMT", "31/QD-SNNMT"] {
            let r = search(s, &clerk, q).await;
            assert_eq!(r["hits"][0]["id"], id, "{q}: {r}");
        }
        let r = search(s, &clerk, "Đông Hải").await;
        let hit = r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .unwrap();
        assert!(
            hit["highlight"].as_str().unwrap().contains("<mark>"),
            "{hit}"
        );
        assert!(r["total"].as_u64().unwrap() >= 1);

        // Staff of another agency do not find it.
        let other = token(s, "vanthu.xa").await;
        let r = search(s, &other, "Đông Hải xanh").await;
        assert!(r["hits"].as_array().unwrap().iter().all(|h| h["id"] != id));
    }
}

#[tokio::test]
async fn classified_documents_are_never_found_or_counted_by_others() {
    for s in servers() {
        let clerk = token(s, "vanthu.skhcn").await;
        let res = client()
            .post(format!("{}/api/v1/documents/incoming", s.base))
            .bearer_auth(&clerk)
            .json(&json!({"issuer": "Công an tỉnh", "symbol": "5/PA-CAT", "issued_on": "2026-11-12", "type": "PA",
                          "subject": "Phương án tuyệt mật về xạ hiếm", "classification": "secret"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert!(
            found_within(s, &clerk, "xa hiem", id).await.is_some(),
            "the clerk who registered it finds it"
        );
        for who in ["chuyenvien.skhcn", "giamdoc.skhcn", "admin", "vanthu.xa"] {
            let t = token(s, who).await;
            let r = search(s, &t, "xạ hiếm").await;
            assert_eq!(r["total"], 0, "{who} must not even count it: {r}");
            assert_eq!(r["hits"], json!([]));
            let r = search(s, &t, "5/PA-CAT").await;
            assert_eq!(r["total"], 0, "{who} by symbol");
            // Not through the page either.
            let c = sign_in(s, who).await;
            let page = c
                .get(format!("{}/search?q=x%E1%BA%A1+hi%E1%BA%BFm", s.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                !page.contains("5/PA-CAT") && !page.contains("tuyệt mật về"),
                "{who} page"
            );
        }
    }
}

//! The HTTP contract, driven through a real server on each backend: operations
//! endpoints, sign-in and sessions, API tokens, bad input, languages.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn healthz_and_metrics() {
    for s in servers() {
        let res = client()
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "ok");
        let text = client()
            .get(format!("{}/metrics", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            text.contains("http_requests_total"),
            "{}: {text}",
            s.backend
        );
        assert!(text.contains("route=\"/healthz\""), "{text}");
        assert!(
            text.contains("http_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains("lienthong_db_pool_connections"), "{text}");
    }
}

#[tokio::test]
async fn api_token_and_me() {
    for s in servers() {
        let token = token(s, "vanthu.skhcn").await;
        let me: Value = client()
            .get(format!("{}/api/v1/me", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "vanthu.skhcn", "{}", s.backend);
        assert_eq!(me["roles"], json!(["clerk"]));
        let codes = me["agency_codes"].as_array().unwrap();
        assert_eq!(codes.len(), 1);
        assert!(codes[0].as_str().unwrap().ends_with(".H62"));
        assert_eq!(me["agencies"][0]["roles"], json!(["clerk"]));

        let res = client()
            .get(format!("{}/api/v1/me", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = client()
            .get(format!("{}/api/v1/me", s.base))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "unauthorized"
        );
    }
}

#[tokio::test]
async fn wrong_credentials_get_401_without_saying_which_part() {
    for s in servers() {
        let wrong_password = client()
            .post(format!("{}/api/v1/auth/token", s.base))
            .json(&json!({"username": "giamdoc.skhcn", "password": "not-the-password"}))
            .send()
            .await
            .unwrap();
        let wrong_user = client()
            .post(format!("{}/api/v1/auth/token", s.base))
            .json(&json!({"username": "khong.co.ai", "password": "not-the-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_password.status(), 401);
        assert_eq!(wrong_user.status(), 401);
        assert_eq!(
            wrong_password.text().await.unwrap(),
            wrong_user.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn api_bad_input_gets_stable_json_codes() {
    for s in servers() {
        let url = format!("{}/api/v1/auth/token", s.base);
        let res = client()
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"username\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "bad_json"
        );
        let res = client()
            .post(&url)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "unsupported_media_type"
        );
        let big = format!(
            "{{\"username\": \"{}\", \"password\": \"x\"}}",
            "a".repeat(100 * 1024)
        );
        let res = client()
            .post(&url)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "too_large"
        );
        let res = client()
            .post(&url)
            .header("content-type", "application/json")
            .body(vec![0xff, 0xfe, 0x7b])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let res = client()
            .get(format!("{}/api/v1/nothing-here", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "not_found"
        );
    }
}

#[tokio::test]
async fn sign_in_shows_the_dashboard_and_sign_out_ends_the_session() {
    for s in servers() {
        let c = client();
        let res = c.get(format!("{}/", s.base)).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/sign-in?next=%2F");
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(set_cookie.starts_with("lt_csrf="), "{set_cookie}");
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
            "{set_cookie}"
        );

        let page = c.get(format!("{}/sign-in", s.base)).send().await.unwrap();
        assert!(
            page.headers().get("set-cookie").is_none(),
            "the CSRF cookie is set once"
        );
        let csrf = csrf_of(&page.text().await.unwrap());
        let res = c
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", "vanthu.skhcn"),
                ("password", "lienthong-demo"),
                ("_csrf", &csrf),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let session_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            session_cookie.starts_with("lt_session=") && session_cookie.contains("HttpOnly"),
            "{session_cookie}"
        );
        assert!(
            !session_cookie.contains("Secure"),
            "plain HTTP must not get Secure cookies"
        );

        let home = c
            .get(format!("{}/", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(home.contains("data-page=\"dashboard\""), "{home}");
        assert!(home.contains("data-panel=\"clerk\""));
        assert!(!home.contains("data-panel=\"admin\""));
        assert!(home.contains("<html lang=\"vi\">"));

        let csrf = csrf_of(&home);
        let res = c
            .post(format!("{}/sign-out", s.base))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let res = c.get(format!("{}/", s.base)).send().await.unwrap();
        assert_eq!(res.status(), 303, "session must be gone after sign-out");
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    for s in servers() {
        let c = client();
        c.get(format!("{}/sign-in", s.base)).send().await.unwrap();
        let res = c
            .post(format!("{}/sign-in", s.base))
            .form(&[("username", "vanthu.skhcn"), ("password", "lienthong-demo")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let body = res.text().await.unwrap();
        assert!(body.contains("Biểu mẫu đã hết hạn"), "{body}");
        let res = c
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", "vanthu.skhcn"),
                ("password", "lienthong-demo"),
                ("_csrf", &"0".repeat(64)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);

        // A signed-in admin's state-changing form without the token changes nothing.
        let admin = sign_in(s, "admin").await;
        let before =
            lienthong_services::org::list(&s.db().await, lienthong_store::time::today(), true)
                .await
                .unwrap()
                .len();
        let res = admin
            .post(format!("{}/admin/agencies", s.base))
            .form(&[
                ("code", "000.00.77.H62"),
                ("name", "Sở Thử"),
                ("short_name", "ST"),
                ("kind", "department"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let after =
            lienthong_services::org::list(&s.db().await, lienthong_store::time::today(), true)
                .await
                .unwrap()
                .len();
        assert_eq!(before, after);
    }
}

#[tokio::test]
async fn wrong_password_is_localized_and_repeated_failures_are_throttled() {
    for s in servers() {
        let c = client();
        let csrf = common::csrf(&c, s).await;
        let res = c
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", "bientap.skhcn"),
                ("password", "wrong-password"),
                ("_csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body = res.text().await.unwrap();
        assert!(body.contains("role=\"alert\""));
        assert!(body.contains("Sai tên đăng nhập hoặc mật khẩu."));
        assert!(
            body.contains("value=\"bientap.skhcn\""),
            "the user name is kept"
        );

        let en = client();
        en.get(format!("{}/lang?to=en&next=/sign-in", s.base))
            .send()
            .await
            .unwrap();
        let csrf_en = common::csrf(&en, s).await;
        let body = en
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", "khong.ai.ca"),
                ("password", "wrong-password"),
                ("_csrf", &csrf_en),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Wrong user name or password."), "{body}");

        for _ in 0..4 {
            c.post(format!("{}/sign-in", s.base))
                .form(&[
                    ("username", "bientap.skhcn"),
                    ("password", "wrong-password"),
                    ("_csrf", &csrf),
                ])
                .send()
                .await
                .unwrap();
        }
        // Locked now, even with the right password.
        let res = c
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", "bientap.skhcn"),
                ("password", "lienthong-demo"),
                ("_csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        assert!(res.text().await.unwrap().contains("15 phút"));
        let res = client()
            .post(format!("{}/api/v1/auth/token", s.base))
            .json(&json!({"username": "bientap.skhcn", "password": "lienthong-demo"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"]["code"],
            "throttled"
        );
    }
}

#[tokio::test]
async fn unknown_pages_and_bad_forms_get_localized_error_pages() {
    for s in servers() {
        let res = client()
            .get(format!("{}/khong-co-trang-nay", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(res.text().await.unwrap().contains("Không tìm thấy trang"));

        let en = client();
        en.get(format!("{}/lang?to=en", s.base))
            .send()
            .await
            .unwrap();
        let body = en
            .get(format!("{}/nothing", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("This page or record does not exist.")
                && body.contains("<html lang=\"en\">")
        );
        let km = client();
        km.get(format!("{}/lang?to=km", s.base))
            .send()
            .await
            .unwrap();
        let body = km
            .get(format!("{}/nothing", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("<html lang=\"km\">"));
        assert!(
            body.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c)),
            "Khmer text expected"
        );

        let c = sign_in(s, "admin").await;
        let res = c
            .get(format!("{}/admin/agencies/not-a-number", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("không đúng định dạng"));
        let res = c
            .delete(format!("{}/admin/agencies", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405);
        let csrf = common::csrf(&c, s).await;
        let res = c
            .post(format!("{}/admin/agencies", s.base))
            .header("content-type", "application/json")
            .body(format!("{{\"_csrf\": \"{csrf}\"}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415);
        // Broken UTF-8 in a form never panics the server.
        let res = c
            .post(format!("{}/admin/agencies", s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}&name=%FF%FE&code=\u{0}"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error());
        // An oversized body is refused before it is read; the server may close the
        // connection while the client is still sending, which is also a refusal.
        let huge = "x".repeat(200 * 1024);
        match c
            .post(format!("{}/admin/agencies", s.base))
            .form(&[("_csrf", csrf.as_str()), ("name", huge.as_str())])
            .send()
            .await
        {
            Ok(res) => assert_eq!(res.status(), 413),
            Err(e) => assert!(e.is_request(), "{e}"),
        }
        assert_eq!(
            client()
                .get(format!("{}/healthz", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn language_choice_is_remembered_and_open_redirects_refused() {
    for s in servers() {
        let c = client();
        let res = c
            .get(format!("{}/lang?to=km&next=/sign-in", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/sign-in");
        let page = c
            .get(format!("{}/sign-in", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<html lang=\"km\">"));
        for l in ["vi", "en", "km"] {
            assert!(
                page.contains(&format!("hreflang=\"{l}\"")),
                "switcher lists {l}"
            );
        }
        let res = c
            .get(format!("{}/lang?to=en&next=//evil.example", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/");
        let res = c
            .get(format!("{}/lang?to=xx", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
    }
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_revokes_old_sessions() {
    for s in servers() {
        // A fresh person so other tests' sign-ins are unaffected.
        let admin = sign_in(s, "admin").await;
        let agency = agency_of(s, "vanthu.skhcn").await;
        let username = format!("doimatkhau.{}", s.backend);
        let csrf = common::csrf(&admin, s).await;
        let res = admin
            .post(format!("{}/admin/agencies/{agency}/people", s.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", username.as_str()),
                ("full_name", "Trần Văn Đổi"),
                ("email", ""),
                ("password", "mat-khau-ban-dau"),
                ("role", "specialist"),
                ("unit_id", ""),
                ("title", "Chuyên viên"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

        let c = client();
        let page = c
            .get(format!("{}/sign-in", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        let res = c
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", username.as_str()),
                ("password", "mat-khau-ban-dau"),
                ("_csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let other_device = client();
        let page = other_device
            .get(format!("{}/sign-in", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        other_device
            .post(format!("{}/sign-in", s.base))
            .form(&[
                ("username", username.as_str()),
                ("password", "mat-khau-ban-dau"),
                ("_csrf", &csrf_of(&page)),
            ])
            .send()
            .await
            .unwrap();

        let res = c
            .post(format!("{}/profile/password", s.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("current", "sai-mat-khau-roi"),
                ("new", "mat-khau-moi-123"),
                ("confirm", "mat-khau-moi-123"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("Mật khẩu hiện tại không đúng."));
        let res = c
            .post(format!("{}/profile/password", s.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("current", "mat-khau-ban-dau"),
                ("new", "ngan"),
                ("confirm", "ngan"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let res = c
            .post(format!("{}/profile/password", s.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("current", "mat-khau-ban-dau"),
                ("new", "mat-khau-moi-123"),
                ("confirm", "mat-khau-moi-123"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Đã đổi mật khẩu."));
        // This browser stays signed in; the other device is signed out.
        assert_eq!(
            c.get(format!("{}/", s.base)).send().await.unwrap().status(),
            200
        );
        assert_eq!(
            other_device
                .get(format!("{}/", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            303
        );
        let res = client()
            .post(format!("{}/api/v1/auth/token", s.base))
            .json(&json!({"username": username, "password": "mat-khau-moi-123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

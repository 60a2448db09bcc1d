//! The province administrator's journeys through the real server: the map as of
//! a date, adding agencies, units and people (bad input saves nothing), a merge
//! recorded through the form, and the audit log.

mod common;

use common::*;
use lienthong_services::org;
use lienthong_store::time;

fn field_form(csrf: &str, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.push(("_csrf".into(), csrf.to_owned()));
    v
}

#[tokio::test]
async fn the_map_can_be_read_as_of_any_date() {
    for s in servers() {
        let c = sign_in(s, "admin").await;
        let today = c
            .get(format!("{}/admin/agencies", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(today.contains("Sở Khoa học và Công nghệ"));
        assert!(
            !today.contains("Sở Thông tin và Truyền thông"),
            "ended agencies are hidden today"
        );
        assert!(!today.contains("Huyện Long Hồ"));

        let before = c
            .get(format!("{}/admin/agencies?as_of=2025-02-01", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            before.contains("Sở Thông tin và Truyền thông"),
            "{}",
            s.backend
        );
        assert!(before.contains("Huyện Long Hồ"));
        assert!(
            before.contains("Thị trấn Long Hồ"),
            "the commune had its old name then"
        );

        let with_ended = c
            .get(format!("{}/admin/agencies?ended=1", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(with_ended.contains("Sở Thông tin và Truyền thông"));
        assert!(
            with_ended.contains("→ <a href"),
            "an ended agency shows its successor"
        );

        let code = lienthong_domain::OrgCode::parse("000.00.10.H62").unwrap();
        let stttt = org::id_by_code(&s.db().await, &code)
            .await
            .unwrap()
            .unwrap();
        let page = c
            .get(format!("{}/admin/agencies/{stttt}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-testid=\"successor\""), "{page}");
        assert!(page.contains("2025-03-01"));
        let bad_date = c
            .get(format!("{}/admin/agencies?as_of=2025-02-30", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            bad_date.status(),
            200,
            "an impossible date falls back to today"
        );
    }
}

#[tokio::test]
async fn adding_an_agency_a_unit_and_a_person() {
    for s in servers() {
        let c = sign_in(s, "admin").await;
        let csrf = common::csrf(&c, s).await;
        let province = agency_of(s, "admin").await;
        let named = |name: &'static str| async move {
            org::list(&s.db().await, time::today(), true)
                .await
                .unwrap()
                .iter()
                .filter(|a| a.name == name)
                .count()
        };

        // Bad input: every field error shown at its field, in Vietnamese, nothing saved.
        let res = c
            .post(format!("{}/admin/agencies", s.base))
            .form(&field_form(
                &csrf,
                &[
                    ("code", "12.34"),
                    ("name", " "),
                    ("short_name", "S KH"),
                    ("kind", "galaxy"),
                    ("parent_id", &province.to_string()),
                    ("valid_from", "2026-02-30"),
                ],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        for msg in [
            "Mã định danh có dạng",
            "Tên không được để trống",
            "Tên viết tắt gồm",
            "Loại cơ quan không hợp lệ",
            "Ngày không hợp lệ",
        ] {
            assert!(body.contains(msg), "{msg} missing in {body}");
        }
        assert!(body.contains("value=\"12.34\""), "what was typed is kept");

        let code = format!("000.00.{}.H62", if s.backend == "sqlite" { 81 } else { 82 });
        let form = field_form(
            &csrf,
            &[
                ("code", &code),
                ("name", "Sở Thử nghiệm"),
                ("short_name", "STN"),
                ("kind", "department"),
                ("parent_id", &province.to_string()),
                ("valid_from", "2026-01-01"),
            ],
        );
        let res = c
            .post(format!("{}/admin/agencies", s.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
        let dup = c
            .post(format!("{}/admin/agencies", s.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(dup.status(), 422);
        assert!(dup
            .text()
            .await
            .unwrap()
            .contains("Mã định danh này đã được dùng."));
        assert_eq!(
            named("Sở Thử nghiệm").await,
            1,
            "the duplicate saved nothing"
        );

        let res = c
            .post(format!("{}/admin/agencies/{id}/units", s.base))
            .form(&field_form(
                &csrf,
                &[("name", "Văn phòng"), ("short_name", "VP")],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let unit = org::units(&s.db().await, id, time::today()).await.unwrap()[0].id;

        let person = [
            ("username", "giamdoc.stn"),
            ("full_name", "Phạm Thị Thử"),
            ("email", "giamdoc@stn.vinhlong.gov.vn"),
            ("password", "mat-khau-giam-doc"),
            ("role", "leader"),
            ("title", "Giám đốc"),
        ];
        let unit_s = unit.to_string();
        let mut ok = person.to_vec();
        ok.push(("unit_id", &unit_s));
        let mut bad = ok.clone();
        bad[3] = ("password", "ngan");
        bad[2] = ("email", "khong-phai-email");
        let res = c
            .post(format!("{}/admin/agencies/{id}/people", s.base))
            .form(&field_form(&csrf, &bad))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Mật khẩu cần từ 10 đến 256 ký tự.")
                && body.contains("Địa chỉ thư điện tử không hợp lệ.")
        );
        assert!(
            lienthong_services::people::by_username(&s.db().await, "giamdoc.stn")
                .await
                .unwrap()
                .is_none()
        );

        let res = c
            .post(format!("{}/admin/agencies/{id}/people", s.base))
            .form(&field_form(&csrf, &ok))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let page = c
            .get(format!(
                "{}{}",
                s.base,
                res.headers()["location"].to_str().unwrap()
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Đã thêm tài khoản.")
                && page.contains("Giám đốc")
                && page.contains("Văn phòng")
        );
        let res = client()
            .post(format!("{}/api/v1/auth/token", s.base))
            .json(&serde_json::json!({"username": "giamdoc.stn", "password": "mat-khau-giam-doc"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn a_merge_recorded_through_the_form_moves_people_and_shows_in_the_audit_log() {
    for s in servers() {
        let c = sign_in(s, "admin").await;
        let csrf = common::csrf(&c, s).await;
        let province = agency_of(s, "admin").await;
        let mut ids = Vec::new();
        for (n, name) in [(91, "Ban Sáp nhập A"), (92, "Ban Tiếp nhận B")] {
            let code = format!(
                "000.00.{}.H62",
                if s.backend == "sqlite" { n } else { n + 4 }
            );
            let form = field_form(
                &csrf,
                &[
                    ("code", &code),
                    ("name", name),
                    ("short_name", "BAN"),
                    ("kind", "other"),
                    ("parent_id", &province.to_string()),
                    ("valid_from", "2020-01-01"),
                ],
            );
            let res = c
                .post(format!("{}/admin/agencies", s.base))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303);
            ids.push(
                res.headers()["location"]
                    .to_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap(),
            );
        }
        let (a, b) = (ids[0].to_string(), ids[1].to_string());
        let username = format!("chuyenvien.bana.{}", s.backend);
        let form = field_form(
            &csrf,
            &[
                ("username", &username),
                ("full_name", "Đỗ Văn A"),
                ("email", ""),
                ("password", "mat-khau-ban-a"),
                ("role", "specialist"),
                ("unit_id", ""),
                ("title", "Chuyên viên"),
            ],
        );
        assert_eq!(
            c.post(format!("{}/admin/agencies/{a}/people", s.base))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status(),
            303
        );

        // A merge with no successor is refused with the domain's message.
        let bad = field_form(
            &csrf,
            &[
                ("kind", "merge"),
                ("effective_on", "2026-01-01"),
                ("subjects", &a),
                ("primary_successor", ""),
                ("new_name", ""),
                ("new_parent", ""),
                ("note", ""),
            ],
        );
        let res = c
            .post(format!("{}/admin/reorganise", s.base))
            .form(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("Sáp nhập cần ít nhất một cơ quan kết thúc"));

        let effective = time::date(time::today());
        let good = field_form(
            &csrf,
            &[
                ("kind", "merge"),
                ("effective_on", &effective),
                ("subjects", &a),
                ("primary_successor", &b),
                ("new_name", ""),
                ("new_parent", ""),
                ("note", "Quyết định số 1/QĐ-UBND"),
            ],
        );
        let res = c
            .post(format!("{}/admin/reorganise", s.base))
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

        let person = person_id(s, &username).await;
        let now = lienthong_services::people::positions(&s.db().await, person, Some(time::today()))
            .await
            .unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!(
            now[0].agency_id, ids[1],
            "the specialist now works at the successor"
        );
        let merged = org::get(&s.db().await, ids[0], time::today())
            .await
            .unwrap();
        assert_eq!(merged.valid_to.as_deref(), Some(effective.as_str()));
        assert_eq!(merged.successors[0].id, ids[1]);

        let log = c
            .get(format!("{}/admin/audit?action=agency.merge", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(log.contains("Quyết định số 1/QĐ-UBND"), "{log}");
        assert!(!log.contains("auth.sign_in"), "the filter applies");
        let verify = c
            .get(format!("{}/admin/audit/verify", s.base))
            .header("hx-request", "true")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(verify.contains("data-chain=\"ok\""), "{verify}");
        assert!(!verify.contains("<html"), "htmx gets a fragment");
    }
}

#[tokio::test]
async fn the_province_administrator_keeps_the_working_day_calendar() {
    for s in servers() {
        let c = sign_in(s, "admin").await;
        let page = c
            .get(format!("{}/admin/calendar?year=2026", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Tết 2026 (lunar New Year on 17 February) and Hùng Kings' day (lunar 10/3 = 26 April, a Sunday).
        assert!(page.contains("data-date=\"2026-02-17\""), "Tết is listed");
        assert!(
            page.contains("data-date=\"2026-04-26\"") && page.contains("data-date=\"2026-04-27\""),
            "Sunday holiday gives Monday off"
        );
        let csrf = common::csrf(&c, s).await;
        let day = if s.backend == "sqlite" {
            "2026-11-24"
        } else {
            "2026-11-23"
        };
        let res = c
            .post(format!("{}/admin/calendar/days", s.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("date", day),
                ("kind", "day_off"),
                ("note", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "the basis is required");
        let res = c
            .post(format!("{}/admin/calendar/days", s.base))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("date", day),
                ("kind", "day_off"),
                ("note", "Ngày Văn hóa Việt Nam (thử)"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let cal = lienthong_services::calendar::load(&s.db().await)
            .await
            .unwrap();
        assert!(!cal.is_working_day(chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()));
        let page = c
            .get(format!("{}/admin/calendar?year=2026", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Ngày Văn hóa Việt Nam (thử)"));
        let res = c
            .post(format!("{}/admin/calendar/days/remove", s.base))
            .form(&[("_csrf", csrf.as_str()), ("date", day)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let cal = lienthong_services::calendar::load(&s.db().await)
            .await
            .unwrap();
        assert!(cal.is_working_day(chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()));
        let clerk = sign_in(s, "vanthu.skhcn").await;
        assert_eq!(
            clerk
                .get(format!("{}/admin/calendar", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }
}

#[tokio::test]
async fn the_province_administrator_keeps_the_peer_directory() {
    for s in servers() {
        let c = sign_in(s, "admin").await;
        let csrf = common::csrf(&c, s).await;
        let post = |pattern: &'static str, url: &'static str| {
            c.post(format!("{}/admin/peers", s.base)).form(&[
                ("_csrf", csrf.as_str()),
                ("code_pattern", pattern),
                ("base_url", url),
                ("note", "Tỉnh Cà Mau"),
            ])
        };
        let res = post("H12", "https://lienthong.camau.gov.vn")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "a code pattern has four groups");
        let page = res.text().await.unwrap();
        assert!(page.contains("role=\"alert\""), "{page}");
        assert!(
            page.contains("value=\"https://lienthong.camau.gov.vn\""),
            "what was typed is kept"
        );
        let res = post("000.00.00.H12", "ftp://camau").send().await.unwrap();
        assert_eq!(res.status(), 422, "only http(s) addresses");
        let res = post("000.00.00.H12", "https://lienthong.camau.gov.vn")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let peers = lienthong_services::exchange::peers(&s.db().await)
            .await
            .unwrap();
        assert!(peers
            .iter()
            .any(|p| p.code_pattern == "000.00.00.H12"
                && p.base_url == "https://lienthong.camau.gov.vn"));
        let page = c
            .get(format!("{}/admin/peers", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-pattern=\"000.00.00.H12\""), "{page}");
        assert!(page.contains("https://lienthong.camau.gov.vn"));
        let res = c
            .post(format!("{}/admin/peers/remove", s.base))
            .form(&[("_csrf", csrf.as_str()), ("code_pattern", "000.00.00.H12")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert!(lienthong_services::exchange::peers(&s.db().await)
            .await
            .unwrap()
            .iter()
            .all(|p| p.code_pattern != "000.00.00.H12"));
        let res = c
            .post(format!("{}/admin/peers/remove", s.base))
            .form(&[("_csrf", csrf.as_str()), ("code_pattern", "H12")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "a code pattern has four groups");
        let clerk = sign_in(s, "vanthu.skhcn").await;
        assert_eq!(
            clerk
                .get(format!("{}/admin/peers", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }
}

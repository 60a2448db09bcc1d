//! Authorization: every route, walked as the wrong person. A clerk of a commune,
//! and even an administrator of that commune, can neither read nor change the
//! Department of Science and Technology's data, through pages or the API. A
//! guard test fails when a route is added without being listed here.

mod common;

use std::collections::BTreeSet;

use common::*;
use lienthong_domain::{FullName, Password, PersonKind, Role, Username};
use lienthong_services::{org, people};
use lienthong_store::{time, Actor};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    Public,
    SignedIn,
    /// Administrators only; scoped to the agency or person in the path.
    Admin,
    /// Administrators of the province (root agency) only.
    ProvinceAdmin,
    /// API: any valid bearer token.
    ApiToken,
    /// API: bearer token of an administrator of the agency in the path.
    ApiAdmin,
    /// Staff of the agency (pages); outsiders get the status given.
    Member(u16),
    /// Staff of the agency (API); outsiders get the status given.
    ApiMember(u16),
}

/// Every route of the application. `{id}` is the target agency or person.
const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/sign-in", Access::Public),
    ("POST", "/sign-in", Access::Public),
    ("GET", "/lang", Access::Public),
    ("GET", "/healthz", Access::Public),
    ("GET", "/metrics", Access::Public),
    ("GET", "/static/app.css", Access::Public),
    ("GET", "/static/htmx.min.js", Access::Public),
    ("GET", "/api/openapi.json", Access::Public),
    ("POST", "/api/v1/auth/token", Access::Public),
    ("GET", "/", Access::SignedIn),
    ("POST", "/sign-out", Access::SignedIn),
    ("GET", "/profile", Access::SignedIn),
    ("POST", "/profile/password", Access::SignedIn),
    ("GET", "/api/v1/me", Access::ApiToken),
    // Search is open to everyone signed in; what it finds is filtered per reader (tests/search.rs).
    ("GET", "/search", Access::SignedIn),
    ("GET", "/api/v1/search", Access::ApiToken),
    ("GET", "/api/v1/agencies", Access::ApiToken),
    ("GET", "/api/v1/agencies/{id}/people", Access::ApiAdmin),
    ("GET", "/admin/agencies", Access::Admin),
    ("POST", "/admin/agencies", Access::Admin),
    ("GET", "/admin/agencies/{id}", Access::Admin),
    ("POST", "/admin/agencies/{id}/units", Access::Admin),
    ("POST", "/admin/agencies/{id}/people", Access::Admin),
    ("GET", "/admin/reorganise", Access::Admin),
    ("POST", "/admin/reorganise", Access::Admin),
    ("GET", "/admin/people/{id}", Access::Admin),
    ("POST", "/admin/people/{id}/positions", Access::Admin),
    (
        "POST",
        "/admin/people/{id}/positions/{position}/end",
        Access::Admin,
    ),
    ("POST", "/admin/people/{id}/password", Access::Admin),
    ("GET", "/documents/incoming", Access::Member(403)),
    ("POST", "/documents/incoming", Access::Member(403)),
    ("GET", "/documents/incoming/new", Access::Member(403)),
    ("GET", "/documents/{id}", Access::Member(404)),
    (
        "GET",
        "/documents/{id}/attachments/{attachment}",
        Access::Member(404),
    ),
    ("POST", "/api/v1/documents/incoming", Access::ApiMember(403)),
    ("GET", "/api/v1/documents", Access::ApiMember(403)),
    ("GET", "/api/v1/documents/{id}", Access::ApiMember(404)),
    (
        "GET",
        "/api/v1/documents/{id}/attachments/{attachment}",
        Access::ApiMember(404),
    ),
    ("POST", "/documents/{id}/{action}", Access::Member(404)),
    ("POST", "/tasks/{id}/{action}", Access::Member(404)),
    ("POST", "/tasks/{id}/progress", Access::Member(404)),
    ("GET", "/documents/outgoing", Access::Member(403)),
    ("POST", "/documents/outgoing", Access::Member(403)),
    ("GET", "/documents/outgoing/new", Access::Member(403)),
    ("GET", "/documents/incoming/export", Access::Member(403)),
    ("GET", "/documents/outgoing/export", Access::Member(403)),
    (
        "POST",
        "/api/v1/documents/{id}/{action}",
        Access::ApiMember(404),
    ),
    (
        "POST",
        "/api/v1/tasks/{id}/{action}",
        Access::ApiMember(404),
    ),
    ("POST", "/api/v1/documents/outgoing", Access::ApiMember(403)),
    ("GET", "/api/v1/inbox", Access::ApiToken),
    ("GET", "/admin/audit", Access::ProvinceAdmin),
    ("GET", "/admin/calendar", Access::ProvinceAdmin),
    ("POST", "/admin/calendar/days", Access::ProvinceAdmin),
    ("POST", "/admin/calendar/days/remove", Access::ProvinceAdmin),
    ("GET", "/admin/peers", Access::ProvinceAdmin),
    ("POST", "/admin/peers", Access::ProvinceAdmin),
    ("POST", "/admin/peers/remove", Access::ProvinceAdmin),
    ("GET", "/admin/audit/verify", Access::ProvinceAdmin),
    // Authenticated by the package's signature, not by a session.
    ("POST", "/edxml/v1/packages", Access::Public),
    // Each clerk's own queue and quarantine.
    ("GET", "/exchange/arrived", Access::SignedIn),
    ("GET", "/exchange/quarantine", Access::SignedIn),
    (
        "GET",
        "/exchange/quarantine/{id}/package",
        Access::Member(404),
    ),
    ("GET", "/exchange/arrived/{id}", Access::Member(404)),
    (
        "POST",
        "/exchange/arrived/{id}/{action}",
        Access::Member(404),
    ),
    ("GET", "/api/v1/exchange/arrivals", Access::ApiToken),
    // The CA's certificate and CRL are published for everyone.
    ("GET", "/pki/ca.pem", Access::Public),
    ("GET", "/pki/crl.pem", Access::Public),
    (
        "POST",
        "/api/v1/exchange/arrivals/{id}/{action}",
        Access::ApiMember(404),
    ),
    (
        "GET",
        "/api/v1/documents/{id}/deliveries",
        Access::ApiMember(404),
    ),
    // Each clerk's own pending recall, update and replace requests.
    ("GET", "/api/v1/exchange/requests", Access::ApiToken),
    (
        "POST",
        "/exchange/requests/{id}/{action}",
        Access::Member(404),
    ),
    (
        "POST",
        "/api/v1/exchange/requests/{id}/{action}",
        Access::ApiMember(404),
    ),
];

#[test]
fn every_route_in_the_source_is_walked() {
    let mut in_source = BTreeSet::new();
    collect_routes(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut in_source,
    );
    let listed: BTreeSet<String> = ROUTES.iter().map(|(_, p, _)| p.to_string()).collect();
    let missing: Vec<_> = in_source.difference(&listed).collect();
    assert!(in_source.len() > 15, "route scan found only {in_source:?}");
    assert!(
        missing.is_empty(),
        "routes not covered by the access walk: {missing:?}"
    );
}

fn collect_routes(dir: &std::path::Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_routes(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            // `.route("…"` possibly with the path on the next line.
            for part in text.split(".route(").skip(1) {
                let part = part.trim_start();
                if let Some(rest) = part.strip_prefix('"') {
                    out.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
    }
}

struct Targets {
    agency: i64,
    person: i64,
    position: i64,
    commune: i64,
    document: i64,
    attachment: i64,
    task: i64,
    /// A package arrived for the department.
    arrival: i64,
    /// A recall waiting for the department's clerk.
    request: i64,
    /// A package for the department, refused and quarantined.
    quarantined: i64,
}

async fn targets(s: &TestServer) -> Targets {
    let person = person_id(s, "giamdoc.skhcn").await;
    let position = people::positions(&s.db().await, person, Some(time::today()))
        .await
        .unwrap()[0]
        .id;
    let agency = agency_of(s, "giamdoc.skhcn").await;
    let (document, attachment, task) = department_document(s, agency).await;
    Targets {
        agency,
        person,
        position,
        commune: agency_of(s, "vanthu.xa").await,
        document,
        attachment,
        task,
        arrival: department_arrival(s).await,
        request: department_request(s).await,
        quarantined: department_quarantined(s).await,
    }
}

/// A package for the department whose signature does not hold (a byte of the
/// subject changed), so it is quarantined with the department as its recipient.
async fn department_quarantined(s: &TestServer) -> i64 {
    let mut xml = signed_package(s, SYT, SKHCN, 7003);
    let tag = b"<edXML:Subject>";
    let at = xml
        .windows(tag.len())
        .position(|w| w == tag)
        .expect("a subject")
        + tag.len();
    xml[at] = if xml[at] == b'X' { b'Y' } else { b'X' };
    match lienthong_services::exchange::receive(&s.db().await, &blobs(s), &keys(s), xml)
        .await
        .unwrap()
    {
        lienthong_services::exchange::Receipt::Quarantined { quarantine_id, .. } => quarantine_id,
        other => panic!("{other:?}"),
    }
}

/// A recall from SYT of a package the department refused (the same one on every call).
async fn department_request(s: &TestServer) -> i64 {
    use lienthong_services::exchange::{self, Receipt};
    let db = s.db().await;
    let inbox = match exchange::receive(
        &db,
        &blobs(s),
        &keys(s),
        signed_package(s, SYT, SKHCN, 7002),
    )
    .await
    .unwrap()
    {
        Receipt::Arrived { inbox_ids, .. } => inbox_ids[0],
        other => panic!("{other:?}"),
    };
    let clerk = principal(s, "vanthu.skhcn").await;
    // Another test may be refusing it at the same moment.
    match exchange::refuse_arrival(&db, &clerk, inbox, "Gửi nhầm").await {
        Ok(()) | Err(lienthong_services::ServiceError::Conflict(_)) => {}
        Err(e) => panic!("{e:?}"),
    }
    let recall = signed_request(s, SYT, SKHCN, 7002, "Thu hồi");
    match exchange::receive(&db, &blobs(s), &keys(s), recall)
        .await
        .unwrap()
    {
        Receipt::Request { request_ids, .. } => request_ids[0],
        other => panic!("{other:?}"),
    }
}

/// A package from SYT arrived for the department (the same one on every call).
async fn department_arrival(s: &TestServer) -> i64 {
    let xml = signed_package(s, SYT, SKHCN, 7001);
    match lienthong_services::exchange::receive(&s.db().await, &blobs(s), &keys(s), xml)
        .await
        .unwrap()
    {
        lienthong_services::exchange::Receipt::Arrived { inbox_ids, .. } => inbox_ids[0],
        other => panic!("{other:?}"),
    }
}

/// An administrator of the commune: has admin rights, just not over the department.
async fn commune_admin(s: &TestServer, commune: i64) -> String {
    let username = "quantri.xa";
    if people::by_username(&s.db().await, username)
        .await
        .unwrap()
        .is_none()
    {
        let actor = Actor::system("test");
        let id = people::create(
            &s.db().await,
            &actor,
            people::NewPerson {
                username: Username::parse(username).unwrap(),
                full_name: FullName::parse("Quản Trị Xã").unwrap(),
                email: None,
                kind: PersonKind::Staff,
                password: Password::parse(lienthong_services::demo::DEMO_PASSWORD).unwrap(),
            },
        )
        .await
        .unwrap();
        let p = people::NewPosition {
            agency_id: commune,
            unit_id: None,
            role: Role::Admin,
            title: "Quản trị".into(),
            valid_from: time::today(),
        };
        people::add_position(&s.db().await, &actor, id, &p)
            .await
            .unwrap();
    }
    username.to_owned()
}

fn path_for(template: &str, t: &Targets) -> String {
    let id = if template.starts_with("/admin/people") {
        t.person
    } else if template.contains("documents/{id}") {
        t.document
    } else if template.contains("tasks/{id}") {
        t.task
    } else if template.contains("exchange/requests/{id}") {
        t.request
    } else if template.contains("exchange/quarantine/{id}") {
        t.quarantined
    } else if template.starts_with("/exchange/arrived/{id}")
        || template.starts_with("/api/v1/exchange/arrivals/{id}")
    {
        t.arrival
    } else {
        t.agency
    };
    let action = if template.contains("tasks/") {
        "complete"
    } else if template.contains("requests/") {
        "agree"
    } else {
        "forward"
    };
    let path = template
        .replace("{id}", &id.to_string())
        .replace("{action}", action)
        .replace("{position}", &t.position.to_string())
        .replace("{attachment}", &t.attachment.to_string());
    // Pages that work on "your agency" are asked, explicitly, for the department.
    match template {
        "/documents/incoming"
        | "/documents/incoming/new"
        | "/documents/outgoing"
        | "/documents/outgoing/new"
        | "/documents/incoming/export"
        | "/documents/outgoing/export"
        | "/api/v1/documents"
        | "/api/v1/documents/incoming"
        | "/api/v1/documents/outgoing" => {
            format!("{path}?agency={}", t.agency)
        }
        _ => path,
    }
}

/// Sends a route's request: GET, a urlencoded form, or the multipart registration form.
async fn send(
    c: &reqwest::Client,
    method: &str,
    url: &str,
    template: &str,
    t: &Targets,
    csrf: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let req = match (method, template) {
        ("GET", _) => c.get(url),
        // Refused before the body is read, so don't race a large upload against it.
        ("POST", _) if csrf.is_empty() => c.post(url),
        ("POST", "/documents/incoming") => {
            let form = reqwest::multipart::Form::new()
                .text("_csrf", csrf.to_owned())
                .text("agency_id", t.agency.to_string())
                .text("issuer", "Bộ Nội vụ")
                .text("symbol", "1/TB-LA")
                .text("issued_on", "2026-01-01")
                .text("doc_type", "TB")
                .text("subject", "Văn bản lạ")
                .text("urgency", "normal")
                .text("classification", "normal")
                .text("arrived_on", "2026-01-02");
            c.post(url).multipart(form)
        }
        ("POST", "/tasks/{id}/progress") => {
            let form = reqwest::multipart::Form::new().text("_csrf", csrf.to_owned()).text("note", "xâm nhập");
            c.post(url).multipart(form)
        }
        ("POST", "/documents/outgoing") => {
            let form = reqwest::multipart::Form::new()
                .text("_csrf", csrf.to_owned())
                .text("agency_id", t.agency.to_string())
                .text("doc_type", "CV")
                .text("subject", "Dự thảo lạ");
            c.post(url).multipart(form)
        }
        ("POST", "/api/v1/documents/outgoing") => c.post(url).json(&serde_json::json!({"doc_type": "CV", "subject": "Dự thảo lạ"})),
        ("POST", p) if p.starts_with("/api/") && p != "/api/v1/documents/incoming" => c.post(url).json(&serde_json::json!({"note": "x", "leader_id": 1})),
        ("POST", "/api/v1/documents/incoming") => c.post(url).json(&serde_json::json!({
            "issuer": "Bộ Nội vụ", "symbol": "1/TB-LA", "issued_on": "2026-01-01", "type": "TB", "subject": "Văn bản lạ"})),
        ("POST", "/documents/{id}/{action}") => c.post(url).form(&[("_csrf", csrf), ("leader_id", "1")]),
        ("POST", "/tasks/{id}/{action}") => c.post(url).form(&[("_csrf", csrf), ("result", "xâm nhập")]),
        _ => c.post(url).form(&form_for(template, t, csrf)),
    };
    let req = match token {
        Some(tok) => req.bearer_auth(tok),
        None => req,
    };
    req.send().await.unwrap()
}

/// A document of the department with an attachment, registered once per server.
async fn department_document(s: &TestServer, agency: i64) -> (i64, i64, i64) {
    use lienthong_domain::document::*;
    use lienthong_services::documents;
    let clerk = principal(s, "vanthu.skhcn").await;
    let (rows, _) = documents::list_register(
        &s.db().await,
        &clerk,
        agency,
        Direction::Incoming,
        &Default::default(),
    )
    .await
    .unwrap();
    let id = match rows.iter().find(|r| r.symbol == "77/KH-ACCESS") {
        Some(r) => r.id,
        None => {
            let dir = tempfile::tempdir().unwrap().keep();
            let blobs = lienthong_store::BlobStore::filesystem(&dir).unwrap();
            let new = documents::NewIncoming {
                register_id: None,
                issuer: documents::Issuer {
                    agency_id: None,
                    name: "Bộ Nội vụ".into(),
                },
                symbol: DocumentSymbol::parse("77/KH-ACCESS").unwrap(),
                issued_on: time::today(),
                doc_type: DocumentType::KeHoach,
                subject: Subject::parse("Kế hoạch kiểm tra quyền truy cập").unwrap(),
                urgency: Urgency::Normal,
                classification: Classification::Normal,
                page_count: None,
                due_on: None,
                signer_name: String::new(),
                arrived_on: time::today(),
                note: String::new(),
                allow_duplicate: true,
                readers: vec![],
                attachments: vec![documents::Upload {
                    file_name: "kh.pdf".into(),
                    bytes: bytes::Bytes::from_static(b"%PDF-1.4\n"),
                    claimed_type: None,
                }],
            };
            documents::register_incoming(&s.db().await, &blobs, &clerk, agency, new)
                .await
                .unwrap()
                .id
        }
    };
    let doc = documents::get(&s.db().await, &clerk, id).await.unwrap();
    let leader = principal(s, "giamdoc.skhcn").await;
    let tasks = documents::workflow::tasks_of(&s.db().await, id)
        .await
        .unwrap();
    let task = match tasks.first() {
        Some(t) => t.id,
        None => {
            let a = documents::workflow::Assign {
                instruction: "Kiểm tra".into(),
                lead: documents::workflow::Target::Person(person_id(s, "chuyenvien.skhcn").await),
                coordinate: vec![],
                inform: vec![],
                deadline: None,
            };
            documents::workflow::assign(&s.db().await, &leader, id, &a)
                .await
                .unwrap()[0]
        }
    };
    (id, doc.attachments[0].id, task)
}

async fn principal(s: &TestServer, username: &str) -> lienthong_services::auth::Principal {
    let person = people::by_username(&s.db().await, username)
        .await
        .unwrap()
        .unwrap();
    let positions = people::positions(&s.db().await, person.id, Some(time::today()))
        .await
        .unwrap();
    lienthong_services::auth::Principal { person, positions }
}

/// A well-formed body for each state-changing route, aimed at the department.
fn form_for(template: &str, t: &Targets, csrf: &str) -> Vec<(String, String)> {
    let f = |pairs: &[(&str, String)]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        v.push(("_csrf".into(), csrf.to_owned()));
        v
    };
    match template {
        "/admin/agencies" => f(&[
            ("code", "000.00.88.H62".into()),
            ("name", "Cơ quan lạ".into()),
            ("short_name", "CQL".into()),
            ("kind", "other".into()),
            ("parent_id", t.agency.to_string()),
            ("valid_from", "2026-01-01".into()),
        ]),
        "/admin/agencies/{id}/units" => {
            f(&[("name", "Phòng Lạ".into()), ("short_name", "PL".into())])
        }
        "/admin/agencies/{id}/people" => f(&[
            ("username", "nguoi.la".into()),
            ("full_name", "Người Lạ".into()),
            ("email", "".into()),
            ("password", "mat-khau-nguoi-la".into()),
            ("role", "admin".into()),
            ("unit_id", "".into()),
            ("title", "".into()),
        ]),
        "/admin/reorganise" => f(&[
            ("kind", "rename".into()),
            ("effective_on", "2026-01-01".into()),
            ("subjects", t.agency.to_string()),
            ("primary_successor", "".into()),
            ("new_name", "Sở Bị Đổi Tên".into()),
            ("new_parent", "".into()),
            ("note", "".into()),
        ]),
        "/admin/people/{id}/positions" => f(&[
            ("agency_id", t.commune.to_string()),
            ("unit_id", "".into()),
            ("role", "clerk".into()),
            ("title", "".into()),
            ("valid_from", "".into()),
        ]),
        "/admin/people/{id}/password" => f(&[("password", "mat-khau-bi-chiem".into())]),
        _ => f(&[]),
    }
}

async fn snapshot(s: &TestServer, t: &Targets) -> String {
    let today = time::today();
    let agency = org::get(&s.db().await, t.agency, today).await.unwrap();
    let units = org::units(&s.db().await, t.agency, today)
        .await
        .unwrap()
        .len();
    let staff = people::list_in_agency(&s.db().await, t.agency, today)
        .await
        .unwrap()
        .len();
    let positions = people::positions(&s.db().await, t.person, None)
        .await
        .unwrap()
        .len();
    let agencies = org::list(&s.db().await, today, true).await.unwrap().len();
    format!(
        "{} {} {units} {staff} {positions} {agencies}",
        agency.name,
        agency.valid_to.unwrap_or_default()
    )
}

#[tokio::test]
async fn the_wrong_people_can_neither_read_nor_change_another_agencys_data() {
    for s in servers() {
        let t = targets(s).await;
        let before = snapshot(s, &t).await;
        let admin_of_commune = commune_admin(s, t.commune).await;
        for who in ["vanthu.xa", admin_of_commune.as_str()] {
            let c = sign_in(s, who).await;
            let csrf = common::csrf(&c, s).await;
            let api_token = token(s, who).await;
            for (method, template, access) in ROUTES {
                // Public routes and one's own account are not another agency's data
                // (and signing out here would end the walk).
                if matches!(access, Access::Public | Access::SignedIn) {
                    continue;
                }
                let url = format!("{}{}", s.base, path_for(template, &t));
                let token = matches!(access, Access::ApiMember(_)).then_some(api_token.as_str());
                let res = send(&c, method, &url, template, &t, &csrf, token).await;
                let status = res.status().as_u16();
                match access {
                    Access::Member(expected) | Access::ApiMember(expected) => {
                        assert_eq!(status, *expected, "{who} {method} {template}")
                    }
                    Access::Admin if who == "vanthu.xa" => {
                        assert_eq!(status, 403, "{who} {method} {template}")
                    }
                    Access::Admin if *method == "GET" && !template.contains("{id}") => {
                        // Their own admin pages open, but list nothing of the department.
                        assert_eq!(status, 200, "{who} {method} {template}");
                        let body = res.text().await.unwrap();
                        assert!(
                            !body.contains(&format!("/admin/agencies/{}?", t.agency)),
                            "{who} sees the department in {template}"
                        );
                        assert!(
                            !body.contains(&format!("value=\"{}\"", t.agency)),
                            "{who} may pick the department in {template}"
                        );
                    }
                    Access::Admin | Access::ProvinceAdmin => {
                        assert_eq!(status, 403, "{who} {method} {template}")
                    }
                    _ => {}
                }
            }
            let token = token(s, who).await;
            let res = client()
                .get(format!("{}/api/v1/agencies/{}/people", s.base, t.agency))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{who} API agency people");
        }
        assert_eq!(
            snapshot(s, &t).await,
            before,
            "{}: nothing changed",
            s.backend
        );
        // The targeted leader's password was not taken over.
        token(s, "giamdoc.skhcn").await;
    }
}

#[tokio::test]
async fn nobody_signed_in_is_sent_to_sign_in_or_gets_401() {
    for s in servers() {
        let t = targets(s).await;
        let c = client();
        for (method, template, access) in ROUTES {
            let url = format!("{}{}", s.base, path_for(template, &t));
            let res = send(&c, method, &url, template, &t, "", None).await;
            match access {
                Access::SignedIn | Access::Admin | Access::ProvinceAdmin | Access::Member(_) => {
                    assert_eq!(res.status(), 303, "{method} {template}");
                    assert!(res.headers()["location"]
                        .to_str()
                        .unwrap()
                        .starts_with("/sign-in?next="));
                }
                Access::ApiToken | Access::ApiAdmin | Access::ApiMember(_) => {
                    assert_eq!(res.status(), 401, "{method} {template}")
                }
                Access::Public => assert!(res.status().as_u16() < 500, "{method} {template}"),
            }
        }
    }
}

#[tokio::test]
async fn the_province_administrator_reaches_every_admin_route() {
    for s in servers() {
        let t = targets(s).await;
        let c = sign_in(s, "admin").await;
        for (method, template, access) in ROUTES {
            if *method != "GET" || !matches!(access, Access::Admin | Access::ProvinceAdmin) {
                continue;
            }
            let res = c
                .get(format!("{}{}", s.base, path_for(template, &t)))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{method} {template}");
        }
        let token = token(s, "admin").await;
        let res = client()
            .get(format!("{}/api/v1/agencies/{}/people", s.base, t.agency))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["username"] == "giamdoc.skhcn"));
        // The agency page of the department lists its staff and units.
        let page = c
            .get(format!("{}/admin/agencies/{}", s.base, t.agency))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("giamdoc.skhcn"));
    }
}

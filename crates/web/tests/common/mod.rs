//! A real `lienthong` web server with the demo province, on a free loopback port,
//! for each backend: SQLite always, PostgreSQL (fresh schema) when
//! `TEST_DATABASE_URL` is set. One server per backend per test binary.

#![allow(dead_code)]

use std::sync::OnceLock;

use lienthong_services::demo;
use lienthong_store::Db;
use lienthong_web::{AppState, WebConfig};
use reqwest::redirect::Policy;

pub struct TestServer {
    pub base: String,
    pub backend: &'static str,
    /// The server's data folder (blobs, search index, `pki/`).
    pub data: std::path::PathBuf,
    url: String,
    schema: Option<String>,
}

impl TestServer {
    /// A connection pool to the server's database for this test alone. Each test
    /// runs its own tokio runtime, and a pooled connection dies with the runtime
    /// that opened it, so tests never share the server's pool.
    pub async fn db(&self) -> Db {
        Db::connect_in_schema(&self.url, self.schema.as_deref())
            .await
            .unwrap()
    }
}

static SERVERS: OnceLock<Vec<TestServer>> = OnceLock::new();

pub fn servers() -> &'static [TestServer] {
    SERVERS.get_or_init(|| {
        // Server errors go to the test's output, so a 500 explains itself.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("error")
            .with_test_writer()
            .try_init();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut out = Vec::new();
                let dir = tempfile::tempdir().unwrap().keep();
                let url = format!("sqlite://{}", dir.join("lienthong.db").display());
                let db = Db::open_sqlite(&dir).await.unwrap();
                out.push(start("sqlite", db, &dir, url, None).await);
                match std::env::var("TEST_DATABASE_URL") {
                    Ok(url) => {
                        let schema = format!("lt_web_{}", std::process::id());
                        let db = Db::connect_in_schema(&url, Some(&schema)).await.unwrap();
                        out.push(start("postgres", db, &dir, url, Some(schema)).await);
                    }
                    Err(_) => eprintln!("TEST_DATABASE_URL not set: PostgreSQL web tests NOT run"),
                }
                tx.send(out).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    })
}

async fn start(
    backend: &'static str,
    db: Db,
    dir: &std::path::Path,
    url: String,
    schema: Option<String>,
) -> TestServer {
    db.migrate().await.unwrap();
    demo::load(&db).await.unwrap();
    let state = AppState::new(
        db.clone(),
        &dir.join(backend),
        WebConfig {
            max_body_bytes: 64 * 1024,
            ..Default::default()
        },
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(lienthong_web::serve(
        listener,
        state,
        std::future::pending(),
    ));
    TestServer {
        base,
        backend,
        data: dir.join(backend),
        url,
        schema,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..start + 64].to_owned()
}

/// Signs in through the real form; returns the client holding the session cookie.
pub async fn sign_in(s: &TestServer, username: &str) -> reqwest::Client {
    let c = client();
    let page = c
        .get(format!("{}/sign-in", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = c
        .post(format!("{}/sign-in", s.base))
        .form(&[
            ("username", username),
            ("password", demo::DEMO_PASSWORD),
            ("_csrf", &csrf_of(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{} sign-in of {username}", s.backend);
    c
}

/// A CSRF token valid for this client (from any page it can load).
pub async fn csrf(c: &reqwest::Client, s: &TestServer) -> String {
    let page = c
        .get(format!("{}/sign-in", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_of(&page)
}

pub async fn token(s: &TestServer, username: &str) -> String {
    let res = client()
        .post(format!("{}/api/v1/auth/token", s.base))
        .json(&serde_json::json!({"username": username, "password": demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn agency_id(s: &TestServer, code: &str) -> i64 {
    let code = lienthong_domain::OrgCode::parse(code).unwrap();
    lienthong_services::org::id_by_code(&s.db().await, &code)
        .await
        .unwrap()
        .unwrap()
}

pub async fn person_id(s: &TestServer, username: &str) -> i64 {
    lienthong_services::people::by_username(&s.db().await, username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The agency where a demo person holds their first current role.
pub async fn agency_of(s: &TestServer, username: &str) -> i64 {
    let id = person_id(s, username).await;
    let today = lienthong_store::time::today();
    lienthong_services::people::positions(&s.db().await, id, Some(today))
        .await
        .unwrap()[0]
        .agency_id
}

/// A small valid one-page PDF whose text is `text` (ASCII, Helvetica).
pub fn pdf_saying(text: &str) -> Vec<u8> {
    let body = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{body}\nendstream", body.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub const SKHCN: &str = "000.00.08.H62";
pub const SYT: &str = "000.00.07.H62";

/// The server's key store, with a CA and certificates for SKHCN, SYT and the
/// People's Committee (made on first use; the server reads them from disk).
/// The server's own blob store (where packages it receives are kept).
pub fn blobs(s: &TestServer) -> lienthong_store::BlobStore {
    lienthong_store::BlobStore::filesystem(&s.data.join("blobs")).unwrap()
}

pub fn keys(s: &TestServer) -> lienthong_services::exchange::KeyStore {
    use lienthong_domain::OrgCode;
    // Tests of one binary run in parallel: one of them creates the CA.
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let code = |c: &str| OrgCode::parse(c).unwrap();
    lienthong_services::exchange::KeyStore::ensure_demo(
        s.data.join("pki"),
        &[
            (
                code("000.00.00.H62"),
                "Ủy ban nhân dân tỉnh Vĩnh Long".into(),
            ),
            (code(SKHCN), "Sở Khoa học và Công nghệ".into()),
            (code(SYT), "Sở Y tế".into()),
        ],
    )
    .unwrap()
    .0
}

/// A signed edXML package from `from` to `to` numbered `number`, as a peer sends it.
pub fn signed_package(s: &TestServer, from: &str, to: &str, number: u32) -> Vec<u8> {
    signed_with(s, from, to, number, None)
}

/// The recall (thu hồi) of the package [`signed_package`] gives, with `reason`.
pub fn signed_request(s: &TestServer, from: &str, to: &str, number: u32, reason: &str) -> Vec<u8> {
    signed_with(
        s,
        from,
        to,
        number,
        Some(lienthong_edxml::Business {
            doc_type: lienthong_edxml::BusinessDocType::Recall,
            reason: Some(reason.to_owned()),
        }),
    )
}

fn signed_with(
    s: &TestServer,
    from: &str,
    to: &str,
    number: u32,
    business: Option<lienthong_edxml::Business>,
) -> Vec<u8> {
    use lienthong_domain::OrgCode;
    use lienthong_edxml::*;
    let code = |c: &str| OrgCode::parse(c).unwrap();
    let date = lienthong_store::time::today();
    let package = Package {
        header: MessageHeader {
            from: Organization::new(code(from), "Cơ quan gửi"),
            to: vec![Organization::new(code(to), "Cơ quan nhận")],
            document_id: Some(DocumentId {
                organ_id: code(from),
                date,
                code: format!("{number}/GUI-VP"),
            }),
            code: Code {
                number: number.to_string(),
                notation: "GUI-VP".into(),
            },
            promulgation: PromulgationInfo {
                place: "Vĩnh Long".into(),
                date,
            },
            document_type: DocumentType {
                kind: "2".into(),
                detail: None,
                name: "Công văn".into(),
            },
            subject: format!("Về việc thử liên thông số {number}"),
            content: None,
            signer: SignerInfo::default(),
            due_date: None,
            to_places: vec![],
            other: OtherInfo::default(),
            steering_type: None,
            response_for: vec![],
        },
        traces: vec![],
        business,
        attachments: vec![Attachment {
            content_id: "cid:1".into(),
            content_type: "application/pdf".into(),
            description: None,
            name: "van-ban.pdf".into(),
            bytes: b"%PDF-1.4\n%%EOF\n".to_vec(),
        }],
    };
    let signer = keys(s).signer(&code(from)).unwrap();
    sign(&package.to_xml().unwrap(), &signer.key, &signer.cert).unwrap()
}

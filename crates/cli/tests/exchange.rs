//! Two `lienthong serve` processes on loopback exchange documents both ways, as two
//! provinces' systems would: Vĩnh Long (the demo province) and a small Cà Mau set
//! up with the administrator's commands. Each has its own CA and trusts the other's;
//! each routes the other province's agencies to the other's address.
//!
//! A document issued in Vĩnh Long arrives in Cà Mau, is registered, assigned,
//! handled and completed there, and the sender sees statuses 01, 03, 04, 05 and 06;
//! Cà Mau's reply arrives in Vĩnh Long and 01 and 03 flow back. Then the receiver is
//! killed with SIGKILL while documents are being sent to it: once it is back,
//! every one of them has arrived exactly once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PASSWORD: &str = "lienthong-demo";
const CAMAU: &str = "000.00.00.H12";
const SKHCN: &str = "000.00.08.H62";

fn lienthong(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = lienthong(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "lienthong {args:?}: {text}");
    text
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One running system.
struct Instance {
    data: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Instance {
    fn new(data: PathBuf) -> Instance {
        Instance {
            data,
            port: free_port(),
            child: None,
        }
    }

    fn data(&self) -> &str {
        self.data.to_str().unwrap()
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let child = Command::new(env!("CARGO_BIN_EXE_lienthong"))
            .args(["serve", "--data", self.data(), "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let health = format!("{}/healthz", self.base());
        for _ in 0..300 {
            if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not come up", self.base());
    }

    /// SIGKILL: no shutdown, no flush, whatever it was doing.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    async fn token(&self, username: &str) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/token", self.base()))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "token for {username}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let res = reqwest::Client::new()
            .get(format!("{}{path}", self.base()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let res = reqwest::Client::new()
            .post(format!("{}{path}", self.base()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The people of one agency who take a document through drafting and issue, and
/// through registration and handling.
struct Staff {
    clerk: String,
    leader: String,
    head: String,
    specialist: String,
    leader_id: i64,
    head_id: i64,
    specialist_id: i64,
}

async fn staff(i: &Instance, names: [&str; 4]) -> Staff {
    let [clerk, leader, head, specialist] = names;
    let id =
        |token: String| async move { i.get(&token, "/api/v1/me").await["id"].as_i64().unwrap() };
    Staff {
        clerk: i.token(clerk).await,
        leader: i.token(leader).await,
        head: i.token(head).await,
        specialist: i.token(specialist).await,
        leader_id: id(i.token(leader).await).await,
        head_id: id(i.token(head).await).await,
        specialist_id: id(i.token(specialist).await).await,
    }
}

/// Drafts, reviews, approves and issues a công văn to `recipient` (an agency id of
/// this instance); returns the document's id.
async fn issue_to(i: &Instance, s: &Staff, recipient: i64, subject: &str) -> i64 {
    let draft = i
        .post(
            &s.specialist,
            "/api/v1/documents/outgoing",
            json!({
            "doc_type": "CV", "subject": subject, "recipient_agencies": [recipient],
            "retained_copy": "Lưu: VT", "copies": 1}),
        )
        .await;
    let id = draft["id"].as_i64().unwrap();
    i.post(
        &s.specialist,
        &format!("/api/v1/documents/{id}/submit"),
        json!({"reviewer_id": s.head_id}),
    )
    .await;
    i.post(
        &s.head,
        &format!("/api/v1/documents/{id}/review"),
        json!({"decision": "accept", "approver_id": s.leader_id}),
    )
    .await;
    i.post(
        &s.leader,
        &format!("/api/v1/documents/{id}/approve"),
        json!({"decision": "accept"}),
    )
    .await;
    let issued = i
        .post(
            &s.clerk,
            &format!("/api/v1/documents/{id}/issue"),
            json!({}),
        )
        .await;
    assert_eq!(issued["status"], "issued", "{issued}");
    id
}

/// Waits (at most a minute) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn arrivals(i: &Instance, clerk: &str) -> Vec<Value> {
    i.get(clerk, "/api/v1/exchange/arrivals").await["arrivals"]
        .as_array()
        .unwrap()
        .clone()
}

async fn status_codes(i: &Instance, token: &str, document: i64) -> Vec<String> {
    let d = i
        .get(token, &format!("/api/v1/documents/{document}/deliveries"))
        .await;
    d["deliveries"][0]["statuses"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The id in "added agency CODE (id N)".
fn added_id(out: &str) -> i64 {
    let (_, rest) = out.split_once("(id ").unwrap();
    rest.split(')').next().unwrap().parse().unwrap()
}

fn add_user(data: &str, username: &str, name: &str, role: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args([
            "user",
            "add",
            "--data",
            data,
            "--username",
            username,
            "--full-name",
            name,
            "--agency",
            CAMAU,
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pem(data: &Path, file: &str) -> String {
    data.join("pki/ca").join(file).to_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_systems_exchange_documents_both_ways_and_survive_a_killed_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let mut vl = Instance::new(dir.path().join("vinhlong"));
    let mut cm = Instance::new(dir.path().join("camau"));

    // Vĩnh Long: the demo province (its CA and agency certificates come with it),
    // plus Cà Mau's People's Committee as an agency one can address.
    ok(&["demo", "--data", vl.data()]);
    let camau_in_vl = added_id(&ok(&[
        "agency",
        "add",
        "--data",
        vl.data(),
        "--code",
        CAMAU,
        "--kind",
        "other",
        "--name",
        "Ủy ban nhân dân tỉnh Cà Mau",
        "--short-name",
        "UBND",
    ]));
    // Cà Mau: its People's Committee with four people, its CA and certificate, and
    // the Vĩnh Long department it writes back to.
    ok(&[
        "agency",
        "add",
        "--data",
        cm.data(),
        "--code",
        CAMAU,
        "--kind",
        "provincial_committee",
        "--name",
        "Ủy ban nhân dân tỉnh Cà Mau",
        "--short-name",
        "UBND",
    ]);
    let skhcn_in_cm = added_id(&ok(&[
        "agency",
        "add",
        "--data",
        cm.data(),
        "--code",
        SKHCN,
        "--kind",
        "other",
        "--name",
        "Sở Khoa học và Công nghệ tỉnh Vĩnh Long",
        "--short-name",
        "SKHCN",
    ]));
    for (user, name, role) in [
        ("vanthu.camau", "Lâm Thị Hồng", "clerk"),
        ("lanhdao.camau", "Trương Văn Phúc", "leader"),
        ("truongphong.camau", "Châu Minh Luân", "unit_head"),
        ("chuyenvien.camau", "Dương Ngọc Hân", "specialist"),
    ] {
        add_user(cm.data(), user, name, role);
    }
    ok(&["ca", "init", "--data", cm.data()]);
    ok(&["ca", "issue", "--data", cm.data(), "--org", CAMAU]);
    // Each trusts the other's CA and routes the other province there.
    ok(&[
        "ca",
        "trust",
        "--data",
        vl.data(),
        &pem(&cm.data, "ca.pem"),
        "--crl",
        &pem(&cm.data, "crl.pem"),
    ]);
    ok(&[
        "ca",
        "trust",
        "--data",
        cm.data(),
        &pem(&vl.data, "ca.pem"),
        "--crl",
        &pem(&vl.data, "crl.pem"),
    ]);
    ok(&[
        "peer",
        "add",
        "--data",
        vl.data(),
        "--code",
        CAMAU,
        "--url",
        &cm.base(),
    ]);
    ok(&[
        "peer",
        "add",
        "--data",
        cm.data(),
        "--code",
        "000.00.00.H62",
        "--url",
        &vl.base(),
    ]);

    vl.start().await;
    cm.start().await;
    // Each publishes its CA certificate and CRL for the other systems.
    for (i, file, marker) in [
        (&vl, "ca.pem", "BEGIN CERTIFICATE"),
        (&cm, "crl.pem", "BEGIN X509 CRL"),
    ] {
        let res = reqwest::get(format!("{}/pki/{file}", i.base()))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{file}");
        assert!(res.text().await.unwrap().contains(marker), "{file}");
    }
    let v = staff(
        &vl,
        [
            "vanthu.skhcn",
            "giamdoc.skhcn",
            "truongphong.skhcn",
            "chuyenvien.skhcn",
        ],
    )
    .await;
    let c = staff(
        &cm,
        [
            "vanthu.camau",
            "lanhdao.camau",
            "truongphong.camau",
            "chuyenvien.camau",
        ],
    )
    .await;

    // Vĩnh Long → Cà Mau, then registered, assigned, handled and completed there.
    let sent = issue_to(
        &vl,
        &v,
        camau_in_vl,
        "Về việc phối hợp triển khai liên thông văn bản giữa hai tỉnh",
    )
    .await;
    eventually("the document to arrive in Cà Mau", || async {
        !arrivals(&cm, &c.clerk).await.is_empty()
    })
    .await;
    let arrived = arrivals(&cm, &c.clerk).await.remove(0);
    assert_eq!(arrived["from_code"], SKHCN, "{arrived}");
    assert!(
        arrived["subject"]
            .as_str()
            .unwrap()
            .contains("liên thông văn bản"),
        "{arrived}"
    );
    let arrival_id = arrived["id"].as_i64().unwrap();
    let incoming = cm
        .post(
            &c.clerk,
            &format!("/api/v1/exchange/arrivals/{arrival_id}/register"),
            json!({}),
        )
        .await;
    let incoming_id = incoming["id"].as_i64().unwrap();
    assert!(
        incoming["number"].as_i64().is_some_and(|n| n >= 1),
        "{incoming}"
    );
    assert_eq!(incoming["status"], "registered", "{incoming}");
    assert_eq!(
        incoming["issuer_name"], "Sở Khoa học và Công nghệ",
        "{incoming}"
    );
    cm.post(
        &c.clerk,
        &format!("/api/v1/documents/{incoming_id}/forward"),
        json!({"leader_id": c.leader_id}),
    )
    .await;
    cm.post(&c.leader, &format!("/api/v1/documents/{incoming_id}/assign"), json!({
        "instruction": "Đồng chí chủ trì, báo cáo kết quả", "lead": format!("p:{}", c.specialist_id),
        "deadline": "2099-12-31"})).await;
    let inbox = cm.get(&c.specialist, "/api/v1/inbox").await;
    let task = inbox["tasks"]["to_handle"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["document_id"] == incoming_id)
        .unwrap_or_else(|| panic!("{inbox}"))["id"]
        .as_i64()
        .unwrap();
    cm.post(
        &c.specialist,
        &format!("/api/v1/tasks/{task}/progress"),
        json!({"note": "Đang xây dựng kế hoạch"}),
    )
    .await;
    cm.post(
        &c.specialist,
        &format!("/api/v1/tasks/{task}/complete"),
        json!({"result": "Đã thống nhất phương án"}),
    )
    .await;
    let want: Vec<String> = ["01", "03", "04", "05", "06"].map(String::from).to_vec();
    eventually("statuses 01 03 04 05 06 back in Vĩnh Long", || async {
        let codes = status_codes(&vl, &v.clerk, sent).await;
        want.iter().all(|w| codes.contains(w))
    })
    .await;

    // Cà Mau → Vĩnh Long: the reply, registered there; 01 and 03 flow back.
    let reply = issue_to(
        &cm,
        &c,
        skhcn_in_cm,
        "Phúc đáp về việc phối hợp liên thông văn bản",
    )
    .await;
    eventually("the reply to arrive in Vĩnh Long", || async {
        arrivals(&vl, &v.clerk)
            .await
            .iter()
            .any(|a| a["from_code"] == CAMAU)
    })
    .await;
    let back = arrivals(&vl, &v.clerk)
        .await
        .into_iter()
        .find(|a| a["from_code"] == CAMAU)
        .unwrap();
    vl.post(
        &v.clerk,
        &format!("/api/v1/exchange/arrivals/{}/register", back["id"]),
        json!({}),
    )
    .await;
    eventually("statuses 01 03 back in Cà Mau", || async {
        let codes = status_codes(&cm, &c.clerk, reply).await;
        codes.contains(&"01".to_owned()) && codes.contains(&"03".to_owned())
    })
    .await;

    // The receiver dies (SIGKILL) while documents are on their way, and comes back.
    let before = arrivals(&cm, &c.clerk).await.len();
    let mut burst = Vec::new();
    for n in 0..3 {
        burst.push(
            issue_to(
                &vl,
                &v,
                camau_in_vl,
                &format!("Văn bản gửi khi mạng chập chờn số {n}"),
            )
            .await,
        );
    }
    cm.kill();
    for n in 3..6 {
        burst.push(
            issue_to(
                &vl,
                &v,
                camau_in_vl,
                &format!("Văn bản gửi khi mạng chập chờn số {n}"),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    cm.start().await;
    let c = staff(
        &cm,
        [
            "vanthu.camau",
            "lanhdao.camau",
            "truongphong.camau",
            "chuyenvien.camau",
        ],
    )
    .await;
    eventually("all six to arrive after the restart", || async {
        arrivals(&cm, &c.clerk).await.len() >= before + 6
    })
    .await;
    // Let the sender's retries settle, then count again: nothing twice.
    for id in &burst {
        eventually("the sender to see each one delivered", || async {
            let d = vl
                .get(&v.clerk, &format!("/api/v1/documents/{id}/deliveries"))
                .await;
            d["deliveries"][0]["state"] == "delivered"
        })
        .await;
    }
    let arrived = arrivals(&cm, &c.clerk).await;
    assert_eq!(arrived.len(), before + 6, "every document exactly once");
    for n in 0..6 {
        let subject = format!("Văn bản gửi khi mạng chập chờn số {n}");
        assert_eq!(
            arrived
                .iter()
                .filter(|a| a["subject"] == subject.as_str())
                .count(),
            1,
            "{subject}"
        );
    }
}

//! The administrator's command line, run as a real process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sqlx::{AnyPool, Executor};

fn lienthong(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn tamper(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await.unwrap();
    pool.execute(sql).await.unwrap();
    pool.close().await;
}

/// `demo` then `audit verify` passes; after a hand edit, and after a deletion, it fails naming the entry.
async fn audit_verify_detects_tampering(storage: &[&str], url: &str) {
    let out = lienthong(&[&["demo"], storage].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("vanthu.skhcn"),
        "demo prints the sign-ins: {}",
        text(&out)
    );
    let again = lienthong(&[&["demo"], storage].concat());
    assert!(text(&again).contains("already present"), "{}", text(&again));

    let ok = lienthong(&[&["audit", "verify"], storage].concat());
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("intact"));

    tamper(
        url,
        "UPDATE audit_log SET changes = '{\"name\":\"forged\"}' WHERE seq = 7",
    )
    .await;
    let bad = lienthong(&[&["audit", "verify"], storage].concat());
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("entry 7"), "{}", text(&bad));

    tamper(url, "DELETE FROM audit_log WHERE seq = 7").await;
    let bad = lienthong(&[&["audit", "verify"], storage].concat());
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("entry 8"), "{}", text(&bad));
}

#[tokio::test]
async fn audit_verify_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("sqlite://{}/lienthong.db", data);
    audit_verify_detects_tampering(&["--data", data], &url).await;
}

#[tokio::test]
async fn audit_verify_on_postgres() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL CLI test NOT run");
        return;
    };
    sqlx::any::install_default_drivers();
    let name = format!("lt_cli_{}", std::process::id());
    let admin = AnyPool::connect(&base).await.unwrap();
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let url = format!("{prefix}/{name}");
    // Blobs still live in a data directory: a throwaway one, not ./data.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    audit_verify_detects_tampering(&["--database-url", &url, "--data", data], &url).await;
    admin
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
}

#[test]
fn user_add_list_and_reset_password() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(lienthong(&["demo", "--data", data]).status.success());

    let mut child = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args([
            "user",
            "add",
            "--data",
            data,
            "--username",
            "Le.Van.Moi",
            "--full-name",
            "Lê Văn Mới",
        ])
        .args([
            "--agency",
            "000.00.00.H62",
            "--role",
            "clerk",
            "--title",
            "Văn thư",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mat-khau-du-dai\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("added le.van.moi"));
    assert!(
        !text(&out).contains("password:"),
        "a password from stdin is not echoed"
    );

    let list = text(&lienthong(&["user", "list", "--data", data]));
    let line = list
        .lines()
        .find(|l| l.starts_with("le.van.moi"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains("clerk@000.00.00.H62"), "{line}");
    assert!(list
        .lines()
        .any(|l| l.starts_with("congdan.demo") && l.contains("citizen")));

    let reset = lienthong(&[
        "user",
        "reset-password",
        "--data",
        data,
        "--username",
        "le.van.moi",
    ]);
    assert!(reset.status.success());
    let generated = text(&reset);
    let password = generated
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    assert!(password.len() >= 10);

    let dup = lienthong(&[
        "user",
        "add",
        "--data",
        data,
        "--username",
        "le.van.moi",
        "--full-name",
        "X",
    ]);
    assert!(!dup.status.success());
    let bad = lienthong(&[
        "user",
        "add",
        "--data",
        data,
        "--username",
        "x",
        "--full-name",
        "X",
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--username"), "{}", text(&bad));
    let bad = lienthong(&[
        "user",
        "add",
        "--data",
        data,
        "--username",
        "abc",
        "--full-name",
        "X",
        "--agency",
        "nope",
        "--role",
        "clerk",
    ]);
    assert!(text(&bad).contains("--agency"), "{}", text(&bad));
    assert!(lienthong(&["audit", "verify", "--data", data])
        .status
        .success());
    // The demo documents are in the index once it is rebuilt.
    let rebuilt = lienthong(&["search", "rebuild", "--data", data]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    let n: usize = text(&rebuilt)
        .trim()
        .rsplit(": ")
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 4, "{}", text(&rebuilt));
}

#[test]
fn peer_add_list_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(lienthong(&["demo", "--data", data]).status.success());
    let add = lienthong(&[
        "peer",
        "add",
        "--data",
        data,
        "--code",
        "000.00.00.H12",
        "--url",
        "https://lienthong.camau.gov.vn",
    ]);
    assert!(add.status.success(), "{}", text(&add));
    let list = text(&lienthong(&["peer", "list", "--data", data]));
    assert!(
        list.contains("000.00.00.H12  https://lienthong.camau.gov.vn"),
        "{list}"
    );

    let remove = lienthong(&["peer", "remove", "--data", data, "--code", "000.00.00.H12"]);
    assert!(remove.status.success(), "{}", text(&remove));
    let list = text(&lienthong(&["peer", "list", "--data", data]));
    assert!(!list.contains("000.00.00.H12"), "{list}");
    // A typo is not silently accepted: nothing was listed under that code.
    let again = lienthong(&["peer", "remove", "--data", data, "--code", "000.00.00.H12"]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("no peer is listed for 000.00.00.H12"),
        "{}",
        text(&again)
    );
    let bad = lienthong(&["peer", "remove", "--data", data, "--code", "H12"]);
    assert!(!bad.status.success());
}

#[tokio::test]
async fn backup_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(["serve", "--data", data_s, "--listen", &listen, "--demo"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let health = format!("http://{listen}/healthz");
    let mut up = false;
    for _ in 0..300 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not come up");

    let snapshot = dir.path().join("snapshot.db");
    let out = lienthong(&[
        "backup",
        "--data",
        data_s,
        "--out",
        snapshot.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let again = lienthong(&[
        "backup",
        "--data",
        data_s,
        "--out",
        snapshot.to_str().unwrap(),
    ]);
    assert!(!again.status.success(), "never overwrites a snapshot");

    // The snapshot is a complete database: its audit chain verifies on its own.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&snapshot, restored.join("lienthong.db")).unwrap();
    let verify = lienthong(&["audit", "verify", "--data", restored.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify));
    let list = text(&lienthong(&[
        "user",
        "list",
        "--data",
        restored.to_str().unwrap(),
    ]));
    assert!(list.contains("vanthu.skhcn"));

    // Graceful shutdown on SIGTERM.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "server exits cleanly on SIGTERM: {status:?}"
    );
}

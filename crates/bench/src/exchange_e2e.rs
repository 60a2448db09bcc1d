//! Scenario `exchange`, part two: two systems on loopback, end to end. Vĩnh Long (the
//! demo province, in this process) issues documents with a PDF attachment to the
//! agencies of a second system (Cà Mau, also in this process, on its own port and its
//! own SQLite database); every recipient is one signed package in the outbox. Then
//! both servers start, with `--workers` extra delivery workers on the sender next to
//! the server's own, and the clock runs until every package is delivered, verified
//! and stored as an arrival on the receiver.
//!
//! Both databases commit with SQLite's WAL and `synchronous = FULL`, and the receiver's
//! blob store syncs each package to disk before its rows are written: every package
//! stored is durable against a crash of the machine.

use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use lienthong_domain::agency::{AgencyKind, AgencyName, ShortName};
use lienthong_domain::document::{Classification, DocumentType, Subject, Urgency};
use lienthong_domain::OrgCode;
use lienthong_pki::{Ca, CaOptions, IssueRequest, KeyKind};
use lienthong_services::documents::outgoing::{self, Decision, NewDraft, Recipient};
use lienthong_services::documents::Upload;
use lienthong_services::exchange::{self, KeyStore};
use lienthong_services::{auth, demo, org, people};
use lienthong_store::{time, Actor, Db};
use lienthong_web::{AppState, WebConfig};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Serialize)]
pub struct EndToEnd {
    pub packages: usize,
    pub streams: usize,
    pub workers: usize,
    pub package_bytes: usize,
    pub prepare_seconds: f64,
    pub seconds: f64,
    pub packages_per_second: f64,
    /// CPU time both systems spent per package delivered (user and system, all
    /// threads), where the platform tells it: the figure the machine's noise
    /// affects least.
    pub cpu_ms_per_package: Option<f64>,
}

/// CPU time this process has used so far (user and system, all threads), on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // utime and stime are the 14th and 15th fields, in clock ticks (USER_HZ, 100).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

async fn principal(db: &Db, username: &str) -> anyhow::Result<auth::Principal> {
    let person = people::by_username(db, username)
        .await?
        .with_context(|| format!("no {username}"))?;
    auth::principal(db, person.id)
        .await?
        .with_context(|| format!("no principal for {username}"))
}

fn code(s: &str) -> anyhow::Result<OrgCode> {
    Ok(OrgCode::parse(s)?)
}

async fn add_agency(
    db: &Db,
    c: &str,
    kind: AgencyKind,
    name: &str,
    short: &str,
) -> anyhow::Result<i64> {
    Ok(org::create(
        db,
        &Actor::system("bench"),
        org::NewAgency {
            code: code(c)?,
            kind,
            name: AgencyName::parse(name)?,
            short_name: ShortName::parse(short)?,
            parent_id: None,
            valid_from: time::today(),
        },
    )
    .await?)
}

fn pdf(kb: usize) -> anyhow::Result<Vec<u8>> {
    // A real PDF (the register export) padded with a comment to the size asked.
    let mut pdf = lienthong_files::to_pdf(&lienthong_files::Table {
        title: "CÔNG VĂN".into(),
        subtitle: "Về việc phối hợp liên thông văn bản".into(),
        columns: vec!["Nội dung".into()],
        rows: vec![vec!["Đề nghị các cơ quan phối hợp triển khai.".into()]],
    })?;
    let mut x: u32 = 2026;
    let mut pad = Vec::new();
    while pdf.len() + pad.len() < kb * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pad.extend_from_slice(format!("{x:08x}").as_bytes());
    }
    // After %%EOF a PDF reader ignores comments; sniffing still sees a PDF.
    pdf.extend_from_slice(b"\n%");
    pdf.extend_from_slice(&pad);
    pdf.extend_from_slice(b"\n");
    Ok(pdf)
}

pub async fn run(
    packages: usize,
    streams: usize,
    workers: usize,
    kb: usize,
) -> anyhow::Result<EndToEnd> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let (a_dir, b_dir) = (dir.path().join("vinhlong"), dir.path().join("camau"));
    let a = Db::open_sqlite(&a_dir).await?;
    a.migrate().await?;
    let b = Db::open_sqlite(&b_dir).await?;
    b.migrate().await?;
    let la = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (url_a, url_b) = (
        format!("http://{}", la.local_addr()?),
        format!("http://{}", lb.local_addr()?),
    );

    // Vĩnh Long with its keys; Cà Mau's agencies, as recipients, with their route.
    demo::load(&a).await?;
    let keys_a = KeyStore::ensure_demo(a_dir.join("pki"), &demo::agencies_for_keys(&a).await?)?.0;
    add_agency(
        &b,
        "000.00.00.H12",
        AgencyKind::ProvincialCommittee,
        "Ủy ban nhân dân tỉnh Cà Mau",
        "UBND",
    )
    .await?;
    let mut ca_b = Ca::init(
        b_dir.join("pki/ca"),
        &CaOptions {
            name: "CA tỉnh Cà Mau".into(),
            province_code: code("000.00.00.H12")?,
            key: KeyKind::P256,
            valid_years: 1,
            crl_url: None,
        },
    )?;
    let mut recipients = Vec::new();
    for s in 0..streams {
        let c = format!("000.00.{:02}.H12", s + 1);
        let name = format!("Sở số {} tỉnh Cà Mau", s + 1);
        add_agency(
            &b,
            &c,
            AgencyKind::Department,
            &name,
            &format!("S{}", s + 1),
        )
        .await?;
        ca_b.issue(&IssueRequest {
            org: code(&c)?,
            name: name.clone(),
            key: KeyKind::P256,
            valid_days: 30,
        })?
        .write(b_dir.join("pki/agencies"))?;
        let id = add_agency(&a, &c, AgencyKind::Other, &name, &format!("S{}", s + 1)).await?;
        recipients.push(Recipient {
            agency_id: Some(id),
            name,
        });
    }
    let keys_b = KeyStore::open(b_dir.join("pki"));
    for (from, to) in [(&keys_a, &keys_b), (&keys_b, &keys_a)] {
        std::fs::create_dir_all(to.trust_dir())?;
        std::fs::copy(
            from.ca_dir().join("ca.pem"),
            to.trust_dir().join("peer.pem"),
        )?;
        std::fs::copy(
            from.ca_dir().join("crl.pem"),
            to.trust_dir().join("peer.crl"),
        )?;
    }
    let actor = Actor::system("bench");
    exchange::add_peer(&a, &actor, &code("000.00.00.H12")?, &url_b, "bench").await?;
    exchange::add_peer(&b, &actor, &code("000.00.00.H62")?, &url_a, "bench").await?;

    // The documents, each to every recipient: issuing writes the signed packages.
    let specialist = principal(&a, "chuyenvien.skhcn").await?;
    let head = principal(&a, "truongphong.skhcn").await?;
    let leader = principal(&a, "giamdoc.skhcn").await?;
    let clerk = principal(&a, "vanthu.skhcn").await?;
    let agency = clerk
        .positions
        .first()
        .context("clerk without a position")?
        .agency_id;
    let blobs_a = lienthong_store::BlobStore::filesystem(&a_dir.join("blobs"))?;
    let attachment = Bytes::from(pdf(kb)?);
    let documents = packages.div_ceil(streams.max(1));
    for n in 0..documents {
        let draft = NewDraft {
            doc_type: DocumentType::CongVan,
            legal_normative: false,
            subject: Subject::parse(&format!("Về việc phối hợp liên thông văn bản, đợt {n}"))?,
            urgency: Urgency::Normal,
            classification: Classification::Normal,
            drafting_unit_id: None,
            in_reply_to: None,
            recipients: recipients.clone(),
            signer_name: "Giám đốc".into(),
            page_count: Some(1),
            copies: Some(1),
            retained_copy: "Lưu: VT".into(),
            note: String::new(),
            // One byte differs per document so every attachment is its own blob.
            attachments: vec![Upload {
                file_name: "cong-van.pdf".into(),
                bytes: [attachment.as_ref(), format!("%{n}\n").as_bytes()]
                    .concat()
                    .into(),
                claimed_type: Some("application/pdf".into()),
            }],
        };
        let id = outgoing::create_draft(&a, &blobs_a, &specialist, agency, draft).await?;
        outgoing::submit_for_review(&a, &specialist, id, head.person.id).await?;
        outgoing::review(
            &a,
            &head,
            id,
            Decision::Accept {
                approver_id: Some(leader.person.id),
            },
        )
        .await?;
        outgoing::approve(&a, &leader, id, Decision::Accept { approver_id: None }).await?;
        outgoing::issue(&a, &blobs_a, &keys_a, &clerk, id).await?;
    }
    let queued: i64 = sqlx::query(
        "SELECT COUNT(*) FROM exchange_outbox WHERE kind = 'document' AND state = 'pending'",
    )
    .fetch_one(a.pool())
    .await?
    .try_get(0)?;
    let package_bytes: i64 = sqlx::query("SELECT MAX(LENGTH(xml)) FROM exchange_outbox_packages")
        .fetch_one(a.pool())
        .await?
        .try_get(0)?;
    let prepare_seconds = started.elapsed().as_secs_f64();
    eprintln!("{queued} signed packages of {package_bytes} bytes queued in {prepare_seconds:.1} s; delivering…");

    // The clock starts with the servers.
    let t0 = Instant::now();
    let cpu0 = cpu_seconds();
    let (stop_a, stopped_a) = tokio::sync::oneshot::channel::<()>();
    let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
    let state_a = AppState::new(a.clone(), &a_dir, WebConfig::default())?;
    let state_b = AppState::new(b.clone(), &b_dir, WebConfig::default())?;
    let server_b = tokio::spawn(lienthong_web::serve(lb, state_b, async move {
        let _ = stopped_b.await;
    }));
    let server_a = tokio::spawn(lienthong_web::serve(la, state_a.clone(), async move {
        let _ = stopped_a.await;
    }));
    let extra: Vec<_> = (0..workers)
        .map(|w| {
            let state = state_a.clone();
            tokio::spawn(async move {
                let node = format!("bench-worker-{w}");
                exchange::deliver_continuously(
                    &state.db,
                    &state.blobs,
                    &state.keys,
                    &state.http,
                    &node,
                )
                .await
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    let stored = loop {
        let stored: i64 = sqlx::query("SELECT COUNT(*) FROM exchange_inbox")
            .fetch_one(b.pool())
            .await?
            .try_get(0)?;
        if stored >= queued || Instant::now() > deadline {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(now, then)| now - then);
    for w in extra {
        w.abort();
    }
    let _ = stop_a.send(());
    let _ = stop_b.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server_a).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), server_b).await;
    if stored < queued {
        anyhow::bail!("only {stored} of {queued} packages arrived within 10 minutes");
    }
    Ok(EndToEnd {
        packages: queued as usize,
        streams,
        workers,
        package_bytes: package_bytes as usize,
        prepare_seconds,
        seconds,
        packages_per_second: queued as f64 / seconds,
        cpu_ms_per_package: cpu.map(|c| c * 1000.0 / queued.max(1) as f64),
    })
}

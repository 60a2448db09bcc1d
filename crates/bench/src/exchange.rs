//! Scenario `exchange`, part one: what signing and checking one edXML package costs,
//! next to the limit the key type sets. In the same run:
//!
//! 1. `openssl speed` for the key type (sign/s and verify/s of the bare algorithm);
//! 2. packages of about `--kb` KB with one PDF attachment: build + sign, then verify +
//!    parse + certificate check (what a receiver does before storing), each on one
//!    thread and on every core.
//!
//! The ratio "packages verified per second / bare verifications per second" shows how
//! close the XML work (canonicalization, digests, base64) keeps us to the crypto limit.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{NaiveDate, Utc};
use lienthong_domain::OrgCode;
use lienthong_edxml::{
    Attachment, Code, DocumentId, DocumentType, Limits, MessageHeader, Organization, OtherInfo,
    Package, PromulgationInfo, SignerInfo,
};
use lienthong_pki::openssl::pkey::{PKey, Private};
use lienthong_pki::openssl::x509::X509;
use lienthong_pki::{Ca, CaOptions, IssueRequest, KeyKind, TrustStore};
use serde::Serialize;

use crate::Environment;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Options {
    /// P-256 (`p256`) or RSA-3072 (`rsa3072`).
    #[serde(serialize_with = "key_name")]
    pub key: KeyKind,
    /// Size of the PDF attachment, in KB.
    pub kb: usize,
    pub seconds: f64,
}

fn key_name<S: serde::Serializer>(key: &KeyKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match key {
        KeyKind::Rsa3072 => "rsa3072",
        KeyKind::P256 => "p256",
    })
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    pub environment: Environment,
    pub options: Options,
    pub package_bytes: usize,
    /// `openssl speed` for the same key type, all on one core.
    pub openssl_sign_per_s: f64,
    pub openssl_verify_per_s: f64,
    pub rates: Vec<Rate>,
    /// Packages verified (with parse and certificate check) per second on one thread,
    /// divided by openssl's bare verifications per second.
    pub verify_ratio_to_openssl: f64,
    /// Two systems on loopback (see `exchange_e2e`), when asked for.
    pub end_to_end: Option<crate::exchange_e2e::EndToEnd>,
}

#[derive(Debug, Serialize)]
pub struct Rate {
    pub what: &'static str,
    pub threads: usize,
    pub per_second: f64,
    pub mb_per_second: f64,
}

struct Signer {
    key: PKey<Private>,
    cert: X509,
    trust: TrustStore,
    org: OrgCode,
}

fn signer(dir: &std::path::Path, key: KeyKind) -> anyhow::Result<Signer> {
    let province = OrgCode::parse("000.00.00.H62")?;
    let org = OrgCode::parse("000.00.11.H62")?;
    let mut ca = Ca::init(
        dir.join("ca"),
        &CaOptions {
            name: "CA chuyên dùng (bench)".into(),
            province_code: province,
            key,
            valid_years: 1,
            crl_url: None,
        },
    )?;
    let issued = ca.issue(&IssueRequest {
        org: org.clone(),
        name: "Sở Khoa học và Công nghệ".into(),
        key,
        valid_days: 30,
    })?;
    Ok(Signer {
        key: issued.key,
        cert: issued.cert,
        trust: ca.trust_store()?,
        org,
    })
}

/// A công văn from the department with one PDF-like attachment of `kb` KB.
fn package(org: &OrgCode, kb: usize, n: usize) -> anyhow::Result<Package> {
    let to = OrgCode::parse("000.00.12.H62")?;
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).context("date")?;
    let mut pdf = b"%PDF-1.7\n".to_vec();
    // Varied bytes (a compressed PDF body looks random), cheap to make.
    let mut x: u32 = 2026 + n as u32;
    while pdf.len() < kb * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pdf.extend_from_slice(&x.to_le_bytes());
    }
    pdf.extend_from_slice(b"\n%%EOF\n");
    Ok(Package {
        header: MessageHeader {
            from: Organization::new(org.clone(), "Sở Khoa học và Công nghệ"),
            to: vec![Organization::new(to, "Sở Nội vụ")],
            document_id: Some(DocumentId::parse(&format!(
                "{org},2026/12/01,{}/SKHCN-VP",
                n + 1
            ))?),
            code: Code {
                number: (n + 1).to_string(),
                notation: "SKHCN-VP".into(),
            },
            promulgation: PromulgationInfo {
                place: "Vĩnh Long".into(),
                date: day,
            },
            document_type: DocumentType {
                kind: "2".into(),
                detail: None,
                name: "Công văn".into(),
            },
            subject: "Về việc triển khai liên thông văn bản điện tử có chữ ký số".into(),
            content: None,
            signer: SignerInfo::default(),
            due_date: None,
            to_places: vec!["Như trên;".into(), "Lưu: VT, VP.".into()],
            other: OtherInfo::default(),
            steering_type: None,
            response_for: vec![],
        },
        traces: vec![],
        business: None,
        attachments: vec![Attachment {
            content_id: "cid:1".into(),
            content_type: "application/pdf".into(),
            description: None,
            name: "cong-van.pdf".into(),
            bytes: pdf,
        }],
    })
}

/// Runs `work` over and over on `threads` threads for `seconds`; returns calls/s.
/// Times `work` on `threads` threads and records it as `what`, with the megabytes
/// of package each call handles.
fn measure(
    rates: &mut Vec<Rate>,
    what: &'static str,
    threads: usize,
    seconds: f64,
    mb_per_call: f64,
    work: impl Fn(usize) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<()> {
    let per_second = rate(threads, seconds, work)?;
    rates.push(Rate {
        what,
        threads,
        per_second,
        mb_per_second: per_second * mb_per_call,
    });
    Ok(())
}

fn rate(
    threads: usize,
    seconds: f64,
    work: impl Fn(usize) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<f64> {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let counts: Vec<anyhow::Result<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let work = &work;
                s.spawn(move || {
                    let mut n = 0;
                    while Instant::now() < until {
                        work(t * 1_000_000 + n)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a bench thread panicked")))
            })
            .collect()
    });
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// `openssl speed` for the algorithm: (sign/s, verify/s) on one core.
fn openssl_speed(key: KeyKind, seconds: u32) -> anyhow::Result<(f64, f64)> {
    let (arg, marker) = match key {
        KeyKind::P256 => ("ecdsap256", "nistp256"),
        KeyKind::Rsa3072 => ("rsa3072", "rsa 3072 bits"),
    };
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), arg])
        .output()
        .context("running openssl speed (is openssl installed?)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains(marker))
        .with_context(|| format!("no {marker} line in openssl speed's output:\n{text}"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [.., sign, verify] => Ok((*sign, *verify)),
        _ => bail!("cannot read openssl speed's line {line:?}"),
    }
}

pub fn run(options: Options) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let signer = signer(dir.path(), options.key)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limits = Limits::default();

    let unsigned = package(&signer.org, options.kb, 0)?.to_xml()?;
    let signed = lienthong_edxml::sign(&unsigned, &signer.key, &signer.cert)?;
    let bytes = signed.len();
    let package_mb = bytes as f64 / 1e6;

    eprintln!("openssl speed…");
    let (openssl_sign, openssl_verify) = openssl_speed(options.key, 3)?;
    let mut rates = Vec::new();
    for threads in [1, cores] {
        eprintln!("build and sign on {threads} thread(s)…");
        measure(
            &mut rates,
            "build + sign",
            threads,
            options.seconds,
            package_mb,
            |n| {
                let xml = package(&signer.org, options.kb, n)?.to_xml()?;
                lienthong_edxml::sign(&xml, &signer.key, &signer.cert)?;
                Ok(())
            },
        )?;
        eprintln!("verify, parse and check the certificate on {threads} thread(s)…");
        let now = Utc::now();
        measure(
            &mut rates,
            "verify + parse + certificate",
            threads,
            options.seconds,
            package_mb,
            |_| {
                let verified = lienthong_edxml::verify(&signed)?;
                let package = Package::parse(&signed, &limits)?;
                signer.trust.verify_signer(
                    &verified.certificate,
                    &[],
                    now,
                    &package.header.from.organ_id,
                )?;
                Ok(())
            },
        )?;
        // The same work with the package read once (lienthong_edxml::Received).
        measure(
            &mut rates,
            "read once + certificate",
            threads,
            options.seconds,
            package_mb,
            |_| {
                let received = lienthong_edxml::Received::read(&signed, &limits)?;
                let verified = received.verify()?;
                let package = received.package()?;
                signer.trust.verify_signer(
                    &verified.certificate,
                    &[],
                    now,
                    &package.header.from.organ_id,
                )?;
                Ok(())
            },
        )?;
        // The XML work alone, without the certificate check.
        measure(
            &mut rates,
            "verify + parse (read once)",
            threads,
            options.seconds,
            package_mb,
            |_| {
                let received = lienthong_edxml::Received::read(&signed, &limits)?;
                received.verify()?;
                received.package()?;
                Ok(())
            },
        )?;
        measure(
            &mut rates,
            "certificate check (remembered)",
            threads,
            options.seconds,
            0.0,
            |_| {
                signer
                    .trust
                    .verify_signer(&signer.cert, &[], now, &signer.org)?;
                Ok(())
            },
        )?;
    }
    let one_thread_verify = rates
        .iter()
        .find(|r| r.threads == 1 && r.what.starts_with("verify"))
        .map_or(0.0, |r| r.per_second);
    Ok(Report {
        scenario: "exchange",
        environment: Environment::current(),
        options,
        package_bytes: bytes,
        openssl_sign_per_s: openssl_sign,
        openssl_verify_per_s: openssl_verify,
        verify_ratio_to_openssl: one_thread_verify / openssl_verify,
        rates,
        end_to_end: None,
    })
}

pub fn print(r: &Report, out: &std::path::Path) {
    println!(
        "exchange — {} build, {} CPUs, packages of {} bytes, {:?} keys",
        r.environment.profile, r.environment.cpus, r.package_bytes, r.options.key
    );
    println!(
        "openssl speed (one core): {:.0} sign/s, {:.0} verify/s",
        r.openssl_sign_per_s, r.openssl_verify_per_s
    );
    for rate in &r.rates {
        println!(
            "{:<30} {} thread(s): {:>8.0} packages/s ({:.0} MB/s)",
            rate.what, rate.threads, rate.per_second, rate.mb_per_second
        );
    }
    println!(
        "one-thread package verification / bare openssl verification: {:.2}",
        r.verify_ratio_to_openssl
    );
    if let Some(e) = &r.end_to_end {
        println!(
            "end to end: {} packages of {} bytes over {} streams, {} extra workers: {:.1} s = {:.0} packages/s delivered, verified and stored ({:.1} s to issue them first)",
            e.packages, e.package_bytes, e.streams, e.workers, e.seconds, e.packages_per_second, e.prepare_seconds
        );
        println!(
            "  next to openssl's bare verification rate: {:.3}",
            e.packages_per_second / r.openssl_verify_per_s
        );
        if let Some(ms) = e.cpu_ms_per_package {
            println!("  CPU time of both systems: {ms:.2} ms a package");
        }
    }
    println!("wrote {}", out.display());
}

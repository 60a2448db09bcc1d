//! `lienthong-bench`: load scenarios against a generated province, figures as JSON.
//!
//! ```text
//! cargo run --release -p lienthong-bench -- dashboard [--out FILE] [--seconds N] [--clients N]
//! cargo run --release -p lienthong-bench -- generate  [--out FILE] [--agencies N] [--people N]
//! cargo run --release -p lienthong-bench -- documents [--docs N] [--batch N] [--seconds N] [--clients N]
//! cargo run --release -p lienthong-bench -- exchange  [--key p256|rsa3072] [--kb N] [--seconds N]
//! ```
//!
//! Every figure in the output is measured in the run that writes it.

mod corpus;
mod dashboard;
mod documents;
mod exchange;
mod exchange_e2e;
mod generator;
mod load;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::generator::Shape;
use crate::load::TargetReport;

#[derive(Parser)]
#[command(
    name = "lienthong-bench",
    version,
    about = "Benchmarks for Liên Thông: load scenarios, figures as JSON"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Load `/healthz` (baseline), then the signed-in clerk's dashboard `/`.
    Dashboard {
        #[command(flatten)]
        load: LoadArgs,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Where to write the JSON report.
        #[arg(long, default_value = "target/bench/dashboard.json")]
        out: PathBuf,
    },
    /// Import `--docs` incoming documents (Vietnamese subjects) into a generated
    /// province through the import path, then load the register, search (tantivy
    /// next to SQLite FTS5) and concurrent arrival-number allocation.
    Documents {
        #[command(flatten)]
        load: LoadArgs,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Incoming documents to import.
        #[arg(long, default_value_t = 1_000_000)]
        docs: usize,
        /// Documents per import transaction.
        #[arg(long, default_value_t = 5_000)]
        batch: usize,
        /// Agencies the documents are registered in (the bench clerk's first).
        #[arg(long, default_value_t = 4)]
        doc_agencies: usize,
        /// Years of arrivals, ending today.
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// Folder of UTF-8 `*.txt` articles the subjects are learnt from.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))]
        corpus: PathBuf,
        /// Seed of the generated documents (same seed, same corpus).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Concurrent registrations of the numbering check.
        #[arg(long, default_value_t = 200)]
        allocations: usize,
        /// Keep the database and indexes in this (new) directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Where to write the JSON report.
        #[arg(long, default_value = "target/bench/documents.json")]
        out: PathBuf,
    },
    /// Sign and check edXML packages next to `openssl speed` for the same key type.
    Exchange {
        /// p256 or rsa3072.
        #[arg(long, default_value = "p256")]
        key: String,
        /// Size of each package's PDF attachment, in KB.
        #[arg(long, default_value_t = 75)]
        kb: usize,
        /// Seconds each measurement runs.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Packages sent end to end between two systems (0: skip that part).
        #[arg(long, default_value_t = 8000)]
        packages: usize,
        /// Recipient agencies on the second system (one delivery stream each): a
        /// document to every department of a province.
        #[arg(long, default_value_t = 32)]
        streams: usize,
        /// Delivery workers on the sender besides the server's own.
        #[arg(long, default_value_t = 0)]
        workers: usize,
        #[arg(long, default_value = "target/bench/exchange.json")]
        out: PathBuf,
    },
    /// Only generate a province into a fresh SQLite database and time it.
    Generate {
        #[command(flatten)]
        shape: ShapeArgs,
        /// Keep the database in this directory (default: a temporary one, removed).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Where to write the JSON report.
        #[arg(long, default_value = "target/bench/generate.json")]
        out: PathBuf,
    },
}

#[derive(Args, Clone, Copy)]
struct LoadArgs {
    /// Seconds each target is loaded for.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Concurrent clients, each with its own keep-alive connection.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of unrecorded load before each target's measurement.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
}

#[derive(Args, Clone, Copy)]
struct ShapeArgs {
    /// Agencies under the provincial committee.
    #[arg(long, default_value_t = 200)]
    agencies: usize,
    /// Staff spread across the agencies.
    #[arg(long, default_value_t = 2000)]
    people: usize,
    /// Work records (for now: extra audited unit rows; see `generator::Shape`).
    #[arg(long, default_value_t = 0)]
    records: usize,
}

impl ShapeArgs {
    fn shape(self) -> Shape {
        Shape {
            agencies: self.agencies,
            people: self.people,
            records: self.records,
        }
    }
}

fn seconds(s: f64, what: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .with_context(|| format!("--{what} must be a non-negative number of seconds"))
}

/// Where and how the figures were taken.
#[derive(Debug, Serialize)]
pub struct Environment {
    pub at: String,
    pub profile: &'static str,
    pub cpus: usize,
    pub os: &'static str,
    pub arch: &'static str,
}

impl Environment {
    pub fn current() -> Self {
        Environment {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        }
    }
}

/// mimalloc instead of the system allocator: packages of ~100 KB are allocated and
/// freed on several threads at once, and glibc's malloc spent an eighth of the
/// exchange's CPU consolidating and unlinking its free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().scenario {
        Scenario::Dashboard { load, shape, out } => {
            let load = load::Load {
                clients: load.clients.max(1),
                duration: seconds(load.seconds, "seconds")?,
                warmup: seconds(load.warmup, "warmup")?,
            };
            let report = dashboard::run(shape.shape(), load).await?;
            write_json(&out, &report)?;
            print_dashboard(&report, &out);
        }
        Scenario::Documents {
            load,
            shape,
            docs,
            batch,
            doc_agencies,
            years,
            corpus,
            seed,
            allocations,
            data_dir,
            out,
        } => {
            let load = load::Load {
                clients: load.clients.max(1),
                duration: seconds(load.seconds, "seconds")?,
                warmup: seconds(load.warmup, "warmup")?,
            };
            let options = documents::Options {
                docs,
                batch,
                doc_agencies,
                years,
                corpus,
                seed,
                allocations,
                data_dir: data_dir.clone(),
            };
            let report = documents::run(shape.shape(), load, options).await?;
            write_json(&out, &report)?;
            print_documents(&report, &out);
            if let Some(d) = &data_dir {
                println!("database kept in {}", d.display());
            }
        }
        Scenario::Exchange {
            key,
            kb,
            seconds,
            packages,
            streams,
            workers,
            out,
        } => {
            let key = match key.as_str() {
                "p256" => lienthong_pki::KeyKind::P256,
                "rsa3072" => lienthong_pki::KeyKind::Rsa3072,
                other => anyhow::bail!("--key: {other:?} is neither p256 nor rsa3072"),
            };
            let mut report = tokio::task::spawn_blocking(move || {
                exchange::run(exchange::Options { key, kb, seconds })
            })
            .await??;
            if packages > 0 {
                report.end_to_end =
                    Some(exchange_e2e::run(packages, streams.max(1), workers, kb).await?);
            }
            write_json(&out, &report)?;
            exchange::print(&report, &out);
        }
        Scenario::Generate {
            shape,
            data_dir,
            out,
        } => {
            let temp = tempfile::tempdir()?;
            let dir = data_dir.as_deref().unwrap_or(temp.path());
            let db = lienthong_store::Db::open_sqlite(dir).await?;
            db.migrate().await?;
            let generated = generator::generate(&db, shape.shape()).await?;
            db.close().await;
            let report = serde_json::json!({
                "scenario": "generate",
                "environment": Environment::current(),
                "shape": shape.shape(),
                "generation": generated,
                "rows_per_second": rows_per_second(&generated),
            });
            write_json(&out, &report)?;
            println!(
                "generated {} agencies, {} units, {} people, {} positions, {} records in {:.2} s ({:.0} rows/s)",
                generated.agencies,
                generated.units,
                generated.people,
                generated.positions,
                generated.records,
                generated.elapsed.as_secs_f64(),
                rows_per_second(&generated)
            );
            if let Some(d) = &data_dir {
                println!("database kept in {}", d.display());
            }
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

fn rows_per_second(g: &generator::Generated) -> f64 {
    let rows = (g.agencies + g.units + g.people + g.positions) as f64;
    rows / g.elapsed.as_secs_f64().max(f64::EPSILON)
}

fn write_json(out: &Path, report: &impl Serialize) -> anyhow::Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(out, json + "\n").with_context(|| format!("writing {}", out.display()))
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.2}"))
}

fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |r| format!("×{r:.2}"))
}

fn print_target(t: &TargetReport) {
    let l = &t.latency_ms;
    println!(
        "{:<10} {:<9} {:>9} {:>7} {:>10.0} {:>8} {:>8} {:>8} {:>8} {:>8}",
        t.name,
        t.path,
        t.requests,
        t.errors,
        t.rps,
        fmt_ms(l.p50),
        fmt_ms(l.p90),
        fmt_ms(l.p99),
        fmt_ms(l.max),
        t.body_bytes_mean
            .map_or_else(|| "-".to_owned(), |b| format!("{b:.0}"))
    );
    if let Some(e) = &t.first_error {
        println!("           first error: {e}");
    }
}

fn print_dashboard(r: &dashboard::Report, out: &Path) {
    let g = &r.generation;
    println!(
        "dashboard — {} build, {} CPUs, {} clients, {:.0} s per target (+{:.0} s warm-up), session via {}",
        r.environment.profile, r.environment.cpus, r.config.clients, r.config.seconds, r.config.warmup_seconds, r.session_via
    );
    println!(
        "province: {} agencies, {} units, {} people, {} positions, {} records, generated in {:.2} s",
        g.agencies,
        g.units,
        g.people,
        g.positions,
        g.records,
        g.elapsed.as_secs_f64()
    );
    println!(
        "{:<10} {:<9} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "target",
        "path",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "body B"
    );
    for t in &r.targets {
        print_target(t);
    }
    println!(
        "dashboard/healthz: req/s {}, p99 {}",
        fmt_ratio(r.ratios.dashboard_over_healthz_rps),
        fmt_ratio(r.ratios.dashboard_over_healthz_p99)
    );
    println!("wrote {}", out.display());
}

fn fmt_mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_048_576.0)
}

fn fmt_total<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), T::to_string)
}

fn print_documents(r: &documents::Report, out: &Path) {
    let g = &r.generation;
    let i = &r.import;
    println!(
        "documents — {} build, {} CPUs, {} clients, {:.0} s per target (+{:.0} s warm-up), session via {}",
        r.environment.profile, r.environment.cpus, r.config.clients, r.config.seconds, r.config.warmup_seconds, r.session_via
    );
    println!(
        "province: {} agencies, {} people, generated in {:.2} s; corpus: {} words, {} distinct, {} rare-tail words",
        g.agencies,
        g.people,
        g.elapsed.as_secs_f64(),
        r.corpus.tokens,
        r.corpus.vocabulary,
        r.corpus.tail_words
    );
    println!(
        "import: {} documents ({} classified) into agencies {:?}, {} transactions of {}, arrivals {}..{} ({} working days)",
        i.documents, i.classified, i.agencies, i.batches, i.batch_size, i.first_day, i.last_day, i.working_days
    );
    let b = &i.batch_docs_per_second;
    println!(
        "import: {:.1} s in import_incoming = {:.0} documents/s (per batch: min {:.0}, median {:.0}, max {:.0}; first tenth {:.0}, last tenth {:.0}); {:.1} s making the documents",
        i.import_seconds, i.docs_per_second, b.min, b.p50, b.max, b.first_tenth, b.last_tenth, i.generation_seconds
    );
    println!(
        "indexes: tantivy rebuild {} documents in {:.1} s ({}); FTS5 build {} documents in {:.1} s ({}); database {}",
        r.indexes.tantivy.documents,
        r.indexes.tantivy.seconds,
        fmt_mb(r.indexes.tantivy.bytes),
        r.indexes.fts5.documents,
        r.indexes.fts5.seconds,
        fmt_mb(r.indexes.fts5.bytes),
        fmt_mb(r.database_bytes)
    );
    for (what, t) in [("common", &r.terms.common), ("rare", &r.terms.rare)] {
        println!(
            "term {what:<6} {:?}: in {} documents of the clerk's agency; totals for the clerk: tantivy {}, FTS5 {}; FTS5 without permissions {}",
            t.word,
            t.documents,
            fmt_total(&t.tantivy_total),
            fmt_total(&t.fts5_total),
            fmt_total(&t.fts5_unfiltered_total)
        );
    }
    for p in &r.register_pages {
        println!(
            "{}: {}..{}, first page {} rows (more: {}), HTTP {}",
            p.name, p.from, p.to, p.rows, p.more, p.http_status
        );
    }
    println!(
        "{:<16} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "target", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "body B"
    );
    for t in &r.targets {
        let l = &t.latency_ms;
        println!(
            "{:<16} {:>9} {:>7} {:>10.0} {:>8} {:>8} {:>8} {:>8} {:>8}",
            t.name,
            t.requests,
            t.errors,
            t.rps,
            fmt_ms(l.p50),
            fmt_ms(l.p90),
            fmt_ms(l.p99),
            fmt_ms(l.max),
            t.body_bytes_mean
                .map_or_else(|| "-".to_owned(), |b| format!("{b:.0}"))
        );
        if let Some(e) = &t.first_error {
            println!("                 first error: {e}");
        }
    }
    let f = |x: &Option<documents::Figures>| {
        x.as_ref().map_or_else(
            || "-".to_owned(),
            |x| format!("{}/{}", fmt_ms(x.p50_ms), fmt_ms(x.p99_ms)),
        )
    };
    println!(
        "search p50/p99 ms   {:<14} {:>18} {:>18} {:>18}",
        "word", "tantivy (HTTP)", "FTS5 (same rule)", "FTS5 (no rule)"
    );
    for s in &r.search {
        println!(
            "search {:<12} {:<14} {:>18} {:>18} {:>18}",
            s.term,
            s.word,
            f(&s.tantivy_http),
            f(&s.fts5),
            f(&s.fts5_unfiltered)
        );
    }
    let a = &r.allocation;
    println!(
        "allocation: {} concurrent registrations in {:.2} s: {} registered, {} errors, numbers {}..{} after {}, distinct {}, gapless {}",
        a.requested,
        a.seconds,
        a.registered,
        a.errors,
        fmt_total(&a.first_number),
        fmt_total(&a.last_number),
        a.counter_before,
        a.distinct,
        a.gapless
    );
    if let Some(e) = &a.first_error {
        println!("            first error: {e}");
    }
    println!(
        "numbering: {} series, {} documents, gapless {}{}",
        r.numbering.series,
        r.numbering.documents,
        r.numbering.gapless,
        r.numbering
            .first_problem
            .as_deref()
            .map_or_else(String::new, |p| format!(" ({p})"))
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9}",
        "phase (cumulative)", "wall s", "cpu s", "load 1m", "peak MB"
    );
    let opt = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    for m in &r.phases {
        println!(
            "{:<22} {:>9.1} {:>9} {:>9} {:>9}",
            m.after,
            m.wall_seconds,
            opt(m.cpu_seconds, 1),
            opt(m.load_average_1m, 2),
            opt(m.peak_rss_mb, 0)
        );
    }
    println!("total {:.1} s", r.total_seconds);
    println!("wrote {}", out.display());
}

//! `lienthong-bench`: load scenarios against a generated province, figures as JSON.
//!
//! ```text
//! cargo run --release -p lienthong-bench -- dashboard [--out FILE] [--seconds N] [--clients N]
//! cargo run --release -p lienthong-bench -- generate  [--out FILE] [--agencies N] [--people N]
//! ```
//!
//! Every figure in the output is measured in the run that writes it.

mod dashboard;
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

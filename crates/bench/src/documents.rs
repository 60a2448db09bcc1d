//! Scenario `documents`: a generated province in a fresh SQLite database, then
//! `--docs` incoming documents with Vietnamese subjects (see [`crate::corpus`]) imported
//! through `import_incoming` in batches, spread over a few agencies and about three
//! years of working days. Then, with the web server in this process and the bench
//! clerk signed in (session cookie for pages, API token for the API):
//!
//! 1. `/healthz`, the baseline;
//! 2. the incoming register's first page filtered on one month (a recent one and one
//!    half-way back);
//! 3. `/api/v1/documents/0` (token check and one lookup: the API's floor);
//! 4. `/api/v1/search?q=` for a common and a rare term of the generated corpus (tantivy,
//!    index rebuilt from the database first, timed);
//! 5. the same terms through SQLite FTS5 (`unicode61 remove_diacritics 2`) over the same
//!    rows, queried directly with sqlx: with the search's permission rule (equivalent)
//!    and without it (FTS5 alone);
//! 6. concurrent arrival-number allocations through `register_incoming`, checked
//!    distinct and gapless, and every register's numbering checked gapless.
//!
//! Documents are generated a batch at a time and dropped once imported, so memory does
//! not grow with `--docs` (the index rebuild holds every document once; see its figure).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use lienthong_domain::document::{
    Classification, Direction, DocumentSymbol, DocumentType, Subject, Urgency,
};
use lienthong_domain::Role;
use lienthong_services::auth::{self, Principal};
use lienthong_services::documents::import::import_incoming;
use lienthong_services::documents::{self, Issuer, NewIncoming, RegisterFilter};
use lienthong_services::{org, people};
use lienthong_store::{time, BlobStore, Db};
use lienthong_web::{AppState, WebConfig};
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use serde::Serialize;
use sqlx::Row;

use crate::corpus::{cumulative, Corpus, CorpusStats, DocFreq, Rng};
use crate::dashboard::{sign_in, SESSION_COOKIE};
use crate::generator::{self, full_name, Generated, Shape};
use crate::load::{self, Load, TargetReport};
use crate::Environment;

/// The FTS5 table built for the baseline (external content: the `documents` rows).
const FTS_TABLE: &str = "bench_fts";
/// Hits per search page, as the search API answers.
const PAGE: i64 = 20;

/// What to generate and measure besides the province's shape and the load.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    pub docs: usize,
    /// Documents per `import_incoming` call (one write transaction each).
    pub batch: usize,
    /// Agencies the documents are registered in (the bench clerk's first).
    pub doc_agencies: usize,
    /// Years of arrivals, ending today.
    pub years: u32,
    pub corpus: PathBuf,
    pub seed: u64,
    /// Concurrent `register_incoming` calls of the numbering check.
    pub allocations: usize,
    #[serde(skip)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub clients: usize,
    pub shape: Shape,
    pub options: Options,
    pub database: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    pub environment: Environment,
    pub config: Config,
    pub generation: Generated,
    pub corpus: CorpusStats,
    pub import: ImportReport,
    pub indexes: Indexes,
    pub terms: Terms,
    pub session_via: String,
    pub register_pages: Vec<RegisterPage>,
    pub targets: Vec<TargetReport>,
    /// Search figures of both engines side by side (from `targets`).
    pub search: Vec<SearchRow>,
    pub allocation: Allocation,
    pub numbering: NumberingCheck,
    /// Time, CPU, machine load and memory after each phase.
    pub phases: Vec<PhaseMark>,
    pub database_bytes: u64,
    pub total_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub documents: usize,
    pub batches: usize,
    pub batch_size: usize,
    pub agencies: Vec<i64>,
    pub classified: usize,
    pub first_day: String,
    pub last_day: String,
    pub working_days: usize,
    /// Time spent in `import_incoming`, and documents per second of it.
    pub import_seconds: f64,
    pub docs_per_second: f64,
    /// Time spent making the synthetic documents (outside the import).
    pub generation_seconds: f64,
    pub batch_docs_per_second: BatchRates,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchRates {
    pub min: f64,
    pub p50: f64,
    pub max: f64,
    /// Over the first and the last tenth of the batches: does the rate hold as the
    /// database grows?
    pub first_tenth: f64,
    pub last_tenth: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexBuild {
    pub documents: i64,
    pub seconds: f64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Indexes {
    /// `lienthong_services::search::rebuild` into the server's index folder.
    pub tantivy: IndexBuild,
    /// `CREATE VIRTUAL TABLE … USING fts5(…)` and its `'rebuild'` command.
    pub fts5: IndexBuild,
}

#[derive(Debug, Clone, Serialize)]
pub struct Term {
    pub word: String,
    /// Generated documents the bench clerk may read (their agency's) whose subject,
    /// issuer or symbol has the word.
    pub documents: u32,
    /// Totals each engine reports for the bench clerk (FTS5 also without permissions).
    pub tantivy_total: Option<u64>,
    pub fts5_total: Option<i64>,
    pub fts5_unfiltered_total: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Terms {
    pub common: Term,
    pub rare: Term,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisterPage {
    pub name: &'static str,
    pub from: String,
    pub to: String,
    /// Rows of the first page and whether there is a next, from the service.
    pub rows: usize,
    pub more: bool,
    pub http_status: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub target: String,
    pub rps: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchRow {
    pub term: &'static str,
    pub word: String,
    pub tantivy_http: Option<Figures>,
    pub fts5: Option<Figures>,
    pub fts5_unfiltered: Option<Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allocation {
    pub requested: usize,
    pub registered: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub register_id: i64,
    pub year: i64,
    /// The register's counter before, and the numbers given.
    pub counter_before: i64,
    pub first_number: Option<i64>,
    pub last_number: Option<i64>,
    pub distinct: bool,
    /// The numbers are exactly `counter_before + 1 ..= counter_before + registered`.
    pub gapless: bool,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NumberingCheck {
    /// (register, year, series) groups of incoming documents checked.
    pub series: usize,
    pub documents: i64,
    /// Every group is numbered 1..=count with no repeat.
    pub gapless: bool,
    pub first_problem: Option<String>,
}

/// The process and the machine after a phase: other work on the machine shows in
/// the load average, and the process's own CPU time does not depend on it.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseMark {
    pub after: &'static str,
    pub wall_seconds: f64,
    /// User + system CPU time of this process since it started.
    pub cpu_seconds: Option<f64>,
    pub load_average_1m: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub rss_mb: Option<f64>,
}

fn mark(after: &'static str, started: Instant) -> PhaseMark {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    // Fields 14 and 15 of /proc/self/stat (after the command name in parentheses),
    // in clock ticks: 100 per second on Linux.
    let cpu_seconds = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        });
    let load_average_1m = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok());
    PhaseMark {
        after,
        wall_seconds: started.elapsed().as_secs_f64(),
        cpu_seconds,
        load_average_1m,
        peak_rss_mb: field("VmHWM:"),
        rss_mb: field("VmRSS:"),
    }
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map_or(0, |m| m.len());
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

fn database_bytes(dir: &Path) -> u64 {
    ["lienthong.db", "lienthong.db-wal", "lienthong.db-shm"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
        .sum()
}

pub async fn run(shape: Shape, load: Load, opts: Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    if opts.docs == 0 || opts.batch == 0 || opts.doc_agencies == 0 {
        bail!("--docs, --batch and --doc-agencies must be at least 1");
    }
    let corpus = Corpus::load(&opts.corpus, opts.seed)?;
    eprintln!(
        "corpus: {} words ({} distinct, {} in the rare tail) from {}",
        corpus.stats.tokens,
        corpus.stats.vocabulary,
        corpus.stats.tail_words,
        opts.corpus.display()
    );
    let temp = tempfile::tempdir().context("creating a temporary data directory")?;
    let dir = match &opts.data_dir {
        Some(d) => {
            if d.join("lienthong.db").exists() {
                bail!("{} already holds a database", d.display());
            }
            d.clone()
        }
        None => temp.path().to_owned(),
    };
    let db = Db::open_sqlite(&dir).await?;
    db.migrate().await?;
    eprintln!(
        "generating {} agencies, {} people…",
        shape.agencies, shape.people
    );
    let generation = generator::generate(&db, shape).await?;
    eprintln!("generated in {:.2} s", generation.elapsed.as_secs_f64());
    let mut marks = vec![mark("province", started)];

    let importers = importers(&db, &generation, opts.doc_agencies).await?;
    let issuers = issuers(&db, &generation).await?;
    let (import, freq) = import_all(&db, &corpus, &importers, &issuers, &opts).await?;
    marks.push(mark("import", started));
    checkpoint(&db).await?;

    let common = freq
        .common()
        .context("no common term in the generated corpus")?;
    // About ten documents the clerk sees per million in the province.
    let visible = opts.docs / opts.doc_agencies.min(importers.len()).max(1);
    let rare = freq
        .rare((visible / 25_000) as u32)
        .context("no rare term in the generated corpus")?;
    eprintln!(
        "terms: common {:?} in {} documents, rare {:?} in {}",
        common.0, common.1, rare.0, rare.1
    );
    drop(freq);

    let state = AppState::new(db.clone(), &dir, WebConfig::default())?;
    eprintln!("rebuilding the search index…");
    let t = Instant::now();
    let indexed = lienthong_services::search::rebuild(&db, &state.search).await?;
    let tantivy = IndexBuild {
        documents: indexed as i64,
        seconds: t.elapsed().as_secs_f64(),
        bytes: dir_bytes(&dir.join("search")),
    };
    eprintln!(
        "indexed {} documents in {:.1} s",
        tantivy.documents, tantivy.seconds
    );
    marks.push(mark("search index rebuild", started));
    eprintln!("building the FTS5 table…");
    let fts5 = build_fts5(&db).await?;
    eprintln!("FTS5 built in {:.1} s", fts5.seconds);
    checkpoint(&db).await?;
    marks.push(mark("fts5 build", started));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let blobs = state.blobs.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lienthong_web::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let clerk = &importers[0].1;
    let outcome = measure(
        &db,
        &base,
        load,
        clerk,
        &import,
        [common, rare],
        &blobs,
        opts.allocations,
    )
    .await;

    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(10), server).await {
        Ok(joined) => joined
            .context("the server task failed")?
            .context("the server failed")?,
        Err(_) => eprintln!("warning: the server did not stop within 10 s"),
    }
    let numbering = numbering(&db).await;
    db.close().await;
    let measured = outcome?;
    let numbering = numbering?;
    marks.push(mark("load", started));
    let search = side_by_side(&measured.targets, &measured.terms);

    Ok(Report {
        scenario: "documents",
        environment: Environment::current(),
        config: Config {
            seconds: load.duration.as_secs_f64(),
            warmup_seconds: load.warmup.as_secs_f64(),
            clients: load.clients,
            shape,
            options: opts,
            database: "sqlite",
        },
        generation,
        corpus: corpus.stats,
        import,
        indexes: Indexes { tantivy, fts5 },
        terms: measured.terms,
        session_via: measured.session_via,
        register_pages: measured.register_pages,
        targets: measured.targets,
        search,
        allocation: measured.allocation,
        numbering,
        phases: marks,
        database_bytes: database_bytes(&dir),
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Writes the WAL back into the database file, so that reads measured later do not
/// walk a WAL of millions of pages left by the bulk writes.
async fn checkpoint(db: &Db) -> anyhow::Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The agencies documents go to (the bench clerk's first), each with a clerk.
async fn importers(db: &Db, g: &Generated, wanted: usize) -> anyhow::Result<Vec<(i64, Principal)>> {
    let today = time::today();
    let mut agencies: Vec<i64> = org::list(db, today, false)
        .await?
        .into_iter()
        .filter(|a| a.id != g.clerk_agency_id && a.parent_id == Some(g.province_id))
        .map(|a| a.id)
        .collect();
    agencies.sort_unstable();
    agencies.insert(0, g.clerk_agency_id);
    agencies.truncate(wanted);
    let mut out = Vec::with_capacity(agencies.len());
    for agency in agencies {
        let person_id: i64 = if agency == g.clerk_agency_id {
            g.clerk_id
        } else {
            sqlx::query(
                "SELECT person_id FROM memberships WHERE agency_id = $1 AND role = $2 AND valid_to IS NULL ORDER BY id LIMIT 1",
            )
            .bind(agency)
            .bind(Role::Clerk.as_str())
            .fetch_optional(db.pool())
            .await?
            .with_context(|| {
                format!("agency {agency} has no clerk: generate at least 3 people per agency, or lower --doc-agencies")
            })?
            .try_get(0)?
        };
        let person = people::get(db, person_id).await?;
        let positions = people::positions(db, person_id, Some(today)).await?;
        out.push((agency, Principal { person, positions }));
    }
    Ok(out)
}

/// Who sends documents: the provincial committee, the agencies of the province, and
/// bodies outside it known by name.
struct IssuerSpec {
    agency_id: Option<i64>,
    name: String,
    /// As in their symbols: `QĐ-UBND`, `BTTTT-VP`.
    short: String,
}

const OUTSIDE: [(&str, &str); 10] = [
    ("Bộ Thông tin và Truyền thông", "BTTTT"),
    ("Bộ Nội vụ", "BNV"),
    ("Bộ Tài chính", "BTC"),
    ("Bộ Kế hoạch và Đầu tư", "BKHĐT"),
    ("Văn phòng Chính phủ", "VPCP"),
    ("Bộ Y tế", "BYT"),
    ("Bộ Giáo dục và Đào tạo", "BGDĐT"),
    ("Bộ Tài nguyên và Môi trường", "BTNMT"),
    ("Tỉnh ủy Thử Nghiệm", "TU"),
    ("Hội đồng nhân dân tỉnh Thử Nghiệm", "HĐND"),
];

async fn issuers(db: &Db, g: &Generated) -> anyhow::Result<(Vec<IssuerSpec>, Vec<f64>)> {
    let agencies = org::list(db, time::today(), false).await?;
    let mut specs = Vec::new();
    let mut weights = Vec::new();
    let inside = agencies.len().saturating_sub(1).max(1) as f64;
    for a in agencies {
        let province = a.id == g.province_id;
        specs.push(IssuerSpec {
            agency_id: Some(a.id),
            short: if province {
                "UBND".to_owned()
            } else {
                a.short_name
            },
            name: a.name,
        });
        // A third from the provincial committee, 40 % from the other agencies.
        weights.push(if province { 30.0 } else { 40.0 / inside });
    }
    for (name, short) in OUTSIDE {
        specs.push(IssuerSpec {
            agency_id: None,
            name: name.to_owned(),
            short: short.to_owned(),
        });
        weights.push(30.0 / OUTSIDE.len() as f64);
    }
    Ok((specs, cumulative(weights)))
}

/// Types received, with their share (percent, roughly as in a department's register).
const TYPES: [(DocumentType, f64); 14] = [
    (DocumentType::CongVan, 40.0),
    (DocumentType::GiayMoi, 10.0),
    (DocumentType::QuyetDinh, 10.0),
    (DocumentType::ThongBao, 9.0),
    (DocumentType::KeHoach, 8.0),
    (DocumentType::BaoCao, 8.0),
    (DocumentType::ToTrinh, 3.0),
    (DocumentType::HuongDan, 3.0),
    (DocumentType::ChuongTrinh, 2.0),
    (DocumentType::BienBan, 2.0),
    (DocumentType::PhieuChuyen, 2.0),
    (DocumentType::ChiThi, 1.0),
    (DocumentType::NghiQuyet, 1.0),
    (DocumentType::CongDien, 1.0),
];

/// Makes the synthetic documents, counting the words of what will be searchable.
struct Factory<'a> {
    corpus: &'a Corpus,
    rng: Rng,
    issuers: &'a [IssuerSpec],
    issuer_weights: &'a [f64],
    type_weights: Vec<f64>,
    /// Last number each issuer gave (never reset: symbols stay unique per issuer, so
    /// the duplicate check runs and finds nothing).
    numbers: Vec<u64>,
    days: Vec<NaiveDate>,
    /// Word frequencies of the documents the bench clerk sees (their agency's).
    viewer_agency: i64,
    freq: DocFreq,
    classified: usize,
}

impl Factory<'_> {
    fn make(&mut self, i: usize, total: usize, receiver: i64) -> anyhow::Result<NewIncoming> {
        let rng = &mut self.rng;
        let arrived = self.days[i * self.days.len() / total];
        let doc_type = TYPES[rng.weighted(&self.type_weights)].0;
        let from = loop {
            let k = rng.weighted(self.issuer_weights);
            if self.issuers[k].agency_id != Some(receiver) {
                break k;
            }
        };
        let issuer = &self.issuers[from];
        self.numbers[from] += 1;
        let number = self.numbers[from];
        let symbol = match doc_type.abbreviation() {
            Some(abbr) => format!("{number}/{abbr}-{}", issuer.short),
            None => format!("{number}/{}-VP", issuer.short),
        };
        let opening = match doc_type {
            DocumentType::CongVan => "V/v",
            DocumentType::GiayMoi => "Mời dự",
            _ if rng.chance(0.5) => "Về việc",
            _ => "",
        };
        let subject = self.corpus.subject(rng, opening);
        if receiver == self.viewer_agency {
            self.freq.add(&subject, &[&issuer.name, &symbol]);
        }
        let issued_on = arrived - Days::new(rng.below(8) as u64);
        let due_on = rng
            .chance(0.1)
            .then(|| arrived + Days::new(5 + rng.below(26) as u64));
        let urgency = match rng.below(100) {
            0..=84 => Urgency::Normal,
            85..=94 => Urgency::Urgent,
            95..=98 => Urgency::VeryUrgent,
            _ => Urgency::Flash,
        };
        let classification = if rng.chance(0.01) {
            self.classified += 1;
            Classification::Confidential
        } else {
            Classification::Normal
        };
        Ok(NewIncoming {
            register_id: None,
            issuer: Issuer {
                agency_id: issuer.agency_id,
                name: issuer.name.clone(),
            },
            symbol: DocumentSymbol::parse(&symbol).with_context(|| format!("symbol {symbol}"))?,
            issued_on,
            doc_type,
            subject: Subject::parse(&subject).with_context(|| format!("subject {subject}"))?,
            urgency,
            classification,
            page_count: Some(1 + rng.below(12) as i64),
            due_on,
            signer_name: full_name(rng.below(600)),
            arrived_on: arrived,
            note: String::new(),
            allow_duplicate: false,
            readers: Vec::new(),
            attachments: Vec::new(),
        })
    }
}

fn working_days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// Generates and imports every document: one per agency in turn, in order of arrival,
/// imported `batch` at a time per agency.
async fn import_all(
    db: &Db,
    corpus: &Corpus,
    importers: &[(i64, Principal)],
    issuers: &(Vec<IssuerSpec>, Vec<f64>),
    opts: &Options,
) -> anyhow::Result<(ImportReport, DocFreq)> {
    let today = time::today();
    let first = today
        .checked_sub_days(Days::new(365 * u64::from(opts.years.max(1))))
        .context("date range")?;
    let days = working_days(first, today);
    let mut factory = Factory {
        corpus,
        rng: Rng::new(opts.seed),
        issuers: &issuers.0,
        issuer_weights: &issuers.1,
        type_weights: cumulative(TYPES.iter().map(|t| t.1)),
        numbers: vec![0; issuers.0.len()],
        days: days.clone(),
        viewer_agency: importers[0].0,
        freq: DocFreq::default(),
        classified: 0,
    };
    eprintln!(
        "importing {} documents into {} agencies, {} per transaction…",
        opts.docs,
        importers.len(),
        opts.batch
    );
    let started = Instant::now();
    let mut in_import = Duration::ZERO;
    let mut rates = Vec::new();
    let mut done = 0usize;
    let mut next_report = opts.docs / 10;
    let mut buffers: Vec<Vec<NewIncoming>> = importers
        .iter()
        .map(|_| Vec::with_capacity(opts.batch))
        .collect();
    for i in 0..opts.docs {
        let a = i % importers.len();
        let doc = factory.make(i, opts.docs, importers[a].0)?;
        buffers[a].push(doc);
        let last = i + 1 == opts.docs;
        for (k, (agency, who)) in importers.iter().enumerate() {
            let full = buffers[k].len() >= opts.batch;
            if buffers[k].is_empty() || !(full || last) {
                continue;
            }
            let batch = std::mem::replace(&mut buffers[k], Vec::with_capacity(opts.batch));
            let n = batch.len();
            let t = Instant::now();
            import_incoming(db, who, *agency, batch)
                .await
                .with_context(|| format!("importing a batch into agency {agency}"))?;
            let took = t.elapsed();
            in_import += took;
            rates.push(n as f64 / took.as_secs_f64().max(f64::EPSILON));
            done += n;
            if done >= next_report {
                eprintln!(
                    "  {done}/{} imported, {:.0} documents/s so far",
                    opts.docs,
                    done as f64 / in_import.as_secs_f64().max(f64::EPSILON)
                );
                next_report = done + opts.docs / 10;
            }
        }
    }
    let total = started.elapsed();
    let tenth = (rates.len() / 10).max(1);
    let mean = |r: &[f64]| r.iter().sum::<f64>() / r.len().max(1) as f64;
    let batch_docs_per_second = BatchRates {
        first_tenth: mean(&rates[..tenth.min(rates.len())]),
        last_tenth: mean(&rates[rates.len().saturating_sub(tenth)..]),
        min: rates.iter().copied().fold(f64::INFINITY, f64::min),
        max: rates.iter().copied().fold(0.0, f64::max),
        p50: {
            let mut sorted = rates.clone();
            sorted.sort_by(f64::total_cmp);
            sorted[sorted.len() / 2]
        },
    };
    let report = ImportReport {
        documents: done,
        batches: rates.len(),
        batch_size: opts.batch,
        agencies: importers.iter().map(|i| i.0).collect(),
        classified: factory.classified,
        first_day: time::date(days[0]),
        last_day: time::date(days[days.len() - 1]),
        working_days: days.len(),
        import_seconds: in_import.as_secs_f64(),
        docs_per_second: done as f64 / in_import.as_secs_f64().max(f64::EPSILON),
        generation_seconds: (total - in_import).as_secs_f64(),
        batch_docs_per_second,
    };
    eprintln!(
        "imported {} documents in {:.1} s ({:.0} documents/s; {:.1} s making them)",
        report.documents, report.import_seconds, report.docs_per_second, report.generation_seconds
    );
    Ok((report, factory.freq))
}

async fn build_fts5(db: &Db) -> anyhow::Result<IndexBuild> {
    let t = Instant::now();
    sqlx::query(&format!(
        "CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(subject, symbol, issuer_name,
            content = 'documents', content_rowid = 'id',
            tokenize = \"unicode61 remove_diacritics 2\")"
    ))
    .execute(db.pool())
    .await
    .context("creating the FTS5 table (is SQLite built with FTS5?)")?;
    sqlx::query(&format!(
        "INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')"
    ))
    .execute(db.pool())
    .await?;
    let seconds = t.elapsed().as_secs_f64();
    let documents = sqlx::query("SELECT COUNT(*) FROM documents")
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    let bytes = sqlx::query(&format!(
        "SELECT CAST(COALESCE(SUM(pgsize), 0) AS INTEGER) FROM dbstat WHERE name LIKE '{FTS_TABLE}%'"
    ))
    .fetch_one(db.pool())
    .await
    .ok()
    .and_then(|r| r.try_get::<i64, _>(0).ok())
    .unwrap_or(0);
    Ok(IndexBuild {
        documents,
        seconds,
        bytes: bytes as u64,
    })
}

/// The FTS5 searches: a page of hits (with a highlighted subject, as the search API
/// answers) and the total, for the bench clerk or for nobody in particular.
#[derive(Clone)]
struct Fts {
    page: String,
    count: String,
    person: Option<i64>,
}

impl Fts {
    /// With the search's permission rule: the viewer's agencies' unclassified
    /// documents, and any document the viewer is a reader of.
    fn visible_to(agencies: &[i64], person: i64) -> Fts {
        let list = agencies
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let rule = format!(
            "((d.agency_id IN ({list}) AND d.classification = 'normal')
              OR EXISTS (SELECT 1 FROM document_readers r WHERE r.document_id = d.id AND r.person_id = $2))"
        );
        Fts {
            page: format!(
                "SELECT d.id, d.subject, d.symbol, highlight({FTS_TABLE}, 0, '<mark>', '</mark>')
                 FROM {FTS_TABLE} JOIN documents d ON d.id = {FTS_TABLE}.rowid
                 WHERE {FTS_TABLE} MATCH $1 AND {rule}
                 ORDER BY {FTS_TABLE}.rank LIMIT {PAGE}"
            ),
            count: format!(
                "SELECT COUNT(*) FROM {FTS_TABLE} JOIN documents d ON d.id = {FTS_TABLE}.rowid
                 WHERE {FTS_TABLE} MATCH $1 AND {rule}"
            ),
            person: Some(person),
        }
    }

    /// FTS5 alone: every matching row.
    fn unfiltered() -> Fts {
        Fts {
            page: format!(
                "SELECT rowid, subject, symbol, highlight({FTS_TABLE}, 0, '<mark>', '</mark>')
                 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH $1 ORDER BY rank LIMIT {PAGE}"
            ),
            count: format!("SELECT COUNT(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH $1"),
            person: None,
        }
    }

    /// One search: returns the bytes of the page's texts and the total.
    async fn search(&self, db: &Db, term: &str) -> Result<(u64, i64), String> {
        let phrase = format!("\"{}\"", term.replace('"', ""));
        let bind = |sql| {
            let q = sqlx::query(sql).bind(phrase.clone());
            match self.person {
                Some(p) => q.bind(p),
                None => q,
            }
        };
        let rows = bind(self.page.as_str())
            .fetch_all(db.pool())
            .await
            .map_err(|e| e.to_string())?;
        let mut bytes = 0;
        for r in &rows {
            for i in 1..4 {
                bytes += r.try_get::<String, _>(i).map_err(|e| e.to_string())?.len() as u64;
            }
        }
        let total: i64 = bind(self.count.as_str())
            .fetch_one(db.pool())
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| e.to_string())?;
        Ok((bytes, total))
    }
}

struct Measured {
    session_via: String,
    terms: Terms,
    register_pages: Vec<RegisterPage>,
    targets: Vec<TargetReport>,
    allocation: Allocation,
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    db: &Db,
    base: &str,
    load: Load,
    clerk: &Principal,
    import: &ImportReport,
    terms: [(String, u32); 2],
    blobs: &BlobStore,
    allocations: usize,
) -> anyhow::Result<Measured> {
    let (session, session_via) = sign_in(db, base).await?;
    let cookie = format!("{SESSION_COOKIE}={session}");
    let person = people::get(db, clerk.person.id).await?;
    let token = auth::issue_api_token(db, &person).await?;
    let agency = import.agencies[0];
    let http = load::client()?;

    // The register: the last 30 days, and a calendar month half-way back.
    let last = time::parse_date(&import.last_day).context("last day")?;
    let first = time::parse_date(&import.first_day).context("first day")?;
    let middle = first + Days::new(((last - first).num_days() / 2) as u64);
    let month_start = middle.with_day(1).context("month")?;
    let month_end = (month_start + chrono::Months::new(1)) - Days::new(1);
    let months = [
        ("register_recent", last - Days::new(29), last),
        ("register_past", month_start, month_end),
    ];
    let mut register_pages = Vec::new();
    let mut targets = vec![load::Target {
        name: "healthz",
        path: "/healthz".to_owned(),
        expect: StatusCode::OK,
        cookie: None,
        bearer: None,
    }];
    for (name, from, to) in months {
        let path = format!(
            "/documents/incoming?agency={agency}&from={}&to={}",
            time::date(from),
            time::date(to)
        );
        let (rows, more) = documents::list_register(
            db,
            clerk,
            agency,
            Direction::Incoming,
            &RegisterFilter {
                from: Some(from),
                to: Some(to),
                ..RegisterFilter::default()
            },
        )
        .await?;
        let status = http
            .get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await?
            .status();
        register_pages.push(RegisterPage {
            name,
            from: time::date(from),
            to: time::date(to),
            rows: rows.len(),
            more,
            http_status: status.as_u16(),
        });
        targets.push(load::Target {
            name,
            path,
            expect: StatusCode::OK,
            cookie: Some(cookie.clone()),
            bearer: None,
        });
    }
    targets.push(load::Target {
        name: "api_floor",
        path: "/api/v1/documents/0".to_owned(),
        expect: StatusCode::NOT_FOUND,
        cookie: None,
        bearer: Some(token.clone()),
    });

    let mut agencies: Vec<i64> = clerk.positions.iter().map(|p| p.agency_id).collect();
    agencies.sort_unstable();
    agencies.dedup();
    let visible = Fts::visible_to(&agencies, clerk.person.id);
    let unfiltered = Fts::unfiltered();
    let mut found = Vec::new();
    for ((word, documents), (search_name, ..)) in terms.iter().zip(SEARCHES) {
        let path = format!("/api/v1/search?q={}", encode(word));
        let answer = http
            .get(format!("{base}{path}"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await?;
        let status = answer.status();
        let tantivy_total = if status == StatusCode::OK {
            answer.json::<serde_json::Value>().await?["total"].as_u64()
        } else {
            eprintln!("warning: {path} answers {status}");
            None
        };
        found.push(Term {
            word: word.clone(),
            documents: *documents,
            tantivy_total,
            fts5_total: visible.search(db, word).await.ok().map(|r| r.1),
            fts5_unfiltered_total: unfiltered.search(db, word).await.ok().map(|r| r.1),
        });
        targets.push(load::Target {
            name: search_name,
            path,
            expect: StatusCode::OK,
            cookie: None,
            bearer: Some(token.clone()),
        });
    }

    let mut reports = Vec::new();
    for target in &targets {
        eprintln!(
            "loading {} with {} clients for {:.0} s (+{:.0} s warm-up)…",
            target.path,
            load.clients,
            load.duration.as_secs_f64(),
            load.warmup.as_secs_f64()
        );
        reports.push(load::run(base, target, load).await?);
    }
    for (term, (_, fts_name, raw_name)) in found.iter().zip(SEARCHES) {
        for (name, fts) in [(fts_name, &visible), (raw_name, &unfiltered)] {
            eprintln!(
                "FTS5 {name} ({:?}) from {} tasks for {:.0} s…",
                term.word,
                load.clients,
                load.duration.as_secs_f64()
            );
            let (db, fts, word) = (db.clone(), fts.clone(), term.word.clone());
            let what = format!("fts5 MATCH \"{}\"", term.word);
            reports.push(
                load::run_op(name, &what, load, move || {
                    let (db, fts, word) = (db.clone(), fts.clone(), word.clone());
                    async move { fts.search(&db, &word).await.map(|r| r.0) }
                })
                .await,
            );
        }
    }

    eprintln!("{allocations} concurrent registrations…");
    let allocation = allocate(db, blobs, clerk, agency, allocations).await?;
    let [common, rare]: [Term; 2] = found.try_into().map_err(|_| anyhow::anyhow!("two terms"))?;
    Ok(Measured {
        session_via,
        terms: Terms { common, rare },
        register_pages,
        targets: reports,
        allocation,
    })
}

/// Target names of the searches: (tantivy over HTTP, FTS5 with permissions, FTS5 alone).
const SEARCHES: [(&str, &str, &str); 2] = [
    ("search_common", "fts5_common", "fts5_raw_common"),
    ("search_rare", "fts5_rare", "fts5_raw_rare"),
];

fn side_by_side(targets: &[TargetReport], terms: &Terms) -> Vec<SearchRow> {
    let figures = |name: &str| {
        targets.iter().find(|t| t.name == name).map(|t| Figures {
            target: t.name.clone(),
            rps: t.rps,
            p50_ms: t.latency_ms.p50,
            p99_ms: t.latency_ms.p99,
            errors: t.errors,
        })
    };
    SEARCHES
        .iter()
        .zip([("common", &terms.common), ("rare", &terms.rare)])
        .map(|((http, fts, raw), (term, t))| SearchRow {
            term,
            word: t.word.clone(),
            tantivy_http: figures(http),
            fts5: figures(fts),
            fts5_unfiltered: figures(raw),
        })
        .collect()
}

/// `n` concurrent `register_incoming` calls for today in the clerk's ordinary register.
async fn allocate(
    db: &Db,
    blobs: &BlobStore,
    clerk: &Principal,
    agency: i64,
    n: usize,
) -> anyhow::Result<Allocation> {
    let today = time::today();
    let year = i64::from(today.year());
    let register_id = documents::registers(db, agency, Direction::Incoming)
        .await?
        .iter()
        .find(|r| !r.classified)
        .context("no ordinary incoming register")?
        .id;
    let counter = |db: Db| async move {
        sqlx::query(
            "SELECT last_number FROM register_counters WHERE register_id = $1 AND year = $2 AND series = ''",
        )
        .bind(register_id)
        .bind(year)
        .fetch_optional(db.pool())
        .await
        .map(|r| r.and_then(|r| r.try_get::<i64, _>(0).ok()).unwrap_or(0))
    };
    let counter_before = counter(db.clone()).await?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (db, blobs, clerk) = (db.clone(), blobs.clone(), clerk.clone());
            tokio::spawn(async move {
                let new = NewIncoming {
                    register_id: None,
                    issuer: Issuer {
                        agency_id: None,
                        name: "Ban Đo tải Liên Thông".into(),
                    },
                    symbol: DocumentSymbol::parse(&format!("{}/TB-ĐTLT", i + 1))
                        .map_err(|e| e.to_string())?,
                    issued_on: today,
                    doc_type: DocumentType::ThongBao,
                    subject: Subject::parse(&format!(
                        "Thông báo kiểm tra cấp số đến đồng thời, lượt {}",
                        i + 1
                    ))
                    .map_err(|e| e.to_string())?,
                    urgency: Urgency::Normal,
                    classification: Classification::Normal,
                    page_count: Some(1),
                    due_on: None,
                    signer_name: full_name(i),
                    arrived_on: today,
                    note: String::new(),
                    allow_duplicate: false,
                    readers: Vec::new(),
                    attachments: Vec::new(),
                };
                documents::register_incoming(&db, &blobs, &clerk, agency, new)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut numbers = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok(r)) if r.register_id == register_id && r.year == year => {
                numbers.push(r.arrival_number)
            }
            Ok(Ok(r)) => {
                errors += 1;
                first_error.get_or_insert(format!(
                    "numbered in register {} for {}",
                    r.register_id, r.year
                ));
            }
            Ok(Err(e)) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    numbers.sort_unstable();
    let distinct = numbers.iter().collect::<HashSet<_>>().len() == numbers.len();
    let gapless = numbers
        .iter()
        .enumerate()
        .all(|(k, &num)| num == counter_before + 1 + k as i64);
    Ok(Allocation {
        requested: n,
        registered: numbers.len(),
        errors,
        first_error,
        register_id,
        year,
        counter_before,
        first_number: numbers.first().copied(),
        last_number: numbers.last().copied(),
        distinct,
        gapless,
        seconds,
    })
}

/// Every (register, year, series) of incoming documents is numbered 1..=count.
async fn numbering(db: &Db) -> anyhow::Result<NumberingCheck> {
    let rows = sqlx::query(
        "SELECT register_id, year, series, COUNT(*), COUNT(DISTINCT number), MIN(number), MAX(number)
         FROM documents WHERE direction = 'incoming' GROUP BY register_id, year, series",
    )
    .fetch_all(db.pool())
    .await?;
    let mut documents = 0;
    let mut first_problem = None;
    for r in &rows {
        let (register, year, series): (i64, i64, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let (count, distinct, min, max): (i64, i64, i64, i64) =
            (r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?);
        documents += count;
        if (count, distinct, min, max) != (count, count, 1, count) {
            first_problem.get_or_insert(format!(
                "register {register}, {year}, series {series:?}: {count} documents, {distinct} distinct numbers, {min}..={max}"
            ));
        }
    }
    Ok(NumberingCheck {
        series: rows.len(),
        documents,
        gapless: first_problem.is_none(),
        first_problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_skip_weekends() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Friday 2026-11-20 to Monday 2026-11-23.
        assert_eq!(
            working_days(d("2026-11-20"), d("2026-11-23")),
            vec![d("2026-11-20"), d("2026-11-23")]
        );
    }

    #[test]
    fn terms_are_percent_encoded() {
        assert_eq!(encode("thông"), "th%C3%B4ng");
        assert_eq!(encode("a b"), "a%20b");
    }

    /// The whole scenario on a tiny province, without load: every phase runs and
    /// every check holds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_run_holds_together() {
        let shape = Shape {
            agencies: 3,
            people: 9,
            records: 0,
        };
        let load = Load {
            clients: 2,
            duration: Duration::from_millis(200),
            warmup: Duration::ZERO,
        };
        let opts = Options {
            docs: 600,
            batch: 100,
            doc_agencies: 2,
            years: 1,
            corpus: Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
            seed: 1,
            allocations: 20,
            data_dir: None,
        };
        let r = run(shape, load, opts).await.unwrap();
        assert_eq!(r.import.documents, 600);
        assert_eq!(r.import.batches, 6);
        assert_eq!(r.indexes.tantivy.documents, 600);
        assert_eq!(r.indexes.fts5.documents, 600);
        assert!(r.register_pages.iter().all(|p| p.http_status == 200));
        assert!(r.register_pages[0].rows > 0);
        for t in &r.targets {
            assert_eq!(t.errors, 0, "{}: {:?}", t.name, t.first_error);
            assert!(t.requests > 0, "{}", t.name);
        }
        for term in [&r.terms.common, &r.terms.rare] {
            assert!(term.documents > 0);
            // Diacritics are folded: `thông` also finds `thống`.
            assert!(
                term.fts5_unfiltered_total >= Some(i64::from(term.documents)),
                "{term:?}"
            );
            assert!(term.tantivy_total.is_some(), "{term:?}");
        }
        // No other word folds to the rare term: both engines find exactly its documents.
        let rare = &r.terms.rare;
        assert_eq!(rare.fts5_total, Some(i64::from(rare.documents)), "{rare:?}");
        assert_eq!(
            rare.tantivy_total,
            Some(u64::from(rare.documents)),
            "{rare:?}"
        );
        assert!(
            r.allocation.distinct && r.allocation.gapless,
            "{:?}",
            r.allocation
        );
        assert_eq!(r.allocation.registered, 20);
        assert!(r.numbering.gapless, "{:?}", r.numbering);
        assert_eq!(r.numbering.documents, 620);
    }
}

//! `lienthong`: the one binary. `serve` runs the staff app, the API, the edXML
//! endpoint and (later) the citizen portal; the other commands are for administrators.

mod config;
mod pki;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use lienthong_domain::agency::{AgencyName, ShortName};
use lienthong_domain::{Email, FullName, OrgCode, Password, PersonKind, Role, Username};
use lienthong_services::exchange::{self, KeyStore};
use lienthong_services::{audit, demo, org, people};
use lienthong_store::{time, Actor, Db};

use config::{Config, ServeFlags};

#[derive(Parser)]
#[command(
    name = "lienthong",
    version,
    about = "Liên Thông: the e-agency platform of a province"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: an embedded SQLite database under `--data`, or PostgreSQL.
#[derive(Args, Clone)]
struct Storage {
    /// Data directory (SQLite database and blobs).
    #[arg(long, env = "LIENTHONG_DATA")]
    data: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, env = "LIENTHONG_DATABASE_URL")]
    database_url: Option<String>,
}

impl Storage {
    fn data_dir(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_DATA))
    }

    async fn open(&self) -> anyhow::Result<Db> {
        open_db(&self.data_dir(), self.database_url.as_deref()).await
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeFlags),
    /// Load the demo province (idempotent) and print the demo sign-ins.
    Demo(Storage),
    /// Manage people from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The search index.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Agencies of the province.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// The provincial certificate authority: agency certificates, revocation, trust.
    #[command(subcommand)]
    Ca(pki::CaCommand),
    /// Check, show and sign edXML packages offline.
    #[command(subcommand)]
    Edxml(pki::EdxmlCommand),
    /// The exchange's peer directory: which system serves agencies outside this one.
    #[command(subcommand)]
    Peer(PeerCommand),
    /// Write a consistent snapshot of the SQLite database while the server runs.
    Backup {
        #[command(flatten)]
        storage: Storage,
        /// The snapshot file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; prints a generated password unless --password-stdin is given.
    Add {
        #[command(flatten)]
        storage: Storage,
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        #[arg(long)]
        email: Option<String>,
        /// staff, citizen or business.
        #[arg(long, default_value = "staff")]
        kind: String,
        /// Agency identifier (mã định danh) for the person's first role.
        #[arg(long, requires = "role")]
        agency: Option<String>,
        /// admin, clerk, leader, unit_head, specialist, one_stop_officer or editor.
        #[arg(long, requires = "agency")]
        role: Option<String>,
        /// Job title shown under signatures, e.g. "Chuyên viên".
        #[arg(long, default_value = "")]
        title: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password; prints a generated one unless --password-stdin is given.
    ResetPassword {
        #[command(flatten)]
        storage: Storage,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List everyone with their current roles.
    List(Storage),
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Add an agency (the web admin pages do the same, with reorganisations).
    Add {
        #[command(flatten)]
        storage: Storage,
        /// Its identifier (mã định danh), e.g. 000.00.00.H12.
        #[arg(long)]
        code: String,
        /// provincial_committee, department, service_centre, district, commune, ward or other.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// The abbreviation used in document symbols, e.g. SKHCN.
        #[arg(long)]
        short_name: String,
        /// The parent agency's identifier.
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Subcommand)]
enum PeerCommand {
    /// Route the agencies matching CODE (zero groups match anything, so
    /// 000.00.00.H63 is a whole province) to the system at URL; replaces any route
    /// for the same CODE.
    Add {
        #[command(flatten)]
        storage: Storage,
        #[arg(long)]
        code: String,
        /// Base URL of the peer system, e.g. https://lienthong.example.gov.vn
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Remove the route for CODE (exactly as it was added); packages for its
    /// agencies then wait in the outbox until a route is added again.
    Remove {
        #[command(flatten)]
        storage: Storage,
        #[arg(long)]
        code: String,
    },
    /// List the peer directory.
    List(Storage),
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Recreate the search index from the database (with the server stopped: one
    /// process writes the index).
    Rebuild(Storage),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Exit 0 when the hash chain is intact; otherwise name the first bad entry.
    Verify(Storage),
}

/// mimalloc instead of the system allocator: packages of ~100 KB are allocated and
/// freed on several threads at once, and glibc's malloc spent an eighth of the
/// exchange's CPU consolidating and unlinking its free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(flags) => {
            let cfg = Config::resolve(flags)?;
            config::init_logging(&cfg.log_format);
            serve(cfg).await?;
        }
        Command::Demo(storage) => {
            let db = storage.open().await?;
            let report = load_demo(&db, &storage.data_dir()).await?;
            print_demo(&report);
        }
        Command::User(cmd) => user(cmd).await?,
        Command::Agency(AgencyCommand::Add {
            storage,
            code,
            kind,
            name,
            short_name,
            parent,
        }) => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("--code: {e}"))?;
            let new = org::NewAgency {
                code: code.clone(),
                kind: kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
                name: AgencyName::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?,
                short_name: ShortName::parse(&short_name)
                    .map_err(|e| anyhow::anyhow!("--short-name: {e}"))?,
                parent_id: None,
                valid_from: time::today(),
            };
            let db = storage.open().await?;
            let parent_id = match parent {
                Some(p) => {
                    let p = OrgCode::parse(&p).map_err(|e| anyhow::anyhow!("--parent: {e}"))?;
                    Some(
                        org::id_by_code(&db, &p)
                            .await?
                            .with_context(|| format!("--parent: no agency {p}"))?,
                    )
                }
                None => None,
            };
            let id = org::create(
                &db,
                &Actor::system("cli"),
                org::NewAgency { parent_id, ..new },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("added agency {code} (id {id})");
        }
        Command::Ca(cmd) => pki::ca(cmd).await?,
        Command::Edxml(cmd) => return pki::edxml(cmd),
        Command::Audit(AuditCommand::Verify(storage)) => {
            let db = storage.open().await?;
            match audit::verify(&db).await {
                Ok(n) => println!("audit chain intact: {n} entries"),
                Err(audit::VerifyError::Broken(b)) => {
                    eprintln!("audit chain BROKEN: {b}");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Search(SearchCommand::Rebuild(storage)) => {
            let db = storage.open().await?;
            let dir = storage.data_dir().join("search");
            let index = lienthong_search::SearchIndex::open(&dir).with_context(|| {
                format!(
                    "opening the search index in {} (is the server running?)",
                    dir.display()
                )
            })?;
            let n = lienthong_services::search::rebuild(&db, &std::sync::Arc::new(index)).await?;
            println!("search index rebuilt: {n} documents");
        }
        Command::Peer(PeerCommand::Add {
            storage,
            code,
            url,
            note,
        }) => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("{code}: {e}"))?;
            let db = storage.open().await?;
            exchange::add_peer(&db, &Actor::system("cli"), &code, &url, &note)
                .await
                .with_context(|| format!("adding the peer {url}"))?;
            println!("agencies matching {code} are reached at {url}");
        }
        Command::Peer(PeerCommand::Remove { storage, code }) => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("{code}: {e}"))?;
            let db = storage.open().await?;
            if !exchange::remove_peer(&db, &Actor::system("cli"), &code)
                .await
                .with_context(|| format!("removing the peer for {code}"))?
            {
                bail!("no peer is listed for {code} (see `lienthong peer list`)");
            }
            println!("the route for {code} is removed");
        }
        Command::Peer(PeerCommand::List(storage)) => {
            let db = storage.open().await?;
            for p in exchange::peers(&db).await? {
                println!("{}  {}  {}", p.code_pattern, p.base_url, p.note);
            }
        }
        Command::Backup { storage, out } => {
            if storage
                .database_url
                .as_deref()
                .is_some_and(|u| u.starts_with("postgres"))
            {
                bail!(
                    "for PostgreSQL use pg_dump (see the README); backup writes SQLite snapshots"
                );
            }
            if out.exists() {
                bail!("{} already exists", out.display());
            }
            let db = storage.open().await?;
            db.backup_sqlite(&out).await?;
            println!("snapshot written to {}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn open_db(data: &Path, url: Option<&str>) -> anyhow::Result<Db> {
    let db = match url {
        Some(url) => Db::connect(url)
            .await
            .context("connecting to the database")?,
        None => Db::open_sqlite(data)
            .await
            .with_context(|| format!("opening the database in {}", data.display()))?,
    };
    db.migrate().await.context("migrating the database")?;
    Ok(db)
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let db = open_db(&cfg.data, cfg.database_url.as_deref()).await?;
    let report = if cfg.demo {
        Some(load_demo(&db, &cfg.data).await?)
    } else {
        None
    };
    let state = lienthong_web::AppState::new(db.clone(), &cfg.data, cfg.web.clone())?;
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    println!("Liên Thông is running. Open http://{addr}/ in a browser.");
    if let Some(report) = &report {
        print_demo(report);
    }
    tracing::info!(%addr, backend = ?db.backend(), "serving");
    lienthong_web::serve(listener, state, shutdown_signal()).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The demo province, then its demo documents (each only once).
async fn load_demo(db: &Db, data: &Path) -> anyhow::Result<demo::DemoReport> {
    let report = demo::load(db).await.context("loading the demo province")?;
    let blobs = lienthong_store::BlobStore::filesystem(&data.join("blobs"))?;
    // Every demo agency signs what it sends: a provincial CA and one
    // certificate each, made once.
    let agencies = demo::agencies_for_keys(db).await?;
    let (keys, _) = KeyStore::ensure_demo(data.join("pki"), &agencies)
        .context("creating the demo CA and agency certificates")?;
    demo::documents::load(db, &blobs, &keys)
        .await
        .context("loading the demo documents")?;
    Ok(report)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

fn print_demo(report: &demo::DemoReport) {
    if report.created {
        println!(
            "Demo province loaded: {} agencies, {} people.",
            report.agencies, report.people
        );
    } else {
        println!("Demo province already present.");
    }
    println!(
        "Sign in with any of these (password: {}):",
        demo::DEMO_PASSWORD
    );
    for s in demo::sign_ins() {
        println!("  {:<20} {} — {}", s.username, s.role, s.agency);
    }
}

fn read_or_generate_password(from_stdin: bool) -> anyhow::Result<(Password, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = Password::parse(line.trim_end_matches(['\r', '\n']))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok((p, false));
    }
    let generated = format!("lt-{}", hex::encode(rand::random::<[u8; 9]>()));
    Ok((
        Password::parse(&generated).map_err(|e| anyhow::anyhow!("{e}"))?,
        true,
    ))
}

async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    let actor = Actor::system("cli");
    match cmd {
        UserCommand::Add {
            storage,
            username,
            full_name,
            email,
            kind,
            agency,
            role,
            title,
            password_stdin,
        } => {
            let username =
                Username::parse(&username).map_err(|e| anyhow::anyhow!("--username: {e}"))?;
            let full_name =
                FullName::parse(&full_name).map_err(|e| anyhow::anyhow!("--full-name: {e}"))?;
            let email = email
                .map(|e| Email::parse(&e))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let kind = PersonKind::parse(&kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            let position = match (agency, role) {
                (Some(a), Some(r)) => {
                    let code = OrgCode::parse(&a).map_err(|e| anyhow::anyhow!("--agency: {e}"))?;
                    let role: Role = r.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
                    Some((code, role))
                }
                _ => None,
            };
            let (password, generated) = read_or_generate_password(password_stdin)?;
            let db = storage.open().await?;
            let agency_id = match &position {
                Some((code, _)) => Some(
                    org::id_by_code(&db, code)
                        .await?
                        .with_context(|| format!("no agency {code}"))?,
                ),
                None => None,
            };
            let id = people::create(
                &db,
                &actor,
                people::NewPerson {
                    username: username.clone(),
                    full_name,
                    email,
                    kind,
                    password: password.clone(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let (Some(agency_id), Some((_, role))) = (agency_id, position) {
                let p = people::NewPosition {
                    agency_id,
                    unit_id: None,
                    role,
                    title,
                    valid_from: time::today(),
                };
                people::add_position(&db, &actor, id, &p)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            println!("added {username} (id {id})");
            if generated {
                println!("password: {}", password.expose());
            }
        }
        UserCommand::ResetPassword {
            storage,
            username,
            password_stdin,
        } => {
            let (password, generated) = read_or_generate_password(password_stdin)?;
            let db = storage.open().await?;
            let person = people::by_username(&db, &username.to_lowercase())
                .await?
                .with_context(|| format!("no user {username}"))?;
            people::set_password(&db, &actor, person.id, &password).await?;
            println!("password reset for {username}; their sessions were closed");
            if generated {
                println!("password: {}", password.expose());
            }
        }
        UserCommand::List(storage) => {
            let db = storage.open().await?;
            for p in people::list_all(&db).await? {
                let roles = people::positions(&db, p.id, Some(time::today())).await?;
                let roles: Vec<String> = roles
                    .iter()
                    .map(|r| format!("{}@{}", r.role, r.agency_code))
                    .collect();
                let state = if p.disabled { " (disabled)" } else { "" };
                println!(
                    "{:<22} {:<9} {}{} {}",
                    p.username,
                    p.kind,
                    p.full_name,
                    state,
                    roles.join(", ")
                );
            }
        }
    }
    Ok(())
}

//! The database handle. One SQL text runs on both backends through sqlx's `Any`
//! driver: parameters are written `$1`, which SQLite accepts too, and only the
//! migrations differ (identity columns, integer widths).

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::group::{self, Job};
use crate::write::WriteTx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite:… or postgres://…): {0}")]
    Url(String),
    #[error("creating the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the database is busy: no turn to write within 10 s")]
    Busy,
    #[error("committing a group of changes: {0}")]
    GroupCommit(Arc<StoreError>),
    #[error("a group of changes was abandoned before this change was committed")]
    GroupAbandoned,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process take turns here,
    /// in order, instead of each polling SQLite's lock (its busy handler sleeps
    /// milliseconds between tries, which caps throughput under contention).
    turn: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The group committer's queue, started on first use (see `group`), and again
    /// if the runtime it ran on has gone (tests start one per test).
    group: Arc<Mutex<Option<mpsc::Sender<Job>>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// How long a writer waits for its turn before giving up (as SQLite's busy_timeout).
const WRITE_WAIT: Duration = Duration::from_secs(10);

impl Db {
    /// The embedded default: `DIR/lienthong.db`, in WAL mode.
    pub async fn open_sqlite(dir: &Path) -> Result<Db, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::DataDir(dir.display().to_string(), e))?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("lienthong.db").display());
        Self::connect(&url).await
    }

    /// Connects to `sqlite:…` or `postgres://…`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        Self::connect_in_schema(url, None).await
    }

    /// Connects with every PostgreSQL session's `search_path` set to `schema`, so that
    /// test runs (and several provinces in one cluster) do not collide.
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(redact(url)));
        };
        if let (Backend::Postgres, Some(schema)) = (backend, schema) {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Url(format!("bad schema name {schema}")));
            }
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            pool.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                .await?;
            pool.close().await;
        }
        let options = AnyConnectOptions::from_str(url)?;
        let schema = schema.map(str::to_owned);
        let max = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            // FULL: a commit is on disk before it is answered (WAL syncs once per commit).
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            // 16 MiB of pages per connection (2 MiB by default): a
                            // 100 KB package spans 25 pages, read back by the worker.
                            conn.execute("PRAGMA cache_size = -16384").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                        }
                        Backend::Postgres => {
                            if let Some(s) = schema {
                                conn.execute(format!("SET search_path TO {s}").as_str())
                                    .await?;
                            }
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db {
            pool,
            backend,
            turn: (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
            group: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction: locks the audit head so that writers are ordered
    /// and every change can append its audit entry before commit.
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        let turn = match &self.turn {
            Some(turn) => Some(
                tokio::time::timeout(WRITE_WAIT, turn.clone().lock_owned())
                    .await
                    .map_err(|_| StoreError::Busy)?,
            ),
            None => None,
        };
        WriteTx::begin(&self.pool, turn).await
    }

    /// Runs `change` in a transaction shared with the changes that arrive at the same
    /// time, and answers once that transaction is committed (see `group`). For many
    /// small independent writes whose callers each wait for durability.
    pub async fn write_grouped<T, E, F>(&self, change: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut WriteTx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        let queue = {
            let mut group = self.group.lock().unwrap_or_else(|e| e.into_inner());
            match group.as_ref() {
                Some(queue) if !queue.is_closed() => queue.clone(),
                _ => {
                    // The committer's own handle shares the pool and the writers' turn
                    // but not this queue, so that it ends when the last handle is gone.
                    let queue = group::start(Db {
                        pool: self.pool.clone(),
                        backend: self.backend,
                        turn: self.turn.clone(),
                        group: Arc::default(),
                    });
                    *group = Some(queue.clone());
                    queue
                }
            }
        };
        let (job, answer) = group::job(change);
        queue
            .send(job)
            .await
            .map_err(|_| StoreError::GroupAbandoned)?;
        answer.await.map_err(|_| StoreError::GroupAbandoned)?
    }

    /// For `/healthz`: does the database answer?
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Connections open and idle, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A consistent copy of a SQLite database while it is in use (`VACUUM INTO`
    /// reads one snapshot). PostgreSQL is backed up with `pg_dump` instead.
    pub async fn backup_sqlite(&self, out: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Url(
                "backup writes SQLite snapshots; use pg_dump for PostgreSQL".into(),
            ));
        }
        let target = out.display().to_string().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{target}'"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => url.to_owned(),
    }
}

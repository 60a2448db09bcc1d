//! The database handle. One SQL text runs on both backends through sqlx's `Any`
//! driver: parameters are written `$1`, which SQLite accepts too, and only the
//! migrations differ (identity columns, integer widths).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::batch::{self, BatchWrite, Batchers};
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
    #[error("batch kind {0} is written with two different functions")]
    BatchKind(&'static str),
    #[error("a batch write answered {0} of its {1} changes")]
    BatchAnswers(usize, usize),
    #[error("the batch writer stopped before this change was committed")]
    BatchAbandoned,
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
    /// The batch writers' queues, by kind (see `batch`).
    batchers: Batchers,
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
            // A SQLite connection is a thread of this process and cannot go stale; a
            // ping before each use would only double the trips to it. A PostgreSQL
            // one can (the server restarted): it is checked before it is handed out.
            .test_before_acquire(backend == Backend::Postgres)
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
            batchers: Arc::default(),
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
        WriteTx::begin(&self.pool, self.backend, turn).await
    }

    /// Writes `change` together with the other changes of `kind` that arrive at the
    /// same time, through `write` (see `batch`), and answers once it is committed.
    /// For many small independent writes whose callers each wait for durability.
    pub async fn write_batched<T, R, E>(
        &self,
        kind: &'static str,
        write: BatchWrite<T, R, E>,
        change: T,
    ) -> Result<R, E>
    where
        T: Send + Sync + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let queue = batch::queue(self, &self.batchers, kind, write)?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        queue
            .send((change, answer))
            .await
            .map_err(|_| StoreError::BatchAbandoned)?;
        answered.await.map_err(|_| StoreError::BatchAbandoned)?
    }

    /// A handle sharing the pool and the writers' turn but not the batchers' queues:
    /// a batcher writes with one, so that it ends when the last other handle is gone.
    pub(crate) fn detached(&self) -> Db {
        Db {
            pool: self.pool.clone(),
            backend: self.backend,
            turn: self.turn.clone(),
            batchers: Arc::default(),
        }
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

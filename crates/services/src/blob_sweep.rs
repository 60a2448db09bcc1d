//! The sweep of orphan blobs (tệp không còn được dùng): stored files no row points
//! at. A blob is stored before the row that points at it, so a crash between the
//! two, or a package received and then refused, leaves one behind. The sweep
//! removes those not stored (or stored again) for a day: long past the moment any
//! writer still holds one it is about to point a row at.

use std::time::{Duration, SystemTime};

use lienthong_store::{parameter_list, positional, BlobError, BlobId, BlobStore, Db};
use sqlx::Row;

/// How long a blob no row points at is kept.
pub const GRACE: Duration = Duration::from_secs(24 * 3600);
/// How often the server sweeps: each sweep lists the whole store, and orphans are rare.
pub const EVERY: Duration = Duration::from_secs(6 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Blobs(#[from] BlobError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the sweep's thread stopped: {0}")]
    Thread(#[from] tokio::task::JoinError),
}

/// What one sweep did.
#[derive(Debug, PartialEq, Eq)]
pub struct Swept {
    /// Blobs older than the grace period, looked up in the database.
    pub examined: usize,
    pub removed: usize,
}

/// Removes the blobs no row has pointed at for `grace`; `None` when the store is
/// not on a local disk (see [`BlobStore::stale`]).
pub async fn sweep(
    db: &Db,
    blobs: &BlobStore,
    grace: Duration,
) -> Result<Option<Swept>, SweepError> {
    let cutoff = SystemTime::now() - grace;
    let store = blobs.clone();
    // Listed before the rows are read: a row written since then is seen below.
    let Some(stale) = tokio::task::spawn_blocking(move || store.stale(cutoff)).await?? else {
        return Ok(None);
    };
    let mut removed = 0;
    for chunk in stale.chunks(400) {
        let unreferenced = unreferenced(db, chunk).await?;
        let store = blobs.clone();
        removed += tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            for id in &unreferenced {
                removed += usize::from(store.remove_stale(id, cutoff)?);
            }
            Ok::<_, BlobError>(removed)
        })
        .await??;
    }
    Ok(Some(Swept {
        examined: stale.len(),
        removed,
    }))
}

/// The ids no row points at: not an attachment or signed PDF (`blobs`), not a
/// package received (`exchange_inbox`).
async fn unreferenced(db: &Db, ids: &[BlobId]) -> Result<Vec<BlobId>, sqlx::Error> {
    let sql = format!(
        "SELECT sha256 FROM blobs WHERE sha256 IN ({})
         UNION SELECT package_sha256 FROM exchange_inbox WHERE package_sha256 IN ({})",
        parameter_list(1, ids.len()),
        parameter_list(ids.len() + 1, ids.len())
    );
    let sql = positional(db.backend(), &sql);
    let mut query = sqlx::query(&sql);
    for id in ids.iter().chain(ids) {
        query = query.bind(id.as_str());
    }
    let referenced: std::collections::HashSet<String> = query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(ids
        .iter()
        .filter(|id| !referenced.contains(id.as_str()))
        .cloned()
        .collect())
}

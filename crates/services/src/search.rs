//! Search over documents (tìm kiếm): a derived tantivy index fed from the
//! `search_queue` table, which every change to a document's searchable fields
//! writes in its own transaction. A background task drains the queue; `rebuild`
//! recreates the index from the database.

use std::collections::HashMap;
use std::sync::Arc;

use lienthong_search::{Query, Results, SearchDoc, SearchIndex, Viewer};
use lienthong_store::{time, Db, WriteTx};
use sqlx::Row;

use crate::auth::Principal;
use crate::ServiceError;

pub use lienthong_search::{Hit, SearchError};

/// Queues a document for (re)indexing, inside the transaction that changed it.
pub(crate) async fn enqueue(tx: &mut WriteTx, document_id: i64) -> Result<(), ServiceError> {
    enqueue_all(tx, &[document_id]).await
}

/// Queues documents for (re)indexing (a bulk import: many at once), inside the
/// transaction that changed them.
pub(crate) async fn enqueue_all(tx: &mut WriteTx, ids: &[i64]) -> Result<(), ServiceError> {
    let now = time::now();
    for chunk in ids.chunks(500) {
        // Integers only, so they can be written into the SQL text.
        let rows = chunk
            .iter()
            .map(|id| format!("({id}, $1)"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO search_queue (document_id, queued_at) VALUES {rows} ON CONFLICT (document_id) DO NOTHING"
        ))
        .bind(&now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

fn index_error(e: SearchError) -> ServiceError {
    tracing::error!(error = %e, "search index");
    ServiceError::Conflict("search index unavailable")
}

/// Loads what the index needs of some documents (attachment text included), in three
/// queries whatever their number: a rebuild reads a million documents this way.
async fn load(db: &Db, ids: &[i64]) -> Result<Vec<SearchDoc>, ServiceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Integers only, so the list can be written into the SQL text.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut bodies: HashMap<i64, String> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT a.document_id, t.text FROM attachments a JOIN blob_texts t ON t.sha256 = a.blob_sha256
         WHERE a.document_id IN ({list}) ORDER BY a.document_id, a.position"
    ))
    .fetch_all(db.pool())
    .await?
    {
        let body = bodies.entry(r.try_get(0)?).or_default();
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(&r.try_get::<String, _>(1)?);
    }
    let mut readers: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT document_id, person_id FROM document_readers WHERE document_id IN ({list})"
    ))
    .fetch_all(db.pool())
    .await?
    {
        readers
            .entry(r.try_get(0)?)
            .or_default()
            .push(r.try_get(1)?);
    }
    let rows = sqlx::query(&format!(
        "SELECT id, agency_id, subject, symbol, issuer_name, doc_type, direction, issued_on, classification
         FROM documents WHERE id IN ({list}) ORDER BY id"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0)?;
            let issued: Option<String> = r.try_get(7)?;
            Ok(SearchDoc {
                id,
                agency_id: r.try_get(1)?,
                title: r.try_get(2)?,
                symbol: r.try_get(3)?,
                issuer: r.try_get(4)?,
                doc_type: r.try_get(5)?,
                direction: r.try_get(6)?,
                issued_on: issued.as_deref().and_then(time::parse_date),
                body: bodies.remove(&id).unwrap_or_default(),
                classified: r.try_get::<String, _>(8)? != "normal",
                readers: readers.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Indexes what is queued (a batch at a time); returns how many were indexed.
pub async fn drain(db: &Db, index: &Arc<SearchIndex>) -> Result<usize, ServiceError> {
    let ids = sqlx::query("SELECT document_id FROM search_queue ORDER BY queued_at LIMIT 500")
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
    if ids.is_empty() {
        return Ok(0);
    }
    let docs = load(db, &ids).await?;
    let idx = index.clone();
    tokio::task::spawn_blocking(move || idx.upsert(&docs))
        .await
        .map_err(|_| ServiceError::Conflict("search indexing failed"))?
        .map_err(index_error)?;
    for id in &ids {
        sqlx::query("DELETE FROM search_queue WHERE document_id = $1")
            .bind(id)
            .execute(db.pool())
            .await?;
    }
    Ok(ids.len())
}

/// Recreates the index from every document in the database, reading them a
/// thousand at a time as the index consumes them (a million documents must not be
/// held in memory at once).
pub async fn rebuild(db: &Db, index: &Arc<SearchIndex>) -> Result<usize, ServiceError> {
    let ids = sqlx::query("SELECT id FROM documents ORDER BY id")
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
    let idx = index.clone();
    let batches = Batches {
        db: db.clone(),
        handle: tokio::runtime::Handle::current(),
        ids,
        next: 0,
        error: None,
    };
    let (indexed, failed) = tokio::task::spawn_blocking(move || {
        let mut batches = batches;
        let result = idx.rebuild(std::iter::from_fn(|| batches.next_batch()).flatten());
        (result, batches.error)
    })
    .await
    .map_err(|_| ServiceError::Conflict("search rebuild failed"))?;
    if let Some(e) = failed {
        return Err(e);
    }
    let n = indexed.map_err(index_error)?;
    sqlx::query("DELETE FROM search_queue")
        .execute(db.pool())
        .await?;
    Ok(n)
}

/// Documents for the index, loaded batch by batch on the blocking thread that
/// builds it. A database error stops the stream and is reported after; the index
/// then holds what was read, and the next rebuild completes it.
struct Batches {
    db: Db,
    handle: tokio::runtime::Handle,
    ids: Vec<i64>,
    next: usize,
    error: Option<ServiceError>,
}

impl Batches {
    fn next_batch(&mut self) -> Option<Vec<SearchDoc>> {
        if self.error.is_some() || self.next >= self.ids.len() {
            return None;
        }
        let end = (self.next + 1000).min(self.ids.len());
        let chunk = &self.ids[self.next..end];
        self.next = end;
        match self.handle.block_on(load(&self.db, chunk)) {
            Ok(docs) => Some(docs),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// Searches as `who`: only documents they may read are found or counted.
pub async fn search(
    index: &Arc<SearchIndex>,
    who: &Principal,
    q: Query,
) -> Result<Results, ServiceError> {
    // The index applies the rule of `lienthong_domain::access::may_read_document`:
    // the viewer's agencies for ordinary documents, the readers for classified ones.
    let mut agencies: Vec<i64> = who.memberships().iter().map(|m| m.agency_id).collect();
    agencies.sort_unstable();
    agencies.dedup();
    let viewer = Viewer {
        person_id: who.person.id,
        agencies,
    };
    let idx = index.clone();
    tokio::task::spawn_blocking(move || idx.search(&viewer, &q))
        .await
        .map_err(|_| ServiceError::Conflict("search failed"))?
        .map_err(index_error)
}

//! Batched writes: changes of one kind that arrive together (packages posted by
//! peers at the same moment, say) are handed together to one function, which writes
//! them with multi-row statements in one transaction. One sync to disk then makes
//! them all durable, and a handful of statements serves the whole batch instead of a
//! handful for each change.
//!
//! Nothing waits to fill a batch: a change that finds the writer idle goes at once,
//! and the ones that queue up meanwhile go together in the next batch. If a batch
//! fails, each of its changes is tried again alone, so a bad one fails only itself;
//! every caller hears of its own change only once it is committed.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::{Db, StoreError, WriteTx};

/// Changes written together at most.
const MAX_BATCH: usize = 256;
/// Changes waiting at most before callers wait to hand theirs in.
const QUEUE: usize = 1024;

/// Writes a batch of changes in the transaction given, answering for each, in order.
pub type BatchWrite<T, R, E> =
    for<'a> fn(&'a mut WriteTx, &'a [T]) -> BoxFuture<'a, Result<Vec<R>, E>>;

type Queued<T, R, E> = (T, oneshot::Sender<Result<R, E>>);

/// The running batchers of one database, by kind. Each is an
/// `mpsc::Sender<Queued<T, R, E>>` for the kind's own types.
pub(crate) type Batchers = Arc<Mutex<HashMap<&'static str, Box<dyn Any + Send>>>>;

/// The queue of `db`'s batcher for `kind`, started on first use, and again if the
/// runtime it ran on has gone (tests start one per test).
pub(crate) fn queue<T, R, E>(
    db: &Db,
    batchers: &Batchers,
    kind: &'static str,
    write: BatchWrite<T, R, E>,
) -> Result<mpsc::Sender<Queued<T, R, E>>, StoreError>
where
    T: Send + Sync + 'static,
    R: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let mut batchers = batchers.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(queue) = batchers.get(kind) {
        let queue = queue
            .downcast_ref::<mpsc::Sender<Queued<T, R, E>>>()
            .ok_or(StoreError::BatchKind(kind))?;
        if !queue.is_closed() {
            return Ok(queue.clone());
        }
    }
    let queue = start(db.detached(), write);
    batchers.insert(kind, Box::new(queue.clone()));
    Ok(queue)
}

/// Starts a batcher on a detached handle: it runs until every sender is gone.
fn start<T, R, E>(db: Db, write: BatchWrite<T, R, E>) -> mpsc::Sender<Queued<T, R, E>>
where
    T: Send + Sync + 'static,
    R: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let (queue, mut queued) = mpsc::channel::<Queued<T, R, E>>(QUEUE);
    tokio::spawn(async move {
        while let Some(first) = queued.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queued.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let (items, answers): (Vec<T>, Vec<_>) = batch.into_iter().unzip();
            match run(&db, write, &items).await {
                Ok(results) => {
                    for (answer, result) in answers.into_iter().zip(results) {
                        let _ = answer.send(Ok(result));
                    }
                }
                Err(e) if items.len() == 1 => {
                    let _ = answers.into_iter().next().map(|a| a.send(Err(e)));
                }
                Err(_) => {
                    // Which change failed is not known: each goes again alone.
                    for (item, answer) in items.iter().zip(answers) {
                        let result = run(&db, write, std::slice::from_ref(item)).await;
                        let _ = answer.send(result.and_then(|mut r| {
                            r.pop().ok_or_else(|| StoreError::BatchAnswers(0, 1).into())
                        }));
                    }
                }
            }
        }
    });
    queue
}

/// One transaction for `items`, committed only if every change has its answer.
async fn run<T, R, E>(db: &Db, write: BatchWrite<T, R, E>, items: &[T]) -> Result<Vec<R>, E>
where
    E: From<StoreError>,
{
    let mut tx = db.write().await?;
    let results = write(&mut tx, items).await?;
    if results.len() != items.len() {
        return Err(StoreError::BatchAnswers(results.len(), items.len()).into());
    }
    tx.commit().await?;
    Ok(results)
}

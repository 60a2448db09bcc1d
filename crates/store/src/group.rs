//! Group commit: changes that arrive together (packages posted by peers at the same
//! moment, say) share one transaction, so one sync to disk makes them all durable.
//! Each change runs inside its own savepoint: one that fails is undone alone, and
//! every caller hears of its own change only once the whole group is committed.
//!
//! Nothing waits to fill a group: a change that finds the writer idle is committed
//! at once, and the ones that queue up meanwhile go together in the next group.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::{Db, StoreError, WriteTx};

/// Changes committed together at most.
const MAX_GROUP: usize = 256;
/// Changes waiting at most before callers wait to hand theirs in.
const QUEUE: usize = 1024;

/// Told, after the commit, how it went.
type Done = Box<dyn FnOnce(Result<(), Arc<StoreError>>) + Send>;
/// A change: runs in the group's transaction, says whether it succeeded.
pub(crate) type Job =
    Box<dyn for<'a> FnOnce(&'a mut WriteTx) -> BoxFuture<'a, (bool, Done)> + Send>;

pub(crate) fn job<T, E, F>(change: F) -> (Job, oneshot::Receiver<Result<T, E>>)
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: for<'a> FnOnce(&'a mut WriteTx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
{
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move |tx| {
        Box::pin(async move {
            let result = change(tx).await;
            let ok = result.is_ok();
            let done: Done = Box::new(move |commit| {
                let _ = answer.send(match commit {
                    Ok(()) => result,
                    // A failed change was undone anyway: its own error says more.
                    Err(_) if !ok => result,
                    Err(e) => Err(StoreError::GroupCommit(e).into()),
                });
            });
            (ok, done)
        })
    });
    (job, answered)
}

/// Starts the committer for `db` (which must not hold this queue's sender, or the
/// task would never end): it runs until every sender is gone.
pub(crate) fn start(db: Db) -> mpsc::Sender<Job> {
    let (queue, mut jobs) = mpsc::channel::<Job>(QUEUE);
    tokio::spawn(async move {
        while let Some(first) = jobs.recv().await {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            commit(&db, group).await;
        }
    });
    queue
}

async fn commit(db: &Db, group: Vec<Job>) {
    let mut dones = Vec::with_capacity(group.len());
    let outcome = async {
        let mut tx = db.write().await?;
        for job in group {
            tx.savepoint().await?;
            let (ok, done) = job(&mut tx).await;
            dones.push(done);
            if ok {
                tx.release_savepoint().await?;
            } else {
                tx.rollback_to_savepoint().await?;
            }
        }
        tx.commit().await
    }
    .await
    .map_err(Arc::new);
    if let Err(e) = &outcome {
        tracing::error!(error = %e, changes = dones.len(), "a group commit failed");
    }
    // Changes not reached before a failure drop their answer: their callers see
    // the group abandoned (see `Db::write_grouped`).
    for done in dones {
        done(outcome.clone());
    }
}

//! Reading and verifying the audit log (nhật ký hệ thống). Writing happens in
//! every capability through `WriteTx::audit`.

use lienthong_domain::audit::{AuditFields, ChainBreak, ChainVerifier};
use lienthong_store::Db;
use serde::Serialize;
use sqlx::Row;

use crate::ServiceError;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: String,
    pub changes: String,
}

/// Filters an administrator can apply; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Matches actions starting with this text (`agency.` for every agency change).
    pub action: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    /// Inclusive dates `YYYY-MM-DD` (UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Entries with `seq` below this (for paging backwards from the newest).
    pub before_seq: Option<i64>,
}

pub const PAGE_SIZE: i64 = 50;

/// The newest entries first, one page.
pub async fn list(db: &Db, f: &AuditFilter) -> Result<Vec<AuditEntry>, ServiceError> {
    let to_end = f.to.as_ref().map(|d| format!("{d}T99"));
    let action_prefix = f
        .action
        .as_ref()
        .map(|a| format!("{}%", a.replace(['%', '_'], "")));
    let rows = sqlx::query(
        "SELECT seq, at, actor_id, actor, action, record_type, record_id, changes FROM audit_log
         WHERE ($1 IS NULL OR actor = $1)
           AND ($2 IS NULL OR action LIKE $2)
           AND ($3 IS NULL OR record_type = $3)
           AND ($4 IS NULL OR record_id = $4)
           AND ($5 IS NULL OR at >= $5)
           AND ($6 IS NULL OR at <= $6)
           AND ($7 IS NULL OR seq < $7)
         ORDER BY seq DESC LIMIT $8",
    )
    .bind(f.actor.as_deref())
    .bind(action_prefix)
    .bind(f.record_type.as_deref())
    .bind(f.record_id.as_deref())
    .bind(f.from.as_deref())
    .bind(to_end)
    .bind(f.before_seq)
    .bind(PAGE_SIZE)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                actor_id: r.try_get(2)?,
                actor: r.try_get(3)?,
                action: r.try_get(4)?,
                record_type: r.try_get(5)?,
                record_id: r.try_get(6)?,
                changes: r.try_get(7)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("audit chain broken: {0}")]
    Broken(#[from] ChainBreak),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Walks the whole chain in order, a page at a time; returns the number of entries.
///
/// The head is read first and the walk stops at it: entries and head are committed
/// together, so everything up to the head read is there, while entries written
/// during the walk (a busy server) are left for the next verification.
pub async fn verify(db: &Db) -> Result<i64, VerifyError> {
    const BATCH: i64 = 5000;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await
        .map_err(ServiceError::from)?;
    let head_seq: i64 = head.try_get(0).map_err(ServiceError::from)?;
    let head_hash: String = head.try_get(1).map_err(ServiceError::from)?;
    let mut verifier = ChainVerifier::default();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, actor, action, record_type, record_id, changes, prev_hash, hash
             FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(head_seq)
        .bind(BATCH)
        .fetch_all(db.pool())
        .await
        .map_err(ServiceError::from)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let get = |i: usize| r.try_get::<String, _>(i).map_err(ServiceError::from);
            let seq: i64 = r.try_get(0).map_err(ServiceError::from)?;
            let actor_id: Option<i64> = r.try_get(2).map_err(ServiceError::from)?;
            let (at, actor, action, record_type, record_id, changes, prev, hash) = (
                get(1)?,
                get(3)?,
                get(4)?,
                get(5)?,
                get(6)?,
                get(7)?,
                get(8)?,
                get(9)?,
            );
            let fields = AuditFields {
                seq,
                at: &at,
                actor_id,
                actor: &actor,
                action: &action,
                record_type: &record_type,
                record_id: &record_id,
                changes: &changes,
            };
            verifier.check(&fields, &prev, &hash)?;
            after = seq;
        }
    }
    Ok(verifier.finish(head_seq, &head_hash)?)
}

#[cfg(test)]
mod tests {
    use lienthong_store::Actor;
    use serde_json::json;

    use crate::testing::databases;

    #[tokio::test]
    async fn verification_during_writes_never_reports_a_false_break() {
        for t in databases().await {
            let writer = {
                let db = t.db.clone();
                tokio::spawn(async move {
                    for i in 0..150 {
                        let mut tx = db.write().await.unwrap();
                        tx.audit(
                            &Actor::system("test"),
                            "test.write",
                            "test",
                            i,
                            json!({"i": i}),
                        )
                        .await
                        .unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            };
            let mut checks = 0;
            while !writer.is_finished() {
                super::verify(&t.db)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", t.name));
                checks += 1;
            }
            writer.await.unwrap();
            assert_eq!(super::verify(&t.db).await.unwrap(), 150, "{}", t.name);
            assert!(checks > 0);
        }
    }

    /// Batched writes: changes handed in together share a transaction; when one
    /// fails, the others are written again alone, and the failing one is undone
    /// with its audit entry, so the chain stays whole.
    #[tokio::test]
    async fn batched_changes_commit_together_and_a_failing_one_alone_is_undone() {
        use crate::ServiceError;
        use sqlx::Row;
        /// Audits each change; answers each with the size of the batch it came in.
        fn audit_each<'a>(
            tx: &'a mut lienthong_store::WriteTx,
            items: &'a [usize],
        ) -> futures::future::BoxFuture<'a, Result<Vec<(usize, usize)>, ServiceError>> {
            Box::pin(async move {
                let entries: Vec<_> = items
                    .iter()
                    .map(|i| lienthong_store::AuditEntry {
                        action: "test.batched",
                        record_type: "test",
                        record_id: i.to_string(),
                        changes: json!({"i": i}),
                    })
                    .collect();
                tx.audit_many(&Actor::system("test"), &entries).await?;
                if items.iter().any(|i| i % 7 == 3) {
                    // A statement that fails midway, after the audit entries.
                    sqlx::query("INSERT INTO no_such_table VALUES (1)")
                        .execute(tx.conn())
                        .await?;
                }
                Ok(items.iter().map(|i| (*i, items.len())).collect())
            })
        }
        for t in databases().await {
            let before = super::verify(&t.db).await.unwrap();
            // All handed in before any is awaited.
            let hand_in = |range: Vec<usize>| -> Vec<_> {
                range
                    .into_iter()
                    .map(|i| {
                        let db = t.db.clone();
                        tokio::spawn(async move {
                            db.write_batched("test.audit_each", audit_each, i).await
                        })
                    })
                    .collect()
            };
            // Good changes handed in together are written together.
            let mut largest_batch = 0;
            for change in hand_in((0..10).map(|k| 100 + 7 * k).collect()) {
                let (_, batch) = change.await.unwrap().unwrap();
                largest_batch = largest_batch.max(batch);
            }
            assert!(largest_batch > 1, "{}: no batch of several changes", t.name);
            let changes = hand_in((0..40).collect());
            let mut ok = Vec::new();
            for (i, change) in changes.into_iter().enumerate() {
                match change.await.unwrap() {
                    Ok((n, _)) => ok.push(n),
                    Err(ServiceError::Store(_)) => assert_eq!(i % 7, 3, "{}", t.name),
                    Err(e) => panic!("{}: {e}", t.name),
                }
            }
            let expected: Vec<usize> = (0..40).filter(|i| i % 7 != 3).collect();
            assert_eq!(ok, expected, "{}", t.name);
            let total = super::verify(&t.db)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(total - before, 10 + expected.len() as i64, "{}", t.name);
            let logged: Vec<String> = sqlx::query(
                "SELECT record_id FROM audit_log WHERE action = 'test.batched' ORDER BY seq",
            )
            .fetch_all(t.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
            let mut logged: Vec<usize> = logged.iter().map(|s| s.parse().unwrap()).collect();
            logged.sort();
            let mut all = expected.clone();
            all.extend((0..10).map(|k| 100 + 7 * k));
            assert_eq!(logged, all, "{}", t.name);
        }
    }
}

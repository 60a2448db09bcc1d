//! A write transaction that carries the audit chain with it: every state change is
//! recorded (who, when, which record, what changed) in the same transaction.

use lienthong_domain::audit::{chain_hash, AuditFields};
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};

use crate::{time, StoreError};

/// Who makes a change: a signed-in person, or the system itself (`id` none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Actor {
            id: None,
            name: name.to_owned(),
        }
    }
}

/// One entry of [`WriteTx::audit_many`].
pub struct AuditEntry<'a> {
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: String,
    pub changes: serde_json::Value,
}

pub struct WriteTx {
    tx: Transaction<'static, Any>,
    seq: i64,
    hash: String,
    dirty: bool,
    /// The audit head when the last savepoint was taken, to restore on rollback.
    saved: Option<(i64, String, bool)>,
    /// SQLite's turn to write (see `Db::write`); released after the transaction, as
    /// fields drop in order.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn begin(
        pool: &AnyPool,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Result<Self, StoreError> {
        let mut tx = pool.begin().await?;
        // A write as the first statement: on SQLite this takes the write lock (waiting
        // on busy_timeout) before any read, so no transaction can fail to upgrade later.
        let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *tx)
            .await?;
        Ok(WriteTx {
            tx,
            seq: row.try_get(0)?,
            hash: row.try_get(1)?,
            dirty: false,
            saved: None,
            _turn: turn,
        })
    }

    /// Marks a point to come back to: the changes after it, audit entries included,
    /// can be undone without losing the rest of the transaction (group commit).
    pub async fn savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("SAVEPOINT grouped")
            .execute(&mut *self.tx)
            .await?;
        self.saved = Some((self.seq, self.hash.clone(), self.dirty));
        Ok(())
    }

    /// Undoes everything since [`WriteTx::savepoint`] and forgets the savepoint.
    pub async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK TO SAVEPOINT grouped")
            .execute(&mut *self.tx)
            .await?;
        if let Some((seq, hash, dirty)) = self.saved.take() {
            (self.seq, self.hash, self.dirty) = (seq, hash, dirty);
        }
        self.release_savepoint().await
    }

    /// Keeps what was done since [`WriteTx::savepoint`] and forgets the savepoint.
    pub async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("RELEASE SAVEPOINT grouped")
            .execute(&mut *self.tx)
            .await?;
        self.saved = None;
        Ok(())
    }

    /// The connection to run the change's own statements on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends an audit entry for a change made in this transaction.
    pub async fn audit(
        &mut self,
        actor: &Actor,
        action: &str,
        record_type: &str,
        record_id: impl ToString,
        changes: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = AuditEntry {
            action,
            record_type,
            record_id: record_id.to_string(),
            changes,
        };
        self.audit_many(actor, std::slice::from_ref(&entry)).await
    }

    /// Appends audit entries for several changes of this transaction, in order, with
    /// multi-row statements (the outcomes of a batch of deliveries, say).
    pub async fn audit_many(
        &mut self,
        actor: &Actor,
        entries: &[AuditEntry<'_>],
    ) -> Result<(), StoreError> {
        // 10 parameters a row: far below both databases' limits per statement.
        const ROWS: usize = 500;
        let at = time::now();
        for chunk in entries.chunks(ROWS) {
            let mut rows = Vec::with_capacity(chunk.len());
            for e in chunk {
                let seq = self.seq + 1;
                let changes = e.changes.to_string();
                let fields = AuditFields {
                    seq,
                    at: &at,
                    actor_id: actor.id,
                    actor: &actor.name,
                    action: e.action,
                    record_type: e.record_type,
                    record_id: &e.record_id,
                    changes: &changes,
                };
                let hash = chain_hash(&self.hash, &fields);
                let prev = std::mem::replace(&mut self.hash, hash.clone());
                rows.push((seq, changes, prev, hash));
                self.seq = seq;
            }
            let values = (0..rows.len())
                .map(|i| {
                    let p: Vec<String> = (1..=10).map(|k| format!("${}", i * 10 + k)).collect();
                    format!("({})", p.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO audit_log (seq, at, actor_id, actor, action, record_type, record_id, changes, prev_hash, hash)
                 VALUES {values}"
            );
            let mut query = sqlx::query(&sql);
            for (e, (seq, changes, prev, hash)) in chunk.iter().zip(&rows) {
                query = query
                    .bind(*seq)
                    .bind(&at)
                    .bind(actor.id)
                    .bind(&actor.name)
                    .bind(e.action)
                    .bind(e.record_type)
                    .bind(&e.record_id)
                    .bind(changes)
                    .bind(prev)
                    .bind(hash);
            }
            query.execute(&mut *self.tx).await?;
            self.dirty = true;
        }
        Ok(())
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        if self.dirty {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(self.seq)
                .bind(&self.hash)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

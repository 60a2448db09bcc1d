//! A write transaction that carries the audit chain with it: every state change is
//! recorded (who, when, which record, what changed) in the same transaction.

use lienthong_domain::audit::{chain_hash, AuditFields};
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};

use std::borrow::Cow;

use crate::{time, Backend, StoreError};

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

/// The VALUES of a multi-row statement: `rows` groups of `columns` parameters,
/// `($1, $2), ($3, $4)`.
pub fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameters of an `IN (…)` list: `count` of them from `$first`, `$1, $2, $3`.
pub fn parameter_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `sql` as the backend runs multi-row statements fastest. SQLite looks a
/// numbered parameter (`$7`) up by name in a list, when preparing and again when
/// binding, so a statement of n of them costs n²: for SQLite, parameters numbered
/// `$1, $2, …` in order, each once (as [`placeholders`] writes them), become `?`.
/// Any other SQL is returned as it is.
pub fn positional(backend: Backend, sql: &str) -> Cow<'_, str> {
    if backend != Backend::Sqlite || !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let (mut rest, mut next) = (sql, 1_usize);
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - at - 1);
        if rest[at + 1..at + 1 + digits].parse() != Ok(next) {
            return Cow::Borrowed(sql);
        }
        out.push('?');
        next += 1;
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Cow::Owned(out)
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
    backend: Backend,
    seq: i64,
    hash: String,
    dirty: bool,
    /// SQLite's turn to write (see `Db::write`); released after the transaction, as
    /// fields drop in order.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn begin(
        pool: &AnyPool,
        backend: Backend,
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
            backend,
            seq: row.try_get(0)?,
            hash: row.try_get(1)?,
            dirty: false,
            _turn: turn,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
            let sql = format!(
                "INSERT INTO audit_log (seq, at, actor_id, actor, action, record_type, record_id, changes, prev_hash, hash)
                 VALUES {}",
                placeholders(rows.len(), 10)
            );
            let sql = positional(self.backend, &sql);
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

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_every_parameter_once_row_by_row() {
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholders(1, 1), "($1)");
        assert_eq!(super::placeholders(0, 4), "");
        assert_eq!(super::parameter_list(1, 3), "$1, $2, $3");
        assert_eq!(super::parameter_list(4, 1), "$4");
        assert_eq!(super::parameter_list(2, 0), "");
    }

    #[test]
    fn sqlite_takes_parameters_in_order_as_positional_ones() {
        use super::{positional, Backend};
        let sql = "UPDATE t SET a = $1 WHERE id IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        assert_eq!(
            positional(Backend::Sqlite, sql),
            "UPDATE t SET a = ? WHERE id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        assert_eq!(positional(Backend::Postgres, sql), sql);
        // Out of order, repeated or skipped: left for SQLite to number.
        for sql in [
            "a = $2, b = $1",
            "a = $1, b = $1",
            "a = $1, b = $3",
            "a = $",
        ] {
            assert_eq!(positional(Backend::Sqlite, sql), sql);
        }
        assert_eq!(
            positional(Backend::Sqlite, "no parameters"),
            "no parameters"
        );
    }
}

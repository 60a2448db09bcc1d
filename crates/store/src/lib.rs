//! Storage infrastructure shared by every capability: the database (SQLite by
//! default, PostgreSQL for a whole province), the content-addressed blob store, and
//! the write transaction that appends to the hash-chained audit log.
//!
//! Capabilities keep their own SQL next to their use cases (in `lienthong-services`);
//! this crate only knows how to connect, migrate, and write safely.

mod batch;
pub mod blobs;
pub mod db;
pub mod time;
mod write;

pub use batch::BatchWrite;
pub use blobs::{BlobError, BlobId, BlobStore};
pub use db::{Backend, Db, StoreError};
pub use write::{parameter_list, placeholders, positional, Actor, AuditEntry, WriteTx};

//! Use cases, one folder per capability. Each folder holds the capability's rules
//! in use (calling the pure `lienthong-domain`), its SQL (`queries.rs` where there
//! is enough of it to separate), and its tests. Every state change goes through a
//! [`lienthong_store::WriteTx`] and appends its audit entry in the same transaction.

pub mod audit;
pub mod auth;
pub mod blob_sweep;
pub mod calendar;
pub mod demo;
pub mod documents;
pub mod exchange;
pub mod org;
pub mod people;
pub mod search;

mod error;
pub use error::ServiceError;

#[cfg(test)]
pub(crate) mod testing;

//! Documents and work administration (quản lý văn bản và điều hành): registering
//! incoming documents, the registers, attachments, and who may read what.
//!
//! Every use case takes the person acting (`Principal`) and checks their role and
//! agency itself, so pages and the API share one set of rules.

pub(crate) mod attachments;
pub mod import;
pub mod outgoing;
mod queries;
pub(crate) mod register;
mod signing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_outgoing;
#[cfg(test)]
mod tests_workflow;
pub mod workflow;

use serde::Serialize;

pub use attachments::{attachment, Upload, MAX_ATTACHMENT_BYTES};
pub use queries::{get, list_register, RegisterFilter, RegisterRow, PAGE_SIZE};
pub use register::{register_incoming, registers, Issuer, NewIncoming, Registered};

/// A document as a reader sees it, with its attachments and timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: i64,
    pub agency_id: i64,
    pub direction: String,
    pub register_id: i64,
    pub register_name: String,
    pub year: i64,
    /// Arrival number (số đến) of an incoming document; number of an issued one.
    pub number: Option<i64>,
    pub symbol: String,
    pub doc_type: String,
    pub issuer_agency_id: Option<i64>,
    pub issuer_name: String,
    pub issued_on: Option<String>,
    pub subject: String,
    pub urgency: String,
    pub classification: String,
    pub page_count: Option<i64>,
    pub due_on: Option<String>,
    pub signer_name: String,
    pub arrived_on: Option<String>,
    pub status: String,
    pub note: String,
    pub created_at: String,
    pub attachments: Vec<Attachment>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// One step on a document's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

//! Pure types and rules of a province's clerical work. No I/O, no async, no SQL:
//! everything here can be tested exhaustively with plain unit tests.
//!
//! A value of a type defined here is valid by construction: handlers parse input
//! into these types at the edge and report a localized error when parsing fails.

pub mod access;
pub mod agency;
pub mod audit;
pub mod calendar;
pub mod document;
pub mod org_code;
pub mod person;
pub mod role;

pub use access::Membership;
pub use agency::{AgencyKind, ReorganisationKind};
pub use org_code::OrgCode;
pub use person::{Email, FullName, Password, PersonKind, Username};
pub use role::Role;

/// Identifies an input error in a way every language can render: the web layer
/// maps `code()` to a message key in its catalogues.
pub trait ErrorCode {
    fn code(&self) -> &'static str;
}

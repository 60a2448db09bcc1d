//! Plumbing shared by every capability's routes: cookies, the page chrome, the
//! extractors that turn a request into a signed-in person, a checked form or a
//! language, and errors rendered in the reader's language.

pub mod cookies;
pub mod error;
pub mod extract;
pub mod form;
pub mod multipart;
pub mod page;

pub use error::{ApiError, PageError};
pub use extract::{ApiJson, ApiUser, CsrfForm, RequestCtx, SignedIn};
pub use page::{render, Chrome};

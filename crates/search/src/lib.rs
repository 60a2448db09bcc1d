//! Full-text search over documents (văn bản), built on tantivy.
//!
//! The index is *derived*: the documents service feeds it plain [`SearchDoc`]s and can
//! [`SearchIndex::rebuild`] it from the database at any time. It knows nothing of SQL.
//!
//! * Vietnamese text is indexed twice: as written (lowercased) and with diacritics folded
//!   (`Quyết định` → `quyet dinh`, `Đông` → `dong`). `quyet dinh` finds `Quyết định`; a word
//!   typed with diacritics ranks documents having it with the *same* diacritics first
//!   (`đồng` ranks `đồng` above `đông` and `dòng`).
//! * `"quoted words"` must stand together, also in folded form (`"ke hoach"`).
//! * The text may be a document symbol: `12/QĐ-UBND` and `12/QD-UBND` find it first.
//! * Anything typed is valid: bad syntax is read as plain words (see [`Query::text`]).
//! * Every search is restricted by the [`Viewer`]'s permissions *inside* the query: what a
//!   viewer may not see is never returned, counted or highlighted.
//! * A write ([`SearchIndex::upsert`], [`SearchIndex::delete`], [`SearchIndex::rebuild`])
//!   is committed and visible to searches when it returns.
//!
//! All methods block (disk I/O, fsync on commit): call them from async code through
//! `tokio::task::spawn_blocking`. A [`SearchIndex`] is `Send + Sync`; share it in an `Arc`.
//!
//! ```
//! use lienthong_search::{Query, SearchDoc, SearchIndex, Viewer};
//!
//! let index = SearchIndex::in_memory()?;
//! index.upsert(&[SearchDoc {
//!     id: 1,
//!     agency_id: 10,
//!     title: "Quyết định phê duyệt kế hoạch chuyển đổi số".into(),
//!     symbol: "12/QĐ-UBND".into(),
//!     doc_type: "QĐ".into(),
//!     direction: "outgoing".into(),
//!     ..SearchDoc::default()
//! }])?;
//! let viewer = Viewer { person_id: 7, agencies: vec![10] };
//! let found = index.search(&viewer, &Query::text("quyet dinh"))?;
//! assert_eq!(found.total, 1);
//! assert_eq!(found.hits[0].id, 1);
//! assert!(found.hits[0].highlight.contains("<mark>Quyết định</mark>"));
//! # Ok::<(), lienthong_search::SearchError>(())
//! ```

mod analysis;
mod highlight;
mod index;
mod query;
mod schema;
mod top;

use chrono::NaiveDate;

pub use index::SearchIndex;

/// A document as the index sees it. Build it from the database row and its attachments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    /// Document id; [`SearchIndex::upsert`] replaces the document with the same id.
    pub id: i64,
    /// Owning agency.
    pub agency_id: i64,
    /// Subject (trích yếu).
    pub title: String,
    /// Number and symbol (số/ký hiệu), e.g. `12/QĐ-UBND`.
    pub symbol: String,
    /// Name of the issuing agency.
    pub issuer: String,
    /// Document type code: `QĐ`, `CV`, … (filtered on exactly, after trimming).
    pub doc_type: String,
    /// `incoming` or `outgoing` (filtered on exactly, after trimming).
    pub direction: String,
    /// Date of issue; documents without one are left out by any date filter.
    pub issued_on: Option<NaiveDate>,
    /// Text extracted from the attachments.
    pub body: String,
    /// Classified (mật): visible only to [`SearchDoc::readers`].
    pub classified: bool,
    /// People explicitly granted access (whatever the agency, classified or not).
    pub readers: Vec<i64>,
}

/// Who is searching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    pub person_id: i64,
    /// Agencies whose unclassified documents the person may see.
    pub agencies: Vec<i64>,
}

/// A search: text plus filters, one page of results. Deserializes with every field
/// optional (e.g. from a query string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Query {
    /// What the person typed. Words all have to match (title, body, issuer or symbol,
    /// with or without diacritics); `"…"` (or `“…”`) keeps words together as a phrase.
    /// There are no other operators: an unbalanced quote and the words `AND`, `OR`, `NOT`
    /// are ignored, other punctuation separates words; words past the 32nd are ignored.
    /// Empty (or nothing but punctuation): every visible document that passes the
    /// filters, newest [`SearchDoc::issued_on`] first.
    pub text: String,
    /// Only documents of this agency.
    pub agency: Option<i64>,
    /// Only this document type (`Some("")` filters nothing).
    pub doc_type: Option<String>,
    /// Only this direction (`Some("")` filters nothing).
    pub direction: Option<String>,
    /// Issued on or after this day.
    pub from: Option<NaiveDate>,
    /// Issued on or before this day.
    pub to: Option<NaiveDate>,
    /// Page size, at most [`MAX_LIMIT`]; 0 returns only [`Results::total`].
    pub limit: usize,
    /// Hits skipped, at most [`MAX_OFFSET`].
    pub offset: usize,
}

/// Largest page [`SearchIndex::search`] returns.
pub const MAX_LIMIT: usize = 200;
/// Deepest page [`SearchIndex::search`] reaches.
pub const MAX_OFFSET: usize = 10_000;

impl Default for Query {
    /// No text, no filter, first 20 hits.
    fn default() -> Self {
        Query {
            text: String::new(),
            agency: None,
            doc_type: None,
            direction: None,
            from: None,
            to: None,
            limit: 20,
            offset: 0,
        }
    }
}

impl Query {
    /// A query for `text`, no filter, first 20 hits.
    pub fn text(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }
}

/// One found document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub id: i64,
    /// Plain text: escape it when rendering.
    pub title: String,
    /// Plain text: escape it when rendering.
    pub symbol: String,
    /// HTML-safe snippet of the body (or the title) with matched words in
    /// `<mark>…</mark>`, `…` where it cuts the text.
    pub highlight: String,
    /// Relevance; only comparable within one result list (0 when there is no text).
    pub score: f32,
}

/// One page of hits and how many visible documents match in all.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub total: usize,
}

/// Why the index could not be opened, written or searched.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("cannot create the search index folder {path}: {source}")]
    Folder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

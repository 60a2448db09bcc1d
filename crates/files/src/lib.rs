//! Files: what an upload really is, the text inside it, and registers
//! exported for people.
//!
//! * [`sniff`] tells a file's [`FileKind`] from its bytes, never from the name
//!   or type the client claims.
//! * [`extract_text`] reads the text of PDF, DOCX, ODT and plain-text files
//!   for search, within [`Limits`] (zip bombs, compression bombs, output size)
//!   and without panicking on malformed input.
//! * [`to_csv`], [`to_xlsx`] and [`to_pdf`] export a [`Table`] (the incoming
//!   or outgoing register, a report) for Excel users and for printing, with
//!   Vietnamese intact: the PDF embeds Noto Sans (SIL OFL 1.1, see
//!   `fonts/OFL.txt`).
//!
//! Everything is pure and synchronous: bytes in, bytes or strings out, no
//! file system, no network.

mod export;
mod extract;
mod sniff;

pub mod font;
pub use export::{to_csv, to_pdf, to_xlsx, ExportError, Table};
pub use extract::{extract_text, ExtractError, Limits};
pub use sniff::{sniff, FileKind};

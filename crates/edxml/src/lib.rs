//! edXML (QCVN 102:2016/BTTTT, amended by TT 01/2022/TT-BTTTT): the gói tin edXML
//! (edXML package) in which agencies exchange văn bản (documents) on the national
//! liên thông văn bản (document interconnection) network, and the gói tin trạng thái
//! (status packages) that answer them.
//!
//! A pure library: no database, no network, no async.
//!
//! - [`model`]: the package as data; [`status`]: status packages.
//! - [`write`]: strict, standard output ([`Package::to_xml`]).
//! - [`read`]: liberal, hardened input ([`Package::parse`]), bounded by [`Limits`];
//!   [`Received`] reads once for both the package and its signature check.
//! - [`sign`]: XML-DSig enveloped signatures ([`sign()`], [`verify()`]), over
//!   [`c14n`] canonicalization.
//!
//! ```
//! # use lienthong_edxml::*;
//! # fn demo(bytes: &[u8]) -> Result<(), EdxmlError> {
//! let package = Package::parse(bytes, &Limits::default())?;
//! println!("{}", package.describe());
//! let again = package.to_xml()?;
//! # let _ = again; Ok(()) }
//! ```

pub mod c14n;
pub mod error;
pub mod limits;
pub mod model;
pub mod read;
pub mod sign;
pub mod status;
pub mod time;
pub mod write;
mod xml;

use std::fmt::Write as _;

pub use error::{EdxmlError, SignatureError};
pub use limits::Limits;
pub use model::{
    Attachment, Business, BusinessDocType, Code, DocumentId, DocumentType, MessageHeader,
    Organization, OtherInfo, Package, PromulgationInfo, ResponseFor, SignerInfo, TraceHeader,
};
pub use read::{Contents, Received};
pub use sign::{sign, verify, verify_with, DigestAlgorithm, SignatureAlgorithm, Verified};
pub use status::{StaffInfo, StatusCode, StatusPackage};
pub use write::NAMESPACE;

impl Package {
    /// Writes standard edXML (unsigned; see [`sign()`]). Checks the field limits.
    pub fn to_xml(&self) -> Result<Vec<u8>, EdxmlError> {
        write::package_to_xml(self)
    }

    /// Reads a received package; refuses with a reason fit for a status 02.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Package, EdxmlError> {
        read::parse_package(bytes, limits)
    }

    /// A human-readable summary for the admin CLI (`edxml show`).
    pub fn describe(&self) -> String {
        let h = &self.header;
        let mut s = String::new();
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let _ = writeln!(s, "Văn bản     {}  {}", h.code, h.document_type.name);
        let _ = writeln!(s, "Trích yếu   {}", h.subject);
        let _ = writeln!(
            s,
            "Ban hành    {}, {}",
            h.promulgation.place,
            h.promulgation.date.format("%d/%m/%Y")
        );
        if let Some(id) = &h.document_id {
            let _ = writeln!(s, "Mã văn bản  {id}");
        }
        let _ = writeln!(s, "Gửi         {} ({})", h.from.organ_name, h.from.organ_id);
        for to in &h.to {
            let _ = writeln!(s, "Nhận        {} ({})", to.organ_name, to.organ_id);
        }
        let _ = writeln!(
            s,
            "Người ký    {} {}",
            opt(&h.signer.position),
            opt(&h.signer.full_name)
        );
        if let Some(d) = h.due_date {
            let _ = writeln!(s, "Hạn xử lý   {}", d.format("%d/%m/%Y"));
        }
        if let Some(b) = &self.business {
            let _ = writeln!(
                s,
                "Nghiệp vụ   {}{}",
                b.doc_type.label(),
                b.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
        for r in &h.response_for {
            let _ = writeln!(
                s,
                "Trả lời     {} of {} ({})",
                r.code, r.promulgation_date, r.organ_id
            );
        }
        for t in &self.traces {
            let _ = writeln!(
                s,
                "Chuyển qua  {} at {}",
                t.organ_id,
                time::format_timestamp(&t.timestamp)
            );
        }
        for a in &self.attachments {
            let _ = writeln!(
                s,
                "Đính kèm    {} ({}, {} bytes) {}",
                a.name,
                a.content_type,
                a.bytes.len(),
                a.content_id
            );
        }
        s
    }
}

impl StatusPackage {
    /// Writes a standard status package.
    pub fn to_xml(&self) -> Result<Vec<u8>, EdxmlError> {
        write::status_to_xml(self)
    }

    /// Reads a received status package.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<StatusPackage, EdxmlError> {
        read::parse_status(bytes, limits)
    }

    /// A one-paragraph summary for the admin CLI.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "Trạng thái {} {} from {} ({}) at {}\nVề văn bản {} of {}",
            self.code,
            self.code.label(),
            self.from.organ_name,
            self.from.organ_id,
            time::format_timestamp(&self.timestamp),
            self.response_for.code,
            self.response_for.promulgation_date,
        );
        if let Some(d) = &self.description {
            let _ = write!(s, "\nGhi chú    {d}");
        }
        s.push('\n');
        s
    }
}

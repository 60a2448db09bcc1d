//! The strict writer: one namespace, one prefix (`edXML:`), the standard's element
//! order, dates `yyyy-MM-dd`, timestamps ISO 8601 in `+07:00`, base64 in 76-column
//! lines. The Signature is added afterwards by [`crate::sign::sign`].

use std::io::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::error::EdxmlError;
use crate::model::{Attachment, Organization, Package, ResponseFor};
use crate::status::StatusPackage;
use crate::time::{format_date, format_timestamp};
use crate::xml::is_xml_char;

/// The namespace of QCVN 102:2016/BTTTT.
pub const NAMESPACE: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
const P: &str = "edXML:";

struct Out {
    w: Writer<Vec<u8>>,
}

fn werr(e: impl std::fmt::Display) -> EdxmlError {
    EdxmlError::Write(e.to_string())
}

impl Out {
    fn new() -> Result<Self, EdxmlError> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(werr)?;
        Ok(Out { w })
    }

    fn open(&mut self, local: &str) -> Result<(), EdxmlError> {
        self.w
            .write_event(Event::Start(BytesStart::new(format!("{P}{local}"))))
            .map_err(werr)
    }

    fn open_root(&mut self) -> Result<(), EdxmlError> {
        let mut root = BytesStart::new(format!("{P}edXML"));
        root.push_attribute(("xmlns:edXML", NAMESPACE));
        self.w.write_event(Event::Start(root)).map_err(werr)?;
        self.open("edXMLEnvelope")
    }

    fn close(&mut self, local: &str) -> Result<(), EdxmlError> {
        self.w
            .write_event(Event::End(BytesEnd::new(format!("{P}{local}"))))
            .map_err(werr)
    }

    /// `<edXML:local>text</edXML:local>`, or `<edXML:local/>` when empty.
    fn leaf(&mut self, local: &'static str, text: &str) -> Result<(), EdxmlError> {
        let name = format!("{P}{local}");
        if text.is_empty() {
            return self
                .w
                .write_event(Event::Empty(BytesStart::new(name)))
                .map_err(werr);
        }
        let escaped = escape(local, text)?;
        self.w
            .write_event(Event::Start(BytesStart::new(name.clone())))
            .map_err(werr)?;
        self.w
            .write_event(Event::Text(BytesText::from_escaped(escaped)))
            .map_err(werr)?;
        self.w
            .write_event(Event::End(BytesEnd::new(name)))
            .map_err(werr)
    }

    fn opt(&mut self, local: &'static str, text: Option<&str>) -> Result<(), EdxmlError> {
        self.leaf(local, text.unwrap_or(""))
    }

    fn finish(self) -> Vec<u8> {
        let mut v = self.w.into_inner();
        v.push(b'\n');
        v
    }
}

/// Escapes for element content; `\r` becomes a reference so it survives parsing.
/// Characters XML 1.0 cannot carry are an error naming the field.
fn escape(field: &'static str, s: &str) -> Result<String, EdxmlError> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => {
                return Err(EdxmlError::ForbiddenChar {
                    field,
                    code: c as u32,
                })
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn organization(o: &mut Out, tag: &str, org: &Organization) -> Result<(), EdxmlError> {
    if org.organ_name.trim().is_empty() {
        return Err(EdxmlError::missing(format!("{tag}/OrganName")));
    }
    o.open(tag)?;
    o.leaf("OrganId", org.organ_id.as_str())?;
    o.opt(
        "OrganizationInCharge",
        org.organization_in_charge.as_deref(),
    )?;
    o.leaf("OrganName", &org.organ_name)?;
    o.opt("OrganAdd", org.organ_add.as_deref())?;
    o.opt("Email", org.email.as_deref())?;
    o.opt("Telephone", org.telephone.as_deref())?;
    o.opt("Fax", org.fax.as_deref())?;
    o.opt("Website", org.website.as_deref())?;
    o.close(tag)
}

fn response_for(o: &mut Out, r: &ResponseFor) -> Result<(), EdxmlError> {
    o.open("ResponseFor")?;
    o.leaf("OrganId", r.organ_id.as_str())?;
    o.leaf("Code", &r.code)?;
    o.leaf("PromulgationDate", &format_date(r.promulgation_date))?;
    o.opt(
        "DocumentId",
        r.document_id.as_ref().map(|d| d.to_string()).as_deref(),
    )?;
    o.close("ResponseFor")
}

fn check_attachments(atts: &[Attachment]) -> Result<(), EdxmlError> {
    for (i, a) in atts.iter().enumerate() {
        if !a.content_id.starts_with("cid:") || a.content_id.len() == 4 {
            return Err(EdxmlError::invalid(
                "Reference/ContentId",
                &a.content_id,
                "a content id is written cid:… and is not empty",
            ));
        }
        if atts[..i].iter().any(|b| b.content_id == a.content_id) {
            return Err(EdxmlError::invalid(
                "Reference/ContentId",
                &a.content_id,
                "two attachments have this content id",
            ));
        }
        if a.name.trim().is_empty() {
            return Err(EdxmlError::missing(format!(
                "AttachmentName of {}",
                a.content_id
            )));
        }
        if a.content_type.trim().is_empty() {
            return Err(EdxmlError::missing(format!(
                "ContentType of {}",
                a.content_id
            )));
        }
    }
    Ok(())
}

/// The package as standard edXML (unsigned).
pub fn package_to_xml(p: &Package) -> Result<Vec<u8>, EdxmlError> {
    p.check_limits()?;
    check_attachments(&p.attachments)?;
    let h = &p.header;
    if h.subject.trim().is_empty() {
        return Err(EdxmlError::missing("MessageHeader/Subject"));
    }
    if h.to.is_empty() {
        return Err(EdxmlError::missing("MessageHeader/To"));
    }
    let mut o = Out::new()?;
    o.open_root()?;
    o.open("edXMLHeader")?;

    o.open("MessageHeader")?;
    organization(&mut o, "From", &h.from)?;
    for to in &h.to {
        organization(&mut o, "To", to)?;
    }
    o.opt(
        "DocumentId",
        h.document_id.as_ref().map(|d| d.to_string()).as_deref(),
    )?;
    o.open("Code")?;
    o.leaf("CodeNumber", &h.code.number)?;
    o.leaf("CodeNotation", &h.code.notation)?;
    o.close("Code")?;
    o.open("PromulgationInfo")?;
    o.leaf("Place", &h.promulgation.place)?;
    o.leaf("PromulgationDate", &format_date(h.promulgation.date))?;
    o.close("PromulgationInfo")?;
    o.open("DocumentType")?;
    o.leaf("Type", &h.document_type.kind)?;
    o.opt("TypeDetail", h.document_type.detail.as_deref())?;
    o.leaf("TypeName", &h.document_type.name)?;
    o.close("DocumentType")?;
    o.leaf("Subject", &h.subject)?;
    o.opt("Content", h.content.as_deref())?;
    o.open("SignerInfo")?;
    o.opt("Competence", h.signer.competence.as_deref())?;
    o.opt("Position", h.signer.position.as_deref())?;
    o.opt("FullName", h.signer.full_name.as_deref())?;
    o.close("SignerInfo")?;
    o.opt("DueDate", h.due_date.map(format_date).as_deref())?;
    o.open("ToPlaces")?;
    for place in &h.to_places {
        o.leaf("Place", place)?;
    }
    o.close("ToPlaces")?;
    let oi = &h.other;
    o.open("OtherInfo")?;
    o.opt("Priority", oi.priority.map(|v| v.to_string()).as_deref())?;
    o.opt("SphereOfPromulgation", oi.sphere_of_promulgation.as_deref())?;
    o.opt("TyperNotation", oi.typer_notation.as_deref())?;
    o.opt(
        "PromulgationAmount",
        oi.promulgation_amount.map(|v| v.to_string()).as_deref(),
    )?;
    o.opt(
        "PageAmount",
        oi.page_amount.map(|v| v.to_string()).as_deref(),
    )?;
    o.opt("Direction", oi.direction.map(|v| v.to_string()).as_deref())?;
    o.open("Appendixes")?;
    for a in &oi.appendixes {
        o.leaf("Appendix", a)?;
    }
    o.close("Appendixes")?;
    o.close("OtherInfo")?;
    o.opt("SteeringType", h.steering_type.as_deref())?;
    for r in &h.response_for {
        response_for(&mut o, r)?;
    }
    o.close("MessageHeader")?;

    o.open("TraceHeaderList")?;
    for t in &p.traces {
        o.open("TraceHeader")?;
        o.leaf("OrganId", t.organ_id.as_str())?;
        o.leaf("Timestamp", &format_timestamp(&t.timestamp))?;
        o.close("TraceHeader")?;
    }
    o.close("TraceHeaderList")?;
    if let Some(b) = &p.business {
        o.open("Bussiness")?;
        o.leaf("BussinessDocType", &b.doc_type.code().to_string())?;
        o.opt("BussinessDocReason", b.reason.as_deref())?;
        o.close("Bussiness")?;
    }
    o.close("edXMLHeader")?;

    o.open("edXMLBody")?;
    o.open("edXMLManifest")?;
    for a in &p.attachments {
        o.open("Reference")?;
        o.leaf("ContentId", &a.content_id)?;
        o.leaf("ContentType", &a.content_type)?;
        o.opt("Description", a.description.as_deref())?;
        o.leaf("AttachmentName", &a.name)?;
        o.close("Reference")?;
    }
    o.close("edXMLManifest")?;
    o.open("AttachmentEncoded")?;
    for a in &p.attachments {
        o.open("Attachment")?;
        o.leaf("ContentId", &a.content_id)?;
        o.open("ContentTransferEncoded")?;
        write_base64(o.w.get_mut(), &a.bytes).map_err(werr)?;
        o.close("ContentTransferEncoded")?;
        o.close("Attachment")?;
    }
    o.close("AttachmentEncoded")?;
    o.close("edXMLBody")?;
    o.close("edXMLEnvelope")?;
    o.close("edXML")?;
    Ok(o.finish())
}

/// Base64 in lines of 76 characters (57 input bytes), each preceded by a newline.
fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) -> std::io::Result<()> {
    out.reserve(bytes.len() / 57 * 77 + 80);
    let mut line = [0u8; 76];
    for chunk in bytes.chunks(57) {
        let n = STANDARD
            .encode_slice(chunk, &mut line)
            .map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        out.write_all(&line[..n])?;
    }
    Ok(())
}

/// A status package as standard edXML.
pub fn status_to_xml(s: &StatusPackage) -> Result<Vec<u8>, EdxmlError> {
    let mut o = Out::new()?;
    o.open_root()?;
    o.open("edXMLHeader")?;
    o.open("Status")?;
    organization(&mut o, "From", &s.from)?;
    response_for(&mut o, &s.response_for)?;
    o.open("StaffInfo")?;
    o.opt("Department", s.staff.department.as_deref())?;
    o.opt("Staff", s.staff.staff.as_deref())?;
    o.opt("Email", s.staff.email.as_deref())?;
    o.opt("Mobile", s.staff.mobile.as_deref())?;
    o.close("StaffInfo")?;
    o.leaf("StatusCode", s.code.as_str())?;
    o.opt("Description", s.description.as_deref())?;
    o.leaf("Timestamp", &format_timestamp(&s.timestamp))?;
    o.close("Status")?;
    o.close("edXMLHeader")?;
    o.open("edXMLBody")?;
    o.close("edXMLBody")?;
    o.close("edXMLEnvelope")?;
    o.close("edXML")?;
    Ok(o.finish())
}

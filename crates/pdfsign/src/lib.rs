//! The agency's digital signature (*chữ ký số của cơ quan, tổ chức*) on the
//! PDF of an issued document (*văn bản đi*): PAdES baseline B-B
//! (ETSI EN 319 142-1), added as an incremental update.
//!
//! * [`sign_pdf`] keeps the original bytes unchanged as a prefix and appends a
//!   signature dictionary (`/SubFilter /ETSI.CAdES.detached`), a signature
//!   field with its widget on page 1, the AcroForm (`/SigFlags 3`), the
//!   updated page (and catalog when needed) and a new cross-reference
//!   section of the same kind as the input's (table or stream) with `/Prev`.
//!   The widget's appearance is the visible mark (*dấu hiển thị*) that
//!   Nghị định 30/2020/NĐ-CP, Phụ lục I asks of the agency's signature on an
//!   attachment in a separate file: no image, only the agency name and the
//!   signing time (ISO 8601 with the Vietnam zone) as small text at the top
//!   right of page 1, in Noto Sans so that Vietnamese diacritics render.
//! * [`signatures`] lists the signatures of a PDF and checks each: the byte
//!   range covers the file except the `/Contents` hole, and the CMS verifies
//!   over it (the certificate's trust is the caller's business, see
//!   lienthong-pki).
//!
//! Pure and synchronous: bytes in, bytes out.

mod appearance;
mod cms;
mod pdf;

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone};
use lopdf::{Dictionary, Document, Object, ObjectId};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKeyRef, Private};
use openssl::x509::{X509NameRef, X509Ref, X509};
use pdf_writer::Ref;

use crate::pdf::{append_object, Entry};

/// The visible mark of the agency's signature and the signature dictionary's
/// metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The issuing agency (*cơ quan ban hành*), e.g. "Sở Khoa học và Công nghệ".
    pub agency_name: String,
    /// The signing time (*thời gian ký*), in Vietnam time (+07:00): shown in
    /// the mark and written as the dictionary's `/M`.
    pub signed_at: DateTime<FixedOffset>,
    /// `/Reason`, e.g. "Phát hành văn bản".
    pub reason: Option<String>,
    /// `/Location`, e.g. "Hà Giang".
    pub location: Option<String>,
}

/// One signature found in a PDF, and what checking it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The signature field's full name, e.g. "Signature1".
    pub field_name: String,
    /// `/SubFilter`, e.g. "ETSI.CAdES.detached".
    pub sub_filter: Option<String>,
    /// The signer certificate's subject, e.g. "C=VN, O=…, CN=Sở Khoa học và Công nghệ".
    pub signer_subject: Option<String>,
    /// `/M`: the claimed signing time.
    pub signed_at: Option<DateTime<FixedOffset>>,
    /// `/ByteRange`.
    pub byte_range: [u64; 4],
    /// The byte range reaches the end of the file: nothing was appended after
    /// this signature (a later signature's update does append).
    pub covers_whole_document: bool,
    /// The CMS carries ESS signing-certificate-v2 naming the signer's
    /// certificate and no signing-time attribute, as PAdES B-B requires.
    pub pades_attributes: bool,
    /// The byte range is well formed (starts at 0, its one gap is exactly the
    /// `/Contents` string) and the CMS signature verifies over it.
    pub verifies: bool,
    /// Why it does not verify, when it does not.
    pub problem: Option<String>,
}

/// Why signing or reading signatures failed.
#[derive(Debug, thiserror::Error)]
pub enum PdfSignError {
    /// The bytes do not start with a `%PDF-` header.
    #[error("not a PDF file (no %PDF- header)")]
    NotPdf,
    /// No `startxref` / `%%EOF` at the end: the file was cut short.
    #[error("the PDF ends without startxref and %%EOF: truncated or damaged")]
    Truncated,
    /// The structure could not be read.
    #[error("malformed PDF: {0}")]
    Malformed(String),
    /// Encrypted PDFs are refused: the signature must cover the plain document.
    #[error("encrypted PDF refused: sign the unencrypted original")]
    Encrypted,
    /// The page tree is empty, so there is no page 1 for the mark.
    #[error("the PDF has no pages")]
    NoPages,
    /// The key is not the one in the certificate.
    #[error("the private key does not belong to the signing certificate")]
    KeyMismatch,
    /// Only RSA and ECDSA keys are supported.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// The signature does not fit the space reserved for it (a bug if it
    /// ever happens: the space is computed from the key and certificates).
    #[error("the CMS signature ({needed} bytes) does not fit its placeholder ({available} bytes)")]
    CmsTooBig { needed: usize, available: usize },
    /// The embedded font could not be read or subset.
    #[error("font of the visible mark: {0}")]
    Font(String),
    /// OpenSSL failed.
    #[error("cryptography: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// Margin between the mark and the page's top right corner, in points.
const MARK_MARGIN: f32 = 18.0;
/// Room for `[0 a b c]` with offsets of up to ten digits.
const BYTE_RANGE_WIDTH: usize = 40;
/// Widget flags: Print (4) + Locked (128).
const WIDGET_FLAGS: i64 = 132;

/// Sign `pdf` with the agency's `key` and `cert` (`chain`: the issuing CA
/// certificates to embed, may be empty), adding the visible `mark` on page 1.
///
/// Returns the original bytes followed by the incremental update. A PDF that
/// is already signed gets one more signature; the earlier ones stay valid for
/// the revision they cover.
pub fn sign_pdf(
    pdf: &[u8],
    key: &PKeyRef<Private>,
    cert: &X509Ref,
    chain: &[X509],
    mark: &Mark,
) -> Result<Vec<u8>, PdfSignError> {
    if !cert.public_key()?.public_eq(key) {
        return Err(PdfSignError::KeyMismatch);
    }
    let s = pdf::open(pdf)?;
    let doc = &s.doc;
    let catalog = doc
        .get_dictionary(s.root)
        .map_err(|e| PdfSignError::Malformed(e.to_string()))?
        .clone();
    let page_id = *doc
        .get_pages()
        .values()
        .next()
        .ok_or(PdfSignError::NoPages)?;
    let mut page = doc
        .get_dictionary(page_id)
        .map_err(|_| PdfSignError::NoPages)?
        .clone();
    let [llx, lly, urx, ury] = pdf::inherited(doc, &page, b"CropBox")
        .and_then(pdf::rect)
        .or_else(|| pdf::inherited(doc, &page, b"MediaBox").and_then(pdf::rect))
        // A4 portrait when the page says nothing.
        .unwrap_or([0.0, 0.0, 595.28, 841.89]);
    let rotate = pdf::inherited(doc, &page, b"Rotate")
        .and_then(|r| r.as_i64().ok())
        .unwrap_or(0)
        .rem_euclid(360);

    let (acroform_id, mut acroform) = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => (
            Some(*id),
            doc.get_dictionary(*id).cloned().unwrap_or_default(),
        ),
        Ok(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    let mut fields = array_of(doc, &acroform, b"Fields");
    let taken: HashSet<String> = fields
        .iter()
        .filter_map(|f| doc.dereference(f).ok())
        .filter_map(|(_, f)| f.as_dict().ok())
        .filter_map(|f| f.get(b"T").ok())
        .filter_map(|t| lopdf::decode_text_string(t).ok())
        .collect();
    let field_name = (1..)
        .map(|n| format!("Signature{n}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| "Signature".to_owned());
    let mut annots = array_of(doc, &page, b"Annots");

    let mut next_id = s.size;
    let mut take_id = || {
        let id = next_id;
        next_id += 1;
        id
    };
    let sig_id = (take_id(), 0);
    let widget_id = (take_id(), 0);
    let form_id = take_id();
    let iso_time = mark.signed_at.to_rfc3339_opts(SecondsFormat::Secs, false);
    let look = appearance::build(
        &[mark.agency_name.clone(), iso_time],
        Ref::new(form_id as i32),
        form_matrix(rotate),
        &mut || Ref::new(take_id() as i32),
    )?;
    let size = next_id;

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
        out.push(b'\n');
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (id, chunk) in &look.objects {
        entries.push(Entry {
            id: id.get() as u32,
            generation: 0,
            offset: out.len(),
        });
        out.extend_from_slice(chunk.as_bytes());
    }

    // The signature dictionary, with room for the byte range and the CMS.
    let available = cms::max_len(key, cert, chain)? + 64;
    entries.push(Entry {
        id: sig_id.0,
        generation: 0,
        offset: out.len(),
    });
    out.extend_from_slice(
        format!(
            "{} 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached\n/ByteRange ",
            sig_id.0
        )
        .as_bytes(),
    );
    let byte_range_at = out.len();
    out.extend_from_slice(&[b' '; BYTE_RANGE_WIDTH]);
    out.extend_from_slice(b"\n/Contents ");
    let hole_start = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * available, b'0');
    out.push(b'>');
    let hole_end = out.len();
    let mut rest = Dictionary::new();
    rest.set(
        "M",
        Object::String(
            pdf_date(&mark.signed_at).into_bytes(),
            lopdf::StringFormat::Literal,
        ),
    );
    rest.set("Name", pdf::text_string(&mark.agency_name));
    if let Some(reason) = &mark.reason {
        rest.set("Reason", pdf::text_string(reason));
    }
    if let Some(location) = &mark.location {
        rest.set("Location", pdf::text_string(location));
    }
    for (k, v) in rest.iter() {
        out.push(b'\n');
        pdf::write_name(&mut out, k);
        out.push(b' ');
        pdf::write_object(&mut out, v);
    }
    out.extend_from_slice(b">>\nendobj\n");

    // The field and its widget in one dictionary, on page 1, top right.
    let rect = mark_rect([llx, lly, urx, ury], rotate, look.width, look.height);
    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", pdf::text_string(&field_name));
    widget.set("TU", pdf::text_string("Chữ ký số của cơ quan"));
    widget.set("V", Object::Reference(sig_id));
    widget.set("P", Object::Reference(page_id));
    widget.set("F", Object::Integer(WIDGET_FLAGS));
    widget.set(
        "Rect",
        Object::Array(rect.into_iter().map(Object::Real).collect()),
    );
    let mut ap = Dictionary::new();
    ap.set("N", Object::Reference((form_id, 0)));
    widget.set("AP", Object::Dictionary(ap));
    append_object(
        &mut out,
        &mut entries,
        widget_id,
        &Object::Dictionary(widget),
    );

    annots.push(Object::Reference(widget_id));
    page.set("Annots", Object::Array(annots));
    append_object(&mut out, &mut entries, page_id, &Object::Dictionary(page));

    fields.push(Object::Reference(widget_id));
    acroform.set("Fields", Object::Array(fields));
    let flags = acroform
        .get(b"SigFlags")
        .and_then(Object::as_i64)
        .unwrap_or(0);
    // SignaturesExist (1) | AppendOnly (2): viewers must not rewrite the file.
    acroform.set("SigFlags", Object::Integer(flags | 3));
    match acroform_id {
        // The catalog points at the AcroForm object: a new version of it suffices.
        Some(id) => append_object(&mut out, &mut entries, id, &Object::Dictionary(acroform)),
        None => {
            let mut catalog = catalog;
            catalog.set("AcroForm", Object::Dictionary(acroform));
            append_object(&mut out, &mut entries, s.root, &Object::Dictionary(catalog));
        }
    }
    pdf::append_xref(&mut out, entries, s.xref_kind, doc, size, s.startxref);

    // Now the offsets are final: fill in the byte range, then sign over it.
    let byte_range = format!("[0 {hole_start} {hole_end} {}]", out.len() - hole_end);
    if byte_range.len() > BYTE_RANGE_WIDTH {
        return Err(PdfSignError::Malformed("file too large to sign".into()));
    }
    out[byte_range_at..byte_range_at + byte_range.len()].copy_from_slice(byte_range.as_bytes());
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(&out[..hole_start]);
    hasher.update(&out[hole_end..]);
    let digest = hasher.finish();
    let signed = cms::sign(key, cert, chain, &digest)?;
    fill_hole(&mut out[hole_start + 1..hole_end - 1], &signed)?;
    Ok(out)
}

/// Where the mark goes, in user space: the corner that is top right *as the
/// page is shown*, i.e. after its `/Rotate` (clockwise, in multiples of 90).
fn mark_rect(page: [f32; 4], rotate: i64, w: f32, h: f32) -> [f32; 4] {
    let [llx, lly, urx, ury] = page;
    let m = MARK_MARGIN;
    let r = match rotate {
        // Shown turned clockwise: the top left corner ends up top right.
        90 => [llx + m, ury - m - w, llx + m + h, ury - m],
        180 => [llx + m, lly + m, llx + m + w, lly + m + h],
        270 => [urx - m - h, lly + m, urx - m, lly + m + w],
        _ => [urx - m - w, ury - m - h, urx - m, ury - m],
    };
    // Hundredths of a point: enough, and no f32 noise in the file.
    r.map(|v| (v * 100.0).round() / 100.0)
}

/// The appearance's `/Matrix`: turned against the page's `/Rotate`, so the
/// text reads upright on screen and on paper.
fn form_matrix(rotate: i64) -> Option<[f32; 6]> {
    match rotate {
        90 => Some([0.0, 1.0, -1.0, 0.0, 0.0, 0.0]),
        180 => Some([-1.0, 0.0, 0.0, -1.0, 0.0, 0.0]),
        270 => Some([0.0, -1.0, 1.0, 0.0, 0.0, 0.0]),
        _ => None,
    }
}

/// Write `der` as hex at the start of the zero-filled hole.
fn fill_hole(hole: &mut [u8], der: &[u8]) -> Result<(), PdfSignError> {
    if der.len() * 2 > hole.len() {
        return Err(PdfSignError::CmsTooBig {
            needed: der.len(),
            available: hole.len() / 2,
        });
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, b) in der.iter().enumerate() {
        hole[2 * i] = HEX[usize::from(b >> 4)];
        hole[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    Ok(())
}

/// An array entry of `dict`, direct or by reference; empty when absent.
fn array_of(doc: &Document, dict: &Dictionary, key: &[u8]) -> Vec<Object> {
    pdf::resolve(doc, dict, key)
        .and_then(|o| o.as_array().ok())
        .cloned()
        .unwrap_or_default()
}

/// A PDF date: `D:20261201190530+07'00'`.
fn pdf_date(t: &DateTime<FixedOffset>) -> String {
    let offset = t.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.abs() / 60;
    format!(
        "{}{sign}{:02}'{:02}'",
        t.format("D:%Y%m%d%H%M%S"),
        minutes / 60,
        minutes % 60
    )
}

/// Read a PDF date; the parts after the year are optional, no zone is UTC.
fn parse_pdf_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 || digits.len() > 14 || !digits.len().is_multiple_of(2) {
        return None;
    }
    let part = |from: usize, to: usize, default: u32| -> Option<u32> {
        match digits.get(from..to) {
            Some(p) => p.parse().ok(),
            None => Some(default),
        }
    };
    let year = i32::try_from(part(0, 4, 0)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, part(4, 6, 1)?, part(6, 8, 1)?)?;
    let time = date.and_hms_opt(part(8, 10, 0)?, part(10, 12, 0)?, part(12, 14, 0)?)?;
    let zone = &s[digits.len()..];
    let offset = match zone.chars().next() {
        None | Some('Z') => 0,
        Some(c @ ('+' | '-')) => {
            let nums: Vec<i32> = zone[1..]
                .split('\'')
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            let secs =
                nums.first().copied().unwrap_or(0) * 3600 + nums.get(1).copied().unwrap_or(0) * 60;
            if c == '-' {
                -secs
            } else {
                secs
            }
        }
        Some(_) => return None,
    };
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&time)
        .single()
}

/// "C=VN, O=…, CN=…", in the certificate's order.
fn name_string(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The signatures of `pdf`, each checked: see [`SignatureInfo`]. A PDF with
/// no signature field gives an empty list.
pub fn signatures(pdf: &[u8]) -> Result<Vec<SignatureInfo>, PdfSignError> {
    let s = pdf::open(pdf)?;
    let doc = &s.doc;
    let catalog = doc
        .get_dictionary(s.root)
        .map_err(|e| PdfSignError::Malformed(e.to_string()))?;
    let Some(acroform) = pdf::resolve(doc, catalog, b"AcroForm").and_then(|o| o.as_dict().ok())
    else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    // (field, inherited /FT, parent's full name, depth)
    let mut stack: Vec<(Object, Option<Vec<u8>>, String, usize)> =
        array_of(doc, acroform, b"Fields")
            .into_iter()
            .rev()
            .map(|f| (f, None, String::new(), 0))
            .collect();
    while let Some((field, ft, parent, depth)) = stack.pop() {
        if let Object::Reference(id) = field {
            if !seen.insert(id) {
                continue;
            }
        }
        let Ok((_, Object::Dictionary(dict))) = doc.dereference(&field) else {
            continue;
        };
        let partial = dict
            .get(b"T")
            .ok()
            .and_then(|t| lopdf::decode_text_string(t).ok());
        let name = match (parent.is_empty(), partial) {
            (_, None) => parent.clone(),
            (true, Some(p)) => p,
            (false, Some(p)) => format!("{parent}.{p}"),
        };
        let ft = dict
            .get(b"FT")
            .ok()
            .and_then(|o| o.as_name().ok())
            .map(<[u8]>::to_vec)
            .or(ft);
        if depth < 32 {
            for kid in array_of(doc, dict, b"Kids").into_iter().rev() {
                stack.push((kid, ft.clone(), name.clone(), depth + 1));
            }
        }
        if ft.as_deref() != Some(b"Sig") {
            continue;
        }
        if let Some(Object::Dictionary(value)) = pdf::resolve(doc, dict, b"V") {
            found.push(check(pdf, name, value));
        }
    }
    Ok(found)
}

/// Check one signature dictionary against the file.
fn check(pdf: &[u8], field_name: String, sig: &Dictionary) -> SignatureInfo {
    let sub_filter = sig
        .get(b"SubFilter")
        .ok()
        .and_then(|o| o.as_name().ok())
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let signed_at = sig
        .get(b"M")
        .ok()
        .and_then(|m| lopdf::decode_text_string(m).ok())
        .and_then(|m| parse_pdf_date(&m));
    let mut info = SignatureInfo {
        field_name,
        sub_filter,
        signer_subject: None,
        signed_at,
        byte_range: [0; 4],
        covers_whole_document: false,
        pades_attributes: false,
        verifies: false,
        problem: None,
    };
    let range: Option<Vec<u64>> = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .ok()
        .and_then(|a| {
            a.iter()
                .map(|o| o.as_i64().ok().and_then(|v| u64::try_from(v).ok()))
                .collect()
        });
    let Some([a, b, c, d]) = range.and_then(|r| <[u64; 4]>::try_from(r).ok()) else {
        info.problem = Some("no /ByteRange of four non-negative integers".into());
        return info;
    };
    info.byte_range = [a, b, c, d];
    let len = pdf.len() as u64;
    if a != 0 || b > c || c.checked_add(d).is_none_or(|end| end > len) {
        info.problem = Some("the /ByteRange does not fit the file".into());
        return info;
    }
    let (b, c, d) = (b as usize, c as usize, d as usize);
    info.covers_whole_document = c + d == pdf.len();
    let hole = &pdf[b..c];
    let hole_ok = hole.len() >= 2
        && hole[0] == b'<'
        && hole[hole.len() - 1] == b'>'
        && hole[1..hole.len() - 1].iter().all(u8::is_ascii_hexdigit);
    if !hole_ok {
        info.problem = Some("the gap in the /ByteRange is not exactly the /Contents string".into());
        return info;
    }
    let Some(contents) = sig.get(b"Contents").ok().and_then(|o| o.as_str().ok()) else {
        info.problem = Some("no /Contents".into());
        return info;
    };
    let der = &contents[..cms::der_len(contents).unwrap_or(contents.len())];
    if let Some(parsed) = cms::parse(der) {
        info.signer_subject = parsed
            .signer
            .as_ref()
            .map(|c| name_string(c.subject_name()));
        info.pades_attributes = parsed.signing_certificate_v2 && !parsed.has_signing_time;
    }
    let mut signed = Vec::with_capacity(b + d);
    signed.extend_from_slice(&pdf[..b]);
    signed.extend_from_slice(&pdf[c..c + d]);
    let verified = CmsContentInfo::from_der(der).and_then(|mut cms| {
        // NOVERIFY: the signer certificate's chain is checked by the trust
        // store (lienthong-pki), not here.
        cms.verify(
            None,
            None,
            Some(&signed),
            None,
            CMSOptions::BINARY | CMSOptions::NOVERIFY,
        )
    });
    match verified {
        Ok(()) => info.verifies = true,
        Err(e) => info.problem = Some(format!("the CMS signature does not verify: {e}")),
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_round_trip() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T19:05:30+07:00").unwrap();
        assert_eq!(pdf_date(&t), "D:20261201190530+07'00'");
        assert_eq!(parse_pdf_date("D:20261201190530+07'00'"), Some(t));
        assert_eq!(parse_pdf_date("D:20261201190530+07'00"), Some(t));
        assert_eq!(
            parse_pdf_date("D:2026"),
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").ok()
        );
        assert_eq!(parse_pdf_date("D:20261301"), None);
        assert_eq!(parse_pdf_date("yesterday"), None);
    }

    #[test]
    fn too_small_hole_is_an_error() {
        let mut hole = vec![b'0'; 8];
        assert!(matches!(
            fill_hole(&mut hole, &[1, 2, 3, 4, 5]),
            Err(PdfSignError::CmsTooBig {
                needed: 5,
                available: 4
            })
        ));
        fill_hole(&mut hole, &[0xab, 0x01]).unwrap();
        assert_eq!(&hole, b"AB010000");
    }
}

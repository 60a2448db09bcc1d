//! Reading the existing structure (with lopdf) and writing objects and the
//! cross-reference section of the incremental update (by hand).

use std::collections::HashSet;
use std::io::Write;

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};

use crate::PdfSignError;

/// How the last cross-reference section of the input is written; the update
/// uses the same kind (a table may not point back to a stream with `/Prev`
/// for readers that know only tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XrefKind {
    Table,
    Stream,
}

/// What the signer needs to know of the input.
pub(crate) struct Structure {
    pub doc: Document,
    /// Offset of the last cross-reference section (`startxref`).
    pub startxref: usize,
    pub xref_kind: XrefKind,
    /// The trailer's `/Size`: the first free object number.
    pub size: u32,
    pub root: ObjectId,
}

/// Open and check `pdf`: a PDF header, an intact end (`startxref` and
/// `%%EOF`), parseable by lopdf, not encrypted.
pub(crate) fn open(pdf: &[u8]) -> Result<Structure, PdfSignError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(PdfSignError::NotPdf);
    }
    let startxref = last_startxref(pdf)?;
    let at = pdf
        .get(startxref..)
        .ok_or_else(|| PdfSignError::Malformed(format!("startxref {startxref} beyond the end")))?;
    let xref_kind = if at.starts_with(b"xref") {
        XrefKind::Table
    } else if at.first().is_some_and(u8::is_ascii_digit) {
        XrefKind::Stream
    } else {
        return Err(PdfSignError::Malformed(format!(
            "no cross-reference section at startxref {startxref}"
        )));
    };
    let doc = match Document::load_mem(pdf) {
        Ok(doc) => doc,
        // lopdf fails on files it cannot decrypt; say what the real reason is.
        Err(_) if contains(pdf, b"/Encrypt") => return Err(PdfSignError::Encrypted),
        Err(e) => return Err(PdfSignError::Malformed(e.to_string())),
    };
    if doc.encryption_state.is_some() || doc.trailer.has(b"Encrypt") {
        return Err(PdfSignError::Encrypted);
    }
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfSignError::Malformed("trailer has no /Root".into()))?;
    doc.get_dictionary(root)
        .map_err(|_| PdfSignError::Malformed("the /Root catalog is not a dictionary".into()))?;
    let trailer_size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .unwrap_or(0);
    let size = u32::try_from(trailer_size)
        .unwrap_or(0)
        .max(doc.max_id.saturating_add(1))
        .max(doc.objects.keys().map(|id| id.0 + 1).max().unwrap_or(1));
    Ok(Structure {
        doc,
        startxref,
        xref_kind,
        size,
        root,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The offset after the last `startxref`, which must be followed by `%%EOF`
/// near the end of the file: otherwise the file was cut short.
fn last_startxref(pdf: &[u8]) -> Result<usize, PdfSignError> {
    let tail_start = pdf.len().saturating_sub(4096);
    let tail = &pdf[tail_start..];
    let eof = rfind(tail, b"%%EOF").ok_or(PdfSignError::Truncated)?;
    if tail[eof + 5..].iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(PdfSignError::Truncated);
    }
    let at = rfind(&tail[..eof], b"startxref").ok_or(PdfSignError::Truncated)?;
    let number: String = tail[at + 9..eof]
        .iter()
        .map(|b| char::from(*b))
        .collect::<String>()
        .trim()
        .to_owned();
    number
        .parse()
        .map_err(|_| PdfSignError::Malformed(format!("startxref is not a number: {number:?}")))
}

/// `/Key` of `dict` followed through references.
pub(crate) fn resolve<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Object> {
    let object = dict.get(key).ok()?;
    doc.dereference(object).ok().map(|(_, o)| o)
}

/// An inheritable page attribute (MediaBox, CropBox, Rotate): on the page or
/// on one of its ancestors in the page tree.
pub(crate) fn inherited<'a>(
    doc: &'a Document,
    page: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Object> {
    let mut node = page;
    let mut seen = HashSet::new();
    loop {
        if let Some(v) = resolve(doc, node, key) {
            return Some(v);
        }
        let parent = node.get(b"Parent").and_then(Object::as_reference).ok()?;
        if !seen.insert(parent) {
            return None;
        }
        node = doc.get_dictionary(parent).ok()?;
    }
}

/// A rectangle `[llx lly urx ury]`, normalised.
pub(crate) fn rect(object: &Object) -> Option<[f32; 4]> {
    let a = object.as_array().ok()?;
    if a.len() != 4 {
        return None;
    }
    let mut v = [0f32; 4];
    for (slot, o) in v.iter_mut().zip(a) {
        *slot = o.as_float().ok()?;
    }
    Some([
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ])
}

// ---------------------------------------------------------------- writing

/// Serialise an object the way PDF reads it back. Strings with bytes that a
/// literal would need escaping for are written in hex.
pub(crate) fn write_object(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => {
            let r = if r.is_finite() { *r } else { 0.0 };
            out.extend_from_slice(format!("{r}").as_bytes())
        }
        Object::Name(name) => write_name(out, name),
        Object::String(bytes, format) => write_string(out, bytes, *format),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => write_dict(out, dict),
        Object::Stream(stream) => {
            // Not reached for the objects we rewrite (catalog, page,
            // AcroForm, arrays); kept correct anyway.
            let mut dict = stream.dict.clone();
            dict.set("Length", Object::Integer(stream.content.len() as i64));
            write_dict(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&stream.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((id, generation)) => {
            out.extend_from_slice(format!("{id} {generation} R").as_bytes())
        }
    }
}

pub(crate) fn write_dict(out: &mut Vec<u8>, dict: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        write_name(out, key);
        out.push(b' ');
        write_object(out, value);
    }
    out.extend_from_slice(b">>");
}

pub(crate) fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if b"()<>[]{}/%#".contains(&b) || !(33..=126).contains(&b) {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

fn write_string(out: &mut Vec<u8>, bytes: &[u8], format: StringFormat) {
    let plain = bytes
        .iter()
        .all(|b| (32..=126).contains(b) && !b"()\\".contains(b));
    if format == StringFormat::Literal && plain {
        out.push(b'(');
        out.extend_from_slice(bytes);
        out.push(b')');
    } else {
        out.push(b'<');
        for b in bytes {
            out.extend_from_slice(format!("{b:02X}").as_bytes());
        }
        out.push(b'>');
    }
}

/// A PDF text string: plain ASCII as is, anything else as UTF-16BE with a
/// byte-order mark (Vietnamese needs it).
pub(crate) fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (32..=126).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// One object written into the update: number, generation, offset.
pub(crate) struct Entry {
    pub id: u32,
    pub generation: u16,
    pub offset: usize,
}

/// Append `id gen obj ... endobj` for a dictionary or array.
pub(crate) fn append_object(
    out: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    id: ObjectId,
    object: &Object,
) {
    entries.push(Entry {
        id: id.0,
        generation: id.1,
        offset: out.len(),
    });
    out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    write_object(out, object);
    out.extend_from_slice(b"\nendobj\n");
}

/// Runs of consecutive object numbers: the subsections of a table, the
/// `/Index` of a stream.
fn runs(entries: &[&Entry]) -> Vec<(u32, usize)> {
    let mut runs: Vec<(u32, usize)> = Vec::new();
    let mut prev: Option<u32> = None;
    for e in entries {
        match runs.last_mut() {
            Some((_, n)) if prev.is_some_and(|p| p + 1 == e.id) => *n += 1,
            _ => runs.push((e.id, 1)),
        }
        prev = Some(e.id);
    }
    runs
}

/// The trailer entries the update carries over.
fn trailer_base(doc: &Document, size: u32, prev: usize) -> Dictionary {
    let mut trailer = Dictionary::new();
    trailer.set("Size", Object::Integer(i64::from(size)));
    for key in [&b"Root"[..], b"Info", b"ID"] {
        if let Ok(v) = doc.trailer.get(key) {
            trailer.set(key.to_vec(), v.clone());
        }
    }
    trailer.set("Prev", Object::Integer(prev as i64));
    trailer
}

/// Append the cross-reference section and trailer for `entries`, ending the
/// file with `startxref` and `%%EOF`.
pub(crate) fn append_xref(
    out: &mut Vec<u8>,
    mut entries: Vec<Entry>,
    kind: XrefKind,
    doc: &Document,
    mut size: u32,
    prev: usize,
) {
    let xref_offset = out.len();
    match kind {
        XrefKind::Table => {
            entries.sort_by_key(|e| e.id);
            let sorted: Vec<&Entry> = entries.iter().collect();
            out.extend_from_slice(b"xref\n");
            let mut i = 0;
            for (first, n) in runs(&sorted) {
                out.extend_from_slice(format!("{first} {n}\n").as_bytes());
                for e in &sorted[i..i + n] {
                    // Exactly 20 bytes per entry, EOL included.
                    out.extend_from_slice(
                        format!("{:010} {:05} n\r\n", e.offset, e.generation).as_bytes(),
                    );
                }
                i += n;
            }
            let trailer = trailer_base(doc, size, prev);
            out.extend_from_slice(b"trailer\n");
            write_dict(out, &trailer);
            out.push(b'\n');
        }
        XrefKind::Stream => {
            // The stream lists itself too, as writers customarily do.
            let own = size;
            size += 1;
            entries.push(Entry {
                id: own,
                generation: 0,
                offset: xref_offset,
            });
            entries.sort_by_key(|e| e.id);
            let offset_bytes = (usize::BITS - xref_offset.leading_zeros())
                .div_ceil(8)
                .max(1) as usize;
            let mut data = Vec::new();
            for e in &entries {
                data.push(1);
                data.extend_from_slice(&e.offset.to_be_bytes()[8 - offset_bytes..]);
                data.extend_from_slice(&e.generation.to_be_bytes());
            }
            let sorted: Vec<&Entry> = entries.iter().collect();
            let index: Vec<Object> = runs(&sorted)
                .into_iter()
                .flat_map(|(first, n)| {
                    [Object::Integer(i64::from(first)), Object::Integer(n as i64)]
                })
                .collect();
            let mut dict = trailer_base(doc, size, prev);
            dict.set("Type", Object::Name(b"XRef".to_vec()));
            dict.set(
                "W",
                Object::Array(vec![
                    Object::Integer(1),
                    Object::Integer(offset_bytes as i64),
                    Object::Integer(2),
                ]),
            );
            dict.set("Index", Object::Array(index));
            dict.set("Length", Object::Integer(data.len() as i64));
            out.extend_from_slice(format!("{own} 0 obj\n").as_bytes());
            write_dict(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\nendstream\nendobj\n");
        }
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "startxref\n{xref_offset}\n%%EOF\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_strings_and_runs() {
        let mut out = Vec::new();
        write_name(&mut out, b"A B#");
        assert_eq!(out, b"/A#20B#23");
        let mut out = Vec::new();
        write_object(
            &mut out,
            &Object::Array(vec![
                Object::String(b"a(b".to_vec(), StringFormat::Literal),
                Object::String(b"ok".to_vec(), StringFormat::Literal),
                Object::Real(595.276),
                Object::Reference((3, 0)),
            ]),
        );
        assert_eq!(out, b"[<612862> (ok) 595.276 3 0 R]");
        let e = |id| Entry {
            id,
            generation: 0,
            offset: 0,
        };
        let entries = [e(1), e(2), e(5), e(6), e(7), e(9)];
        let refs: Vec<&Entry> = entries.iter().collect();
        assert_eq!(runs(&refs), vec![(1, 2), (5, 3), (9, 1)]);
    }
}

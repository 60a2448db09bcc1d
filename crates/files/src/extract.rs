//! Text extraction for search and previews: PDF, DOCX, ODT and plain text.
//!
//! Everything here reads untrusted uploads, so every path is bounded by
//! [`Limits`]: input size, total uncompressed size (zip and PDF stream bombs),
//! number of zip entries, output length. Malformed input gives an
//! [`ExtractError`], never a panic: the PDF crates are run under
//! [`std::panic::catch_unwind`] as a last resort, and the two known ways they
//! recurse without bound (form XObjects that draw themselves, page-tree parent
//! cycles) are checked before they run, because a stack overflow cannot be
//! caught.
//!
//! The text comes back in Unicode NFC (PDF producers often map Vietnamese
//! letters to a base letter plus combining marks; NFC makes `ệ` one character
//! so that search finds it), with `\n` line ends and without NULs or other
//! control characters except `\t` and `\n`.

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Dictionary, Document, Object, ObjectId, OutputDev, OutputError};
use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;
use unicode_normalization::UnicodeNormalization;

use crate::sniff::FileKind;

/// Bounds for one extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: usize,
    /// Output is cut to this many characters (the result is then a prefix of
    /// the full text, not an error).
    pub max_output_chars: usize,
    /// Total bytes that decompression may produce: all entries of a zip
    /// (as declared, and as actually read), all Flate streams of a PDF but
    /// its images (which text extraction never decodes).
    pub max_uncompressed_bytes: u64,
    /// Most entries a zip container (DOCX, ODT) may have.
    pub max_zip_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 << 20,
            max_output_chars: 2_000_000,
            max_uncompressed_bytes: 256 << 20,
            max_zip_entries: 5_000,
        }
    }
}

/// Why no text could be extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// This kind of file has no text extractor (images, legacy `.doc`, ...).
    #[error("text extraction is not supported for {0} files")]
    Unsupported(FileKind),
    /// The input is larger than [`Limits::max_input_bytes`].
    #[error("file is {size} bytes, over the limit of {limit}")]
    InputTooLarge { size: usize, limit: usize },
    /// A zip container has more entries than [`Limits::max_zip_entries`].
    #[error("archive has {entries} entries, over the limit of {limit}")]
    TooManyEntries { entries: usize, limit: usize },
    /// Decompression would exceed [`Limits::max_uncompressed_bytes`]
    /// (a zip or compression bomb, or simply too big).
    #[error("content expands to more than {limit} bytes")]
    TooMuchData { limit: u64 },
    /// The document is encrypted with a password we do not have.
    #[error("document is encrypted")]
    Encrypted,
    /// The file is damaged, truncated or not what its kind says.
    #[error("malformed file: {0}")]
    Malformed(String),
}

/// Extract the text of a file whose kind was found by [`crate::sniff`].
///
/// Supported: [`FileKind::Pdf`], [`FileKind::Docx`], [`FileKind::Odt`] and
/// [`FileKind::PlainText`]. A scanned PDF (images only) gives an empty string.
pub fn extract_text(kind: FileKind, bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(ExtractError::InputTooLarge {
            size: bytes.len(),
            limit: limits.max_input_bytes,
        });
    }
    let raw = match kind {
        FileKind::PlainText => {
            let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            std::str::from_utf8(bytes)
                .map_err(|e| ExtractError::Malformed(format!("text is not UTF-8: {e}")))?
                .to_owned()
        }
        FileKind::Pdf => extract_pdf(bytes, limits)?,
        FileKind::Docx => {
            let xml = read_zip_entry(bytes, "word/document.xml", limits)?;
            docx_text(&xml, limits.max_output_chars)?
        }
        FileKind::Odt => {
            let xml = read_zip_entry(bytes, "content.xml", limits)?;
            odt_text(&xml, limits.max_output_chars)?
        }
        other => return Err(ExtractError::Unsupported(other)),
    };
    Ok(finish(&raw, limits.max_output_chars))
}

/// NFC, `\r\n` to `\n`, no control characters but `\t` and `\n`, trailing
/// and leading blank space trimmed, at most `max_chars` characters.
fn finish(raw: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max_chars.saturating_mul(4)));
    let mut count = 0usize;
    let mut last_cr = false;
    for c in raw.nfc() {
        if count >= max_chars {
            break;
        }
        let c = match c {
            '\r' => {
                last_cr = true;
                '\n'
            }
            '\n' if last_cr => {
                last_cr = false;
                continue;
            }
            '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}' => '\n',
            c if c.is_control() && c != '\t' && c != '\n' => {
                last_cr = false;
                continue;
            }
            c => c,
        };
        if c != '\n' {
            last_cr = false;
        }
        out.push(c);
        count += 1;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    let leading = out.len() - out.trim_start().len();
    out.drain(..leading);
    out
}

// ---------------------------------------------------------------- zip (DOCX, ODT)

/// Read one entry of a zip container, refusing zip bombs: too many entries,
/// a declared total size over the limit, or an entry that inflates past the
/// limit whatever its header says.
fn read_zip_entry(bytes: &[u8], name: &str, limits: &Limits) -> Result<String, ExtractError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ExtractError::Malformed(format!("not a readable zip: {e}")))?;
    if archive.len() > limits.max_zip_entries {
        return Err(ExtractError::TooManyEntries {
            entries: archive.len(),
            limit: limits.max_zip_entries,
        });
    }
    let meta = archive.metadata();
    let mut declared: u64 = 0;
    for i in 0..meta.len() {
        let entry = meta
            .entry(i)
            .map_err(|e| ExtractError::Malformed(format!("bad zip entry: {e}")))?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > limits.max_uncompressed_bytes {
        return Err(ExtractError::TooMuchData {
            limit: limits.max_uncompressed_bytes,
        });
    }
    let entry = archive
        .by_name(name)
        .map_err(|e| ExtractError::Malformed(format!("no {name} in the archive: {e}")))?;
    if entry.encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let cap = limits.max_uncompressed_bytes;
    let mut data = Vec::with_capacity(
        usize::try_from(entry.size().min(cap))
            .unwrap_or(0)
            .min(64 << 20),
    );
    entry
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| ExtractError::Malformed(format!("cannot read {name}: {e}")))?;
    if data.len() as u64 > cap {
        return Err(ExtractError::TooMuchData { limit: cap });
    }
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&data);
    String::from_utf8(data.to_vec())
        .map_err(|_| ExtractError::Malformed(format!("{name} is not UTF-8")))
}

/// Text of the predefined XML entities and character references.
fn resolve_ref(r: &BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match &**r {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

fn xml_error(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::Malformed(format!("bad XML: {e}"))
}

/// Text of `word/document.xml`: paragraphs end with a line break, table cells
/// are separated by tabs and rows end with a line break, `w:br`/`w:cr` are
/// line breaks, `w:tab` a tab. Deleted text and field codes are left out, and
/// so are the VML fallbacks of drawing shapes (their text is in the choice).
fn docx_text(xml: &str, max_chars: usize) -> Result<String, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = 0u32; // inside <w:t>
    let mut in_run = 0u32; // inside <w:r>
    let mut cell_depth = 0u32; // inside <w:tc>
    let mut fallback = 0u32; // inside <mc:Fallback>
                             // Rough output length in bytes; the exact cut is made in `finish`.
    let byte_cap = max_chars.saturating_mul(4).saturating_add(64);
    loop {
        let event = reader.read_event().map_err(xml_error)?;
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                match name.as_ref() {
                    "Fallback" => fallback += 1,
                    "t" => in_text += 1,
                    "r" => in_run += 1,
                    "tc" => cell_depth += 1,
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if fallback > 0 {
                    continue;
                }
                match e.local_name().as_ref() {
                    "tab" if in_run > 0 => out.push('\t'),
                    "br" | "cr" if in_run > 0 => out.push('\n'),
                    "noBreakHyphen" => out.push('-'),
                    _ => {}
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                match name.as_ref() {
                    "Fallback" => fallback = fallback.saturating_sub(1),
                    "t" => in_text = in_text.saturating_sub(1),
                    "r" => in_run = in_run.saturating_sub(1),
                    _ if fallback > 0 => {}
                    "p" => out.push(if cell_depth > 0 { ' ' } else { '\n' }),
                    "tc" => {
                        cell_depth = cell_depth.saturating_sub(1);
                        trim_end_spaces(&mut out);
                        out.push('\t');
                    }
                    "tr" => {
                        if out.ends_with('\t') {
                            out.pop();
                        }
                        out.push('\n');
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_text > 0 && fallback == 0 => out.push_str(&t.xml10_content()),
            Event::CData(t) if in_text > 0 && fallback == 0 => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text > 0 && fallback == 0 => {
                if let Some(c) = resolve_ref(&r) {
                    out.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() > byte_cap {
            break;
        }
    }
    Ok(out)
}

/// Text of an ODT `content.xml`: `text:p`/`text:h` paragraphs, `text:tab`,
/// `text:line-break`, `text:s` (runs of spaces), tables as in DOCX. Notes and
/// annotations are left out.
fn odt_text(xml: &str, max_chars: usize) -> Result<String, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut para = 0u32; // inside text:p / text:h
    let mut skip = 0u32; // inside office:annotation / text:note
    let mut cell_depth = 0u32;
    let byte_cap = max_chars.saturating_mul(4).saturating_add(64);
    loop {
        let event = reader.read_event().map_err(xml_error)?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "p" | "h" => para += 1,
                "annotation" | "note" => skip += 1,
                "table-cell" => cell_depth += 1,
                _ => {}
            },
            Event::Empty(e) if para > 0 && skip == 0 => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "line-break" => out.push('\n'),
                "s" => {
                    let n = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "c")
                        .and_then(|a| a.value.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 100);
                    out.extend(std::iter::repeat_n(' ', n));
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "annotation" | "note" => skip = skip.saturating_sub(1),
                "p" | "h" => {
                    para = para.saturating_sub(1);
                    if skip == 0 && para == 0 {
                        out.push(if cell_depth > 0 { ' ' } else { '\n' });
                    }
                }
                "table-cell" => {
                    cell_depth = cell_depth.saturating_sub(1);
                    trim_end_spaces(&mut out);
                    out.push('\t');
                }
                "table-row" => {
                    if out.ends_with('\t') {
                        out.pop();
                    }
                    out.push('\n');
                }
                _ => {}
            },
            Event::Text(t) if para > 0 && skip == 0 => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if para > 0 && skip == 0 => {
                if let Some(c) = resolve_ref(&r) {
                    out.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() > byte_cap {
            break;
        }
    }
    Ok(out)
}

fn trim_end_spaces(s: &mut String) {
    let len = s.trim_end_matches(' ').len();
    s.truncate(len);
}

// ---------------------------------------------------------------- PDF

/// Deepest nesting of form XObjects we let the extractor recurse into.
const MAX_FORM_DEPTH: usize = 16;
/// Longest page-tree parent chain we accept.
const MAX_PARENT_CHAIN: usize = 64;

fn extract_pdf(bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    // Flate bombs must be refused before lopdf inflates anything (it inflates
    // object streams while loading, with no limit of its own).
    check_flate_streams_raw(bytes, limits.max_uncompressed_bytes)?;

    let result = catch_unwind(AssertUnwindSafe(|| -> Result<String, ExtractError> {
        let mut doc = Document::load_mem(bytes).map_err(pdf_error)?;
        if doc.is_encrypted() {
            // Many agency PDFs are "encrypted" with an empty user password only
            // to restrict printing or copying; those can be read.
            doc.decrypt("").map_err(|_| ExtractError::Encrypted)?;
            // The raw scan saw ciphertext: check the decrypted streams again.
            check_flate_streams_doc(&doc, limits.max_uncompressed_bytes)?;
        }
        check_recursion(&doc)?;
        let mut sink = TextSink::new(limits.max_output_chars);
        match pdf_extract::output_doc(&doc, &mut sink) {
            Ok(()) => {}
            Err(_) if sink.full => {}
            Err(e) => return Err(ExtractError::Malformed(format!("PDF: {e}"))),
        }
        Ok(sink.out)
    }));
    match result {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the PDF reader gave up".to_owned());
            Err(ExtractError::Malformed(format!("PDF: {what}")))
        }
    }
}

fn pdf_error(e: pdf_extract::Error) -> ExtractError {
    match e {
        pdf_extract::Error::Decryption(_) => ExtractError::Encrypted,
        e => ExtractError::Malformed(format!("PDF: {e}")),
    }
}

/// Inflate, with a budget, every Flate stream found by scanning the raw file
/// for `stream` keywords. Image streams are skipped: text extraction never
/// decodes them, and scanned pages legitimately inflate to a lot of pixels.
fn check_flate_streams_raw(bytes: &[u8], budget: u64) -> Result<(), ExtractError> {
    let mut used = 0u64;
    let mut pos = 0usize;
    while let Some(found) = find(&bytes[pos..], b"stream") {
        let kw = pos + found;
        pos = kw + b"stream".len();
        // `endstream` contains `stream`.
        if kw >= 3 && &bytes[kw - 3..kw] == b"end" {
            continue;
        }
        let data_start = match bytes.get(pos..pos + 2) {
            Some(b"\r\n") => pos + 2,
            Some([b'\n', _]) | Some([b'\r', _]) => pos + 1,
            _ => continue,
        };
        let dict_start = kw.saturating_sub(4096);
        let dict = &bytes[dict_start..kw];
        let dict = match rfind(dict, b"obj") {
            Some(i) => &dict[i..],
            None => dict,
        };
        let data_end = find(&bytes[data_start..], b"endstream")
            .map(|i| data_start + i)
            .unwrap_or(bytes.len());
        pos = data_end.max(pos);
        if find(dict, b"/Image").is_some() || find(dict, b"Flate").is_none() {
            continue;
        }
        used = used.saturating_add(inflated_len(&bytes[data_start..data_end], budget - used));
        if used >= budget {
            return Err(ExtractError::TooMuchData { limit: budget });
        }
    }
    Ok(())
}

/// The same check on a loaded (decrypted) document.
fn check_flate_streams_doc(doc: &Document, budget: u64) -> Result<(), ExtractError> {
    let mut used = 0u64;
    for obj in doc.objects.values() {
        let Object::Stream(stream) = obj else {
            continue;
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image") {
            continue;
        }
        let flate = stream
            .filters()
            .map(|f| f.first() == Some(&&b"FlateDecode"[..]))
            .unwrap_or(false);
        if !flate {
            continue;
        }
        used = used.saturating_add(inflated_len(&stream.content, budget - used));
        if used >= budget {
            return Err(ExtractError::TooMuchData { limit: budget });
        }
    }
    Ok(())
}

/// How many bytes `data` inflates to (zlib, or raw deflate), reading at most
/// `budget + 1` bytes of output. A stream that fails to inflate counts what
/// it produced before failing.
fn inflated_len(data: &[u8], budget: u64) -> u64 {
    fn count(mut r: impl Read, budget: u64) -> u64 {
        let mut buf = [0u8; 16 * 1024];
        let mut total = 0u64;
        while total <= budget {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n as u64,
            }
        }
        total
    }
    let zlib = count(flate2::read::ZlibDecoder::new(data), budget);
    if zlib > 0 {
        return zlib;
    }
    count(flate2::read::DeflateDecoder::new(data), budget)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        let off = haystack[i..=haystack.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += off;
        if &haystack[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// pdf-extract recurses into form XObjects and up page-tree parents without a
/// bound; a file that makes either loop would overflow the stack and abort the
/// whole process. Walk both here, bounded, and refuse such files.
fn check_recursion(doc: &Document) -> Result<(), ExtractError> {
    let empty = Dictionary::new();
    let mut done: HashSet<(ObjectId, usize)> = HashSet::new();
    for page_id in doc.get_pages().into_values() {
        let page = doc
            .get_dictionary(page_id)
            .map_err(|_| ExtractError::Malformed("PDF: page is not a dictionary".into()))?;
        // Parent chain, and the inherited resources as pdf-extract finds them.
        let mut resources: Option<&Dictionary> = None;
        let mut node = page;
        let mut seen = HashSet::new();
        for depth in 0.. {
            if resources.is_none() {
                resources = deref_dict(doc, node.get(b"Resources").ok());
            }
            let Ok(parent) = node.get(b"Parent").and_then(Object::as_reference) else {
                break;
            };
            if depth >= MAX_PARENT_CHAIN || !seen.insert(parent) {
                return Err(ExtractError::Malformed("PDF: page tree loops".into()));
            }
            match doc.get_dictionary(parent) {
                Ok(d) => node = d,
                Err(_) => break,
            }
        }
        let content = doc.get_page_content(page_id).unwrap_or_default();
        let mut stack = Vec::new();
        walk_forms(
            doc,
            &content,
            resources.unwrap_or(&empty),
            &mut stack,
            &mut done,
        )?;
    }
    Ok(())
}

fn deref_dict<'a>(doc: &'a Document, obj: Option<&'a Object>) -> Option<&'a Dictionary> {
    let obj = obj?;
    let (_, obj) = doc.dereference(obj).ok()?;
    obj.as_dict().ok()
}

fn walk_forms(
    doc: &Document,
    content: &[u8],
    resources: &Dictionary,
    stack: &mut Vec<ObjectId>,
    done: &mut HashSet<(ObjectId, usize)>,
) -> Result<(), ExtractError> {
    if find(content, b"Do").is_none() {
        return Ok(());
    }
    let Ok(ops) = pdf_extract::content::Content::decode(content) else {
        return Ok(()); // pdf-extract will report it, or skip it
    };
    let xobjects = deref_dict(doc, resources.get(b"XObject").ok());
    for op in ops.operations.iter().filter(|op| op.operator == "Do") {
        let Some(xobjects) = xobjects else { continue };
        let Some(Ok(name)) = op.operands.first().map(Object::as_name) else {
            continue;
        };
        let Ok(id) = xobjects.get(name).and_then(Object::as_reference) else {
            continue;
        };
        let Ok(Object::Stream(form)) = doc.get_object(id) else {
            continue;
        };
        if form.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
            continue;
        }
        if stack.contains(&id) {
            return Err(ExtractError::Malformed(
                "PDF: a form XObject draws itself".into(),
            ));
        }
        if stack.len() >= MAX_FORM_DEPTH {
            return Err(ExtractError::Malformed(
                "PDF: form XObjects nested too deep".into(),
            ));
        }
        let inner = deref_dict(doc, form.dict.get(b"Resources").ok()).unwrap_or(resources);
        let key = (id, inner as *const Dictionary as usize);
        if done.contains(&key) {
            continue;
        }
        let data = form
            .decompressed_content()
            .unwrap_or_else(|_| form.content.clone());
        stack.push(id);
        walk_forms(doc, &data, inner, stack, done)?;
        stack.pop();
        done.insert(key);
    }
    Ok(())
}

/// Plain-text output for pdf-extract, with the same word and line heuristics
/// as its `PlainTextOutput`, pages separated by a blank line, and a length cap
/// that stops extraction early.
struct TextSink {
    out: String,
    chars: usize,
    max_chars: usize,
    full: bool,
    pages: u32,
    page_height: f64,
    first_char: bool,
    last_end: f64,
    last_y: f64,
}

impl TextSink {
    fn new(max_chars: usize) -> Self {
        TextSink {
            out: String::new(),
            chars: 0,
            max_chars,
            full: false,
            pages: 0,
            page_height: 0.0,
            first_char: false,
            last_end: 100_000.0,
            last_y: 0.0,
        }
    }

    fn push(&mut self, s: &str) -> Result<(), OutputError> {
        for c in s.chars() {
            if self.chars >= self.max_chars {
                self.full = true;
                return Err(OutputError::FormatError(std::fmt::Error));
            }
            self.out.push(c);
            self.chars += 1;
        }
        Ok(())
    }
}

impl OutputDev for TextSink {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &pdf_extract::MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        if self.pages > 0 {
            self.push("\n\n")?;
        }
        self.pages += 1;
        self.page_height = media_box.ury - media_box.lly;
        self.first_char = false;
        self.last_end = 100_000.0;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &pdf_extract::Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // Page coordinates with y growing downwards.
        let x = trm.m31;
        let y = self.page_height - trm.m32;
        let vx = font_size * (trm.m11 + trm.m21);
        let vy = font_size * (trm.m12 + trm.m22);
        let size = (vx * vy).abs().sqrt();
        if self.first_char {
            let dy = (y - self.last_y).abs();
            if dy > size * 1.5 || (x < self.last_end && dy > size * 0.5) {
                self.push("\n")?;
            } else if x > self.last_end + size * 0.1 {
                self.push(" ")?;
            }
        }
        self.push(text)?;
        self.first_char = false;
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.first_char = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};
    use zip::write::SimpleFileOptions;

    const W_NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    fn zip_entries(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    fn docx(body: &str) -> Vec<u8> {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS}><w:body>{body}</w:body></w:document>"#
        );
        zip_entries(&[
            ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", xml.as_bytes()),
        ])
    }

    fn p(text: &str) -> String {
        format!(
            r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#
        )
    }

    /// Raw deflate of `mib` MiB of zeros, built from one compressed MiB
    /// repeated (each copy ends on a full flush, so copies are independent).
    fn deflated_zeros(mib: usize) -> Vec<u8> {
        let mut c = flate2::Compress::new(flate2::Compression::best(), false);
        let mut chunk = Vec::with_capacity(64 * 1024);
        c.compress_vec(&vec![0u8; 1 << 20], &mut chunk, flate2::FlushCompress::Full)
            .unwrap();
        assert_eq!(c.total_in(), 1 << 20);
        let mut end = Vec::with_capacity(64);
        flate2::Compress::new(flate2::Compression::best(), false)
            .compress_vec(&[], &mut end, flate2::FlushCompress::Finish)
            .unwrap();
        let mut out = Vec::with_capacity(chunk.len() * mib + end.len());
        for _ in 0..mib {
            out.extend_from_slice(&chunk);
        }
        out.extend_from_slice(&end);
        out
    }

    /// A zip written by hand, so entries can claim any size and CRC.
    /// Entries: (name, declared uncompressed size, deflated data).
    fn raw_zip(entries: &[(&str, u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, size, data) in entries {
            let offset = out.len() as u32;
            let header = |sig: u32, central: bool| {
                let mut h = Vec::new();
                h.extend_from_slice(&sig.to_le_bytes());
                if central {
                    h.extend_from_slice(&20u16.to_le_bytes()); // made by
                }
                h.extend_from_slice(&20u16.to_le_bytes()); // needed
                h.extend_from_slice(&0u16.to_le_bytes()); // flags
                h.extend_from_slice(&8u16.to_le_bytes()); // deflate
                h.extend_from_slice(&0u32.to_le_bytes()); // time, date
                h.extend_from_slice(&0u32.to_le_bytes()); // crc (never checked: refused first)
                h.extend_from_slice(&(data.len() as u32).to_le_bytes());
                h.extend_from_slice(&size.to_le_bytes());
                h.extend_from_slice(&(name.len() as u16).to_le_bytes());
                h.extend_from_slice(&0u16.to_le_bytes()); // extra
                if central {
                    h.extend_from_slice(&[0u8; 6]); // comment, disk, internal attrs
                    h.extend_from_slice(&0u32.to_le_bytes()); // external attrs
                    h.extend_from_slice(&offset.to_le_bytes());
                }
                h.extend_from_slice(name.as_bytes());
                h
            };
            out.extend(header(0x0403_4b50, false));
            out.extend_from_slice(data);
            central.extend(header(0x0201_4b50, true));
        }
        let cd_start = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_start.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn deflate_raw(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A PDF assembled by hand from object bodies (object i+1 = objects[i]),
    /// with a correct xref table; object 1 must be the catalog.
    fn build_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut s = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
        s.extend_from_slice(data);
        s.extend_from_slice(b"\nendstream");
        s
    }

    fn obj(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn one_page_pdf(page_resources: &str, content: Vec<u8>, extra: Vec<Vec<u8>>) -> Vec<u8> {
        let mut objects = vec![
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj(&format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources {page_resources} >>"
            )),
            content,
        ];
        objects.extend(extra);
        build_pdf(&objects)
    }

    fn squash(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    const SENTENCE: &str = "Quyết định số 12/QĐ-UBND về việc chuyển đổi số";

    #[test]
    fn docx_paragraphs_tables_breaks() {
        let body = format!(
            "{}{}{}{}{}",
            p("Quyết định số 12/QĐ-UBND"),
            p("Về việc chuyển đổi số &amp; cải cách hành chính"),
            r#"<w:p><w:r><w:t>Dòng một</w:t><w:br/><w:t>Dòng hai</w:t><w:tab/><w:t>sau tab</w:t></w:r></w:p>"#,
            r#"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Số</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Trích yếu</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>15/QĐ-SKHCN</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Về kế hoạch</w:t></w:r></w:p><w:p><w:r><w:t>năm 2025</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#,
            r#"<w:p><w:r><w:t>Giữ</w:t></w:r><w:del><w:r><w:delText>XÓA</w:delText></w:r></w:del><w:r><w:fldChar/><w:instrText>PAGE</w:instrText></w:r><w:r><mc:AlternateContent><mc:Choice><w:t> hộp</w:t></mc:Choice><mc:Fallback><w:t>TRÙNG</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>"#,
        );
        let text = extract_text(FileKind::Docx, &docx(&body), &Limits::default()).unwrap();
        assert_eq!(
            text,
            "Quyết định số 12/QĐ-UBND\n\
             Về việc chuyển đổi số & cải cách hành chính\n\
             Dòng một\nDòng hai\tsau tab\n\
             Số\tTrích yếu\n\
             15/QĐ-SKHCN\tVề kế hoạch năm 2025\n\
             Giữ hộp"
        );
    }

    #[test]
    fn docx_output_is_capped() {
        let body: String = (0..2000).map(|i| p(&format!("Đoạn văn số {i}"))).collect();
        let limits = Limits {
            max_output_chars: 100,
            ..Limits::default()
        };
        let text = extract_text(FileKind::Docx, &docx(&body), &limits).unwrap();
        assert!(text.chars().count() <= 100);
        assert!(text.starts_with("Đoạn văn số 0\nĐoạn văn số 1\n"));
    }

    #[test]
    fn docx_zip_bomb_is_refused_quickly() {
        let started = Instant::now();
        // One entry of 1 GiB of zeros, about 1 MiB compressed.
        let bomb = deflated_zeros(1024);
        assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
        let ct = deflate_raw(b"<Types/>");
        let file = raw_zip(&[
            ("[Content_Types].xml", 8, ct.clone()),
            ("word/document.xml", 1 << 30, bomb.clone()),
        ]);
        assert_eq!(crate::sniff(&file), FileKind::Docx);
        let err = extract_text(FileKind::Docx, &file, &Limits::default()).unwrap_err();
        assert_eq!(err, ExtractError::TooMuchData { limit: 256 << 20 });

        // The same bomb lying about its size: caught while inflating.
        let liar = raw_zip(&[
            ("[Content_Types].xml", 8, ct),
            ("word/document.xml", 1000, bomb),
        ]);
        let limits = Limits {
            max_uncompressed_bytes: 4 << 20,
            ..Limits::default()
        };
        let err = extract_text(FileKind::Docx, &liar, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ExtractError::TooMuchData { .. } | ExtractError::Malformed(_)
            ),
            "{err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn zip_with_too_many_entries_is_refused() {
        let names: Vec<String> = (0..11).map(|i| format!("word/media/{i}.txt")).collect();
        let mut entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        entries.push(("word/document.xml", b"<w:document/>"));
        let file = zip_entries(&entries);
        let limits = Limits {
            max_zip_entries: 10,
            ..Limits::default()
        };
        assert_eq!(
            extract_text(FileKind::Docx, &file, &limits),
            Err(ExtractError::TooManyEntries {
                entries: 12,
                limit: 10
            })
        );
    }

    #[test]
    fn docx_damage_is_an_error() {
        let good = docx(&p("Xin chào"));
        for cut in [0, 10, good.len() / 2, good.len() - 10] {
            let r = extract_text(FileKind::Docx, &good[..cut], &Limits::default());
            assert!(
                matches!(r, Err(ExtractError::Malformed(_))),
                "cut {cut}: {r:?}"
            );
        }
        let not_docx = zip_entries(&[("a.txt", b"a")]);
        assert!(matches!(
            extract_text(FileKind::Docx, &not_docx, &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
        let bad_xml = zip_entries(&[("word/document.xml", b"<w:document><w:body><w:p></w:x>")]);
        assert!(matches!(
            extract_text(FileKind::Docx, &bad_xml, &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
    }

    #[test]
    fn odt_text() {
        let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:text>
<text:h>Kế hoạch</text:h>
<text:p>Sở Khoa học<text:s text:c="2"/>và Công nghệ<text:line-break/>Đồng Tháp<office:annotation><text:p>ghi chú</text:p></office:annotation></text:p>
<table:table><table:table-row><table:table-cell><text:p>A</text:p></table:table-cell><table:table-cell><text:p>B</text:p></table:table-cell></table:table-row></table:table>
</office:text></office:body></office:document-content>"#;
        let file = zip_entries(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", content.as_bytes()),
        ]);
        assert_eq!(crate::sniff(&file), FileKind::Odt);
        let text = extract_text(FileKind::Odt, &file, &Limits::default()).unwrap();
        assert_eq!(text, "Kế hoạch\nSở Khoa học  và Công nghệ\nĐồng Tháp\nA\tB");
    }

    #[test]
    fn plain_text() {
        let text = extract_text(
            FileKind::PlainText,
            "\u{feff}Dòng 1\r\nDòng 2\u{0}\r\n".as_bytes(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(text, "Dòng 1\nDòng 2");
        assert!(matches!(
            extract_text(FileKind::PlainText, b"caf\xe9", &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
        let limits = Limits {
            max_output_chars: 5,
            ..Limits::default()
        };
        assert_eq!(
            extract_text(FileKind::PlainText, "Đồng Tháp".as_bytes(), &limits).unwrap(),
            "Đồng ".trim_end().to_string()
        );
    }

    #[test]
    fn nfc_and_controls() {
        // "Quyết" with the circumflex and acute as combining marks (NFD).
        assert_eq!(
            finish("Quye\u{302}\u{301}t\u{7}\u{c}x\r\ny\rz", 100),
            "Quyết\nx\ny\nz"
        );
    }

    #[test]
    fn limits_and_unsupported_kinds() {
        assert_eq!(
            extract_text(FileKind::Png, b"\x89PNG", &Limits::default()),
            Err(ExtractError::Unsupported(FileKind::Png))
        );
        assert_eq!(
            extract_text(FileKind::Doc, b"", &Limits::default()),
            Err(ExtractError::Unsupported(FileKind::Doc))
        );
        let limits = Limits {
            max_input_bytes: 3,
            ..Limits::default()
        };
        assert_eq!(
            extract_text(FileKind::PlainText, b"abcd", &limits),
            Err(ExtractError::InputTooLarge { size: 4, limit: 3 })
        );
    }

    fn vietnamese_pdf() -> Vec<u8> {
        let table = crate::Table {
            title: SENTENCE.to_owned(),
            subtitle: "Ủy ban nhân dân tỉnh Đồng Tháp".to_owned(),
            columns: vec!["Số, ký hiệu".into(), "Trích yếu".into()],
            rows: vec![vec![
                "12/QĐ-UBND".into(),
                "Sở Khoa học và Công nghệ: ứng dụng CNTT".into(),
            ]],
        };
        crate::to_pdf(&table).unwrap()
    }

    #[test]
    fn pdf_round_trip_keeps_vietnamese() {
        let pdf = vietnamese_pdf();
        assert_eq!(crate::sniff(&pdf), FileKind::Pdf);
        let text = extract_text(FileKind::Pdf, &pdf, &Limits::default()).unwrap();
        let flat = squash(&text);
        for expected in [
            SENTENCE,
            "Ủy ban nhân dân tỉnh Đồng Tháp",
            "Trích yếu",
            "Sở Khoa học và Công nghệ: ứng dụng CNTT",
            "Trang 1/1",
        ] {
            assert!(flat.contains(expected), "{expected:?} not in {text:?}");
        }
        let limits = Limits {
            max_output_chars: 20,
            ..Limits::default()
        };
        let short = extract_text(FileKind::Pdf, &pdf, &limits).unwrap();
        assert!(short.chars().count() <= 20);
        assert!(SENTENCE.starts_with(&short), "{short:?}");
    }

    #[test]
    fn pdf_written_by_cairo_keeps_vietnamese() {
        // An independent producer: poppler's pdftocairo rewrites our PDF with
        // cairo's own font subsets and ToUnicode maps.
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.pdf");
        let dst = dir.path().join("out.pdf");
        std::fs::write(&src, vietnamese_pdf()).unwrap();
        let status = std::process::Command::new("pdftocairo")
            .arg("-pdf")
            .arg(&src)
            .arg(&dst)
            .status();
        match status {
            Ok(s) if s.success() => {}
            _ => {
                eprintln!("SKIPPED pdf_written_by_cairo_keeps_vietnamese: pdftocairo (poppler-utils) is not installed");
                return;
            }
        }
        let bytes = std::fs::read(&dst).unwrap();
        let text = extract_text(FileKind::Pdf, &bytes, &Limits::default()).unwrap();
        assert!(squash(&text).contains(SENTENCE), "{text:?}");
    }

    #[test]
    fn damaged_pdfs_are_errors_and_quick() {
        let started = Instant::now();
        let good = vietnamese_pdf();
        let mut garbage = b"%PDF-1.7\n".to_vec();
        let mut x: u32 = 12345;
        garbage.extend((0..20_000).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("header only", b"%PDF-1.4\n".to_vec()),
            ("garbage", garbage),
            ("first half", good[..good.len() / 2].to_vec()),
            ("first 300 bytes", good[..300].to_vec()),
            ("html", b"<html><body>%PDF-1.4</body></html>".to_vec()),
        ];
        for (name, bytes) in cases {
            let r = extract_text(FileKind::Pdf, &bytes, &Limits::default());
            assert!(
                matches!(r, Err(ExtractError::Malformed(_))),
                "{name}: {r:?}"
            );
        }
        // Every prefix of a real PDF: an error or text, never a panic.
        for cut in (0..good.len()).step_by(good.len() / 40 + 1) {
            let _ = extract_text(FileKind::Pdf, &good[..cut], &Limits::default());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn pdf_flate_bomb_is_refused() {
        // A page content stream of 64 MiB of zeros, about 64 KiB on disk.
        let mut zlib = vec![0x78, 0xda];
        zlib.extend(deflated_zeros(64));
        let n: u32 = 64 << 20;
        let adler = ((n % 65521) << 16) | 1;
        zlib.extend_from_slice(&adler.to_be_bytes());
        let pdf = one_page_pdf("<< >>", stream("/Filter /FlateDecode", &zlib), vec![]);
        let limits = Limits {
            max_uncompressed_bytes: 8 << 20,
            ..Limits::default()
        };
        assert_eq!(
            extract_text(FileKind::Pdf, &pdf, &limits),
            Err(ExtractError::TooMuchData { limit: 8 << 20 })
        );
    }

    #[test]
    fn pdf_form_that_draws_itself_is_refused_not_a_crash() {
        let own = one_page_pdf(
            "<< /XObject << /X1 5 0 R >> >>",
            stream("", b"/X1 Do"),
            vec![stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 5 0 R >> >>",
                b"/X1 Do",
            )],
        );
        // Same loop through the page's resources (the form has none).
        let inherited = one_page_pdf(
            "<< /XObject << /X1 5 0 R >> >>",
            stream("", b"/X1 Do"),
            vec![stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 10 10]",
                b"q /X1 Do Q",
            )],
        );
        for pdf in [own, inherited] {
            let r = extract_text(FileKind::Pdf, &pdf, &Limits::default());
            assert_eq!(
                r,
                Err(ExtractError::Malformed(
                    "PDF: a form XObject draws itself".into()
                ))
            );
        }
    }

    #[test]
    fn pdf_extractor_panic_is_caught() {
        // No MediaBox anywhere: pdf-extract panics ("MediaBox"); the panic
        // message goes to stderr, the caller gets an error.
        let pdf = build_pdf(&[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj("<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"),
            stream("", b"BT ET"),
        ]);
        assert_eq!(
            extract_text(FileKind::Pdf, &pdf, &Limits::default()),
            Err(ExtractError::Malformed("PDF: MediaBox".into()))
        );
    }

    #[test]
    fn pdf_page_tree_loop_is_refused() {
        let pdf = build_pdf(&[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 2 0 R >>"),
            obj("<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"),
            stream("", b""),
        ]);
        let r = extract_text(FileKind::Pdf, &pdf, &Limits::default());
        assert!(r.is_err(), "{r:?}");
    }
}

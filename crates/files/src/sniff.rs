//! Content sniffing: what a file really is, judged from its bytes alone.
//!
//! The name and the `Content-Type` a client sends are claims; this module never
//! looks at them. A file named `quyet-dinh.pdf` that holds an HTML page is
//! reported as [`FileKind::Html`], one that holds a ZIP archive as
//! [`FileKind::Zip`] (or the Office format the archive really is).

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};

/// What a file is, judged from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// PDF document (`%PDF-`).
    Pdf,
    /// Word 2007+ document (OOXML zip with `word/document.xml`).
    Docx,
    /// Excel 2007+ workbook (OOXML zip with `xl/workbook.xml`).
    Xlsx,
    /// OpenDocument text (zip whose `mimetype` entry says so).
    Odt,
    /// OLE compound file: Word 97-2003 `.doc` (also legacy `.xls`/`.ppt`,
    /// and password-protected OOXML, which Office wraps in OLE).
    Doc,
    /// Any other ZIP archive.
    Zip,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// TIFF image (either byte order).
    Tiff,
    /// HTML (including XHTML). Never serve it inline: it can run scripts.
    Html,
    /// XML that is not HTML (edXML packages, SVG, ...).
    Xml,
    /// Valid UTF-8 without NUL bytes.
    PlainText,
    /// Anything else, including an empty file.
    Unknown,
}

impl FileKind {
    /// The media type to store and to send with this content.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Odt => "application/vnd.oasis.opendocument.text",
            FileKind::Doc => "application/msword",
            FileKind::Zip => "application/zip",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Tiff => "image/tiff",
            FileKind::Html => "text/html; charset=utf-8",
            FileKind::Xml => "application/xml",
            FileKind::PlainText => "text/plain; charset=utf-8",
            FileKind::Unknown => "application/octet-stream",
        }
    }

    /// The usual file extension (without a dot) for this content.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Odt => "odt",
            FileKind::Doc => "doc",
            FileKind::Zip => "zip",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Tiff => "tif",
            FileKind::Html => "html",
            FileKind::Xml => "xml",
            FileKind::PlainText => "txt",
            FileKind::Unknown => "bin",
        }
    }

    /// Whether [`crate::extract_text`] can read text out of this kind.
    pub fn is_extractable(self) -> bool {
        matches!(
            self,
            FileKind::Pdf | FileKind::Docx | FileKind::Odt | FileKind::PlainText
        )
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

const PDF_MAGIC: &[u8] = b"%PDF-";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xff\xd8\xff";
const TIFF_LE: &[u8] = b"II*\x00";
const TIFF_BE: &[u8] = b"MM\x00*";
const OLE_MAGIC: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";
const ZIP_SPANNED: &[u8] = b"PK\x07\x08";
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";
/// How far into the file a PDF header may start (Acrobat tolerates 1024 bytes
/// of leading junk, and some scanners and mail gateways do produce it).
const PDF_HEADER_WINDOW: usize = 1024;

/// Tell what `bytes` really are. Never panics, whatever the input.
pub fn sniff(bytes: &[u8]) -> FileKind {
    if bytes.is_empty() {
        return FileKind::Unknown;
    }
    if bytes.starts_with(PDF_MAGIC) {
        return FileKind::Pdf;
    }
    if bytes.starts_with(PNG_MAGIC) {
        return FileKind::Png;
    }
    if bytes.starts_with(JPEG_MAGIC) {
        return FileKind::Jpeg;
    }
    if bytes.starts_with(TIFF_LE) || bytes.starts_with(TIFF_BE) {
        return FileKind::Tiff;
    }
    if bytes.starts_with(OLE_MAGIC) {
        return FileKind::Doc;
    }
    if bytes.starts_with(ZIP_LOCAL)
        || bytes.starts_with(ZIP_EMPTY)
        || bytes.starts_with(ZIP_SPANNED)
    {
        return sniff_zip(bytes);
    }
    if let Some(kind) = sniff_markup(bytes) {
        return kind;
    }
    // A PDF header after some junk (but not inside markup, handled above).
    let window = &bytes[..bytes.len().min(PDF_HEADER_WINDOW + PDF_MAGIC.len())];
    if find(window, PDF_MAGIC).is_some() {
        return FileKind::Pdf;
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return FileKind::PlainText;
    }
    FileKind::Unknown
}

/// Tell which kind of ZIP container this is from its entry names.
fn sniff_zip(bytes: &[u8]) -> FileKind {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // Looks like a ZIP but the central directory is unreadable
        // (truncated upload, or a zip with junk appended): still a zip.
        return FileKind::Zip;
    };
    let mut has_word = false;
    let mut has_xl = false;
    let mut has_mimetype = false;
    for name in archive.file_names_raw() {
        match name {
            b"word/document.xml" => has_word = true,
            b"xl/workbook.xml" => has_xl = true,
            b"mimetype" => has_mimetype = true,
            _ => {}
        }
    }
    if has_word {
        return FileKind::Docx;
    }
    if has_xl {
        return FileKind::Xlsx;
    }
    if has_mimetype {
        if let Ok(entry) = archive.by_name("mimetype") {
            let mut mime = Vec::with_capacity(64);
            // The entry may lie about its size: read a bounded prefix only.
            if entry.take(128).read_to_end(&mut mime).is_ok()
                && mime.trim_ascii() == b"application/vnd.oasis.opendocument.text"
            {
                return FileKind::Odt;
            }
        }
    }
    FileKind::Zip
}

/// HTML and XML, recognised from their first tag (after an optional BOM and
/// whitespace), following the WHATWG MIME sniffing rules for HTML.
fn sniff_markup(bytes: &[u8]) -> Option<FileKind> {
    let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    if text.first() != Some(&b'<') {
        return None;
    }
    const HTML_TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
        b"<meta",
        b"<svg",
    ];
    for tag in HTML_TAGS {
        if starts_with_ignore_case(text, tag) {
            // The tag must end there: `<b>` or `<b ` is HTML, `<book>` is not.
            let next = text.get(tag.len()).copied();
            let ends = tag.ends_with(b"--")
                || matches!(
                    next,
                    None | Some(b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/')
                );
            if ends {
                if *tag == b"<svg" {
                    // SVG is XML; it can still carry scripts (see `Xml`).
                    return Some(FileKind::Xml);
                }
                return Some(FileKind::Html);
            }
        }
    }
    if text.starts_with(b"<?xml") {
        // XHTML is HTML whatever its prolog says.
        let head = &text[..text.len().min(2048)];
        if find_ignore_case(head, b"<html").is_some() {
            return Some(FileKind::Html);
        }
        return Some(FileKind::Xml);
    }
    None
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            for (name, data) in entries {
                let opts = if *name == "mimetype" {
                    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
                } else {
                    SimpleFileOptions::default()
                };
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        out.into_inner()
    }

    /// A minimal valid 1x1 PNG.
    const PNG_1X1: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82";

    #[test]
    fn images() {
        assert_eq!(sniff(PNG_1X1), FileKind::Png);
        // JFIF header as written by cameras and scanners.
        let jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";
        assert_eq!(sniff(jpeg), FileKind::Jpeg);
        assert_eq!(sniff(b"II*\x00\x08\x00\x00\x00\x00\x00"), FileKind::Tiff);
        assert_eq!(sniff(b"MM\x00*\x00\x00\x00\x08\x00\x00"), FileKind::Tiff);
        assert_eq!(FileKind::Png.mime(), "image/png");
        assert_eq!(FileKind::Jpeg.extension(), "jpg");
    }

    #[test]
    fn pdf_and_leading_junk() {
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
        assert_eq!(sniff(pdf), FileKind::Pdf);
        let mut junk = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        junk.extend_from_slice(pdf);
        assert_eq!(sniff(&junk), FileKind::Pdf);
        // Too far in: not a PDF header any more.
        let mut far = vec![b' '; 5000];
        far.extend_from_slice(b"%PDF-1.4");
        assert_eq!(sniff(&far), FileKind::PlainText);
        assert_eq!(FileKind::Pdf.mime(), "application/pdf");
    }

    #[test]
    fn html_claiming_to_be_pdf_is_html() {
        // Named "quyet-dinh.pdf" by the uploader; sniff never sees the name.
        let html = b"<!DOCTYPE html>\n<html><head><title>%PDF-1.4</title></head><body><script>alert(1)</script></body></html>";
        assert_eq!(sniff(html), FileKind::Html);
        assert_eq!(
            sniff(b"\xef\xbb\xbf  <html lang=\"vi\">Xin ch\xc3\xa0o</html>"),
            FileKind::Html
        );
        assert_eq!(sniff(b"<script>alert(1)</script>"), FileKind::Html);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"/>"),
            FileKind::Html
        );
        assert_eq!(FileKind::Html.extension(), "html");
    }

    #[test]
    fn zip_claiming_to_be_pdf_is_zip() {
        let z = zip_with(&[("bao-cao.pdf", b"not really"), ("readme.txt", b"hello")]);
        assert_eq!(sniff(&z), FileKind::Zip);
        assert_eq!(FileKind::Zip.mime(), "application/zip");
        // Truncated zip: still recognised as a zip.
        assert_eq!(sniff(&z[..20]), FileKind::Zip);
    }

    #[test]
    fn office_containers_by_entries() {
        let docx = zip_with(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document/>"),
        ]);
        assert_eq!(sniff(&docx), FileKind::Docx);
        assert_eq!(FileKind::Docx.extension(), "docx");
        let xlsx = zip_with(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<workbook/>"),
        ]);
        assert_eq!(sniff(&xlsx), FileKind::Xlsx);
        let odt = zip_with(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
        ]);
        assert_eq!(sniff(&odt), FileKind::Odt);
        let ods = zip_with(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", b"<office:document-content/>"),
        ]);
        assert_eq!(sniff(&ods), FileKind::Zip);
    }

    #[test]
    fn xlsx_written_by_our_exporter_is_xlsx() {
        let table = crate::Table {
            title: "Sổ đăng ký văn bản đi".into(),
            subtitle: String::new(),
            columns: vec!["Số".into()],
            rows: vec![vec!["1/QĐ-UBND".into()]],
        };
        let bytes = crate::to_xlsx(&table).unwrap();
        assert_eq!(sniff(&bytes), FileKind::Xlsx);
        assert_eq!(sniff(&crate::to_pdf(&table).unwrap()), FileKind::Pdf);
        assert_eq!(sniff(&crate::to_csv(&table)), FileKind::PlainText);
    }

    #[test]
    fn ole_is_doc() {
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend_from_slice(&[0u8; 504]);
        assert_eq!(sniff(&ole), FileKind::Doc);
        assert_eq!(FileKind::Doc.mime(), "application/msword");
    }

    #[test]
    fn text_xml_and_unknown() {
        assert_eq!(
            sniff("Quyết định số 12/QĐ-UBND".as_bytes()),
            FileKind::PlainText
        );
        assert_eq!(sniff(b"<book>not html</book>"), FileKind::PlainText);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><edXML:edXMLEnvelope/>"),
            FileKind::Xml
        );
        assert_eq!(
            sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            FileKind::Xml
        );
        assert_eq!(sniff(b"abc\x00def"), FileKind::Unknown);
        assert_eq!(sniff(b"\xff\xfeh\x00i\x00"), FileKind::Unknown);
        assert_eq!(sniff(b"caf\xe9"), FileKind::Unknown); // Latin-1, not UTF-8
        assert_eq!(sniff(b""), FileKind::Unknown);
        assert_eq!(FileKind::PlainText.mime(), "text/plain; charset=utf-8");
        assert_eq!(FileKind::Unknown.mime(), "application/octet-stream");
    }

    #[test]
    fn never_panics_on_prefixes_of_real_files() {
        let docx = zip_with(&[("word/document.xml", b"<w:document/>")]);
        for len in 0..docx.len() {
            let _ = sniff(&docx[..len]);
        }
        for len in 0..PNG_1X1.len() {
            let _ = sniff(&PNG_1X1[..len]);
        }
    }
}

//! The hardened XML layer under the reader and the signature code.
//!
//! One tokenizer (over quick-xml) does all the refusing: DOCTYPE (and so every entity
//! declaration), undefined entities, too deep, too many elements or attributes, too
//! long values, encodings other than UTF-8. It resolves namespaces, applies the XML
//! end-of-line and attribute-value normalization C14N relies on, and numbers the
//! elements in document order so the signature code can point at "the Signature" and
//! "its SignedInfo" in a second pass over the same bytes. The reader and the
//! canonicalizer both go through it, so both see the same document (no parser
//! differential for signature-wrapping tricks to exploit).

use std::borrow::Cow;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::EdxmlError;
use crate::limits::Limits;

pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// An attribute other than a namespace declaration, value normalized and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    pub prefix: String,
    pub local: String,
    pub ns: Option<String>,
    pub value: String,
}

pub(crate) fn qname(prefix: &str, local: &str) -> String {
    if prefix.is_empty() {
        local.to_owned()
    } else {
        // Not `format!`: this runs for every element and attribute canonicalized.
        let mut name = String::with_capacity(prefix.len() + 1 + local.len());
        name.push_str(prefix);
        name.push(':');
        name.push_str(local);
        name
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StartTag {
    /// 0 for the root, then every element in document order.
    pub ordinal: usize,
    pub prefix: String,
    pub local: String,
    pub ns: Option<String>,
    pub attrs: Vec<Attr>,
}

impl StartTag {
    pub fn qname(&self) -> String {
        qname(&self.prefix, &self.local)
    }
}

#[derive(Debug)]
pub(crate) enum Token<'a> {
    Start(StartTag),
    /// `offset` is where `</…>` starts in the input; `None` for `<a/>`.
    End {
        offset: Option<usize>,
    },
    /// Character data, end-of-line normalized, references resolved (CDATA included).
    Text(Cow<'a, str>),
    Comment(Cow<'a, str>),
    /// Target and data as written between `<?` and `?>`.
    Pi(Cow<'a, str>),
}

/// The namespace declarations of one open element: (prefix, uri), "" = default.
struct Frame {
    decls: Vec<(String, String)>,
}

pub(crate) struct Tokenizer<'a> {
    reader: Reader<&'a [u8]>,
    limits: &'a Limits,
    /// Bytes skipped before the reader's input (a UTF-8 byte order mark).
    base: usize,
    stack: Vec<Frame>,
    next_ordinal: usize,
    pending_end: bool,
    /// The rest of a text run that contained `\r`, handed out piece by piece.
    pending_text: Option<&'a str>,
    root_done: bool,
    /// The reader ignores what it does not understand; the canonicalizer cannot.
    tolerate_unbound_prefixes: bool,
}

impl<'a> Tokenizer<'a> {
    pub fn new(
        input: &'a [u8],
        limits: &'a Limits,
        tolerate_unbound_prefixes: bool,
    ) -> Result<Self, EdxmlError> {
        if input.len() > limits.max_input_bytes {
            return Err(EdxmlError::TooLarge {
                max: limits.max_input_bytes,
                found: input.len(),
            });
        }
        let (base, body) = match input.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (3, rest),
            None => (0, input),
        };
        if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
            return Err(EdxmlError::UnsupportedEncoding("UTF-16".into()));
        }
        let mut reader = Reader::from_reader(body);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        Ok(Tokenizer {
            reader,
            limits,
            base,
            stack: Vec::new(),
            next_ordinal: 0,
            pending_end: false,
            pending_text: None,
            root_done: false,
            tolerate_unbound_prefixes,
        })
    }

    /// The namespace bound to `prefix` ("" = default) where the tokenizer stands.
    pub fn lookup(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        for f in self.stack.iter().rev() {
            if let Some((_, uri)) = f.decls.iter().find(|(p, _)| p == prefix) {
                return if uri.is_empty() { None } else { Some(uri) };
            }
        }
        None
    }

    /// Whether the element just started declares namespaces (`xmlns`, `xmlns:p`).
    pub fn declares_namespaces(&self) -> bool {
        self.stack.last().is_some_and(|f| !f.decls.is_empty())
    }

    /// The innermost declaration of `prefix` ("" = default), as [`Self::in_scope`]
    /// has it: `None` when undeclared or undeclared again (`xmlns=""`).
    pub fn declared(&self, prefix: &str) -> Option<&str> {
        for f in self.stack.iter().rev() {
            if let Some((_, uri)) = f.decls.iter().find(|(p, _)| p == prefix) {
                return (!uri.is_empty()).then_some(uri.as_str());
            }
        }
        None
    }

    /// Every namespace in scope, sorted by prefix; an undeclared default is absent.
    pub fn in_scope(&self) -> Vec<(String, String)> {
        let mut map = std::collections::BTreeMap::new();
        for f in &self.stack {
            for (p, u) in &f.decls {
                map.insert(p.clone(), u.clone());
            }
        }
        map.into_iter().filter(|(_, u)| !u.is_empty()).collect()
    }

    fn malformed(&self, reason: impl Into<String>) -> EdxmlError {
        EdxmlError::Malformed {
            position: self.reader.error_position() + self.base as u64,
            reason: reason.into(),
        }
    }

    fn pop(&mut self) {
        self.stack.pop();
        if self.stack.is_empty() {
            self.root_done = true;
        }
    }

    /// The next token, or `None` at the end of a well-formed document.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, EdxmlError> {
        if let Some(rest) = self.pending_text.take() {
            return Ok(Some(Token::Text(self.text_piece(rest))));
        }
        if self.pending_end {
            self.pending_end = false;
            self.pop();
            return Ok(Some(Token::End { offset: None }));
        }
        loop {
            let before = self.reader.buffer_position() as usize + self.base;
            let event = self
                .reader
                .read_event()
                .map_err(|e| self.malformed(e.to_string()))?;
            match event {
                Event::Start(s) => return self.start(&s, false).map(Some),
                Event::Empty(s) => return self.start(&s, true).map(Some),
                Event::End(_) => {
                    self.pop();
                    return Ok(Some(Token::End {
                        offset: Some(before),
                    }));
                }
                Event::Text(t) => {
                    let s = t.into_inner();
                    if self.stack.is_empty() {
                        if s.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
                            continue;
                        }
                        return Err(self.malformed("text outside the root element"));
                    }
                    return Ok(Some(Token::Text(match s {
                        Cow::Borrowed(b) => self.text_piece(b),
                        owned => normalize_eol(owned),
                    })));
                }
                Event::CData(t) => {
                    if self.stack.is_empty() {
                        return Err(self.malformed("CDATA outside the root element"));
                    }
                    return Ok(Some(Token::Text(normalize_eol(t.into_inner()))));
                }
                Event::GeneralRef(r) => {
                    if self.stack.is_empty() {
                        return Err(self.malformed("a reference outside the root element"));
                    }
                    let c = resolve_reference(&r)?;
                    return Ok(Some(Token::Text(Cow::Owned(c.to_string()))));
                }
                Event::Comment(t) => {
                    return Ok(Some(Token::Comment(normalize_eol(t.into_inner()))));
                }
                Event::PI(p) => {
                    return Ok(Some(Token::Pi(normalize_eol(p.into_inner()))));
                }
                Event::Decl(d) => {
                    if let Some(Ok(enc)) = d.encoding() {
                        if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                            return Err(EdxmlError::UnsupportedEncoding(enc.into_owned()));
                        }
                    }
                }
                Event::DocType(_) => return Err(EdxmlError::DoctypeRefused),
                Event::Eof => {
                    if !self.stack.is_empty() {
                        return Err(self.malformed("the document ends inside an element"));
                    }
                    if !self.root_done {
                        return Err(self.malformed("the document has no root element"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// End-of-line handling without copying a large text run (a CRLF-wrapped base64
    /// attachment): the run is returned in borrowed pieces, each `\r\n` or `\r` as
    /// a `\n` piece of its own.
    fn text_piece(&mut self, run: &'a str) -> Cow<'a, str> {
        match memchr::memchr(b'\r', run.as_bytes()) {
            None => Cow::Borrowed(run),
            Some(0) => {
                let rest = run[1..].strip_prefix('\n').unwrap_or(&run[1..]);
                if !rest.is_empty() {
                    self.pending_text = Some(rest);
                }
                Cow::Borrowed("\n")
            }
            Some(i) => {
                self.pending_text = Some(&run[i..]);
                Cow::Borrowed(&run[..i])
            }
        }
    }

    fn start(&mut self, s: &BytesStart<'_>, empty: bool) -> Result<Token<'a>, EdxmlError> {
        let name: &str = s.name().0;
        if self.root_done {
            return Err(self.malformed(format!("<{name}> after the root element ended")));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(EdxmlError::TooDeep {
                element: name.to_owned(),
                max: self.limits.max_depth,
            });
        }
        if self.next_ordinal >= self.limits.max_elements {
            return Err(EdxmlError::TooManyElements {
                max: self.limits.max_elements,
            });
        }
        let mut raw_attrs = Vec::new();
        let mut decls = Vec::new();
        for (i, a) in s.attributes().enumerate() {
            if i >= self.limits.max_attributes {
                return Err(EdxmlError::TooManyAttributes {
                    element: name.to_owned(),
                    max: self.limits.max_attributes,
                });
            }
            let a = a.map_err(|e| self.malformed(format!("in <{name}>: {e}")))?;
            let key: &str = a.key.0;
            if a.value.len() > self.limits.max_attribute_bytes {
                return Err(EdxmlError::AttributeTooLong {
                    element: name.to_owned(),
                    attribute: key.to_owned(),
                    max: self.limits.max_attribute_bytes,
                });
            }
            let value = normalize_attribute(&a.value)?;
            if key == "xmlns" {
                decls.push((String::new(), value));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(self.malformed(format!("<{name}> undeclares the prefix {p}")));
                }
                decls.push((p.to_owned(), value));
            } else {
                raw_attrs.push((key, value));
            }
        }
        self.stack.push(Frame { decls });
        let (prefix, local) = split_qname(name);
        let ns = self.resolve(prefix, name, true)?;
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        for (key, value) in raw_attrs {
            let (p, l) = split_qname(key);
            let ans = if p.is_empty() {
                None
            } else {
                self.resolve(p, name, false)?
            };
            if attrs
                .iter()
                .any(|x: &Attr| x.local == l && x.ns == ans && ans.is_some())
            {
                return Err(self.malformed(format!("<{name}> has attribute {l} twice")));
            }
            attrs.push(Attr {
                prefix: p.to_owned(),
                local: l.to_owned(),
                ns: ans,
                value,
            });
        }
        let ordinal = self.next_ordinal;
        self.next_ordinal += 1;
        if empty {
            self.pending_end = true;
        }
        Ok(Token::Start(StartTag {
            ordinal,
            prefix: prefix.to_owned(),
            local: local.to_owned(),
            ns,
            attrs,
        }))
    }

    fn resolve(
        &self,
        prefix: &str,
        element: &str,
        is_element: bool,
    ) -> Result<Option<String>, EdxmlError> {
        if prefix.is_empty() {
            // Unprefixed attributes are in no namespace; elements take the default.
            return Ok(if is_element {
                self.lookup("").map(str::to_owned)
            } else {
                None
            });
        }
        match self.lookup(prefix) {
            Some(u) => Ok(Some(u.to_owned())),
            None if self.tolerate_unbound_prefixes => Ok(None),
            None => Err(EdxmlError::UnboundPrefix {
                element: element.to_owned(),
                prefix: prefix.to_owned(),
            }),
        }
    }
}

fn split_qname(name: &str) -> (&str, &str) {
    match name.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", name),
    }
}

/// XML 1.0 §2.11: `\r\n` and lone `\r` become `\n`.
fn normalize_eol(s: Cow<'_, str>) -> Cow<'_, str> {
    if !s.contains('\r') {
        return s;
    }
    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// `lt`, `#x41`… (the text between `&` and `;`): only the predefined entities and
/// character references exist, since no DTD is accepted.
fn resolve_reference(name: &str) -> Result<char, EdxmlError> {
    let unknown = || EdxmlError::UnknownEntity {
        name: name.chars().take(40).collect(),
    };
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).map_err(|_| unknown())?
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse::<u32>().map_err(|_| unknown())?
            } else {
                return Err(unknown());
            };
            char::from_u32(code)
                .filter(|c| is_xml_char(*c))
                .ok_or_else(unknown)?
        }
    };
    Ok(c)
}

/// XML 1.0 §3.3.3 for CDATA-typed attributes (all of them, without a DTD): literal
/// whitespace becomes a space, then references are replaced.
fn normalize_attribute(raw: &str) -> Result<String, EdxmlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\r', '\n', '\t']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        if c == b'&' {
            let after = &rest[i + 1..];
            let end = after.find(';').ok_or_else(|| EdxmlError::UnknownEntity {
                name: after.chars().take(40).collect(),
            })?;
            out.push(resolve_reference(&after[..end])?);
            rest = &after[end + 1..];
        } else {
            out.push(' ');
            rest = if rest[i..].starts_with("\r\n") {
                &rest[i + 2..]
            } else {
                &rest[i + 1..]
            };
        }
    }
    out.push_str(rest);
    Ok(out)
}

// ---------------------------------------------------------------------------
// A small element tree for the reader.

/// An element with its own text (mixed content is not needed for edXML) and, for
/// `ContentTransferEncoded`, the decoded payload instead of the base64 text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub ordinal: usize,
    pub prefix: String,
    pub local: String,
    pub ns: Option<String>,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    pub text: String,
    pub binary: Option<Result<Vec<u8>, String>>,
}

impl Element {
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local == local)
    }

    pub fn children_named<'s>(&'s self, local: &'s str) -> impl Iterator<Item = &'s Element> + 's {
        self.children.iter().filter(move |c| c.local == local)
    }

    /// The trimmed text, `None` when empty (`<Fax/>`, `<Fax> </Fax>`).
    pub fn value(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.local == local)
            .map(|a| a.value.as_str())
    }

    pub fn qname(&self) -> String {
        qname(&self.prefix, &self.local)
    }

    /// Depth-first search by local name (document order).
    pub fn find_all<'s>(&'s self, local: &str, out: &mut Vec<&'s Element>) {
        for c in &self.children {
            if c.local == local {
                out.push(c);
            }
            c.find_all(local, out);
        }
    }
}

/// The element whose text is an attachment payload (base64).
pub(crate) const PAYLOAD: &str = "ContentTransferEncoded";

/// Parses the document into a tree. Payload text is base64-decoded as it streams in
/// when `decode_payloads`, else dropped (the signature check needs only the header).
pub(crate) fn parse_tree(
    input: &[u8],
    limits: &Limits,
    decode_payloads: bool,
) -> Result<Element, EdxmlError> {
    parse_tree_watched(input, limits, decode_payloads, &mut |_, _| {})
}

/// [`parse_tree`], showing every token to `watch` first, with the tokenizer that
/// handed it out: one pass over the input for the tree and whatever else needs
/// the tokens (the signature's digest).
pub(crate) fn parse_tree_watched(
    input: &[u8],
    limits: &Limits,
    decode_payloads: bool,
    watch: &mut dyn FnMut(&Tokenizer<'_>, &Token<'_>),
) -> Result<Element, EdxmlError> {
    let mut tok = Tokenizer::new(input, limits, true)?;
    let mut stack: Vec<(Element, Option<Base64Sink>)> = Vec::new();
    let mut root = None;
    while let Some(t) = tok.next_token()? {
        watch(&tok, &t);
        match t {
            Token::Start(s) => {
                let sink = (s.local == PAYLOAD).then(Base64Sink::new);
                stack.push((
                    Element {
                        ordinal: s.ordinal,
                        prefix: s.prefix,
                        local: s.local,
                        ns: s.ns,
                        attrs: s.attrs,
                        ..Element::default()
                    },
                    sink,
                ));
            }
            Token::End { .. } => {
                let Some((mut e, sink)) = stack.pop() else {
                    continue;
                };
                if let Some(sink) = sink {
                    e.binary = Some(sink.finish());
                }
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(e),
                    None => root = Some(e),
                }
            }
            Token::Text(t) => {
                if let Some((e, sink)) = stack.last_mut() {
                    match sink {
                        Some(sink) if decode_payloads => sink.push(&t),
                        Some(_) => {}
                        None => {
                            if e.text.len() + t.len() > limits.max_text_bytes {
                                return Err(EdxmlError::TextTooLong {
                                    element: e.qname(),
                                    max: limits.max_text_bytes,
                                });
                            }
                            e.text.push_str(&t);
                        }
                    }
                }
            }
            Token::Comment(_) | Token::Pi(_) => {}
        }
    }
    root.ok_or_else(|| EdxmlError::Malformed {
        position: 0,
        reason: "the document has no root element".into(),
    })
}

/// Decodes base64 as it arrives, whitespace anywhere, padding optional, so a large
/// attachment is never held as base64 text and as bytes at once (the text stays in
/// the caller's input buffer, which quick-xml borrows from).
pub(crate) struct Base64Sink {
    chunk: Vec<u8>,
    out: Vec<u8>,
    padded: bool,
    error: Option<String>,
}

const CHUNK: usize = 4096; // a multiple of 4, so no base64 quantum is split

/// Padding optional, trailing bits tolerated: what deployed senders write.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl Base64Sink {
    pub fn new() -> Self {
        Base64Sink {
            chunk: Vec::with_capacity(CHUNK),
            out: Vec::new(),
            padded: false,
            error: None,
        }
    }

    /// Takes the next piece of text. The runs between whitespace bytes (a base64
    /// line) are found with memchr and copied in bulk, not byte by byte.
    pub fn push(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        self.out.reserve(text.len() / 4 * 3);
        let b = text.as_bytes();
        let mut pos = 0;
        // memchr looks for three bytes at most: tabs (rare) are tracked apart.
        let mut next_tab = memchr::memchr(b'\t', b).unwrap_or(b.len());
        while pos < b.len() && self.error.is_none() {
            if next_tab < pos {
                next_tab = memchr::memchr(b'\t', &b[pos..]).map_or(b.len(), |i| pos + i);
            }
            let end = memchr::memchr3(b'\n', b'\r', b' ', &b[pos..next_tab])
                .map_or(next_tab, |i| pos + i);
            self.take(&b[pos..end]);
            pos = end + 1; // past the whitespace byte
        }
    }

    /// A run without whitespace: checks that nothing follows the `=` padding.
    fn take(&mut self, run: &[u8]) {
        let (data, pad) = if self.padded {
            (&[][..], run)
        } else {
            match memchr::memchr(b'=', run) {
                Some(i) => run.split_at(i),
                None => (run, &[][..]),
            }
        };
        self.append(data);
        if !pad.is_empty() {
            self.padded = true;
            let n = pad.iter().take_while(|&&c| c == b'=').count();
            self.append(&pad[..n]);
            if n < pad.len() && self.error.is_none() {
                self.error = Some("data after the = padding".into());
            }
        }
    }

    /// Whitespace-free base64 into the chunk, decoded each time the chunk fills.
    fn append(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.error.is_none() {
            let n = (CHUNK - self.chunk.len()).min(data.len());
            self.chunk.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.chunk.len() == CHUNK {
                self.flush();
            }
        }
    }

    fn flush(&mut self) {
        if self.chunk.is_empty() || self.error.is_some() {
            return;
        }
        if let Err(e) = LENIENT.decode_vec(&self.chunk, &mut self.out) {
            self.error = Some(e.to_string());
        }
        self.chunk.clear();
    }

    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        self.flush();
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_are_normalized_like_a_parser_does() {
        assert_eq!(normalize_attribute("a\r\nb\tc\nd").unwrap(), "a b c d");
        assert_eq!(
            normalize_attribute("&lt;&#x9;&#10;&amp;").unwrap(),
            "<\t\n&"
        );
        assert!(matches!(
            normalize_attribute("&nbsp;"),
            Err(EdxmlError::UnknownEntity { .. })
        ));
        assert!(normalize_attribute("&#0;").is_err());
    }

    #[test]
    fn base64_streams_across_pieces_and_chunks() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        let mut sink = Base64Sink::new();
        for piece in text.as_bytes().chunks(77) {
            sink.push(std::str::from_utf8(piece).unwrap());
            sink.push("\r\n");
        }
        assert_eq!(sink.finish().unwrap(), data);
        let mut bad = Base64Sink::new();
        bad.push("QUJD=QUJD");
        assert!(bad.finish().is_err());
    }

    /// The byte-by-byte sink this crate used before the memchr one: the reference
    /// the fast path is compared with.
    fn reference_decode(pieces: &[&str]) -> Result<Vec<u8>, ()> {
        let mut chunk = Vec::new();
        let mut out = Vec::new();
        let mut padded = false;
        let mut ok = true;
        let flush = |chunk: &mut Vec<u8>, out: &mut Vec<u8>, ok: &mut bool| {
            if !chunk.is_empty() && *ok && LENIENT.decode_vec(&chunk[..], out).is_err() {
                *ok = false;
            }
            chunk.clear();
        };
        for piece in pieces {
            for b in piece.bytes() {
                if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                    continue;
                }
                if b == b'=' {
                    padded = true;
                } else if padded {
                    return Err(());
                }
                chunk.push(b);
                if chunk.len() == CHUNK {
                    flush(&mut chunk, &mut out, &mut ok);
                }
            }
        }
        flush(&mut chunk, &mut out, &mut ok);
        if ok {
            Ok(out)
        } else {
            Err(())
        }
    }

    #[test]
    fn base64_fast_path_agrees_with_the_byte_by_byte_sink() {
        let mut x: u32 = 0x9E37_79B9;
        let mut rnd = |n: u32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % n
        };
        let engine = base64::engine::general_purpose::STANDARD;
        for case in 0..400 {
            let text: String = if case % 2 == 0 {
                // Valid base64 of random length, whitespace sprinkled in, sometimes
                // damaged by a stray byte.
                let len = rnd(if case % 8 == 0 { 20_000 } else { 300 }) as usize;
                let data: Vec<u8> = (0..len).map(|_| rnd(256) as u8).collect();
                let mut t = String::new();
                for c in engine.encode(&data).chars() {
                    match rnd(40) {
                        0 => t.push(' '),
                        1 => t.push('\t'),
                        2 => t.push_str("\r\n"),
                        3 => t.push('\n'),
                        _ => {}
                    }
                    t.push(c);
                }
                if case % 10 == 4 {
                    let at = rnd(t.len() as u32 + 1) as usize;
                    t.insert(at, ['=', '*', 'A', '\n'][rnd(4) as usize]);
                }
                t
            } else {
                // Short strings of the interesting bytes.
                let alphabet = ['A', 'Q', 'z', '+', '/', '=', ' ', '\t', '\r', '\n', '*'];
                (0..rnd(24))
                    .map(|_| alphabet[rnd(alphabet.len() as u32) as usize])
                    .collect()
            };
            // Split into pieces at random places, as the tokenizer does at line ends.
            let mut pieces = Vec::new();
            let mut rest = text.as_str();
            while !rest.is_empty() {
                let at = (rnd(200) as usize + 1).min(rest.len());
                let (a, b) = rest.split_at(at);
                pieces.push(a);
                rest = b;
            }
            let mut sink = Base64Sink::new();
            for p in &pieces {
                sink.push(p);
            }
            assert_eq!(
                sink.finish().map_err(|_| ()),
                reference_decode(&pieces),
                "case {case}: {text:?}"
            );
        }
    }

    #[test]
    fn line_ends_are_normalized_in_borrowed_pieces() {
        let limits = Limits::default();
        let mut t = Tokenizer::new(b"<a>x\r\ny\rz\r\n\r\n</a>", &limits, false).unwrap();
        let mut pieces = Vec::new();
        while let Some(tok) = t.next_token().unwrap() {
            if let Token::Text(s) = tok {
                assert!(matches!(s, Cow::Borrowed(_)));
                pieces.push(s.into_owned());
            }
        }
        assert_eq!(pieces.concat(), "x\ny\nz\n\n");
    }

    #[test]
    fn tokens_carry_offsets_of_end_tags() {
        let xml = b"<a><b>x</b></a>";
        let limits = Limits::default();
        let mut t = Tokenizer::new(xml, &limits, false).unwrap();
        let mut offsets = Vec::new();
        while let Some(tok) = t.next_token().unwrap() {
            if let Token::End { offset } = tok {
                offsets.push(offset.unwrap());
            }
        }
        assert_eq!(offsets, vec![7, 11]);
    }
}

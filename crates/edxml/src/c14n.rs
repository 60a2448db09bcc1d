//! Canonical XML (chuẩn hoá XML) for XML-DSig: inclusive C14N 1.0 and exclusive
//! C14N, with or without comments, streamed straight into a digest.
//!
//! Why our own: the crates on crates.io either wrap libxml2 (`xml_c14n`, `xmlsec`:
//! a second C parser with its own view of the document, and DTD/entity handling we
//! refuse anyway), or bring their own XML parser (`bergshamra-c14n` on `uppsala`,
//! young; `xml-canonicalization` on pest). Signing and checking must canonicalize
//! exactly the document the reader read, through the same hardened tokenizer, or
//! the two parsers can disagree in ways signature-wrapping attacks exploit. Without
//! a DTD, C14N loses its hard parts (default attributes, entity expansion, ID
//! types), and what is left fits here: namespace rendering, attribute order,
//! escaping, end-of-line and attribute normalization (done by the tokenizer),
//! comment and PI handling, and the enveloped-signature exclusion.

use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;

use crate::error::EdxmlError;
use crate::limits::Limits;
use crate::xml::{qname, Attr, Token, Tokenizer};

pub const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub const C14N_10_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

/// A canonicalization method, as named by its Algorithm URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Canonical XML 1.0: every namespace in scope is rendered at the apex.
    Inclusive { with_comments: bool },
    /// Exclusive C14N: only namespaces the element or its attributes use, plus the
    /// InclusiveNamespaces PrefixList ("#default" = the default namespace).
    Exclusive {
        with_comments: bool,
        inclusive_prefixes: Vec<String>,
    },
}

impl Method {
    pub fn from_uri(uri: &str, prefix_list: Option<&str>) -> Option<Method> {
        let prefixes = || {
            prefix_list
                .unwrap_or("")
                .split_whitespace()
                .map(|p| {
                    if p == "#default" {
                        String::new()
                    } else {
                        p.to_owned()
                    }
                })
                .collect()
        };
        match uri {
            C14N_10 => Some(Method::Inclusive {
                with_comments: false,
            }),
            C14N_10_COMMENTS => Some(Method::Inclusive {
                with_comments: true,
            }),
            EXC_C14N => Some(Method::Exclusive {
                with_comments: false,
                inclusive_prefixes: prefixes(),
            }),
            EXC_C14N_COMMENTS => Some(Method::Exclusive {
                with_comments: true,
                inclusive_prefixes: prefixes(),
            }),
            _ => None,
        }
    }

    fn with_comments(&self) -> bool {
        match self {
            Method::Inclusive { with_comments } | Method::Exclusive { with_comments, .. } => {
                *with_comments
            }
        }
    }

    /// The same method without comments (a same-document Reference drops them).
    pub fn without_comments(&self) -> Method {
        match self {
            Method::Inclusive { .. } => Method::Inclusive {
                with_comments: false,
            },
            Method::Exclusive {
                inclusive_prefixes, ..
            } => Method::Exclusive {
                with_comments: false,
                inclusive_prefixes: inclusive_prefixes.clone(),
            },
        }
    }
}

/// Which nodes are canonicalized; elements are named by document-order ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The whole document, less one element's subtree (the enveloped Signature).
    Document { exclude: Option<usize> },
    /// One element and its descendants (SignedInfo), with its namespace context.
    Subtree { apex: usize },
}

impl Scope {
    /// A subtree whose apex is named once the reader meets it (see
    /// [`Canonicalizer::set_apex`]).
    pub(crate) const SUBTREE_TO_COME: Scope = Scope::Subtree { apex: usize::MAX };
}

struct Frame {
    qname: String,
    output: bool,
    /// Namespaces rendered by this element and its output ancestors ("" = default).
    /// Shared with the parent while the element renders no namespace of its own
    /// (nearly always), so it is not copied for every element.
    rendered: Rc<BTreeMap<String, String>>,
    /// `xml:*` attributes in scope, for inclusive C14N's inheritance at the apex.
    xml_attrs: Vec<Attr>,
}

/// Writes the canonical form of `scope` of `input` to `out`.
///
/// A [`Scope::Subtree`] pass stops reading where its apex ends: callers have read
/// the whole document through the same tokenizer before (the signature code always
/// does), so what follows has been checked already.
pub(crate) fn canonicalize(
    input: &[u8],
    limits: &Limits,
    method: &Method,
    scope: Scope,
    out: &mut dyn Write,
) -> Result<(), EdxmlError> {
    let mut tok = Tokenizer::new(input, limits, false)?;
    let mut c14n = Canonicalizer::new(method.clone(), scope);
    while let Some(t) = tok.next_token()? {
        if !c14n.feed(&tok, &t, out)? {
            break;
        }
    }
    Ok(())
}

/// C14N fed one token at a time, as the tokenizer hands them out: the pass of
/// [`canonicalize`], and the digest the reader works out while it builds its tree
/// (see `sign::read_digesting`), so a received package is tokenized once, not twice.
pub(crate) struct Canonicalizer {
    method: Method,
    scope: Scope,
    frames: Vec<Frame>,
    root_seen: bool,
    /// One buffer for every tag, so each is one write to the digest.
    buf: String,
}

impl Canonicalizer {
    pub fn new(method: Method, scope: Scope) -> Self {
        Canonicalizer {
            method,
            scope,
            frames: Vec::new(),
            root_seen: false,
            buf: String::with_capacity(256),
        }
    }

    /// From now on, leaves out the element numbered `ordinal` (which must not have
    /// started yet) and its subtree: for a reader that learns which element is the
    /// enveloped Signature only when it meets it.
    pub fn exclude(&mut self, ordinal: usize) {
        if let Scope::Document { exclude } = &mut self.scope {
            *exclude = Some(ordinal);
        }
    }

    /// A [`Scope::Subtree`] pass whose apex is learnt on the way: from now on, the
    /// element numbered `ordinal` (which must not have started yet) is the apex. Until
    /// then nothing is output, exactly as when the apex was known from the start.
    pub fn set_apex(&mut self, ordinal: usize) {
        if let Scope::Subtree { apex } = &mut self.scope {
            *apex = ordinal;
        }
    }

    /// Writes what `t` adds to the canonical form; `tok` is the tokenizer that has
    /// just handed out `t`, so its namespaces in scope are the token's. `false` once
    /// nothing more can be output (a subtree's apex has closed).
    pub fn feed(
        &mut self,
        tok: &Tokenizer<'_>,
        t: &Token<'_>,
        out: &mut dyn Write,
    ) -> Result<bool, EdxmlError> {
        let w = |out: &mut dyn Write, b: &[u8]| {
            out.write_all(b)
                .map_err(|e| EdxmlError::Write(e.to_string()))
        };
        let Canonicalizer {
            method,
            scope,
            frames,
            root_seen,
            buf,
        } = self;
        let scope = *scope;
        let comments = method.with_comments();
        let parent_output = frames.last().is_some_and(|f| f.output);
        match t {
            Token::Start(s) => {
                *root_seen = true;
                let output = match scope {
                    Scope::Document { exclude } => {
                        Some(s.ordinal) != exclude && (frames.is_empty() || parent_output)
                    }
                    Scope::Subtree { apex } => parent_output || s.ordinal == apex,
                };
                let mut xml_attrs = frames
                    .last()
                    .map(|f| f.xml_attrs.clone())
                    .unwrap_or_default();
                for a in s.attrs.iter().filter(|a| a.prefix == "xml") {
                    xml_attrs.retain(|x| x.local != a.local);
                    xml_attrs.push(a.clone());
                }
                if !output {
                    frames.push(Frame {
                        qname: String::new(),
                        output,
                        rendered: Rc::default(),
                        xml_attrs,
                    });
                    return Ok(true);
                }
                let parent_rendered = if parent_output {
                    frames
                        .last()
                        .map(|f| f.rendered.clone())
                        .unwrap_or_default()
                } else {
                    Rc::default()
                };
                let has_default_rendered = parent_rendered.get("").is_some_and(|u| !u.is_empty());
                let mut render: Vec<(String, String)> = Vec::new();
                match method {
                    // An element that declares nothing has its output parent's
                    // namespaces, all of which that parent rendered: nothing to do.
                    Method::Inclusive { .. } if parent_output && !tok.declares_namespaces() => {}
                    Method::Inclusive { .. } => {
                        let in_scope = tok.in_scope();
                        if !in_scope.iter().any(|(p, _)| p.is_empty()) && has_default_rendered {
                            render.push((String::new(), String::new()));
                        }
                        for (p, u) in in_scope {
                            if p != "xml" && parent_rendered.get(&p) != Some(&u) {
                                render.push((p, u));
                            }
                        }
                    }
                    Method::Exclusive {
                        inclusive_prefixes, ..
                    } => {
                        let mut used: Vec<String> = vec![s.prefix.clone()];
                        used.extend(
                            s.attrs
                                .iter()
                                .filter(|a| !a.prefix.is_empty() && a.prefix != "xml")
                                .map(|a| a.prefix.clone()),
                        );
                        used.extend(inclusive_prefixes.iter().cloned());
                        used.sort();
                        used.dedup();
                        for p in used {
                            match tok.declared(&p) {
                                // Already rendered above with this value: not again.
                                Some(u)
                                    if parent_rendered.get(&p).map(String::as_str) == Some(u) => {}
                                Some(u) => {
                                    let u = u.to_owned();
                                    render.push((p, u));
                                }
                                None if p.is_empty() && has_default_rendered => {
                                    render.push((String::new(), String::new()));
                                }
                                None => {}
                            }
                        }
                    }
                }
                render.sort();
                let name = s.qname();
                let mut attrs: Vec<&Attr> = s.attrs.iter().collect();
                if matches!(method, Method::Inclusive { .. }) && !parent_output {
                    // C14N 1.0 §2.4: the apex of a subset inherits xml:* attributes.
                    for a in &xml_attrs {
                        if !attrs
                            .iter()
                            .any(|x| x.prefix == "xml" && x.local == a.local)
                        {
                            attrs.push(a);
                        }
                    }
                }
                attrs.sort_by(|a, b| {
                    let ka = (a.ns.as_deref().unwrap_or(""), a.local.as_str());
                    let kb = (b.ns.as_deref().unwrap_or(""), b.local.as_str());
                    ka.cmp(&kb)
                });
                buf.clear();
                buf.push('<');
                buf.push_str(&name);
                for (p, u) in &render {
                    buf.push_str(if p.is_empty() { " xmlns" } else { " xmlns:" });
                    buf.push_str(p);
                    buf.push_str("=\"");
                    escape_attr(u, buf);
                    buf.push('"');
                }
                for a in &attrs {
                    buf.push(' ');
                    buf.push_str(&qname(&a.prefix, &a.local));
                    buf.push_str("=\"");
                    escape_attr(&a.value, buf);
                    buf.push('"');
                }
                buf.push('>');
                w(out, buf.as_bytes())?;
                let rendered = if render.is_empty() {
                    parent_rendered
                } else {
                    let mut r = (*parent_rendered).clone();
                    r.extend(render);
                    Rc::new(r)
                };
                frames.push(Frame {
                    qname: name,
                    output,
                    rendered,
                    xml_attrs,
                });
            }
            Token::End { .. } => {
                if let Some(f) = frames.pop() {
                    if f.output {
                        buf.clear();
                        buf.push_str("</");
                        buf.push_str(&f.qname);
                        buf.push('>');
                        w(out, buf.as_bytes())?;
                        // The apex of a subtree has closed: nothing after it is
                        // output, so the rest (the attachments) is not read again.
                        if matches!(scope, Scope::Subtree { .. })
                            && !frames.last().is_some_and(|p| p.output)
                        {
                            return Ok(false);
                        }
                    }
                }
            }
            Token::Text(t) => {
                if parent_output {
                    write_text(out, t)?;
                }
            }
            Token::Comment(c) => {
                if comments {
                    let node = format!("<!--{c}-->");
                    outside_or_inside(out, &node, frames, parent_output, *root_seen, scope)?;
                }
            }
            Token::Pi(p) => {
                let p = p.trim_end();
                let (target, data) = match p.split_once([' ', '\t', '\n']) {
                    Some((t, d)) => (t, d.trim_start()),
                    None => (p, ""),
                };
                let node = if data.is_empty() {
                    format!("<?{target}?>")
                } else {
                    format!("<?{target} {data}?>")
                };
                outside_or_inside(out, &node, frames, parent_output, *root_seen, scope)?;
            }
        }
        Ok(true)
    }
}

/// Comments and PIs: inside output elements as they are; outside the root (document
/// scope only) with the line feed C14N puts between them and the root.
fn outside_or_inside(
    out: &mut dyn Write,
    node: &str,
    frames: &[Frame],
    parent_output: bool,
    root_seen: bool,
    scope: Scope,
) -> Result<(), EdxmlError> {
    let text = if !frames.is_empty() {
        if !parent_output {
            return Ok(());
        }
        node.to_owned()
    } else if matches!(scope, Scope::Document { .. }) {
        if root_seen {
            format!("\n{node}")
        } else {
            format!("{node}\n")
        }
    } else {
        return Ok(());
    };
    out.write_all(text.as_bytes())
        .map_err(|e| EdxmlError::Write(e.to_string()))
}

/// Text escaped as C14N wants, written run by run: an attachment's base64 goes to
/// the digest without being copied. The bytes to escape are found with memchr, so
/// a long run costs a vectorized scan, not a per-character loop.
fn write_text(out: &mut dyn Write, s: &str) -> Result<(), EdxmlError> {
    let b = s.as_bytes();
    let werr = |e: std::io::Error| EdxmlError::Write(e.to_string());
    let mut pos = 0;
    // memchr looks for three bytes at most; `\r` (rare: only from `&#13;`) apart.
    let mut next_cr = memchr::memchr(b'\r', b).unwrap_or(b.len());
    while pos < b.len() {
        if next_cr < pos {
            next_cr = memchr::memchr(b'\r', &b[pos..]).map_or(b.len(), |i| pos + i);
        }
        let i = memchr::memchr3(b'&', b'<', b'>', &b[pos..next_cr]).map_or(next_cr, |i| pos + i);
        out.write_all(&b[pos..i]).map_err(werr)?;
        let Some(&c) = b.get(i) else { break };
        let esc: &[u8] = match c {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            _ => b"&#xD;",
        };
        out.write_all(esc).map_err(werr)?;
        pos = i + 1;
    }
    Ok(())
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, method: &Method, scope: Scope) -> String {
        let mut out = Vec::new();
        canonicalize(xml.as_bytes(), &Limits::default(), method, scope, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    const INCL: Method = Method::Inclusive {
        with_comments: false,
    };
    const WHOLE: Scope = Scope::Document { exclude: None };

    /// W3C Canonical XML 1.0 §3.3 (without the DTD-supplied default attribute).
    #[test]
    fn spec_example_start_and_end_tags() {
        let input = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
        let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
        assert_eq!(c14n(input, &INCL, WHOLE), expected);
    }

    /// W3C Canonical XML 1.0 §3.4 (character modifications), DTD parts left out.
    #[test]
    fn spec_example_character_modifications() {
        let input = "<doc>\r\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
        assert_eq!(c14n(input, &INCL, WHOLE), expected);
    }

    #[test]
    fn declaration_comments_and_outer_whitespace_go_pis_stay() {
        let input = "<?xml version=\"1.0\"?>\n<?pi  some data ?>\n<!-- c -->\n<a><!-- in --><b/></a>\n<!-- after -->";
        assert_eq!(
            c14n(input, &INCL, WHOLE),
            "<?pi some data?>\n<a><b></b></a>"
        );
        let with = Method::Inclusive {
            with_comments: true,
        };
        assert_eq!(
            c14n(input, &with, WHOLE),
            "<?pi some data?>\n<!-- c -->\n<a><!-- in --><b></b></a>\n<!-- after -->"
        );
    }

    #[test]
    fn subtree_inherits_namespaces_inclusively_but_not_exclusively() {
        let input = r#"<r xmlns="urn:d" xmlns:e="urn:e" xmlns:u="urn:unused" xml:lang="vi"><s><e:t a="1"/></s></r>"#;
        // <s> is ordinal 1.
        assert_eq!(
            c14n(input, &INCL, Scope::Subtree { apex: 1 }),
            r#"<s xmlns="urn:d" xmlns:e="urn:e" xmlns:u="urn:unused" xml:lang="vi"><e:t a="1"></e:t></s>"#
        );
        let exc = Method::Exclusive {
            with_comments: false,
            inclusive_prefixes: vec![],
        };
        assert_eq!(
            c14n(input, &exc, Scope::Subtree { apex: 1 }),
            r#"<s xmlns="urn:d"><e:t xmlns:e="urn:e" a="1"></e:t></s>"#
        );
        let exc_u = Method::from_uri(EXC_C14N, Some("u")).unwrap();
        assert_eq!(
            c14n(input, &exc_u, Scope::Subtree { apex: 1 }),
            r#"<s xmlns="urn:d" xmlns:u="urn:unused"><e:t xmlns:e="urn:e" a="1"></e:t></s>"#
        );
    }

    #[test]
    fn excluded_subtree_leaves_surrounding_text() {
        let input = "<a>x<sig><b/></sig>y<c/></a>";
        assert_eq!(
            c14n(input, &INCL, Scope::Document { exclude: Some(1) }),
            "<a>xy<c></c></a>"
        );
    }

    /// The straightforward escaping the memchr version replaced.
    fn reference_text(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\r' => out.push_str("&#xD;"),
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn text_escaping_agrees_with_the_straightforward_one() {
        let fixed = [
            "",
            "plain",
            "&",
            "<>&\r",
            "a&b<c>d\re",
            "\r\r\n&&",
            "Số 1 & <Lý> \r\nđường",
            "x\r",
            "\rx",
        ];
        let mut x: u32 = 12345;
        let mut rnd = |n: u32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % n
        };
        let alphabet = [
            'a', 'Z', '&', '<', '>', '\r', '\n', '\t', ' ', '"', 'ế', '=',
        ];
        let random: Vec<String> = (0..300)
            .map(|i| {
                let len = rnd(if i % 10 == 0 { 3000 } else { 40 });
                (0..len)
                    .map(|_| alphabet[rnd(alphabet.len() as u32) as usize])
                    .collect()
            })
            .collect();
        for s in fixed
            .iter()
            .copied()
            .chain(random.iter().map(String::as_str))
        {
            let mut out = Vec::new();
            write_text(&mut out, s).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), reference_text(s), "{s:?}");
        }
    }

    /// Elements that declare nothing under ones that do (the shortcut that skips
    /// the namespace bookkeeping), as a whole document and as subtrees.
    #[test]
    fn undeclaring_elements_and_their_plain_children() {
        let input = r#"<a xmlns="urn:a" xmlns:p="urn:p"><b><c xmlns=""><d/><p:e/></c></b></a>"#;
        assert_eq!(
            c14n(input, &INCL, WHOLE),
            r#"<a xmlns="urn:a" xmlns:p="urn:p"><b><c xmlns=""><d></d><p:e></p:e></c></b></a>"#
        );
        assert_eq!(
            c14n(input, &INCL, Scope::Subtree { apex: 1 }),
            r#"<b xmlns="urn:a" xmlns:p="urn:p"><c xmlns=""><d></d><p:e></p:e></c></b>"#
        );
        assert_eq!(
            c14n(input, &INCL, Scope::Subtree { apex: 2 }),
            r#"<c xmlns:p="urn:p"><d></d><p:e></p:e></c>"#
        );
        assert_eq!(
            c14n(input, &INCL, Scope::Subtree { apex: 3 }),
            r#"<d xmlns:p="urn:p"></d>"#
        );
        let exc = Method::from_uri(EXC_C14N, None).unwrap();
        assert_eq!(
            c14n(input, &exc, WHOLE),
            r#"<a xmlns="urn:a"><b><c xmlns=""><d></d><p:e xmlns:p="urn:p"></p:e></c></b></a>"#
        );
        assert_eq!(
            c14n(input, &exc, Scope::Subtree { apex: 2 }),
            r#"<c><d></d><p:e xmlns:p="urn:p"></p:e></c>"#
        );
    }

    #[test]
    fn unbound_prefix_cannot_be_canonicalized() {
        let mut out = Vec::new();
        let r = canonicalize(b"<ds:a/>", &Limits::default(), &INCL, WHOLE, &mut out);
        assert!(matches!(r, Err(EdxmlError::UnboundPrefix { .. })));
    }
}

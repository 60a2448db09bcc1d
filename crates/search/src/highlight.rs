//! HTML snippets with the matched words in `<mark>`.

use std::collections::BTreeMap;

use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::{Searcher, TantivyError, Term};

use crate::analysis::{both_spellings_analyzer, folded_analyzer};
use crate::query::Word;
use crate::schema::Fields;

/// Length of a body snippet, in bytes (about 120–160 Vietnamese letters).
const BODY_SNIPPET_BYTES: usize = 320;
/// A title is shown whole unless it is very long.
const TITLE_SNIPPET_BYTES: usize = 600;
/// Only the start of a very long body is looked at for a snippet.
const MAX_SCANNED_BYTES: usize = 200_000;
/// Length of the excerpt shown when no word can be highlighted (e.g. empty query).
const EXCERPT_CHARS: usize = 160;

/// Snippet generators for one search. "Strict" ones mark a word typed with diacritics
/// only where it is written with the same diacritics (`đồng`, not `đông`); "loose" ones,
/// used when the strict ones mark nothing, mark every folded match.
pub(crate) struct Highlighter {
    strict_title: SnippetGenerator,
    strict_body: SnippetGenerator,
    loose_title: SnippetGenerator,
    loose_body: SnippetGenerator,
}

impl Highlighter {
    /// Rarer words weigh more when choosing the fragment.
    pub(crate) fn new(
        searcher: &Searcher,
        fields: &Fields,
        words: &[&Word],
    ) -> Result<Highlighter, TantivyError> {
        let generators = |field, max_bytes| -> Result<_, TantivyError> {
            let mut strict = BTreeMap::new();
            let mut loose = BTreeMap::new();
            for word in words {
                let doc_freq = searcher.doc_freq(&Term::from_field_text(field, &word.folded))?;
                let weight = 1.0 / (1.0 + doc_freq as f32);
                let key = if word.has_diacritics() {
                    &word.exact
                } else {
                    &word.folded
                };
                strict.insert(key.clone(), weight);
                loose.insert(word.folded.clone(), weight);
            }
            Ok((
                SnippetGenerator::new(strict, both_spellings_analyzer(), field, max_bytes),
                SnippetGenerator::new(loose, folded_analyzer(), field, max_bytes),
            ))
        };
        let (strict_title, loose_title) = generators(fields.title, TITLE_SNIPPET_BYTES)?;
        let (strict_body, loose_body) = generators(fields.body, BODY_SNIPPET_BYTES)?;
        Ok(Highlighter {
            strict_title,
            strict_body,
            loose_title,
            loose_body,
        })
    }

    /// The best body fragment holding query words; else the title with them marked; else
    /// the start of the body (or title).
    pub(crate) fn highlight(&self, title: &str, body: &str) -> String {
        let title = title.trim();
        let body = prefix(body.trim(), MAX_SCANNED_BYTES);
        let tries = [
            (&self.strict_body, body),
            (&self.strict_title, title),
            (&self.loose_body, body),
            (&self.loose_title, title),
        ];
        for (generator, text) in tries {
            let snippet = generator.snippet(text);
            if !snippet.is_empty() {
                return render(&snippet, text);
            }
        }
        excerpt(title, body)
    }
}

/// The start of the body (or of the title when the body is empty), escaped.
pub(crate) fn excerpt(title: &str, body: &str) -> String {
    let text = if body.trim().is_empty() { title } else { body };
    let text = text.trim();
    let mut out = String::new();
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    escape_into(&head, &mut out);
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn prefix(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The fragment escaped, matched words in `<mark>` (neighbours separated only by spaces
/// share one mark), `…` where the fragment cuts the text.
fn render(snippet: &Snippet, text: &str) -> String {
    let fragment = snippet.fragment();
    let range = snippet.fragment_range();
    let mut marks: Vec<std::ops::Range<usize>> = Vec::new();
    let mut ranges = snippet.highlighted().to_vec();
    ranges.sort_by_key(|r| (r.start, r.end));
    for r in ranges {
        match marks.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            Some(last) if fragment[last.end..r.start].chars().all(char::is_whitespace) => {
                last.end = r.end
            }
            _ => marks.push(r),
        }
    }
    let mut html = String::with_capacity(fragment.len() + 32);
    if range.start > 0 {
        html.push('…');
    }
    let mut at = 0;
    for mark in marks {
        escape_into(&fragment[at..mark.start], &mut html);
        html.push_str("<mark>");
        escape_into(&fragment[mark.clone()], &mut html);
        html.push_str("</mark>");
        at = mark.end;
    }
    escape_into(&fragment[at..], &mut html);
    if range.end < text.trim_end().len() {
        html.push('…');
    }
    html
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(words: &[&str], max: usize) -> SnippetGenerator {
        let (_, fields) = Fields::schema();
        let terms = words.iter().map(|w| (w.to_string(), 1.0)).collect();
        SnippetGenerator::new(terms, folded_analyzer(), fields.body, max)
    }

    #[test]
    fn marks_words_and_escapes_the_rest() {
        let text = "Kế hoạch <b>số</b> & \"chuyển đổi\" của tỉnh";
        let snippet = generator(&["chuyen", "doi"], 320).snippet(text);
        assert_eq!(
            render(&snippet, text),
            "Kế hoạch &lt;b&gt;số&lt;/b&gt; &amp; &quot;<mark>chuyển đổi</mark>&quot; của tỉnh"
        );
    }

    #[test]
    fn folded_match_marks_the_original_spelling() {
        let text = "Ủy ban nhân dân tỉnh Đồng Nai";
        let snippet = generator(&["dong"], 320).snippet(text);
        assert_eq!(
            render(&snippet, text),
            "Ủy ban nhân dân tỉnh <mark>Đồng</mark> Nai"
        );
    }

    #[test]
    fn strict_highlighting_keeps_to_the_typed_diacritics() {
        let (_, fields) = Fields::schema();
        let index = tantivy::Index::create_in_ram(Fields::schema().0);
        crate::analysis::register(&index);
        let searcher = index.reader().unwrap().searcher();
        let parsed = crate::query::Parsed::parse("đồng ubnd");
        let h = Highlighter::new(&searcher, &fields, &parsed.words()).unwrap();
        assert_eq!(
            h.highlight("", "Mùa đông, UBND tỉnh Đồng Nai và dòng sông"),
            "Mùa đông, <mark>UBND</mark> tỉnh <mark>Đồng</mark> Nai và dòng sông"
        );
        // No exact match anywhere: fall back to folded matches.
        assert_eq!(h.highlight("Mùa đông", ""), "Mùa <mark>đông</mark>");
    }

    #[test]
    fn cut_fragments_show_ellipses() {
        let text = format!("{} mục tiêu {}", "đầu ".repeat(100), "cuối ".repeat(100));
        let snippet = generator(&["muc"], 60).snippet(&text);
        let html = render(&snippet, &text);
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<mark>mục</mark>"), "{html}");
    }

    #[test]
    fn excerpt_escapes_and_truncates() {
        assert_eq!(excerpt("A <b>", ""), "A &lt;b&gt;");
        let long = "chữ ".repeat(100);
        let e = excerpt("t", &long);
        assert!(e.ends_with('…'));
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn prefix_respects_char_boundaries() {
        assert_eq!(prefix("đđ", 3), "đ");
        assert_eq!(prefix("abc", 10), "abc");
    }
}

//! From what a person typed to a tantivy query.
//!
//! The syntax is deliberately tiny and cannot fail: words, and phrases in double quotes
//! (`"…"` or `“…”`). Every word must match (in title, body, issuer or symbol, with or
//! without diacritics). An unbalanced quote is ignored, the words `AND`, `OR`, `NOT` are
//! ignored, and every other punctuation (`( ) : * + -`…) only separates words.
//!
//! Scores, from strongest to weakest:
//! 1. the whole text equals a document's symbol (số/ký hiệu), ignoring case, diacritics,
//!    spaces and dash kind: [`SYMBOL_TIER`];
//! 2. each word or phrase typed *with* diacritics that also matches with the same
//!    diacritics (title, body or issuer): [`EXACT_TIER`] per word;
//! 3. BM25 on the folded fields (title ×3, symbol ×2, issuer ×1.5, body ×1), plus a bonus
//!    when the plain words stand next to each other in title or body.
//!
//! The tiers are constants far above any BM25 sum, so the order they give is strict.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use crate::analysis::{exact_analyzer, fold, tokens};
use crate::schema::{day_number, keyword, symbol_key, Fields};
use crate::{Query as SearchQuery, Viewer};

/// Added once when the text is a document's exact symbol.
pub(crate) const SYMBOL_TIER: f32 = 100_000.0;
/// Added per word (or phrase word) typed with diacritics and matched with them.
pub(crate) const EXACT_TIER: f32 = 1_000.0;

const TITLE_BOOST: f32 = 3.0;
const SYMBOL_BOOST: f32 = 2.0;
const ISSUER_BOOST: f32 = 1.5;
const BODY_BOOST: f32 = 1.0;
const PROXIMITY_BOOST: f32 = 2.0;

const QUOTES: [char; 3] = ['"', '\u{201C}', '\u{201D}'];
const OPERATORS: [&str; 5] = ["AND", "OR", "NOT", "&&", "||"];
const MAX_SYMBOL_KEY_BYTES: usize = 100;
/// Words and phrases beyond this many are ignored (a pasted page is not a query), and so
/// are the words of a phrase beyond it.
pub(crate) const MAX_CLAUSES: usize = 32;

/// One word of the query, in both spellings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// Position relative to the start of its phrase.
    pub offset: usize,
    pub exact: String,
    pub folded: String,
}

impl Word {
    pub(crate) fn has_diacritics(&self) -> bool {
        self.exact != self.folded
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Clause {
    Word(Word),
    Phrase(Vec<Word>),
}

/// What a person typed, understood.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub clauses: Vec<Clause>,
    pub symbol_key: Option<String>,
}

impl Parsed {
    pub(crate) fn parse(text: &str) -> Parsed {
        let mut analyzer = exact_analyzer();
        let mut words_of = |text: &str| -> Vec<Word> {
            let found = tokens(&mut analyzer, text);
            let first = found.first().map_or(0, |(position, _)| *position);
            found
                .into_iter()
                .map(|(position, exact)| Word {
                    offset: position - first,
                    folded: fold(&exact),
                    exact,
                })
                .collect()
        };

        let mut clauses: Vec<Clause> = Vec::new();
        let mut push = |clause: Clause| {
            if clauses.len() < MAX_CLAUSES && !clauses.contains(&clause) {
                clauses.push(clause);
            }
        };
        let parts: Vec<&str> = text.split(QUOTES).collect();
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            // Odd parts sit between two quotes, unless the last quote has no partner.
            let quoted = i % 2 == 1 && i < last;
            if quoted {
                let mut words = words_of(part);
                words.truncate(MAX_CLAUSES);
                match words.len() {
                    0 => {}
                    1 => push(Clause::Word(words.remove(0))),
                    _ => push(Clause::Phrase(words)),
                }
            } else {
                for chunk in part.split_whitespace() {
                    if OPERATORS.contains(&chunk) {
                        continue;
                    }
                    for mut word in words_of(chunk) {
                        word.offset = 0;
                        push(Clause::Word(word));
                    }
                }
            }
        }

        let key = symbol_key(&text.replace(QUOTES, ""));
        let symbol_key = (key.chars().any(char::is_alphanumeric)
            && key.len() <= MAX_SYMBOL_KEY_BYTES)
            .then_some(key);
        Parsed {
            clauses,
            symbol_key,
        }
    }

    /// Every word once, phrases included, for highlighting.
    pub(crate) fn words(&self) -> Vec<&Word> {
        let mut out: Vec<&Word> = Vec::new();
        for clause in &self.clauses {
            let words = match clause {
                Clause::Word(word) => std::slice::from_ref(word),
                Clause::Phrase(words) => words.as_slice(),
            };
            for word in words {
                if !out.iter().any(|seen| seen.exact == word.exact) {
                    out.push(word);
                }
            }
        }
        out
    }

    /// The ranking query, or `None` when nothing searchable was typed.
    pub(crate) fn to_query(&self, f: &Fields) -> Option<Box<dyn Query>> {
        if self.clauses.is_empty() {
            return None;
        }
        let mut text: Vec<(Occur, Box<dyn Query>)> = self
            .clauses
            .iter()
            .map(|clause| {
                let query = match clause {
                    Clause::Word(word) => word_query(f, word),
                    Clause::Phrase(words) => phrase_query(f, words),
                };
                (Occur::Must, query)
            })
            .collect();
        let plain: Vec<&Word> = self
            .clauses
            .iter()
            .filter_map(|clause| match clause {
                Clause::Word(word) => Some(word),
                Clause::Phrase(_) => None,
            })
            .collect();
        if plain.len() >= 2 {
            let adjacent = |field: Field| -> Box<dyn Query> {
                Box::new(PhraseQuery::new_with_offset(
                    plain
                        .iter()
                        .enumerate()
                        .map(|(i, word)| (i, Term::from_field_text(field, &word.folded)))
                        .collect(),
                ))
            };
            let bonus = union(vec![
                boost(adjacent(f.title), TITLE_BOOST),
                adjacent(f.body),
            ]);
            text.push((Occur::Should, boost(bonus, PROXIMITY_BOOST)));
        }
        let text: Box<dyn Query> = Box::new(BooleanQuery::new(text));
        Some(match &self.symbol_key {
            Some(key) => {
                let symbol = TermQuery::new(
                    Term::from_field_text(f.symbol_key, key),
                    IndexRecordOption::Basic,
                );
                union(vec![
                    text,
                    Box::new(ConstScoreQuery::new(Box::new(symbol), SYMBOL_TIER)),
                ])
            }
            None => text,
        })
    }
}

fn boost(query: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, by))
}

fn union(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::union(queries))
}

fn folded_fields(f: &Fields) -> [(Field, f32); 4] {
    [
        (f.title, TITLE_BOOST),
        (f.symbol, SYMBOL_BOOST),
        (f.issuer, ISSUER_BOOST),
        (f.body, BODY_BOOST),
    ]
}

fn exact_fields(f: &Fields) -> [Field; 3] {
    [f.title_exact, f.issuer_exact, f.body_exact]
}

/// Folded match scored by BM25, plus the exact tier when typed with diacritics.
fn with_exact_tier(
    folded: Box<dyn Query>,
    exact: Option<Box<dyn Query>>,
    tier: f32,
) -> Box<dyn Query> {
    match exact {
        None => folded,
        Some(exact) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, folded),
            (Occur::Should, Box::new(ConstScoreQuery::new(exact, tier))),
        ])),
    }
}

fn word_query(f: &Fields, word: &Word) -> Box<dyn Query> {
    let folded = union(
        folded_fields(f)
            .into_iter()
            .map(|(field, by)| {
                let term = Term::from_field_text(field, &word.folded);
                boost(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    by,
                )
            })
            .collect(),
    );
    let exact = word.has_diacritics().then(|| {
        union(
            exact_fields(f)
                .into_iter()
                .map(|field| -> Box<dyn Query> {
                    let term = Term::from_field_text(field, &word.exact);
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
                })
                .collect(),
        )
    });
    with_exact_tier(folded, exact, EXACT_TIER)
}

fn phrase(field: Field, words: &[Word], spelling: fn(&Word) -> &str) -> Box<dyn Query> {
    Box::new(PhraseQuery::new_with_offset(
        words
            .iter()
            .map(|word| (word.offset, Term::from_field_text(field, spelling(word))))
            .collect(),
    ))
}

fn phrase_query(f: &Fields, words: &[Word]) -> Box<dyn Query> {
    let folded = union(
        folded_fields(f)
            .into_iter()
            .map(|(field, by)| boost(phrase(field, words, |w| &w.folded), by))
            .collect(),
    );
    let with_diacritics = words.iter().filter(|w| w.has_diacritics()).count();
    let exact = (with_diacritics > 0).then(|| {
        union(
            exact_fields(f)
                .into_iter()
                .map(|field| phrase(field, words, |w| &w.exact))
                .collect(),
        )
    });
    with_exact_tier(folded, exact, EXACT_TIER * with_diacritics as f32)
}

/// Documents `viewer` may see: (not classified AND agency ∈ viewer's agencies) OR
/// viewer ∈ readers.
pub(crate) fn visible_to(f: &Fields, viewer: &Viewer) -> Box<dyn Query> {
    let mut either: Vec<Box<dyn Query>> = Vec::with_capacity(2);
    if !viewer.agencies.is_empty() {
        let agencies = TermSetQuery::new(
            viewer
                .agencies
                .iter()
                .map(|agency| Term::from_field_i64(f.agency, *agency)),
        );
        let open = TermQuery::new(
            Term::from_field_bool(f.classified, false),
            IndexRecordOption::Basic,
        );
        either.push(Box::new(BooleanQuery::intersection(vec![
            Box::new(open),
            Box::new(agencies),
        ])));
    }
    either.push(Box::new(TermQuery::new(
        Term::from_field_i64(f.readers, viewer.person_id),
        IndexRecordOption::Basic,
    )));
    union(either)
}

/// The filters of `q` (agency, type, direction, dates), each a query that must match.
pub(crate) fn filters(f: &Fields, q: &SearchQuery) -> Vec<Box<dyn Query>> {
    let mut out: Vec<Box<dyn Query>> = Vec::new();
    let term =
        |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
    if let Some(agency) = q.agency {
        out.push(term(Term::from_field_i64(f.agency, agency)));
    }
    // An empty value (an unselected form field) filters nothing.
    let wanted = |value: &Option<String>| value.as_deref().map(keyword).filter(|v| !v.is_empty());
    if let Some(doc_type) = wanted(&q.doc_type) {
        out.push(term(Term::from_field_text(f.doc_type, &doc_type)));
    }
    if let Some(direction) = wanted(&q.direction) {
        out.push(term(Term::from_field_text(f.direction, &direction)));
    }
    match (q.from, q.to) {
        (None, None) => {}
        (Some(from), Some(to)) if from > to => out.push(Box::new(EmptyQuery)),
        (from, to) => {
            let bound = |day: Option<chrono::NaiveDate>| match day {
                Some(day) => Bound::Included(Term::from_field_i64(f.issued, day_number(day))),
                None => Bound::Unbounded,
            };
            out.push(Box::new(RangeQuery::new(bound(from), bound(to))));
        }
    }
    out
}

/// Everything together: the ranking query (or all documents) restricted by the viewer's
/// permissions and the filters, which add nothing to the score.
pub(crate) fn full_query(
    f: &Fields,
    ranking: Option<Box<dyn Query>>,
    viewer: &Viewer,
    q: &SearchQuery,
) -> Box<dyn Query> {
    let mut all: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, ranking.unwrap_or_else(|| Box::new(AllQuery)))];
    all.push((
        Occur::Must,
        Box::new(ConstScoreQuery::new(visible_to(f, viewer), 0.0)),
    ));
    for filter in filters(f, q) {
        all.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
    }
    Box::new(BooleanQuery::new(all))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(clause: &Clause) -> Vec<(usize, &str, &str)> {
        let list = match clause {
            Clause::Word(w) => std::slice::from_ref(w),
            Clause::Phrase(ws) => ws.as_slice(),
        };
        list.iter()
            .map(|w| (w.offset, w.exact.as_str(), w.folded.as_str()))
            .collect()
    }

    #[test]
    fn words_and_phrases() {
        let p = Parsed::parse("Quyết định \"kế hoạch chuyển đổi số\" dong");
        let shapes: Vec<_> = p.clauses.iter().map(words).collect();
        assert_eq!(
            shapes,
            vec![
                vec![(0, "quyết", "quyet")],
                vec![(0, "định", "dinh")],
                vec![
                    (0, "kế", "ke"),
                    (1, "hoạch", "hoach"),
                    (2, "chuyển", "chuyen"),
                    (3, "đổi", "doi"),
                    (4, "số", "so")
                ],
                vec![(0, "dong", "dong")],
            ]
        );
    }

    #[test]
    fn bad_syntax_becomes_plain_words() {
        for text in [
            "quyết định AND (",
            "\"quyết định",
            "quyết: định*",
            "(quyết OR định) NOT",
            "quyết \"\" định \"",
            "“quyết định",
        ] {
            let p = Parsed::parse(text);
            let shapes: Vec<_> = p.clauses.iter().map(words).collect();
            assert_eq!(
                shapes,
                vec![vec![(0, "quyết", "quyet")], vec![(0, "định", "dinh")]],
                "{text}"
            );
        }
    }

    #[test]
    fn nothing_searchable() {
        for text in ["", "   ", "*", ":", "\"", "AND ( )", "\"\""] {
            assert!(Parsed::parse(text).clauses.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn long_texts_are_cut() {
        let words: Vec<String> = (0..100).map(|i| format!("từ{i}")).collect();
        let plain = Parsed::parse(&words.join(" "));
        assert_eq!(plain.clauses.len(), MAX_CLAUSES);
        assert_eq!(plain.symbol_key, None);
        let quoted = Parsed::parse(&format!("\"{}\"", words.join(" ")));
        assert!(matches!(&quoted.clauses[..], [Clause::Phrase(w)] if w.len() == MAX_CLAUSES));
    }

    #[test]
    fn duplicate_words_count_once() {
        assert_eq!(Parsed::parse("số số Số").clauses.len(), 1);
    }

    #[test]
    fn symbol_key_of_the_whole_text() {
        assert_eq!(
            Parsed::parse("12/QĐ-UBND").symbol_key.as_deref(),
            Some("12/qd-ubnd")
        );
        assert_eq!(
            Parsed::parse("\"12/QD - UBND\"").symbol_key.as_deref(),
            Some("12/qd-ubnd")
        );
        assert_eq!(Parsed::parse("* :").symbol_key, None);
    }

    #[test]
    fn words_for_highlighting() {
        let p = Parsed::parse("đồng \"đồng chí\" dong");
        let exact: Vec<&str> = p.words().iter().map(|w| w.exact.as_str()).collect();
        assert_eq!(exact, ["đồng", "chí", "dong"]);
    }
}

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
    RangeQuery, TermQuery,
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

    /// The one word typed, when that is all the query is.
    pub(crate) fn single_word(&self) -> Option<&Word> {
        match self.clauses.as_slice() {
            [Clause::Word(word)] => Some(word),
            _ => None,
        }
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
            Some(key) => union(vec![
                text,
                Box::new(ConstScoreQuery::new(
                    symbol_is(f, key).to_query(),
                    SYMBOL_TIER,
                )),
            ]),
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

/// The word in any spelling, in the four folded fields, scored by BM25 with the
/// fields' boosts: a union of term queries (which tantivy can prune; see `top`).
pub(crate) fn folded_union(f: &Fields, word: &Word) -> Box<dyn Query> {
    union(
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
    )
}

/// The word with the diacritics it was typed with, in any of the exact fields.
pub(crate) fn exact_spelling(f: &Fields, word: &Word) -> Condition {
    Condition::Any(
        exact_fields(f)
            .into_iter()
            .map(|field| Condition::Term(Term::from_field_text(field, &word.exact)))
            .collect(),
    )
}

/// Documents whose symbol key is `key`.
pub(crate) fn symbol_is(f: &Fields, key: &str) -> Condition {
    Condition::Term(Term::from_field_text(f.symbol_key, key))
}

fn word_query(f: &Fields, word: &Word) -> Box<dyn Query> {
    let exact = word
        .has_diacritics()
        .then(|| exact_spelling(f, word).to_query());
    with_exact_tier(folded_union(f, word), exact, EXACT_TIER)
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

/// A yes-or-no condition on documents (permissions, filters, a spelling), kept as data
/// so that it can become a tantivy query or be checked one document at a time (see
/// `top`).
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    /// The document has this term.
    Term(Term),
    /// The document's `issued` day is within the bounds.
    IssuedBetween(Bound<Term>, Bound<Term>),
    /// No document.
    Nothing,
    Any(Vec<Condition>),
    All(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub(crate) fn to_query(&self) -> Box<dyn Query> {
        match self {
            Condition::Term(term) => {
                Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic))
            }
            Condition::IssuedBetween(from, to) => {
                Box::new(RangeQuery::new(from.clone(), to.clone()))
            }
            Condition::Nothing => Box::new(EmptyQuery),
            Condition::Any(any) => union(any.iter().map(Condition::to_query).collect()),
            Condition::All(all) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = all
                    .iter()
                    .map(|c| match c {
                        Condition::Not(not) => (Occur::MustNot, not.to_query()),
                        c => (Occur::Must, c.to_query()),
                    })
                    .collect();
                // Exclusions alone match nothing in tantivy: start from everything.
                if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Condition::Not(not) => Condition::All(vec![Condition::Not(not.clone())]).to_query(),
        }
    }
}

/// Documents `viewer` may see: unclassified ones of the viewer's agencies, and those the
/// viewer is a reader of.
pub(crate) fn visible_to(f: &Fields, viewer: &Viewer) -> Condition {
    let mut either: Vec<Condition> = viewer
        .agencies
        .iter()
        .map(|agency| Condition::Term(Term::from_field_i64(f.visible_in, *agency)))
        .collect();
    either.push(Condition::Term(Term::from_field_i64(
        f.readers,
        viewer.person_id,
    )));
    Condition::Any(either)
}

/// The filters of `q` (agency, type, direction, dates), each a condition that must hold.
pub(crate) fn filters(f: &Fields, q: &SearchQuery) -> Vec<Condition> {
    let mut out: Vec<Condition> = Vec::new();
    if let Some(agency) = q.agency {
        out.push(Condition::Term(Term::from_field_i64(f.agency, agency)));
    }
    // An empty value (an unselected form field) filters nothing.
    let wanted = |value: &Option<String>| value.as_deref().map(keyword).filter(|v| !v.is_empty());
    if let Some(doc_type) = wanted(&q.doc_type) {
        out.push(Condition::Term(Term::from_field_text(
            f.doc_type, &doc_type,
        )));
    }
    if let Some(direction) = wanted(&q.direction) {
        out.push(Condition::Term(Term::from_field_text(
            f.direction,
            &direction,
        )));
    }
    match (q.from, q.to) {
        (None, None) => {}
        (Some(from), Some(to)) if from > to => out.push(Condition::Nothing),
        (from, to) => {
            let bound = |day: Option<chrono::NaiveDate>| match day {
                Some(day) => Bound::Included(Term::from_field_i64(f.issued, day_number(day))),
                None => Bound::Unbounded,
            };
            out.push(Condition::IssuedBetween(bound(from), bound(to)));
        }
    }
    out
}

/// What the viewer may see and the filters let through, together.
pub(crate) fn allowed(f: &Fields, viewer: &Viewer, q: &SearchQuery) -> Condition {
    let mut all = vec![visible_to(f, viewer)];
    all.extend(filters(f, q));
    Condition::All(all)
}

/// Everything together: the ranking query (or all documents) restricted by what is
/// allowed, which adds nothing to the score.
pub(crate) fn full_query(ranking: Option<Box<dyn Query>>, allowed: &Condition) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, ranking.unwrap_or_else(|| Box::new(AllQuery))),
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(allowed.to_query(), 0.0)),
        ),
    ]))
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

//! The best page for a one-word search, without scoring every match.
//!
//! A common word matches a large share of the documents ("thông" is in one of ten), and
//! scoring all of them is what made such a search slow. For one word the score is a
//! sum of BM25 terms plus constant tiers (symbol, exact spelling; see [`crate::query`]),
//! so the page can be built tier by tier, strongest first: the few symbol matches
//! scored in full, then the documents with the exact spelling, then the rest. Within a
//! tier the ranking is a plain union of term queries, which tantivy can evaluate with
//! block-max WAND: whole blocks of postings whose best possible score cannot beat the
//! page's current last hit are skipped. Permissions and filters are checked only on the
//! documents WAND proposes.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, EnableScoring, Occur, Query, Scorer, Weight};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TantivyError, TERMINATED,
};

use crate::query::{exact_spelling, folded_union, symbol_is, Condition, Word, EXACT_TIER};
use crate::schema::Fields;

/// A hit of the page being built: ordered by score, then by address (earlier first,
/// as tantivy's own collector breaks ties).
#[derive(Clone, Copy, PartialEq)]
struct Ranked(Score, Reverse<DocAddress>);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// The `n` best documents for `ranking` among those `allowed` admits, best first.
///
/// `ranking` must be a union of term queries for the pruning to apply (anything else
/// is still correct, only slower).
pub(crate) fn best_matching(
    searcher: &Searcher,
    ranking: &dyn Query,
    allowed: &Condition,
    n: usize,
) -> Result<Vec<(Score, DocAddress)>, TantivyError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let ranking = ranking.weight(EnableScoring::enabled_from_searcher(searcher))?;
    // The n best so far, worst on top.
    let mut best: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(n + 1);
    let threshold = |best: &BinaryHeap<Reverse<Ranked>>| match best.peek() {
        Some(Reverse(Ranked(score, _))) if best.len() == n => *score,
        _ => Score::MIN,
    };
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut check = Check::new(searcher, reader, allowed)?;
        let mut failed = None;
        ranking.for_each_pruning(threshold(&best), reader, &mut |doc: DocId, score: Score| {
            let alive = reader
                .alive_bitset()
                .is_none_or(|alive| alive.is_alive(doc));
            if failed.is_none() && alive {
                match check.admits(doc) {
                    Ok(true) => {
                        let at = DocAddress::new(ord as u32, doc);
                        best.push(Reverse(Ranked(score, Reverse(at))));
                        if best.len() > n {
                            best.pop();
                        }
                    }
                    Ok(false) => {}
                    Err(e) => failed = Some(e),
                }
            }
            threshold(&best)
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
    }
    let mut out: Vec<(Score, DocAddress)> = best
        .into_iter()
        .map(|Reverse(Ranked(score, Reverse(at)))| (score, at))
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(out)
}

/// A [`Condition`] checked one document at a time in one segment. Each term's (or
/// range's) postings are only walked forward: WAND proposes documents in increasing
/// order. (Evaluated as a tantivy query instead, the unions would fill their buffers
/// window by window for every document asked about, which cost more than the ranking.)
enum Check<'a> {
    Postings {
        weight: Box<dyn Weight>,
        reader: &'a SegmentReader,
        docs: Box<dyn Scorer>,
    },
    Never,
    Any(Vec<Check<'a>>),
    All(Vec<Check<'a>>),
    Not(Box<Check<'a>>),
}

impl<'a> Check<'a> {
    fn new(
        searcher: &Searcher,
        reader: &'a SegmentReader,
        condition: &Condition,
    ) -> Result<Check<'a>, TantivyError> {
        let many = |conditions: &[Condition]| -> Result<Vec<Check<'a>>, TantivyError> {
            conditions
                .iter()
                .map(|c| Check::new(searcher, reader, c))
                .collect()
        };
        Ok(match condition {
            Condition::Term(_) | Condition::IssuedBetween(..) => {
                let weight = condition
                    .to_query()
                    .weight(EnableScoring::disabled_from_searcher(searcher))?;
                let docs = weight.scorer(reader, 1.0)?;
                Check::Postings {
                    weight,
                    reader,
                    docs,
                }
            }
            Condition::Nothing => Check::Never,
            Condition::Any(any) => Check::Any(many(any)?),
            Condition::All(all) => Check::All(many(all)?),
            Condition::Not(not) => Check::Not(Box::new(Check::new(searcher, reader, not)?)),
        })
    }

    fn admits(&mut self, doc: DocId) -> Result<bool, TantivyError> {
        match self {
            Check::Postings {
                weight,
                reader,
                docs,
            } => {
                if docs.doc() != TERMINATED && docs.doc() > doc {
                    // Asked about an earlier document: start again rather than guess.
                    *docs = weight.scorer(reader, 1.0)?;
                }
                let at = if docs.doc() < doc {
                    docs.seek(doc)
                } else {
                    docs.doc()
                };
                Ok(at == doc)
            }
            Check::Never => Ok(false),
            Check::Any(any) => {
                for check in any {
                    if check.admits(doc)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Check::All(all) => {
                for check in all {
                    if !check.admits(doc)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Check::Not(not) => Ok(!not.admits(doc)?),
        }
    }
}

/// The first `n` hits of a one-word search, tier by tier. `full` is the whole query as
/// [`crate::query::full_query`] builds it from the same `allowed` condition.
pub(crate) fn one_word_page(
    searcher: &Searcher,
    f: &Fields,
    word: &Word,
    symbol_key: Option<&str>,
    full: &dyn Query,
    allowed: &Condition,
    n: usize,
) -> Result<Vec<(Score, DocAddress)>, TantivyError> {
    let mut page: Vec<(Score, DocAddress)> = Vec::new();
    let symbol = symbol_key.map(|key| symbol_is(f, key));
    // 1. The text is a document's symbol: few documents, scored in full.
    if let Some(symbol) = &symbol {
        let q = BooleanQuery::new(vec![
            (Occur::Must, full.box_clone()),
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(symbol.to_query(), 0.0)),
            ),
        ]);
        page = searcher.search(&q, &TopDocs::with_limit(n).order_by_score())?;
    }
    // 2. Written with the same diacritics, then 3. the other spellings.
    let tier = |extra: Option<Condition>| {
        let mut all = vec![allowed.clone()];
        all.extend(extra);
        all.extend(symbol.clone().map(|s| Condition::Not(Box::new(s))));
        Condition::All(all)
    };
    let tiers = if word.has_diacritics() {
        let exact = exact_spelling(f, word);
        vec![
            (tier(Some(exact.clone())), EXACT_TIER),
            (tier(Some(Condition::Not(Box::new(exact)))), 0.0),
        ]
    } else {
        vec![(tier(None), 0.0)]
    };
    let ranking = folded_union(f, word);
    for (condition, bonus) in tiers {
        if page.len() >= n {
            break;
        }
        let found = best_matching(searcher, ranking.as_ref(), &condition, n - page.len())?;
        page.extend(found.into_iter().map(|(score, at)| (score + bonus, at)));
    }
    Ok(page)
}

//! The index: one writer behind a lock, one reader reloaded after each commit.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    TantivyError, Term,
};

use crate::highlight::Highlighter;
use crate::query::{self, full_query, Parsed};
use crate::schema::{Fields, ISSUED, LAYOUT_VERSION};
use crate::top;
use crate::{analysis, Hit, Query, Results, SearchDoc, SearchError, Viewer, MAX_LIMIT, MAX_OFFSET};

/// Indexing memory budget (one indexing thread): segments are flushed past it.
const WRITER_MEMORY_BYTES: usize = 50_000_000;

/// The document search index.
///
/// Writes are serialised by an internal lock, committed before they return, and the reader
/// is reloaded right after the commit, so a search started after a write returns sees it
/// (well within the one second the product promises). Searches never wait for writes.
///
/// Layout on disk: `<dir>/v2/` holds a tantivy index. Fields (all text indexed with
/// positions):
///
/// | field | content | analyzer | stored |
/// |---|---|---|---|
/// | `id` | document id (i64, fast) | — | yes |
/// | `agency` | owning agency (i64) | — | no |
/// | `visible_in`, `readers` | the agency of an unclassified document; people granted | — | no |
/// | `doc_type`, `direction` | filter keywords | raw | no |
/// | `issued` | days since 0001-01-01 (i64, fast) | — | no |
/// | `title`, `body`, `issuer`, `symbol` | text | folded | title, body, symbol |
/// | `title_exact`, `body_exact`, `issuer_exact` | text | exact | no |
/// | `symbol_key` | symbol lowercased, folded, without spaces | raw | no |
///
/// Only one process may open a folder at a time (tantivy's writer lock).
pub struct SearchIndex {
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

impl SearchIndex {
    /// Opens the index kept under `dir`, creating it (and `dir`) if needed.
    ///
    /// The index lives in a subfolder named after the layout version; after an upgrade
    /// that changes the layout, the new subfolder starts empty: check
    /// [`SearchIndex::num_docs`] and [`SearchIndex::rebuild`]. Old subfolders may be
    /// deleted.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let path = dir.join(LAYOUT_VERSION);
        std::fs::create_dir_all(&path).map_err(|source| SearchError::Folder {
            path: path.clone(),
            source,
        })?;
        let directory = MmapDirectory::open(&path).map_err(TantivyError::from)?;
        let (schema, fields) = Fields::schema();
        let index = Index::open_or_create(directory, schema)?;
        SearchIndex::with_index(index, fields)
    }

    /// An index in memory, for tests and demos.
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = Fields::schema();
        SearchIndex::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<SearchIndex, SearchError> {
        analysis::register(&index);
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            fields,
            reader,
            writer: Mutex::new(writer),
        })
    }

    /// Adds documents, replacing any indexed document with the same id; searchable when
    /// this returns. On error nothing of the batch is applied.
    pub fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        self.write(|writer| {
            for doc in docs {
                self.add(writer, doc)?;
            }
            Ok(())
        })
    }

    /// Removes the document `id` (nothing happens if it is not indexed).
    pub fn delete(&self, id: i64) -> Result<(), SearchError> {
        self.write(|writer| {
            writer.delete_term(Term::from_field_i64(self.fields.id, id));
            Ok(())
        })
    }

    /// Replaces the whole index with `docs`, in one commit: searches see the old index
    /// until the new one is complete, and the old one stays if this fails. Returns the
    /// number of documents read.
    pub fn rebuild(&self, docs: impl IntoIterator<Item = SearchDoc>) -> Result<usize, SearchError> {
        self.write(|writer| {
            writer.delete_all_documents()?;
            let mut count = 0;
            for doc in docs {
                self.add(writer, &doc)?;
                count += 1;
            }
            Ok(count)
        })
    }

    /// Number of documents in the index (all of them, whatever the permissions).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Searches the documents `viewer` may see. Never fails on what was typed.
    pub fn search(&self, viewer: &Viewer, q: &Query) -> Result<Results, SearchError> {
        let parsed = Parsed::parse(&q.text);
        let ranking = parsed.to_query(&self.fields);
        let ranked = ranking.is_some();
        let allowed = query::allowed(&self.fields, viewer, q);
        let query = full_query(ranking, &allowed);
        let searcher = self.reader.searcher();

        let limit = q.limit.min(MAX_LIMIT);
        if limit == 0 {
            let total = searcher.search(query.as_ref(), &Count)?;
            return Ok(Results {
                hits: Vec::new(),
                total,
            });
        }
        let offset = q.offset.min(MAX_OFFSET);
        // Counting needs no scores, so it is a separate, cheap pass; the page is
        // then ranked without having to score every match.
        let total = searcher.search(query.as_ref(), &Count)?;
        let found: Vec<(f32, DocAddress)> = match parsed.single_word() {
            Some(word) => {
                let mut page = top::one_word_page(
                    &searcher,
                    &self.fields,
                    word,
                    parsed.symbol_key.as_deref(),
                    query.as_ref(),
                    &allowed,
                    offset + limit,
                )?;
                page.drain(..offset.min(page.len()));
                page
            }
            None if ranked => searcher.search(
                query.as_ref(),
                &TopDocs::with_limit(limit)
                    .and_offset(offset)
                    .order_by_score(),
            )?,
            None => searcher
                .search(
                    query.as_ref(),
                    &TopDocs::with_limit(limit)
                        .and_offset(offset)
                        .order_by_fast_field::<i64>(ISSUED, Order::Desc),
                )?
                .into_iter()
                .map(|(_, at)| (0.0, at))
                .collect(),
        };

        let highlighter = Highlighter::new(&searcher, &self.fields, &parsed.words())?;
        let hits = found
            .into_iter()
            .map(|(score, at)| self.hit(&searcher, &highlighter, score, at))
            .collect::<Result<Vec<Hit>, SearchError>>()?;
        Ok(Results { hits, total })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        highlighter: &Highlighter,
        score: f32,
        at: DocAddress,
    ) -> Result<Hit, SearchError> {
        let doc: TantivyDocument = searcher.doc(at)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|value| value.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let id = doc
            .get_first(self.fields.id)
            .and_then(|value| value.as_i64())
            .ok_or_else(|| TantivyError::InternalError("indexed document without id".into()))?;
        let title = text(self.fields.title);
        let body = text(self.fields.body);
        Ok(Hit {
            id,
            highlight: highlighter.highlight(&title, &body),
            title,
            symbol: text(self.fields.symbol),
            score,
        })
    }

    fn add(&self, writer: &IndexWriter, doc: &SearchDoc) -> Result<(), SearchError> {
        writer.delete_term(Term::from_field_i64(self.fields.id, doc.id));
        writer.add_document(self.fields.document(doc))?;
        Ok(())
    }

    /// Runs `ops` then commits and reloads the reader; rolls back if anything fails.
    fn write<R>(
        &self,
        ops: impl FnOnce(&IndexWriter) -> Result<R, SearchError>,
    ) -> Result<R, SearchError> {
        let mut writer = self.lock_writer()?;
        let done = ops(&writer).and_then(|r| {
            writer.commit()?;
            Ok(r)
        });
        match done {
            Ok(r) => {
                self.reader.reload()?;
                Ok(r)
            }
            Err(e) => {
                // The original error is the one worth reporting; a failed rollback
                // resurfaces on the next write.
                let _ = writer.rollback();
                Err(e)
            }
        }
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, IndexWriter>, SearchError> {
        match self.writer.lock() {
            Ok(writer) => Ok(writer),
            Err(poisoned) => {
                // A write panicked half-way: drop whatever it left uncommitted.
                let mut writer = poisoned.into_inner();
                self.writer.clear_poison();
                writer.rollback()?;
                Ok(writer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;

    use super::*;
    use crate::query::{allowed, full_query};

    /// A small deterministic generator (no dependency needed for a test's dice).
    struct Dice(u64);

    impl Dice {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// Several segments, replaced documents (deleted postings), classified documents,
    /// several spellings of one folded word and symbols equal to a word.
    fn generated() -> SearchIndex {
        const WORDS: [&str; 10] = [
            "đồng", "đông", "dòng", "dong", "thông", "thống", "tin", "báo", "kế", "hoạch",
        ];
        let index = SearchIndex::in_memory().unwrap();
        let mut dice = Dice(7);
        for batch in 0..6 {
            let docs: Vec<SearchDoc> = (0..400)
                .map(|i| {
                    let words: Vec<&str> = (0..2 + dice.below(12))
                        .map(|_| WORDS[dice.below(10) as usize])
                        .collect();
                    let classified = dice.below(10) == 0;
                    SearchDoc {
                        // Later batches replace some earlier documents.
                        id: (batch * 300 + i) as i64,
                        agency_id: 1 + dice.below(3) as i64,
                        title: words.join(" "),
                        symbol: if dice.below(40) == 0 {
                            "DONG".into()
                        } else {
                            format!("{i}/CV-UB")
                        },
                        issuer: if dice.below(4) == 0 {
                            "Sở Thông tin".into()
                        } else {
                            "UBND".into()
                        },
                        body: if dice.below(3) == 0 {
                            words.join(" . ")
                        } else {
                            String::new()
                        },
                        classified,
                        readers: if classified {
                            vec![1 + dice.below(3) as i64]
                        } else {
                            vec![]
                        },
                        ..SearchDoc::default()
                    }
                })
                .collect();
            index.upsert(&docs).unwrap();
        }
        index
    }

    #[test]
    fn one_word_pages_rank_as_full_scoring_does() {
        let index = generated();
        let searcher = index.reader.searcher();
        assert!(searcher.segment_readers().len() > 1);
        let viewers = [
            Viewer {
                person_id: 1,
                agencies: vec![1],
            },
            Viewer {
                person_id: 2,
                agencies: vec![2, 3],
            },
            Viewer {
                person_id: 9,
                agencies: vec![],
            },
        ];
        let mut compared = 0;
        for viewer in &viewers {
            for text in ["đồng", "dong", "thông", "thong", "tin", "kế", "absent"] {
                for (offset, limit) in [(0, 20), (7, 5), (0, 200)] {
                    let q = Query {
                        offset,
                        limit,
                        ..Query::text(text)
                    };
                    let parsed = Parsed::parse(text);
                    let allowed = allowed(&index.fields, viewer, &q);
                    let full = full_query(parsed.to_query(&index.fields), &allowed);
                    let expected = searcher
                        .search(
                            full.as_ref(),
                            &TopDocs::with_limit(limit)
                                .and_offset(offset)
                                .order_by_score(),
                        )
                        .unwrap();
                    let found = index.search(viewer, &q).unwrap();
                    let expected_ids: Vec<i64> = expected
                        .iter()
                        .map(|(_, at)| {
                            let doc: TantivyDocument = searcher.doc(*at).unwrap();
                            doc.get_first(index.fields.id)
                                .and_then(|v| v.as_i64())
                                .unwrap()
                        })
                        .collect();
                    let what = format!("{text:?} for {viewer:?}, offset {offset}, limit {limit}");
                    assert_eq!(found.hits.len(), expected.len(), "{what}");
                    compared += found.hits.len();
                    for (i, (hit, (score, _))) in found.hits.iter().zip(&expected).enumerate() {
                        assert!(
                            (hit.score - score).abs() < 1e-3,
                            "{what}: score at {i}: {} vs {score}",
                            hit.score
                        );
                        // Documents of (nearly) the same score may come in either order.
                        let tied = expected
                            .iter()
                            .filter(|(s, _)| (s - score).abs() < 1e-3)
                            .count();
                        if tied == 1 {
                            assert_eq!(hit.id, expected_ids[i], "{what}: hit {i}");
                        }
                    }
                }
            }
        }
        assert!(compared > 1000, "only {compared} hits compared");
    }
}

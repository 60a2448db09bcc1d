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
use crate::query::{full_query, Parsed};
use crate::schema::{Fields, ISSUED, LAYOUT_VERSION};
use crate::{analysis, Hit, Query, Results, SearchDoc, SearchError, Viewer, MAX_LIMIT, MAX_OFFSET};

/// Indexing memory budget (one indexing thread): segments are flushed past it.
const WRITER_MEMORY_BYTES: usize = 50_000_000;

/// The document search index.
///
/// Writes are serialised by an internal lock, committed before they return, and the reader
/// is reloaded right after the commit, so a search started after a write returns sees it
/// (well within the one second the product promises). Searches never wait for writes.
///
/// Layout on disk: `<dir>/v1/` holds a tantivy index. Fields (all text indexed with
/// positions):
///
/// | field | content | analyzer | stored |
/// |---|---|---|---|
/// | `id` | document id (i64, fast) | — | yes |
/// | `agency`, `readers`, `classified` | permission data | — | no |
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
        let query = full_query(&self.fields, ranking, viewer, q);
        let searcher = self.reader.searcher();

        let limit = q.limit.min(MAX_LIMIT);
        if limit == 0 {
            let total = searcher.search(query.as_ref(), &Count)?;
            return Ok(Results {
                hits: Vec::new(),
                total,
            });
        }
        let page = TopDocs::with_limit(limit).and_offset(q.offset.min(MAX_OFFSET));
        let (found, total): (Vec<(f32, DocAddress)>, usize) = if ranked {
            searcher.search(query.as_ref(), &(page.order_by_score(), Count))?
        } else {
            let newest_first = page.order_by_fast_field::<i64>(ISSUED, Order::Desc);
            let (found, total) = searcher.search(query.as_ref(), &(newest_first, Count))?;
            (found.into_iter().map(|(_, at)| (0.0, at)).collect(), total)
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

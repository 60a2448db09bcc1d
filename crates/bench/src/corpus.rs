//! Vietnamese text for generated documents, learnt at run time from the articles in
//! `crates/bench/corpus/*.txt` (copies of `shared/corpus/`, so CI does not depend on it).
//!
//! Subjects (trích yếu) are random walks over the word pairs of the articles, so they
//! read like Vietnamese administrative prose and their word frequencies follow the
//! articles'. The words seen only once in the articles are kept out of the walk and
//! sprinkled into subjects along a Zipf tail instead: a real register has terms found
//! in a handful of documents (names of places, projects, firms), and a corpus made only
//! of the walk would not (every word would be in thousands of documents).
//!
//! Everything is deterministic for a seed ([`Rng`]), so two runs generate the same corpus.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Serialize;

/// Share of subjects that get one word of the tail.
const TAIL_SHARE: f64 = 0.25;
/// Exponent of the tail's Zipf law: with ~400 tail words, the rarest is in about one
/// document in 100,000.
const TAIL_EXPONENT: f64 = 1.6;
/// Words in a subject, besides its opening words.
const SUBJECT_WORDS: (usize, usize) = (8, 20);

/// A small, fast, seedable generator (SplitMix64): the bench needs repeatable data,
/// not cryptographic randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index drawn with the given cumulative weights (ascending, last = total).
    pub fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len().saturating_sub(1))
    }
}

/// Cumulative sums of `weights`, for [`Rng::weighted`].
pub fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    weights
        .into_iter()
        .scan(0.0, |sum, w| {
            *sum += w;
            Some(*sum)
        })
        .collect()
}

/// Splits text into words: maximal runs of letters and digits (as the search index
/// and FTS5's `unicode61` tokenizer do, near enough).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// What was learnt from the articles.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusStats {
    pub files: Vec<String>,
    /// Words read (letters only), and distinct ones (lowercased).
    pub tokens: usize,
    pub vocabulary: usize,
    /// Words seen once, used as the rare tail.
    pub tail_words: usize,
}

/// A word-pair model of the articles, and the tail of rare words.
pub struct Corpus {
    /// Words as written (case kept) that the walk goes through.
    forms: Vec<String>,
    /// Successors of each form in the articles, repeated as often as seen.
    next: Vec<Vec<u32>>,
    /// Every form of the walk in article order: a subject starts anywhere.
    stream: Vec<u32>,
    /// The tail: lowercased words, most frequent first, and their cumulative weights.
    tail: Vec<String>,
    tail_weights: Vec<f64>,
    pub stats: CorpusStats,
}

impl Corpus {
    /// Reads every `*.txt` of `dir` (UTF-8).
    pub fn load(dir: &Path, seed: u64) -> anyhow::Result<Corpus> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "txt") {
                files.push(path);
            }
        }
        files.sort();
        let mut texts = Vec::new();
        for f in &files {
            texts.push(
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            );
        }
        let names = files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        Corpus::from_texts(names, &texts, seed)
    }

    pub fn from_texts(files: Vec<String>, texts: &[String], seed: u64) -> anyhow::Result<Corpus> {
        // Words with letters only: numbers and dates of the articles would make
        // subjects nobody writes.
        let articles: Vec<Vec<&str>> = texts
            .iter()
            .map(|t| {
                words(t)
                    .filter(|w| w.chars().all(char::is_alphabetic))
                    .collect()
            })
            .collect();
        let mut counts: HashMap<String, u32> = HashMap::new();
        for w in articles.iter().flatten() {
            *counts.entry(w.to_lowercase()).or_default() += 1;
        }
        let tokens = articles.iter().map(Vec::len).sum();
        if counts.len() < 50 {
            bail!(
                "the corpus has {} distinct words; at least 50 are needed",
                counts.len()
            );
        }

        let mut tail: Vec<String> = counts
            .iter()
            .filter(|(w, &n)| n == 1 && w.chars().count() >= 2)
            .map(|(w, _)| w.clone())
            .collect();
        tail.sort();
        // A fixed shuffle: the tail's order (hence each word's rarity) does not follow
        // the alphabet.
        let mut rng = Rng::new(seed ^ 0x7a11);
        for i in (1..tail.len()).rev() {
            tail.swap(i, rng.below(i + 1));
        }
        let tail_weights = cumulative((1..=tail.len()).map(|k| (k as f64).powf(-TAIL_EXPONENT)));

        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut forms: Vec<String> = Vec::new();
        let mut next: Vec<Vec<u32>> = Vec::new();
        let mut stream = Vec::new();
        for article in &articles {
            let mut previous: Option<u32> = None;
            for w in article {
                if counts[&w.to_lowercase()] == 1 && w.chars().count() >= 2 {
                    continue;
                }
                let id = *ids.entry(w).or_insert_with(|| {
                    forms.push((*w).to_owned());
                    next.push(Vec::new());
                    (forms.len() - 1) as u32
                });
                if let Some(p) = previous {
                    next[p as usize].push(id);
                }
                stream.push(id);
                previous = Some(id);
            }
        }
        let stats = CorpusStats {
            files,
            tokens,
            vocabulary: counts.len(),
            tail_words: tail.len(),
        };
        Ok(Corpus {
            forms,
            next,
            stream,
            tail,
            tail_weights,
            stats,
        })
    }

    /// A subject: `opening` (if any), then a walk over the articles' word pairs, with
    /// now and then a word of the rare tail. At most 500 characters.
    pub fn subject(&self, rng: &mut Rng, opening: &str) -> String {
        let (lo, hi) = SUBJECT_WORDS;
        let len = lo + rng.below(hi - lo + 1);
        let mut out: Vec<&str> = Vec::with_capacity(len + 3);
        if !opening.is_empty() {
            out.push(opening);
        }
        let mut at = self.stream[rng.below(self.stream.len())];
        for _ in 0..len {
            out.push(&self.forms[at as usize]);
            let successors = &self.next[at as usize];
            at = if successors.is_empty() {
                self.stream[rng.below(self.stream.len())]
            } else {
                successors[rng.below(successors.len())]
            };
        }
        if !self.tail.is_empty() && rng.chance(TAIL_SHARE) {
            let word = &self.tail[rng.weighted(&self.tail_weights)];
            let place = 1 + rng.below(out.len());
            out.insert(place.min(out.len()), word);
        }
        let mut text = out.join(" ");
        if opening.is_empty() {
            text = capitalised(&text);
        }
        if text.chars().count() > 500 {
            text = text.chars().take(500).collect::<String>().trim().to_owned();
        }
        text
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Document frequencies of the words of the generated documents (lowercased): in how
/// many documents each appears, to pick common and rare search terms. Subjects are
/// counted apart, so that terms are picked from what people write, not from the
/// synthetic agency names (`Sở Thử nghiệm số 12`) of issuers.
#[derive(Default)]
pub struct DocFreq {
    /// Documents whose subject, issuer or symbol has the word.
    all: HashMap<String, u32>,
    /// Documents whose subject has the word.
    subject: HashMap<String, u32>,
    seen: Vec<String>,
}

impl DocFreq {
    /// Counts the words of one document's subject and of its other searchable texts
    /// (issuer, symbol), once each.
    pub fn add(&mut self, subject: &str, others: &[&str]) {
        Self::count(&mut self.seen, &mut self.subject, &[subject]);
        Self::count(
            &mut self.seen,
            &mut self.all,
            &[&[subject], others].concat(),
        );
    }

    fn count(seen: &mut Vec<String>, df: &mut HashMap<String, u32>, texts: &[&str]) {
        seen.clear();
        for t in texts {
            seen.extend(words(t).map(str::to_lowercase));
        }
        seen.sort_unstable();
        seen.dedup();
        for w in seen.drain(..) {
            *df.entry(w).or_default() += 1;
        }
    }

    /// Documents whose subject, issuer or symbol has `word` (lowercased).
    pub fn get(&self, word: &str) -> u32 {
        self.all.get(word).copied().unwrap_or(0)
    }

    /// Subject words a fair comparison can search for: letters only, no `đ` (FTS5's
    /// `remove_diacritics` keeps it while the search index folds it to `d`).
    fn candidates(&self, min_chars: usize) -> impl Iterator<Item = (&String, u32)> {
        self.subject
            .iter()
            .filter(move |(w, _)| {
                w.chars().count() >= min_chars
                    && w.chars().all(char::is_alphabetic)
                    && !w.contains('đ')
            })
            .map(|(w, &n)| (w, n))
    }

    /// The word of the most subjects (of at least 4 letters), and the documents
    /// (subject, issuer or symbol) that have it.
    pub fn common(&self) -> Option<(String, u32)> {
        self.candidates(4)
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(w, _)| (w.clone(), self.get(w)))
    }

    /// A word in about `target` documents (at least one), found only in subjects, that
    /// no other word folds to: both engines fold diacritics, so both should find
    /// exactly its documents.
    pub fn rare(&self, target: u32) -> Option<(String, u32)> {
        let mut folded: HashMap<String, u32> = HashMap::new();
        for w in self.all.keys() {
            *folded
                .entry(lienthong_domain::document::fold(w))
                .or_default() += 1;
        }
        let target = target.max(1);
        self.candidates(3)
            .filter(|(w, n)| self.get(w) == *n && folded[&lienthong_domain::document::fold(w)] == 1)
            .min_by(|a, b| {
                a.1.abs_diff(target)
                    .cmp(&b.1.abs_diff(target))
                    .then_with(|| a.0.cmp(b.0))
            })
            .map(|(w, n)| (w.clone(), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        Corpus::load(&dir, 7).unwrap()
    }

    #[test]
    fn learns_the_bundled_articles() {
        let c = corpus();
        assert_eq!(c.stats.files.len(), 3);
        assert!(c.stats.vocabulary > 500, "{:?}", c.stats);
        assert!(c.stats.tail_words > 100, "{:?}", c.stats);
    }

    #[test]
    fn subjects_are_vietnamese_deterministic_and_valid() {
        let c = corpus();
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        for _ in 0..200 {
            let s = c.subject(&mut a, "V/v");
            assert_eq!(s, c.subject(&mut b, "V/v"));
            assert!(s.starts_with("V/v "));
            assert!(
                lienthong_domain::document::Subject::parse(&s).is_ok(),
                "{s}"
            );
        }
        let s = c.subject(&mut a, "");
        assert!(s.chars().next().unwrap().is_uppercase(), "{s}");
        let text: String = (0..50).map(|_| c.subject(&mut a, "")).collect();
        assert!(
            text.chars()
                .any(|ch| "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ".contains(ch)),
            "{text}"
        );
    }

    #[test]
    fn frequencies_give_a_common_and_a_rare_term() {
        let c = corpus();
        let mut rng = Rng::new(3);
        let mut df = DocFreq::default();
        for _ in 0..20_000 {
            let s = c.subject(&mut rng, "");
            df.add(&s, &["Sở Thử nghiệm số 1", "12/QĐ-STN1"]);
        }
        assert_eq!(df.get("nghiệm"), 20_000);
        assert_ne!(df.common().unwrap().0, "nghiệm", "picked from subjects");
        let (common, n) = df.common().unwrap();
        assert!(n > 2_000, "{common} in {n}");
        let (rare, m) = df.rare(1).unwrap();
        assert!((1..=20).contains(&m), "{rare} in {m}");
        assert_eq!(df.get(&rare), m);
    }

    #[test]
    fn weighted_choice_follows_the_weights() {
        let mut rng = Rng::new(9);
        let cdf = cumulative([1.0, 0.0, 3.0]);
        let mut seen = [0; 3];
        for _ in 0..40_000 {
            seen[rng.weighted(&cdf)] += 1;
        }
        assert_eq!(seen[1], 0);
        assert!((9_000..11_000).contains(&seen[0]), "{seen:?}");
    }
}

//! Vietnamese text analysis: one tokenizer, two spellings of every token.
//!
//! * **exact** (`vi_exact`): lowercased, NFC, with the look-alike `Ð/ð` (U+00D0/U+00F0,
//!   Icelandic eth, a common keyboard slip) read as `Đ/đ`, and the tone mark of the open
//!   syllables `oa`, `oe`, `uy` put on the first vowel (`hoá` → `hóa`, `uỷ` → `ủy`), so the
//!   old and new placement of the same spelling compare equal.
//! * **folded** (`vi_folded`): lowercased, every combining mark removed after NFD, and
//!   `đ/Đ` → `d/D` (NFD does not decompose `đ`). `Quyết định` → `quyet dinh`.
//!
//! Both analyzers share [`WordTokenizer`] and drop the same over-long tokens, so a text
//! yields the same positions in both; query code relies on that to pair the two spellings.

use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Tokenizer name of the "as written" analyzer.
pub(crate) const EXACT: &str = "vi_exact";
/// Tokenizer name of the diacritics-folded analyzer.
pub(crate) const FOLDED: &str = "vi_folded";

/// Longer tokens (base64 debris from attachment extraction…) are not indexed.
const MAX_TOKEN_BYTES: usize = 100;

/// The analyzer for text as written.
pub(crate) fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(CanonicalSpelling)
        .build()
}

/// The analyzer for text with diacritics folded.
pub(crate) fn folded_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(FoldDiacritics)
        .build()
}

/// The analyzer for highlighting: each word twice at the same place, exact spelling then
/// folded (when they differ), so a snippet can mark `đồng` without marking `đông`.
pub(crate) fn both_spellings_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(BothSpellings)
        .build()
}

/// Registers both analyzers on an index (tokenizers are not persisted with it).
pub(crate) fn register(index: &tantivy::Index) {
    index.tokenizers().register(EXACT, exact_analyzer());
    index.tokenizers().register(FOLDED, folded_analyzer());
}

/// `text` with diacritics removed: NFD, combining marks dropped, `đ/Đ` (and the look-alike
/// `ð/Ð`) → `d/D`. Case is kept.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

fn fold_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        return;
    }
    for c in text.nfd() {
        match c {
            'đ' | 'ð' => out.push('d'),
            'Đ' | 'Ð' => out.push('D'),
            c if is_combining_mark(c) => {}
            c => out.push(c),
        }
    }
}

/// The exact spelling of one token: NFC, eth read as đ, canonical tone placement.
fn canonical_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        return;
    }
    let mut chars: Vec<char> = text
        .nfc()
        .map(|c| match c {
            'ð' => 'đ',
            'Ð' => 'Đ',
            c => c,
        })
        .collect();
    place_tone_on_first_vowel(&mut chars);
    out.extend(chars);
}

/// The five tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters.
const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// Splits a precomposed letter into its base (with circumflex, breve or horn kept) and
/// its tone mark, if any.
fn split_tone(c: char) -> (char, Option<char>) {
    let mut tone = None;
    let mut base = String::new();
    for d in std::iter::once(c).nfd() {
        if TONE_MARKS.contains(&d) {
            tone = Some(d);
        } else {
            base.push(d);
        }
    }
    let mut composed = base.nfc();
    match (composed.next(), composed.next()) {
        (Some(b), None) => (b, tone),
        _ => (c, None),
    }
}

fn with_tone(base: char, tone: char) -> char {
    let mut composed = [base, tone].into_iter().nfc();
    match (composed.next(), composed.next()) {
        (Some(c), None) => c,
        _ => base,
    }
}

fn is_vowel(c: char) -> bool {
    let mut folded = String::new();
    fold_into(c.to_string().as_str(), &mut folded);
    matches!(
        folded.as_str(),
        "a" | "e" | "i" | "o" | "u" | "y" | "A" | "E" | "I" | "O" | "U" | "Y"
    )
}

/// `hoá/hòa`, `khoẻ/khỏe`, `thuỷ/thủy`: two accepted placements of one spelling. A token
/// ending in the open syllable `oa`, `oe` or `uy` (not `qu-y`) gets its tone on the first vowel.
fn place_tone_on_first_vowel(chars: &mut [char]) {
    let n = chars.len();
    if n < 2 {
        return;
    }
    let (first, first_tone) = split_tone(chars[n - 2]);
    let (second, second_tone) = split_tone(chars[n - 1]);
    let pair = [first.to_ascii_lowercase(), second.to_ascii_lowercase()];
    if !matches!(pair, ['o', 'a'] | ['o', 'e'] | ['u', 'y']) {
        return;
    }
    if n >= 3 {
        let before = chars[n - 3];
        if is_vowel(before) || (pair[0] == 'u' && matches!(before, 'q' | 'Q')) {
            return;
        }
    }
    if let (None, Some(tone)) = (first_tone, second_tone) {
        chars[n - 2] = with_tone(first, tone);
        chars[n - 1] = second;
    }
}

/// Splits text into words: a word starts with a letter or digit and goes on through
/// letters, digits and combining marks (so text typed in decomposed form, with the
/// accents as separate code points, still makes whole words). Everything else separates.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

/// The token stream of [`WordTokenizer`].
pub struct WordTokenStream<'a> {
    text: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        self.token.reset();
        WordTokenStream {
            text,
            chars: text.char_indices().peekable(),
            token: &mut self.token,
        }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        let start = loop {
            match self.chars.next() {
                Some((offset, c)) if c.is_alphanumeric() => break offset,
                Some(_) => {}
                None => return false,
            }
        };
        let mut end = self.text.len();
        while let Some(&(offset, c)) = self.chars.peek() {
            if c.is_alphanumeric() || is_combining_mark(c) {
                self.chars.next();
            } else {
                end = offset;
                break;
            }
        }
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.text.push_str(&self.text[start..end]);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Token filter folding Vietnamese diacritics: `Quyết định` → `quyet dinh`,
/// `Đông` → `Dong`. See [`fold`].
#[derive(Clone, Copy)]
pub struct FoldDiacritics;

impl TokenFilter for FoldDiacritics {
    type Tokenizer<T: Tokenizer> = MapText<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MapText<T> {
        MapText {
            inner: tokenizer,
            map: fold_into,
        }
    }
}

/// Token filter giving the canonical exact spelling: NFC, `ð` → `đ`, tone of open
/// `oa/oe/uy` on the first vowel.
#[derive(Clone, Copy)]
pub struct CanonicalSpelling;

impl TokenFilter for CanonicalSpelling {
    type Tokenizer<T: Tokenizer> = MapText<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MapText<T> {
        MapText {
            inner: tokenizer,
            map: canonical_into,
        }
    }
}

/// Token filter emitting each token in its exact spelling, then (when different) folded,
/// at the same position and offsets. For highlighting only, never for indexing.
#[derive(Clone, Copy)]
pub struct BothSpellings;

impl TokenFilter for BothSpellings {
    type Tokenizer<T: Tokenizer> = BothSpellingsFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> BothSpellingsFilter<T> {
        BothSpellingsFilter { inner: tokenizer }
    }
}

/// The tokenizer made by [`BothSpellings`].
#[derive(Clone)]
pub struct BothSpellingsFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for BothSpellingsFilter<T> {
    type TokenStream<'a> = BothSpellingsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        BothSpellingsStream {
            tail: self.inner.token_stream(text),
            folded: None,
        }
    }
}

/// The token stream of [`BothSpellings`].
pub struct BothSpellingsStream<S> {
    tail: S,
    folded: Option<String>,
}

impl<S: TokenStream> TokenStream for BothSpellingsStream<S> {
    fn advance(&mut self) -> bool {
        if let Some(folded) = self.folded.take() {
            self.tail.token_mut().text = folded;
            return true;
        }
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if !token.text.is_ascii() {
            let mut exact = String::new();
            canonical_into(&token.text, &mut exact);
            let folded = fold(&exact);
            token.text = exact;
            if folded != token.text {
                self.folded = Some(folded);
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// A tokenizer whose tokens' text is rewritten by a function (offsets untouched).
#[derive(Clone)]
pub struct MapText<T> {
    inner: T,
    map: fn(&str, &mut String),
}

impl<T: Tokenizer> Tokenizer for MapText<T> {
    type TokenStream<'a> = MapTextStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MapTextStream {
            tail: self.inner.token_stream(text),
            map: self.map,
            buffer: String::new(),
        }
    }
}

/// The token stream of [`MapText`].
pub struct MapTextStream<S> {
    tail: S,
    map: fn(&str, &mut String),
    buffer: String,
}

impl<S: TokenStream> TokenStream for MapTextStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        if !self.tail.token().text.is_ascii() {
            (self.map)(&self.tail.token().text, &mut self.buffer);
            std::mem::swap(&mut self.tail.token_mut().text, &mut self.buffer);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Tokens of `text` through `analyzer`: (position, text).
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push((token.position, token.text.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        tokens(analyzer, text).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Quyết định"), "Quyet dinh");
        assert_eq!(fold("Đông Đức đường"), "Dong Duc duong");
        assert_eq!(
            fold("ƯƠ ươ Ă ă Â â Ê ê Ô ô Ơ ơ"),
            "UO uo A a A a E e O o O o"
        );
        assert_eq!(fold("Ðiện"), "Dien", "eth look-alike");
        assert_eq!(fold("plain ascii 12/QD"), "plain ascii 12/QD");
    }

    #[test]
    fn folded_analyzer_lowercases_and_folds() {
        let mut a = folded_analyzer();
        assert_eq!(
            texts(&mut a, "Quyết định số 12/QĐ-UBND về Chuyển đổi số"),
            ["quyet", "dinh", "so", "12", "qd", "ubnd", "ve", "chuyen", "doi", "so"]
        );
    }

    #[test]
    fn exact_analyzer_keeps_diacritics_lowercased() {
        let mut a = exact_analyzer();
        assert_eq!(texts(&mut a, "Quyết ĐỊNH, Đông"), ["quyết", "định", "đông"]);
    }

    #[test]
    fn decomposed_input_gives_the_same_tokens() {
        let composed = "Quyết định Đồng Nai";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        for mut a in [exact_analyzer(), folded_analyzer()] {
            assert_eq!(texts(&mut a, composed), texts(&mut a, &decomposed));
        }
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Ủy ban «Nhân dân»";
        let mut a = folded_analyzer();
        let mut stream = a.token_stream(text);
        let mut seen = Vec::new();
        while let Some(t) = stream.next() {
            seen.push((t.text.clone(), &text[t.offset_from..t.offset_to]));
        }
        assert_eq!(
            seen,
            [
                ("uy".into(), "Ủy"),
                ("ban".into(), "ban"),
                ("nhan".into(), "Nhân"),
                ("dan".into(), "dân")
            ]
        );
    }

    #[test]
    fn tone_placement_is_canonical() {
        let mut a = exact_analyzer();
        assert_eq!(
            texts(
                &mut a,
                "hoá hóa hoà hòa khoẻ khỏe Tỉnh uỷ Tỉnh ủy thuỷ thủy"
            ),
            [
                "hóa", "hóa", "hòa", "hòa", "khỏe", "khỏe", "tỉnh", "ủy", "tỉnh", "ủy", "thủy",
                "thủy"
            ]
        );
        // Not open oa/oe/uy syllables: untouched.
        assert_eq!(
            texts(&mut a, "quý hoàng ngoài toán khuya"),
            ["quý", "hoàng", "ngoài", "toán", "khuya"]
        );
    }

    #[test]
    fn both_spellings_at_the_same_place() {
        let mut a = both_spellings_analyzer();
        assert_eq!(
            tokens(&mut a, "Đồng UBND hoá"),
            [
                (0, "đồng".to_string()),
                (0, "dong".to_string()),
                (1, "ubnd".to_string()),
                (2, "hóa".to_string()),
                (2, "hoa".to_string())
            ]
        );
    }

    #[test]
    fn eth_is_read_as_d_with_stroke() {
        let mut a = exact_analyzer();
        assert_eq!(texts(&mut a, "Ðiện"), ["điện"]);
    }

    #[test]
    fn punctuation_and_symbols_separate_words() {
        let mut a = folded_analyzer();
        assert_eq!(
            texts(&mut a, "AND ( : * TT&TT \"kế hoạch\""),
            ["and", "tt", "tt", "ke", "hoach"]
        );
    }
}

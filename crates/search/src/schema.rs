//! The index layout: which field holds what, and how a [`SearchDoc`] becomes a tantivy
//! document.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::TantivyDocument;
use unicode_normalization::UnicodeNormalization;

use crate::analysis::{self, EXACT, FOLDED};
use crate::SearchDoc;

/// Bump when the schema or the analyzers change: an index is kept in a folder named after
/// its version, so a new version starts from an empty index that the caller rebuilds.
pub(crate) const LAYOUT_VERSION: &str = "v2";

/// Name of the fast field documents are sorted by when there is no text to rank by.
pub(crate) const ISSUED: &str = "issued";

/// Handles of every field.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub agency: Field,
    pub readers: Field,
    pub visible_in: Field,
    pub doc_type: Field,
    pub direction: Field,
    pub issued: Field,
    pub title: Field,
    pub title_exact: Field,
    pub body: Field,
    pub body_exact: Field,
    pub issuer: Field,
    pub issuer_exact: Field,
    pub symbol: Field,
    pub symbol_key: Field,
}

fn text(tokenizer: &str, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

impl Fields {
    pub(crate) fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let fields = Fields {
            id: b.add_i64_field("id", INDEXED | STORED | FAST),
            agency: b.add_i64_field("agency", INDEXED),
            readers: b.add_i64_field("readers", INDEXED),
            // The agency of an unclassified document, absent on a classified one: the
            // permission filter is then one short posting list per agency of the viewer.
            visible_in: b.add_i64_field("visible_in", INDEXED),
            doc_type: b.add_text_field("doc_type", STRING),
            direction: b.add_text_field("direction", STRING),
            issued: b.add_i64_field(ISSUED, INDEXED | FAST),
            // Folded fields are the stored ones: highlighting re-reads them with the
            // folded analyzer, whose offsets point into the original text.
            title: b.add_text_field("title", text(FOLDED, true)),
            title_exact: b.add_text_field("title_exact", text(EXACT, false)),
            body: b.add_text_field("body", text(FOLDED, true)),
            body_exact: b.add_text_field("body_exact", text(EXACT, false)),
            issuer: b.add_text_field("issuer", text(FOLDED, false)),
            issuer_exact: b.add_text_field("issuer_exact", text(EXACT, false)),
            symbol: b.add_text_field("symbol", text(FOLDED, true)),
            symbol_key: b.add_text_field("symbol_key", STRING),
        };
        (b.build(), fields)
    }

    pub(crate) fn document(&self, doc: &SearchDoc) -> TantivyDocument {
        let mut d = TantivyDocument::new();
        d.add_i64(self.id, doc.id);
        d.add_i64(self.agency, doc.agency_id);
        for reader in &doc.readers {
            d.add_i64(self.readers, *reader);
        }
        if !doc.classified {
            d.add_i64(self.visible_in, doc.agency_id);
        }
        d.add_text(self.doc_type, keyword(&doc.doc_type));
        d.add_text(self.direction, keyword(&doc.direction));
        if let Some(day) = doc.issued_on {
            d.add_i64(self.issued, day_number(day));
        }
        d.add_text(self.title, &doc.title);
        d.add_text(self.title_exact, &doc.title);
        d.add_text(self.body, &doc.body);
        d.add_text(self.body_exact, &doc.body);
        d.add_text(self.issuer, &doc.issuer);
        d.add_text(self.issuer_exact, &doc.issuer);
        d.add_text(self.symbol, &doc.symbol);
        let key = symbol_key(&doc.symbol);
        if !key.is_empty() {
            d.add_text(self.symbol_key, key);
        }
        d
    }
}

/// Filter values (`doc_type`, `direction`) compare after NFC and trimming, nothing more.
pub(crate) fn keyword(value: &str) -> String {
    value.trim().nfc().collect()
}

/// Dates are indexed as days since 0001-01-01 (chrono's `num_days_from_ce`).
pub(crate) fn day_number(day: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(day.num_days_from_ce())
}

/// The exact-match key of a document symbol (số/ký hiệu): lowercased, diacritics folded,
/// spaces removed, every kind of dash read as `-`. `12/QĐ-UBND`, `12/qd – ubnd` → `12/qd-ubnd`.
pub(crate) fn symbol_key(symbol: &str) -> String {
    let cleaned: String = symbol
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            c => c,
        })
        .collect();
    analysis::fold(&cleaned.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_keys_ignore_case_diacritics_spaces_and_dash_kind() {
        assert_eq!(symbol_key("12/QĐ-UBND"), "12/qd-ubnd");
        assert_eq!(symbol_key("12/QD-UBND"), "12/qd-ubnd");
        assert_eq!(symbol_key(" 12 / qđ – ubnd "), "12/qd-ubnd");
        assert_eq!(symbol_key(""), "");
    }
}

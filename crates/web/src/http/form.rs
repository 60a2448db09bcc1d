//! Form helpers shared by every capability: field errors, select options, dates.

use std::collections::HashMap;

use chrono::NaiveDate;
use lienthong_store::time;

/// An `<option>` of a select: its value, the message key of its label, and
/// whether the form being shown had it selected.
pub struct Choice {
    pub value: String,
    pub key: String,
    pub selected: bool,
}

pub fn choices<'a>(
    options: impl IntoIterator<Item = (&'a str, String)>,
    current: &str,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, key)| Choice {
            selected: value == current,
            value: value.to_owned(),
            key,
        })
        .collect()
}

/// Field errors of a form: field name → message key.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(HashMap<&'static str, &'static str>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, key: &'static str) {
        self.0.entry(field).or_insert(key);
    }
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.get(field).copied()
    }
    /// Some error, for answers that report one field at a time (the API).
    pub fn first(&self) -> Option<(&'static str, &'static str)> {
        let mut all: Vec<_> = self.0.iter().map(|(f, k)| (*f, *k)).collect();
        all.sort();
        all.first().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Parses an `<input type="date">` value; empty means "not given".
/// A date field that is neither empty nor a real `YYYY-MM-DD` date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidDate;

pub fn parse_date_field(s: &str) -> Result<Option<NaiveDate>, InvalidDate> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    time::parse_date(s).map(Some).ok_or(InvalidDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_forms() {
        assert_eq!(parse_date_field(""), Ok(None));
        assert_eq!(
            parse_date_field(" 2025-03-01 "),
            Ok(NaiveDate::from_ymd_opt(2025, 3, 1))
        );
        assert_eq!(parse_date_field("2025-02-30"), Err(InvalidDate));
        assert_eq!(parse_date_field("01/03/2025"), Err(InvalidDate));
    }

    #[test]
    fn field_errors_keep_the_first_message() {
        let mut e = FieldErrors::default();
        assert!(e.is_empty());
        e.add("code", "error.org_code");
        e.add("code", "error.code_taken");
        assert_eq!(e.get("code"), Some("error.org_code"));
        assert_eq!(e.get("name"), None);
    }
}

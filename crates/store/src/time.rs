//! Timestamps and dates as stored: fixed-width text that sorts correctly as a string.

use chrono::{DateTime, NaiveDate, Utc};

pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

pub fn now() -> String {
    timestamp(Utc::now())
}

pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Today in Vietnam (UTC+7), the day that validity dates refer to.
pub fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(7)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_sort_as_text() {
        let a = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(timestamp(a), "2026-01-02T03:04:05.000000Z");
        assert!(timestamp(a) < timestamp(b));
        assert_eq!(timestamp(a).len(), timestamp(b).len());
    }

    #[test]
    fn dates_round_trip() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        assert_eq!(date(d), "2025-03-01");
        assert_eq!(parse_date("2025-03-01"), Some(d));
        assert_eq!(parse_date("2025-02-30"), None);
    }
}

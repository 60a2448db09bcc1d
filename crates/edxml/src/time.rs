//! Dates and timestamps as deployed systems send them, and as we write them.
//!
//! Written: dates `yyyy-MM-dd`, timestamps ISO 8601 in Vietnam time (`+07:00`).
//! Read: `2020-10-30`, `30/10/2020`, `2015/09/30`; timestamps with a zone, or
//! `2018/09/28 00:00:00`-style without one, which means Vietnam time.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, SecondsFormat};

/// UTC+7, giờ Việt Nam (no daylight saving).
pub fn vietnam() -> FixedOffset {
    // 7 h is within chrono's ±24 h, so the fallback is never taken.
    FixedOffset::east_opt(7 * 3600).unwrap_or(chrono::Utc.fix())
}

const DATE_FORMATS: [&str; 3] = ["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"];

/// A date in any of the forms seen in deployed packages.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // Some senders put a full timestamp where a date is expected.
    if let Some(ts) = parse_timestamp(s) {
        if s.len() > 10 {
            return Some(ts.date_naive());
        }
    }
    DATE_FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// A timestamp: RFC 3339 / ISO 8601 with a zone, or a local form meaning Vietnam time.
pub fn parse_timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    const LOCAL: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
        "%d/%m/%Y %H:%M:%S%.f",
        "%Y/%m/%d %H:%M",
        "%d/%m/%Y %H:%M",
    ];
    let local = LOCAL
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            DATE_FORMATS
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    local.and_local_timezone(vietnam()).single()
}

pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn format_timestamp(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&vietnam())
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_all_deployed_forms() {
        let d = NaiveDate::from_ymd_opt(2020, 10, 30).unwrap();
        for s in ["2020-10-30", "30/10/2020", "2020/10/30", " 2020-10-30 "] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        assert_eq!(parse_date("2020-10-30T08:00:00+07:00"), Some(d));
        assert_eq!(parse_date("30.10.2020"), None);
        assert_eq!(parse_date("2020-13-01"), None);
    }

    #[test]
    fn timestamps_without_zone_are_vietnam_time() {
        let t = parse_timestamp("2018/09/28 00:00:00").unwrap();
        assert_eq!(t.offset().local_minus_utc(), 7 * 3600);
        assert_eq!(format_timestamp(&t), "2018-09-28T00:00:00+07:00");
        let z = parse_timestamp("2018-09-27T17:00:00Z").unwrap();
        assert_eq!(z, t);
        assert_eq!(format_timestamp(&z), "2018-09-28T00:00:00+07:00");
    }
}

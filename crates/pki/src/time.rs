//! Conversions between OpenSSL's ASN.1 times and chrono.

use chrono::{DateTime, SubsecRound, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::error::ErrorStack;

pub(crate) fn to_asn1(t: DateTime<Utc>) -> Result<Asn1Time, ErrorStack> {
    Asn1Time::from_unix(t.timestamp() as _)
}

pub(crate) fn from_asn1(t: &Asn1TimeRef) -> Result<DateTime<Utc>, ErrorStack> {
    let diff = Asn1Time::from_unix(0)?.diff(t)?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    // ASN.1 times end in year 9999, well inside chrono's range.
    Ok(DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC))
}

/// How a time appears in a message to a person: to the second, in UTC.
pub(crate) fn human(t: &DateTime<Utc>) -> String {
    t.trunc_subsecs(0)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_to_the_second() {
        let t: DateTime<Utc> = "2031-02-03T04:05:06Z".parse().unwrap();
        assert_eq!(from_asn1(&to_asn1(t).unwrap()).unwrap(), t);
        let late: DateTime<Utc> = "2071-12-31T23:59:59Z".parse().unwrap();
        assert_eq!(from_asn1(&to_asn1(late).unwrap()).unwrap(), late);
        assert_eq!(human(&t), "2031-02-03 04:05:06 UTC");
    }
}

//! The few DER encodings that the openssl crate has no builder for: the CRL
//! distribution point of a certificate, the authority key identifier and number of
//! a CRL, and a CRL entry with a reason code.
//!
//! Writing these by hand is a dozen lines, needs no `unsafe` and no second X.509
//! library (rcgen would want the CA key in its own form); OpenSSL parses every
//! value back, so a mistake here fails loudly in the tests rather than silently.

use chrono::{DateTime, Datelike, Utc};

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const ENUMERATED: u8 = 0x0a;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;

/// One tag-length-value, with the length in DER's shortest form.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

/// A non-negative INTEGER from its big-endian magnitude.
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    // A leading 1 bit would make the number negative: DER then wants a zero byte.
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    tlv(INTEGER, &content)
}

/// RFC 5280 §4.1.2.5: UTCTime up to 2049, GeneralizedTime from 2050 on.
fn time(t: DateTime<Utc>) -> Vec<u8> {
    if (1950..2050).contains(&t.year()) {
        tlv(UTC_TIME, t.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        tlv(
            GENERALIZED_TIME,
            t.format("%Y%m%d%H%M%SZ").to_string().as_bytes(),
        )
    }
}

/// `CRLDistributionPoints` with one point, named by one URI (RFC 5280 §4.2.1.13).
pub(crate) fn crl_distribution_points(uri: &str) -> Vec<u8> {
    let general_name = tlv(0x86, uri.as_bytes()); // [6] uniformResourceIdentifier
    let full_name = tlv(0xa0, &general_name); // [0] fullName (GeneralNames)
    let point_name = tlv(0xa0, &full_name); // [0] distributionPoint
    sequence(&[&sequence(&[&point_name])])
}

/// `AuthorityKeyIdentifier` with only its key identifier (RFC 5280 §4.2.1.1).
pub(crate) fn authority_key_identifier(key_id: &[u8]) -> Vec<u8> {
    sequence(&[&tlv(0x80, key_id)]) // [0] keyIdentifier
}

/// One `revokedCertificates` entry of a CRL (RFC 5280 §5.1.2.6, §5.3.1): the
/// reason code is left out when `reason` is `None`, as the RFC asks for
/// "unspecified".
pub(crate) fn revoked_entry(serial: &[u8], at: DateTime<Utc>, reason: Option<u8>) -> Vec<u8> {
    let serial = unsigned_integer(serial);
    let date = time(at);
    match reason {
        None => sequence(&[&serial, &date]),
        Some(code) => {
            // id-ce-cRLReasons 2.5.29.21
            let oid = tlv(OID, &[0x55, 0x1d, 0x15]);
            let value = tlv(OCTET_STRING, &tlv(ENUMERATED, &[code]));
            let extensions = sequence(&[&sequence(&[&oid, &value])]);
            sequence(&[&serial, &date, &extensions])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_short_and_long_forms() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn integers_stay_positive() {
        assert_eq!(unsigned_integer(&[0x7f]), vec![0x02, 1, 0x7f]);
        assert_eq!(unsigned_integer(&[0x80]), vec![0x02, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[0, 0, 5]), vec![0x02, 1, 5]);
        assert_eq!(unsigned_integer(&[]), vec![0x02, 1, 0]);
    }

    #[test]
    fn times_switch_encoding_in_2050() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(time(t("2025-07-01T08:30:00Z"))[0], UTC_TIME);
        assert_eq!(&time(t("2025-07-01T08:30:00Z"))[2..], b"250701083000Z");
        assert_eq!(&time(t("2050-01-01T00:00:00Z"))[2..], b"20500101000000Z");
    }
}

//! Certificate revocation lists (danh sách chứng thư số bị thu hồi, CRL).
//!
//! The openssl crate builds and signs a CRL (`X509CrlBuilder`) but cannot put an
//! extension on an entry, and the reason code is one; the entries are therefore
//! encoded by hand (module `der`) and parsed back by OpenSSL.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use openssl::asn1::{Asn1Object, Asn1OctetString};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKeyRef, Private};
use openssl::x509::{X509Crl, X509CrlBuilder, X509Extension, X509Ref, X509Revoked};
use serde::{Deserialize, Serialize};

use crate::der;
use crate::serial::Serial;
use crate::time;

/// How long a CRL is valid: verifiers refuse it after `nextUpdate`, so the CA must
/// publish a new one within this time (`Ca::write_crl`, e.g. daily from cron).
pub const CRL_VALIDITY: Duration = Duration::days(7);

/// Why a certificate is revoked, with the codes of RFC 5280 §5.3.1. The ones an
/// agency's life leads to are listed; others found in external CRLs are still
/// honoured, only not named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    Unspecified,
    /// The private key was lost or stolen: signatures made before the revocation
    /// date are not trusted either.
    KeyCompromise,
    /// The agency merged into another or moved (sáp nhập, điều chuyển).
    AffiliationChanged,
    /// Replaced by a new certificate, e.g. after a rename (đổi tên).
    Superseded,
    /// The agency was dissolved (giải thể).
    CessationOfOperation,
    /// The agency may no longer sign for the province.
    PrivilegeWithdrawn,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 6] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn,
    ];

    /// The `CRLReason` code.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::PrivilegeWithdrawn => 9,
        }
    }

    pub fn from_code(code: i64) -> Option<RevocationReason> {
        Self::ALL.into_iter().find(|r| i64::from(r.code()) == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key compromise",
            RevocationReason::AffiliationChanged => "affiliation changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation of operation",
            RevocationReason::PrivilegeWithdrawn => "privilege withdrawn",
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Codes after which no signature by the key can be trusted, whenever it was made:
/// keyCompromise, cACompromise, aACompromise.
pub(crate) fn is_compromise(code: i64) -> bool {
    matches!(code, 1 | 2 | 10)
}

/// One revoked certificate as it goes into a CRL.
pub(crate) struct Entry {
    pub serial: Serial,
    pub at: DateTime<Utc>,
    pub reason: RevocationReason,
}

/// Builds and signs a CRL valid from `now` for [`CRL_VALIDITY`].
pub(crate) fn build(
    ca: &X509Ref,
    key: &PKeyRef<Private>,
    number: u64,
    entries: &[Entry],
    now: DateTime<Utc>,
) -> Result<X509Crl, ErrorStack> {
    let mut crl = X509CrlBuilder::new()?;
    crl.set_issuer_name(ca.subject_name())?;
    crl.set_last_update(&*time::to_asn1(now)?)?;
    crl.set_next_update(&*time::to_asn1(now + CRL_VALIDITY)?)?;
    // Both extensions are required by RFC 5280 §5.2 (and by the builder).
    let key_id = ca.subject_key_id().map(|k| k.as_slice()).unwrap_or(&[]);
    crl.append_extension(extension(
        "2.5.29.35",
        &der::authority_key_identifier(key_id),
    )?)?;
    crl.append_extension(extension(
        "2.5.29.20",
        &der::unsigned_integer(&number.to_be_bytes()),
    )?)?;
    for e in entries {
        let reason = match e.reason {
            RevocationReason::Unspecified => None,
            r => Some(r.code()),
        };
        let der = der::revoked_entry(&e.serial.to_bn()?.to_vec(), e.at, reason);
        crl.add_revoked(X509Revoked::from_der(&der)?)?;
    }
    crl.sort()?;
    crl.sign(key, MessageDigest::sha256())?;
    crl.build()
}

pub(crate) fn extension(oid: &str, der: &[u8]) -> Result<X509Extension, ErrorStack> {
    X509Extension::new_from_der(
        &*Asn1Object::from_str(oid)?,
        false,
        &*Asn1OctetString::new_from_bytes(der)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_round_trip() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_code(i64::from(r.code())), Some(r));
        }
        assert_eq!(RevocationReason::from_code(2), None);
        assert!(is_compromise(1));
        assert!(!is_compromise(3));
    }
}

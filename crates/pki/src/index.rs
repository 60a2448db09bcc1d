//! The CA's record of what it issued and revoked (sổ theo dõi chứng thư số),
//! `index.json` in the CA folder.

use chrono::{DateTime, Utc};
use lienthong_domain::OrgCode;
use serde::{Deserialize, Serialize};

use crate::crl::RevocationReason;
use crate::serial::Serial;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Index {
    /// Put in every certificate issued, when set.
    pub crl_url: Option<String>,
    /// The number of the last CRL published; CRL numbers only grow (RFC 5280 §5.2.3).
    pub crl_number: u64,
    pub certificates: Vec<CertificateRecord>,
}

/// One certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    pub serial: Serial,
    pub org: OrgCode,
    pub name: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub revoked: Option<Revocation>,
}

/// When and why a certificate was revoked (thu hồi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: DateTime<Utc>,
    pub reason: RevocationReason,
}

//! Key pairs (cặp khóa) of the CA and of agencies.

use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde::{Deserialize, Serialize};

/// The kind of key to generate. Both are accepted by the national digital signature
/// rules (RSA of 2048 bits or more, or ECDSA over a NIST curve); P-256 signs faster
/// and makes smaller signatures, RSA-3072 is what older verifiers expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Rsa3072,
    P256,
}

impl KeyKind {
    pub fn generate(self) -> Result<PKey<Private>, ErrorStack> {
        match self {
            KeyKind::Rsa3072 => PKey::from_rsa(Rsa::generate(3072)?),
            KeyKind::P256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                PKey::from_ec_key(EcKey::generate(&group)?)
            }
        }
    }
}

//! Certificate serial numbers (số hiệu chứng thư số).

use std::fmt;

use openssl::asn1::{Asn1Integer, Asn1IntegerRef};
use openssl::bn::{BigNum, MsbOption};
use openssl::error::ErrorStack;
use openssl::x509::X509Ref;
use serde::{Deserialize, Serialize};

/// A serial number in upper-case hexadecimal, as `openssl x509 -serial` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Serial(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a serial number is written in hexadecimal, optionally with colons (3F:A2:…)")]
pub struct SerialError;

impl Serial {
    /// 128 random bits, the top one set so every serial has the same length. Random
    /// serials cannot be guessed, which defeats chosen-prefix collisions on the
    /// signature (CA/Browser Forum practice), and need no shared counter.
    pub(crate) fn random() -> Result<Serial, ErrorStack> {
        let mut bn = BigNum::new()?;
        bn.rand(128, MsbOption::ONE, false)?;
        Self::from_bn(&bn)
    }

    /// Reads a serial as typed by a person: case and colons do not matter.
    pub fn parse(input: &str) -> Result<Serial, SerialError> {
        let hex: String = input.trim().chars().filter(|c| *c != ':').collect();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(SerialError);
        }
        let bn = BigNum::from_hex_str(&hex).map_err(|_| SerialError)?;
        Self::from_bn(&bn).map_err(|_| SerialError)
    }

    /// The serial of a certificate.
    pub fn of(cert: &X509Ref) -> Result<Serial, ErrorStack> {
        Self::from_asn1(cert.serial_number())
    }

    pub(crate) fn from_asn1(value: &Asn1IntegerRef) -> Result<Serial, ErrorStack> {
        Self::from_bn(&value.to_bn()?)
    }

    fn from_bn(bn: &BigNum) -> Result<Serial, ErrorStack> {
        Ok(Serial(bn.to_hex_str()?.to_string()))
    }

    pub(crate) fn to_bn(&self) -> Result<BigNum, ErrorStack> {
        BigNum::from_hex_str(&self.0)
    }

    pub(crate) fn to_asn1(&self) -> Result<Asn1Integer, ErrorStack> {
        Asn1Integer::from_bn(&*self.to_bn()?)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Serial {
    type Error = SerialError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Serial> for String {
    fn from(s: Serial) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_serials_have_128_bits_and_differ() {
        let a = Serial::random().unwrap();
        let b = Serial::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn parse_normalises_case_and_colons() {
        let s = Serial::parse("0a:ff:01").unwrap();
        assert_eq!(s.as_str(), "0AFF01");
        assert_eq!(Serial::parse(" AFF01 ").unwrap(), s);
        assert!(Serial::parse("").is_err());
        assert!(Serial::parse("xyz").is_err());
        assert!(Serial::parse("-12").is_err());
    }
}

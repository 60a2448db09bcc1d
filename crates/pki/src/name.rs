//! Reading the agency code (mã định danh) and names out of certificates.

use lienthong_domain::OrgCode;
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509Ref};

/// The agency a certificate belongs to: the org code in the subject's `UID`
/// attribute (OID 0.9.2342.19200300.100.1.1), which is where this CA puts it, or
/// else in its `serialNumber` attribute, where some external CAs put it.
pub fn agency_code_of(cert: &X509Ref) -> Option<OrgCode> {
    uid_code(cert).or_else(|| serial_number_code(cert))
}

pub(crate) fn uid_code(cert: &X509Ref) -> Option<OrgCode> {
    entry(cert.subject_name(), Nid::USERID).and_then(|v| parse_code(&v))
}

pub(crate) fn serial_number_code(cert: &X509Ref) -> Option<OrgCode> {
    entry(cert.subject_name(), Nid::SERIALNUMBER).and_then(|v| parse_code(&v))
}

/// The code alone, or after a label such as `MDDD:000.00.11.H62`: external CAs
/// write a type prefix before identifiers in `serialNumber`.
fn parse_code(value: &str) -> Option<OrgCode> {
    let value = value.trim();
    OrgCode::parse(value).ok().or_else(|| {
        value
            .rsplit_once(':')
            .and_then(|(_, c)| OrgCode::parse(c).ok())
    })
}

/// The first value of an attribute, as UTF-8.
pub(crate) fn entry(name: &X509NameRef, nid: Nid) -> Option<String> {
    let e = name.entries_by_nid(nid).next()?;
    e.data().to_string().ok()
}

/// A name as a person reads it: `CN=Sở Y tế, O=…, C=VN`, most specific first.
pub(crate) fn display(name: &X509NameRef) -> String {
    let mut parts: Vec<String> = name
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect();
    parts.reverse();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_with_or_without_a_label() {
        let code = OrgCode::parse("000.00.11.H62").unwrap();
        assert_eq!(parse_code("000.00.11.H62"), Some(code.clone()));
        assert_eq!(parse_code(" MDDD:000.00.11.H62 "), Some(code));
        assert_eq!(parse_code("MST:0101234567"), None);
        assert_eq!(parse_code(""), None);
    }
}

//! XML-DSig: our signatures verify with ours and with xmlsec1; tampering anywhere is
//! caught by both; xmlsec1's legacy rsa-sha1 and exclusive-C14N signatures verify
//! with ours.

mod common;

use common::*;
use lienthong_edxml::c14n::Method;
use lienthong_edxml::*;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

struct Signed {
    pki: Pki,
    cert: X509,
    xml: Vec<u8>,
}

fn signed_with(key: PKey<Private>) -> Signed {
    let pki = Pki::new();
    let cert = pki.issue("Van phong UBND tinh", &key);
    let xml = sign(&full_package().to_xml().unwrap(), &key, &cert).unwrap();
    Signed { pki, cert, xml }
}

fn check_good(s: &Signed, algorithm: SignatureAlgorithm) {
    let v = verify(&s.xml).unwrap();
    assert_eq!(v.algorithm, algorithm);
    assert_eq!(v.digest, DigestAlgorithm::Sha256);
    assert_eq!(v.certificate.to_der().unwrap(), s.cert.to_der().unwrap());
    // The signed package still reads as the same package.
    assert_eq!(
        Package::parse(&s.xml, &Limits::default()).unwrap(),
        full_package()
    );
    // Read once, the same results.
    let received = Received::read(&s.xml, &Limits::default()).unwrap();
    let once = received.verify().unwrap();
    assert_eq!(once.algorithm, algorithm);
    assert_eq!(once.certificate.to_der().unwrap(), s.cert.to_der().unwrap());
    assert_eq!(
        received.contents().unwrap(),
        Contents::Document(full_package())
    );
    if have_xmlsec1() {
        let o = xmlsec_verify(&s.pki.ca, &s.xml);
        assert!(
            o.status.success(),
            "xmlsec1 rejected our signature: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// One byte changed in the header, in the body, and in an attachment's base64.
fn check_tampering(s: &Signed) {
    let header = replace_once(&s.xml, "SUBJMARK", "SUBJMARX");
    let body = replace_once(&s.xml, "BODYMARK", "BODYMARX");
    // The second attachment's first line: flip one base64 character (still valid).
    let attachment = replace_once(
        &s.xml,
        "\nAAECAwQFBgcICQoLDA0ODxAREhMU",
        "\nAAECAwQFBgcICQoLDA0ODxAREhMV",
    );
    for (what, xml) in [
        ("header", header),
        ("body", body),
        ("attachment", attachment),
    ] {
        assert_eq!(
            verify(&xml).unwrap_err(),
            SignatureError::DigestMismatch,
            "tampered {what}"
        );
        let received = Received::read(&xml, &Limits::default()).unwrap();
        assert_eq!(
            received.verify().unwrap_err(),
            SignatureError::DigestMismatch,
            "tampered {what}, read once"
        );
        if have_xmlsec1() {
            let o = xmlsec_verify(&s.pki.ca, &xml);
            assert!(!o.status.success(), "xmlsec1 accepted a tampered {what}");
        }
    }
}

#[test]
fn rsa_3072_signature_verifies_and_tampering_is_caught() {
    let s = signed_with(rsa_key());
    let text = String::from_utf8(s.xml.clone()).unwrap();
    assert!(text.contains("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"));
    // Placed last in edXMLHeader.
    let sig = text
        .find("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">")
        .unwrap();
    let bus = text.find("</edXML:Bussiness>").unwrap();
    let end = text.find("</edXML:edXMLHeader>").unwrap();
    assert!(bus < sig && sig < end);
    check_good(&s, SignatureAlgorithm::RsaSha256);
    check_tampering(&s);
}

#[test]
fn p256_signature_verifies_and_tampering_is_caught() {
    let s = signed_with(p256_key());
    let text = String::from_utf8(s.xml.clone()).unwrap();
    assert!(text.contains("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"));
    // r||s, 64 bytes, not DER.
    let start = text.find("<SignatureValue>").unwrap() + "<SignatureValue>".len();
    let end = text.find("</SignatureValue>").unwrap();
    let b64: String = text[start..end].split_whitespace().collect();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(raw.len(), 64);
    check_good(&s, SignatureAlgorithm::EcdsaSha256);
    check_tampering(&s);
}

#[test]
fn certificate_of_another_key_is_rejected() {
    let s = signed_with(rsa_key());
    let other = s.pki.issue("Mao danh", &rsa_key());
    let text = String::from_utf8(s.xml.clone()).unwrap();
    let start = text.find("<X509Certificate>").unwrap() + "<X509Certificate>".len();
    let end = text.find("</X509Certificate>").unwrap();
    use base64::Engine;
    let swapped = format!(
        "{}{}{}",
        &text[..start],
        base64::engine::general_purpose::STANDARD.encode(other.to_der().unwrap()),
        &text[end..]
    );
    assert_eq!(
        verify(swapped.as_bytes()).unwrap_err(),
        SignatureError::BadSignatureValue
    );
    if have_xmlsec1() {
        assert!(!xmlsec_verify(&s.pki.ca, swapped.as_bytes())
            .status
            .success());
    }
    // And signing with a key that is not the certificate's is refused up front.
    assert_eq!(
        sign(&full_package().to_xml().unwrap(), &rsa_key(), &s.cert).unwrap_err(),
        SignatureError::KeyCertificateMismatch
    );
}

#[test]
fn unsigned_twice_signed_and_misplaced_are_refused() {
    let unsigned = full_package().to_xml().unwrap();
    assert_eq!(verify(&unsigned).unwrap_err(), SignatureError::Unsigned);
    let s = signed_with(p256_key());
    let key = p256_key();
    let cert = s.pki.issue("x", &key);
    assert_eq!(
        sign(&s.xml, &key, &cert).unwrap_err(),
        SignatureError::AlreadySigned
    );
    // The same Signature moved into the body no longer counts.
    let text = String::from_utf8(s.xml.clone()).unwrap();
    let a = text.find("<Signature ").unwrap();
    let b = text.find("</Signature>").unwrap() + "</Signature>".len();
    let sig = &text[a..b];
    let moved = format!("{}{}", &text[..a], &text[b..]).replacen(
        "<edXML:edXMLManifest>",
        &format!("<edXML:edXMLManifest>{sig}"),
        1,
    );
    assert_eq!(
        verify(moved.as_bytes()).unwrap_err(),
        SignatureError::MisplacedSignature
    );
}

fn template(xml: &[u8], signature_method: &str, c14n: &str, digest: &str) -> Vec<u8> {
    let tpl = format!(
        "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n<SignedInfo>\n\
         <CanonicalizationMethod Algorithm=\"{c14n}\"/>\n\
         <SignatureMethod Algorithm=\"{signature_method}\"/>\n<Reference URI=\"\">\n<Transforms>\n\
         <Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n\
         <Transform Algorithm=\"{c14n}\"/>\n</Transforms>\n\
         <DigestMethod Algorithm=\"{digest}\"/>\n<DigestValue/>\n</Reference>\n</SignedInfo>\n\
         <SignatureValue/>\n<KeyInfo><X509Data/></KeyInfo>\n</Signature>\n"
    );
    let s = std::str::from_utf8(xml).unwrap();
    let at = s
        .rfind("</edXML:edXMLHeader>")
        .or_else(|| s.rfind("</edXMLHeader>"))
        .unwrap();
    format!("{}{}{}", &s[..at], tpl, &s[at..]).into_bytes()
}

#[test]
fn legacy_rsa_sha1_signature_from_xmlsec1_verifies() {
    if !have_xmlsec1() {
        return;
    }
    let pki = Pki::new();
    let key = rsa_key();
    let cert = pki.issue("He thong cu", &key);
    let tpl = template(
        &full_package().to_xml().unwrap(),
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    let signed = xmlsec_sign(&key, &cert, &tpl);
    let v = verify(&signed).unwrap();
    assert_eq!(v.algorithm, SignatureAlgorithm::RsaSha1);
    assert!(v.algorithm.is_legacy());
    assert_eq!(v.digest, DigestAlgorithm::Sha1);
    assert_eq!(v.certificate.to_der().unwrap(), cert.to_der().unwrap());
    let tampered = replace_once(&signed, "SUBJMARK", "SUBJMARX");
    assert_eq!(
        verify(&tampered).unwrap_err(),
        SignatureError::DigestMismatch
    );
}

/// xmlsec1 signs a messy received package (mixed prefixes, comments, CRLF, character
/// references, attributes in odd order) with exclusive C14N; ours must agree.
#[test]
fn xmlsec1_exclusive_c14n_signature_over_messy_input_verifies() {
    if !have_xmlsec1() {
        return;
    }
    let pki = Pki::new();
    let key = rsa_key();
    let cert = pki.issue("He thong khac", &key);
    let messy = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mixed_prefixes.xml"
    ))
    .unwrap();
    for c14n in [
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    ] {
        let tpl = template(
            &messy,
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            c14n,
            "http://www.w3.org/2001/04/xmlenc#sha256",
        );
        let signed = xmlsec_sign(&key, &cert, &tpl);
        let v = verify(&signed).unwrap_or_else(|e| panic!("{c14n}: {e}"));
        assert_eq!(v.canonicalization, Method::from_uri(c14n, None).unwrap());
        assert!(Package::parse(&signed, &Limits::default()).is_ok());
    }
}

/// And ours over the same messy input verifies with xmlsec1.
#[test]
fn our_signature_over_messy_input_verifies_with_xmlsec1() {
    let pki = Pki::new();
    let key = p256_key();
    let cert = pki.issue("Van thu", &key);
    let messy = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mixed_prefixes.xml"
    ))
    .unwrap();
    let signed = sign(&messy, &key, &cert).unwrap();
    verify(&signed).unwrap();
    if have_xmlsec1() {
        let o = xmlsec_verify(&pki.ca, &signed);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn small_rsa_keys_and_other_curves_are_refused_for_signing() {
    let pki = Pki::new();
    let small = PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap()).unwrap();
    let cert = pki.issue("small", &small);
    assert!(matches!(
        sign(&full_package().to_xml().unwrap(), &small, &cert),
        Err(SignatureError::UnsupportedKey(_))
    ));
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::SECP384R1).unwrap();
    let p384 = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
    let cert = pki.issue("p384", &p384);
    assert!(matches!(
        sign(&full_package().to_xml().unwrap(), &p384, &cert),
        Err(SignatureError::UnsupportedKey(_))
    ));
}

/// A signed status package read once: Contents::Status, the signature checked.
#[test]
fn signed_status_package_read_once() {
    let key = p256_key();
    let pki = Pki::new();
    let cert = pki.issue("So Noi vu", &key);
    let status = StatusPackage {
        from: Organization::new(org("000.00.11.H53"), "Sở Nội vụ"),
        response_for: ResponseFor {
            organ_id: org("000.00.00.H53"),
            code: "123/UBND-VP".into(),
            promulgation_date: date(2024, 5, 17),
            document_id: None,
        },
        staff: StaffInfo::default(),
        code: StatusCode::Accepted,
        description: None,
        timestamp: time::parse_timestamp("2024-05-17 09:00:00").unwrap(),
    };
    let xml = sign(&status.to_xml().unwrap(), &key, &cert).unwrap();
    let received = Received::read(&xml, &Limits::default()).unwrap();
    assert_eq!(
        received.verify().unwrap().certificate.to_der().unwrap(),
        cert.to_der().unwrap()
    );
    assert_eq!(received.status().unwrap(), status);
    assert!(matches!(
        received.contents().unwrap(),
        Contents::Status(s) if s == status
    ));
    // Unsigned: the contents read, the check says why not.
    let unsigned = status.to_xml().unwrap();
    let received = Received::read(&unsigned, &Limits::default()).unwrap();
    assert_eq!(received.verify().unwrap_err(), SignatureError::Unsigned);
    assert!(matches!(received.contents(), Ok(Contents::Status(_))));
    // Not XML at all: refused when read, as Package::parse refuses it.
    assert!(Received::read(b"<!DOCTYPE x []><x/>", &Limits::default()).is_err());
}

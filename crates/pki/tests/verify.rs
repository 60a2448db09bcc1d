//! `TrustStore::verify_signer`: each reason to refuse a signer, and the ones accepted.

mod common;

use chrono::{Duration, Utc};
use common::*;
use lienthong_domain::ErrorCode;
use lienthong_pki::openssl::asn1::{Asn1Integer, Asn1Time};
use lienthong_pki::openssl::bn::BigNum;
use lienthong_pki::openssl::hash::MessageDigest;
use lienthong_pki::openssl::nid::Nid;
use lienthong_pki::openssl::pkey::{PKey, Private};
use lienthong_pki::openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use lienthong_pki::openssl::x509::{X509Name, X509};
use lienthong_pki::{Ca, KeyKind, RevocationReason, RevokeTarget, TrustError, TrustStore};

fn setup() -> (tempfile::TempDir, Ca) {
    let tmp = tempfile::tempdir().unwrap();
    let ca = new_ca(&tmp.path().join("ca"), KeyKind::P256);
    (tmp, ca)
}

#[test]
fn a_good_certificate_is_accepted() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let store = ca.trust_store().unwrap();
    store
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap();
    // The chain the sender attaches may include our CA: still fine.
    store
        .verify_signer(&issued.cert, &issued.chain, Utc::now(), &code(AGENCY))
        .unwrap();
    // And a store read from the folder alone (no key) agrees.
    let from_dir = TrustStore::from_ca_dir(ca.dir()).unwrap();
    from_dir
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap();
}

/// Accepted signers are remembered, but only for the times the answer holds: the
/// same store, asked again for a later or earlier time, or after a revocation took
/// effect, gives the full check's answer.
#[test]
fn a_remembered_acceptance_holds_only_inside_its_window() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 1)).unwrap();
    let store = ca.trust_store().unwrap();
    let now = Utc::now();
    for _ in 0..2 {
        store
            .verify_signer(&issued.cert, &[], now, &code(AGENCY))
            .unwrap();
    }
    let err = store
        .verify_signer(&issued.cert, &[], now + Duration::days(2), &code(AGENCY))
        .unwrap_err();
    assert!(matches!(err, TrustError::Expired { .. }), "{err:?}");
    let err = store
        .verify_signer(&issued.cert, &[], now - Duration::days(1), &code(AGENCY))
        .unwrap_err();
    assert!(matches!(err, TrustError::NotYetValid { .. }), "{err:?}");
    // Another agency asking with the same certificate is not the one accepted.
    assert!(matches!(
        store.verify_signer(&issued.cert, &[], now, &code("000.00.12.H62")),
        Err(TrustError::WrongAgency { .. })
    ));
    // Past the day the CRL is due to be replaced, revocation is unknown again.
    let longer = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    store
        .verify_signer(&longer.cert, &[], now, &code(AGENCY))
        .unwrap();
    let err = store
        .verify_signer(&longer.cert, &[], now + Duration::days(8), &code(AGENCY))
        .unwrap_err();
    assert!(
        matches!(err, TrustError::RevocationUnknown { .. }),
        "{err:?}"
    );

    // A revocation: a store with the new CRL forgets what the old one accepted.
    let then = now - Duration::seconds(90);
    let mut store = ca.trust_store().unwrap();
    store
        .verify_signer(&issued.cert, &[], now, &code(AGENCY))
        .unwrap();
    ca.revoke(
        &RevokeTarget::Serial(issued.serial().unwrap()),
        RevocationReason::Superseded,
    )
    .unwrap();
    store
        .import_crl(&std::fs::read(ca.dir().join("crl.pem")).unwrap())
        .unwrap();
    let err = store
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert!(matches!(err, TrustError::Revoked { .. }), "{err:?}");
    // What was signed before the revocation is still accepted, and remembered only
    // until the revocation takes effect.
    store
        .verify_signer(&issued.cert, &[], then, &code(AGENCY))
        .unwrap();
    let err = store
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert!(matches!(err, TrustError::Revoked { .. }), "{err:?}");
}

#[test]
fn an_expired_certificate_is_refused() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 1)).unwrap();
    let store = ca.trust_store().unwrap();
    let at = Utc::now() + Duration::days(2);
    let err = store
        .verify_signer(&issued.cert, &[], at, &code(AGENCY))
        .unwrap_err();
    let TrustError::Expired { not_after, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(*not_after < at && *not_after > Utc::now());
    assert!(
        err.to_string().starts_with("the certificate expired on "),
        "{err}"
    );
    assert_eq!(err.code(), "error.signer_expired");
}

#[test]
fn a_certificate_not_yet_valid_is_refused() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let store = ca.trust_store().unwrap();
    let at = Utc::now() - Duration::days(1);
    let err = store
        .verify_signer(&issued.cert, &[], at, &code(AGENCY))
        .unwrap_err();
    // The CA was not valid yet either; the sender hears about its own certificate.
    assert!(matches!(err, TrustError::NotYetValid { .. }), "{err:?}");
    assert!(err.to_string().contains("not yet valid"), "{err}");
}

#[test]
fn a_revoked_certificate_is_refused() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let serial = issued.serial().unwrap();
    let before = Utc::now() - Duration::seconds(90);
    // The store must see the new CRL: take it after revoking.
    ca.revoke(
        &RevokeTarget::Serial(serial.clone()),
        RevocationReason::AffiliationChanged,
    )
    .unwrap();
    let store = ca.trust_store().unwrap();
    let err = store
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    let TrustError::Revoked {
        serial: s,
        at,
        reason,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(s, &serial);
    assert!(*at <= Utc::now() && *at > before);
    assert_eq!(*reason, Some(RevocationReason::AffiliationChanged));
    let msg = err.to_string();
    assert!(
        msg.contains(serial.as_str()) && msg.contains("(affiliation changed)"),
        "{msg}"
    );

    // What it signed before the revocation still stands: the agency merely merged.
    store
        .verify_signer(&issued.cert, &[], before, &code(AGENCY))
        .unwrap();
}

#[test]
fn a_compromised_key_is_refused_even_before_its_revocation() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let before = Utc::now() - Duration::seconds(90);
    ca.revoke(
        &RevokeTarget::Org(code(AGENCY)),
        RevocationReason::KeyCompromise,
    )
    .unwrap();
    let store = ca.trust_store().unwrap();
    let err = store
        .verify_signer(&issued.cert, &[], before, &code(AGENCY))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrustError::Revoked {
                reason: Some(RevocationReason::KeyCompromise),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn our_ca_needs_a_current_crl() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();

    let without = TrustStore::new(ca.certificate().clone());
    let err = without
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert!(
        matches!(err, TrustError::RevocationUnknown { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("no revocation list (CRL)"),
        "{err}"
    );

    // The CRL is valid 7 days: past that, a newer one is needed.
    let store = ca.trust_store().unwrap();
    let err = store
        .verify_signer(
            &issued.cert,
            &[],
            Utc::now() + Duration::days(8),
            &code(AGENCY),
        )
        .unwrap_err();
    assert!(
        matches!(err, TrustError::RevocationUnknown { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("a newer one is needed"), "{err}");

    // A CRL with our CA's name but signed by another key is not ours.
    let tmp2 = tempfile::tempdir().unwrap();
    let impostor = new_ca(tmp2.path(), KeyKind::P256);
    let mut forged = TrustStore::new(ca.certificate().clone());
    forged.add_crl(impostor.crl().unwrap());
    let err = forged
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert!(err.to_string().contains("is not signed by it"), "{err}");
}

#[test]
fn a_newer_crl_replaces_an_older_one() {
    let (_tmp, mut ca) = setup();
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let mut store = ca.trust_store().unwrap();
    ca.revoke(
        &RevokeTarget::Org(code(AGENCY)),
        RevocationReason::Superseded,
    )
    .unwrap();
    store
        .import_crl(&ca.crl().unwrap().to_pem().unwrap())
        .unwrap();
    assert!(matches!(
        store.verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY)),
        Err(TrustError::Revoked { .. })
    ));
}

#[test]
fn a_certificate_of_another_ca_is_untrusted_until_its_anchor_is_imported() {
    let (tmp, ca) = setup();
    let mut other = Ca::init(
        tmp.path().join("other"),
        &lienthong_pki::CaOptions {
            name: "CA tỉnh Lạng Sơn".to_owned(),
            province_code: code("000.00.00.H42"),
            key: KeyKind::Rsa3072,
            valid_years: 5,
            crl_url: None,
        },
    )
    .unwrap();
    let foreign = other
        .issue(&request("000.00.15.H42", KeyKind::P256, 30))
        .unwrap();

    let mut store = ca.trust_store().unwrap();
    let err = store
        .verify_signer(&foreign.cert, &[], Utc::now(), &code("000.00.15.H42"))
        .unwrap_err();
    let TrustError::Untrusted { issuer } = &err else {
        panic!("{err:?}")
    };
    assert!(issuer.contains("CN=CA tỉnh Lạng Sơn"), "{issuer}");
    assert!(
        err.to_string()
            .starts_with("the certificate was not issued by a certificate authority we trust"),
        "{err}"
    );
    // Attaching the other CA as "chain" does not make it trusted.
    assert!(matches!(
        store.verify_signer(
            &foreign.cert,
            &foreign.chain,
            Utc::now(),
            &code("000.00.15.H42")
        ),
        Err(TrustError::Untrusted { .. })
    ));

    // Imported as an anchor, with no CRL: accepted.
    let n = store
        .import_anchor(&other.certificate().to_pem().unwrap())
        .unwrap();
    assert_eq!(n, 1);
    store
        .verify_signer(&foreign.cert, &[], Utc::now(), &code("000.00.15.H42"))
        .unwrap();

    // Once its CRL is imported, its revocations count.
    other
        .revoke(
            &RevokeTarget::Org(code("000.00.15.H42")),
            RevocationReason::CessationOfOperation,
        )
        .unwrap();
    store
        .import_crl(&other.crl().unwrap().to_der().unwrap())
        .unwrap();
    assert!(matches!(
        store.verify_signer(&foreign.cert, &[], Utc::now(), &code("000.00.15.H42")),
        Err(TrustError::Revoked {
            reason: Some(RevocationReason::CessationOfOperation),
            ..
        })
    ));
}

#[test]
fn a_certificate_of_another_agency_is_refused() {
    let (_tmp, mut ca) = setup();
    let issued = ca
        .issue(&request("000.00.12.H62", KeyKind::P256, 30))
        .unwrap();
    let store = ca.trust_store().unwrap();
    let err = store
        .verify_signer(&issued.cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert_eq!(
        err,
        TrustError::WrongAgency {
            expected: code(AGENCY),
            found: code("000.00.12.H62"),
        }
    );
    assert_eq!(
        err.to_string(),
        "the certificate belongs to agency 000.00.12.H62, not to the sending agency 000.00.11.H62"
    );
}

// An external national CA, built by hand: a root, an intermediate, and agency
// certificates that carry the org code in serialNumber rather than UID.

struct External {
    root: X509,
    intermediate: X509,
    intermediate_key: PKey<Private>,
}

fn name(cn: &str, extra: &[(Nid, &str)]) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_nid(Nid::COUNTRYNAME, "VN").unwrap();
    n.append_entry_by_nid(Nid::ORGANIZATIONNAME, "Ban Cơ yếu Chính phủ")
        .unwrap();
    n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    for (nid, v) in extra {
        n.append_entry_by_nid(*nid, v).unwrap();
    }
    n.build()
}

fn sign(
    subject: &X509Name,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    ca: bool,
    digital_signature: bool,
) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(rand_serial()).unwrap()).unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(subject).unwrap();
    b.set_issuer_name(issuer.map_or(subject.as_ref(), |(c, _)| c.subject_name()))
        .unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
        .unwrap();
    let mut bc = BasicConstraints::new();
    bc.critical();
    if ca {
        bc.ca();
    }
    b.append_extension(bc.build().unwrap()).unwrap();
    let mut ku = KeyUsage::new();
    ku.critical();
    if ca {
        ku.key_cert_sign().crl_sign();
    } else if digital_signature {
        ku.digital_signature().non_repudiation();
    } else {
        ku.key_encipherment();
    }
    b.append_extension(ku.build().unwrap()).unwrap();
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(issuer.map(|(c, _)| c.as_ref()), None))
        .unwrap();
    b.append_extension(ski).unwrap();
    if let Some((c, _)) = issuer {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(c), None))
            .unwrap();
        b.append_extension(aki).unwrap();
    }
    let signer = issuer.map_or(key, |(_, k)| k);
    b.sign(signer, MessageDigest::sha256()).unwrap();
    b.build()
}

fn rand_serial() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn external() -> External {
    let root_key = KeyKind::P256.generate().unwrap();
    let root = sign(
        &name("Root CA Chính phủ", &[]),
        &root_key,
        None,
        true,
        false,
    );
    let intermediate_key = KeyKind::P256.generate().unwrap();
    let intermediate = sign(
        &name("CA phục vụ các cơ quan Đảng, Nhà nước", &[]),
        &intermediate_key,
        Some((&root, &root_key)),
        true,
        false,
    );
    External {
        root,
        intermediate,
        intermediate_key,
    }
}

fn external_agency(ext: &External, serial_number: &str, digital_signature: bool) -> X509 {
    let key = KeyKind::P256.generate().unwrap();
    sign(
        &name(AGENCY_NAME, &[(Nid::SERIALNUMBER, serial_number)]),
        &key,
        Some((&ext.intermediate, &ext.intermediate_key)),
        false,
        digital_signature,
    )
}

#[test]
fn an_externally_issued_agency_certificate_is_accepted_through_its_anchor() {
    let (_tmp, ca) = setup();
    let ext = external();
    let cert = external_agency(&ext, &format!("MDDD:{AGENCY}"), true);
    assert_eq!(lienthong_pki::agency_code_of(&cert), Some(code(AGENCY)));

    let mut store = ca.trust_store().unwrap();
    assert!(matches!(
        store.verify_signer(
            &cert,
            std::slice::from_ref(&ext.intermediate),
            Utc::now(),
            &code(AGENCY)
        ),
        Err(TrustError::Untrusted { .. })
    ));

    // Only the root is imported: the sender supplies the intermediate.
    store.import_anchor(&ext.root.to_pem().unwrap()).unwrap();
    store
        .verify_signer(
            &cert,
            std::slice::from_ref(&ext.intermediate),
            Utc::now(),
            &code(AGENCY),
        )
        .unwrap();
    let err = store
        .verify_signer(&cert, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert!(matches!(err, TrustError::Untrusted { .. }), "{err:?}");

    // The whole national chain imported as one PEM bundle: no chain needed.
    let mut bundle = ext.root.to_pem().unwrap();
    bundle.extend(ext.intermediate.to_pem().unwrap());
    let mut store = ca.trust_store().unwrap();
    assert_eq!(store.import_anchor(&bundle).unwrap(), 2);
    store
        .verify_signer(&cert, &[], Utc::now(), &code(AGENCY))
        .unwrap();

    // The serialNumber code is checked like a UID.
    let err = store
        .verify_signer(&cert, &[], Utc::now(), &code("000.00.12.H62"))
        .unwrap_err();
    assert!(matches!(err, TrustError::WrongAgency { .. }), "{err:?}");
    let nameless = external_agency(&ext, "MST:0101234567", true);
    let err = store
        .verify_signer(&nameless, &[], Utc::now(), &code(AGENCY))
        .unwrap_err();
    assert!(matches!(err, TrustError::NoAgencyCode { .. }), "{err:?}");
    assert!(err.to_string().contains("names no agency code"), "{err}");
}

#[test]
fn a_certificate_without_digital_signature_usage_is_refused() {
    let (_tmp, ca) = setup();
    let ext = external();
    let cert = external_agency(&ext, AGENCY, false);
    let mut store = ca.trust_store().unwrap();
    store.import_anchor(&ext.root.to_pem().unwrap()).unwrap();
    let err = store
        .verify_signer(
            &cert,
            std::slice::from_ref(&ext.intermediate),
            Utc::now(),
            &code(AGENCY),
        )
        .unwrap_err();
    assert_eq!(err, TrustError::NotForSigning);
    assert!(err.to_string().contains("digitalSignature"), "{err}");
}

#[test]
fn import_rejects_what_is_not_pem() {
    let (_tmp, ca) = setup();
    let mut store = ca.trust_store().unwrap();
    assert!(store.import_anchor(b"not a certificate").is_err());
    assert!(store.import_crl(b"not a crl").is_err());
}

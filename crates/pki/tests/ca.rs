//! The CA's files, checked with the independent openssl command-line tool.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::*;
use lienthong_pki::{agency_code_of, Ca, CaError, KeyKind, RevocationReason, RevokeTarget, Serial};

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_writes_a_self_signed_ca_with_private_key_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let ca = new_ca(&dir, KeyKind::Rsa3072);

    for f in ["ca.pem", "ca.key", "serial", "index.json", "crl.pem"] {
        assert!(dir.join(f).is_file(), "{f} is missing");
    }
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("ca.key")), 0o600);
    assert_eq!(ca.name(), CA_NAME);
    assert!(ca.records().is_empty());

    let ca_pem = dir.join("ca.pem");
    // Self-signed: it verifies against itself.
    let out = openssl(&["verify", "-CAfile", p(&ca_pem), p(&ca_pem)]);
    assert!(out.status.success(), "{}", text(&out));

    let out = openssl(&[
        "x509",
        "-in",
        p(&ca_pem),
        "-noout",
        "-text",
        "-nameopt",
        "utf8",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("sha256WithRSAEncryption"), "{t}");
    assert!(t.contains("Public-Key: (3072 bit)"), "{t}");
    assert!(t.contains("X509v3 Basic Constraints: critical"), "{t}");
    assert!(t.contains("CA:TRUE, pathlen:0"), "{t}");
    assert!(t.contains("X509v3 Key Usage: critical"), "{t}");
    assert!(t.contains("Certificate Sign, CRL Sign"), "{t}");
    assert!(t.contains("X509v3 Subject Key Identifier"), "{t}");
    assert!(t.contains(&format!("UID={PROVINCE}")), "{t}");
    assert!(t.contains(&format!("CN={CA_NAME}")), "{t}");

    // The key on disk is the CA's key.
    let out = openssl(&["pkey", "-in", p(&dir.join("ca.key")), "-pubout"]);
    let from_key = out.stdout;
    let out = openssl(&["x509", "-in", p(&ca_pem), "-noout", "-pubkey"]);
    assert_eq!(from_key, out.stdout);

    // The empty CRL parses, is signed by the CA and lists nothing.
    let crl = dir.join("crl.pem");
    let out = openssl(&[
        "crl",
        "-in",
        p(&crl),
        "-noout",
        "-text",
        "-CAfile",
        p(&ca_pem),
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("verify OK"), "{t}");
    assert!(t.contains("No Revoked Certificates"), "{t}");
    assert!(t.contains("Next Update"), "{t}");
    assert!(t.contains("X509v3 CRL Number"), "{t}");
    assert!(t.contains("X509v3 Authority Key Identifier"), "{t}");
}

#[test]
fn init_refuses_to_overwrite_an_existing_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    new_ca(&dir, KeyKind::P256);
    let before = fs::read(dir.join("ca.key")).unwrap();

    let err = Ca::init(&dir, &options(KeyKind::P256)).err().unwrap();
    assert!(matches!(err, CaError::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    assert_eq!(fs::read(dir.join("ca.key")).unwrap(), before);

    // Even a lone leftover file stops it.
    let other = tmp.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("index.json"), "{}").unwrap();
    assert!(matches!(
        Ca::init(&other, &options(KeyKind::P256)),
        Err(CaError::AlreadyExists { .. })
    ));
    assert!(!other.join("ca.key").exists());
}

#[test]
fn init_checks_its_options() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(KeyKind::P256);
    o.name = "x".repeat(65);
    assert!(matches!(Ca::init(tmp.path(), &o), Err(CaError::Name(65))));
    let mut o = options(KeyKind::P256);
    o.valid_years = 0;
    assert!(matches!(
        Ca::init(tmp.path(), &o),
        Err(CaError::Validity(_))
    ));
    let mut o = options(KeyKind::P256);
    o.crl_url = Some("ldap://x y".to_owned());
    assert!(matches!(Ca::init(tmp.path(), &o), Err(CaError::CrlUrl)));
    assert!(!tmp.path().join("ca.key").exists());
}

#[test]
fn issued_rsa_and_p256_certificates_verify_with_the_openssl_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let mut ca = new_ca(&dir, KeyKind::Rsa3072);
    let ca_pem = dir.join("ca.pem");

    for (key, org, algo, bits) in [
        (
            KeyKind::Rsa3072,
            "000.00.11.H62",
            "sha256WithRSAEncryption",
            "(3072 bit)",
        ),
        (KeyKind::P256, "000.00.12.H62", "prime256v1", "(256 bit)"),
    ] {
        let issued = ca.issue(&request(org, key, 365)).unwrap();
        assert_eq!(agency_code_of(&issued.cert), Some(code(org)));
        let out_dir = tmp.path().join(org);
        let files = issued.write(&out_dir).unwrap();
        assert_eq!(files.cert, out_dir.join(format!("{org}.pem")));
        assert_eq!(files.key, out_dir.join(format!("{org}.key")));
        assert_eq!(mode(&files.key), 0o600);
        assert_eq!(mode(&out_dir), 0o700);

        let out = openssl(&["verify", "-CAfile", p(&ca_pem), p(&files.cert)]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(": OK"), "{}", text(&out));
        // chain.pem is the issuer chain: enough to verify with.
        let out = openssl(&["verify", "-CAfile", p(&files.chain), p(&files.cert)]);
        assert!(out.status.success(), "{}", text(&out));

        let out = openssl(&[
            "x509",
            "-in",
            p(&files.cert),
            "-noout",
            "-subject",
            "-nameopt",
            "utf8",
        ]);
        let subject = text(&out);
        assert!(subject.contains(&format!("UID={org}")), "{subject}");
        assert!(subject.contains(&format!("CN={AGENCY_NAME}")), "{subject}");
        assert!(subject.contains(&format!("O={CA_NAME}")), "{subject}");
        assert!(subject.contains("C=VN"), "{subject}");

        let out = openssl(&["x509", "-in", p(&files.cert), "-noout", "-text"]);
        let t = text(&out);
        assert!(t.contains(bits), "{t}");
        assert!(t.contains(algo), "{t}");
        assert!(t.contains("CA:FALSE"), "{t}");
        assert!(t.contains("Digital Signature, Non Repudiation"), "{t}");
        assert!(t.contains("E-mail Protection"), "{t}");
        assert!(
            t.contains("Microsoft Document Signing") || t.contains("1.3.6.1.4.1.311.10.3.12"),
            "{t}"
        );
        assert!(t.contains("X509v3 Subject Key Identifier"), "{t}");
        assert!(t.contains("X509v3 Authority Key Identifier"), "{t}");
        assert!(t.contains("URI:http://ca.bacninh.gov.vn/crl.pem"), "{t}");
        // The CA signs with SHA-256 whatever the agency's key.
        assert!(
            t.contains("Signature Algorithm: sha256WithRSAEncryption"),
            "{t}"
        );

        // The certificate and key sign a CMS (S/MIME) message that openssl then
        // verifies with its smimesign purpose checks: the key usages fit signing.
        let doc = tmp.path().join("doc.txt");
        fs::write(&doc, "Công văn số 15/SKHCN-VP").unwrap();
        let sig = tmp.path().join(format!("{org}.p7s"));
        let out = openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-in",
            p(&doc),
            "-signer",
            p(&files.cert),
            "-inkey",
            p(&files.key),
            "-outform",
            "DER",
            "-out",
            p(&sig),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let out = openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-in",
            p(&sig),
            "-inform",
            "DER",
            "-content",
            p(&doc),
            "-CAfile",
            p(&ca_pem),
            "-out",
            "/dev/null",
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }

    let serials: Vec<&Serial> = ca.records().iter().map(|r| &r.serial).collect();
    assert_eq!(serials.len(), 2);
    assert_ne!(serials[0], serials[1]);
    // `serial` holds the last one issued.
    let last = fs::read_to_string(dir.join("serial")).unwrap();
    assert_eq!(last.trim(), serials[1].as_str());
}

#[test]
fn write_never_overwrites_an_agency_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ca = new_ca(&tmp.path().join("ca"), KeyKind::P256);
    let out = tmp.path().join("out");
    ca.issue(&request(AGENCY, KeyKind::P256, 30))
        .unwrap()
        .write(&out)
        .unwrap();
    let key = fs::read(out.join(format!("{AGENCY}.key"))).unwrap();
    let err = ca
        .issue(&request(AGENCY, KeyKind::P256, 30))
        .unwrap()
        .write(&out)
        .err()
        .unwrap();
    assert!(matches!(err, CaError::AlreadyExists { .. }), "{err}");
    assert_eq!(fs::read(out.join(format!("{AGENCY}.key"))).unwrap(), key);
}

#[test]
fn issue_checks_name_and_validity() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ca = new_ca(&tmp.path().join("ca"), KeyKind::P256);
    let mut r = request(AGENCY, KeyKind::P256, 30);
    r.name = "  ".to_owned();
    assert!(matches!(ca.issue(&r), Err(CaError::Name(0))));
    let r = request(AGENCY, KeyKind::P256, 0);
    assert!(matches!(ca.issue(&r), Err(CaError::Validity(_))));
    // The CA is valid ten years: a certificate cannot outlive it.
    let r = request(AGENCY, KeyKind::P256, 11 * 366);
    let err = ca.issue(&r).err().unwrap();
    assert!(matches!(err, CaError::OutlivesCa { .. }), "{err}");
    assert!(ca.records().is_empty());
}

#[test]
fn revocation_is_published_in_the_crl_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let mut ca = new_ca(&dir, KeyKind::P256);
    let (ca_pem, crl) = (dir.join("ca.pem"), dir.join("crl.pem"));
    let issued = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let serial = issued.serial().unwrap();
    let files = issued.write(tmp.path().join("out")).unwrap();

    let check = |expect_ok: bool| {
        let out = openssl(&[
            "verify",
            "-crl_check",
            "-CAfile",
            p(&ca_pem),
            "-CRLfile",
            p(&crl),
            p(&files.cert),
        ]);
        assert_eq!(out.status.success(), expect_ok, "{}", text(&out));
        text(&out)
    };
    check(true);

    let revoked = ca
        .revoke(
            &RevokeTarget::Serial(serial.clone()),
            RevocationReason::KeyCompromise,
        )
        .unwrap();
    assert_eq!(revoked, vec![serial.clone()]);
    assert!(check(false).contains("certificate revoked"));

    let out = openssl(&[
        "crl",
        "-in",
        p(&crl),
        "-noout",
        "-text",
        "-CAfile",
        p(&ca_pem),
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("verify OK"), "{t}");
    assert!(t.contains(&format!("Serial Number: {serial}")), "{t}");
    assert!(t.contains("Revocation Date"), "{t}");
    assert!(t.contains("Key Compromise"), "{t}");

    // Every CRL gets the next number: 1 at init, 2 now.
    let out = openssl(&["crl", "-in", p(&crl), "-noout", "-crlnumber"]);
    assert_eq!(text(&out).trim(), "crlNumber=0x02");
    let again = Ca::open(&dir).unwrap().write_crl().unwrap();
    assert_eq!(again.get_revoked().map(|r| r.len()), Some(1));
    let out = openssl(&["crl", "-in", p(&crl), "-noout", "-crlnumber"]);
    assert_eq!(text(&out).trim(), "crlNumber=0x03");

    // Twice is an error, so is a serial we never issued.
    let err = ca
        .revoke(&RevokeTarget::Serial(serial), RevocationReason::Superseded)
        .err()
        .unwrap();
    assert!(matches!(err, CaError::AlreadyRevoked { .. }), "{err}");
    let unknown = Serial::parse("01").unwrap();
    assert!(matches!(
        ca.revoke(&RevokeTarget::Serial(unknown), RevocationReason::Superseded),
        Err(CaError::UnknownSerial(_))
    ));
}

#[test]
fn revoking_an_agency_revokes_all_its_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let mut ca = new_ca(&dir, KeyKind::P256);
    let a = ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    let b = ca.issue(&request(AGENCY, KeyKind::Rsa3072, 60)).unwrap();
    let other = ca
        .issue(&request("000.00.12.H62", KeyKind::P256, 30))
        .unwrap();

    let mut revoked = ca
        .revoke(
            &RevokeTarget::Org(code(AGENCY)),
            RevocationReason::AffiliationChanged,
        )
        .unwrap();
    revoked.sort();
    let mut expected = vec![a.serial().unwrap(), b.serial().unwrap()];
    expected.sort();
    assert_eq!(revoked, expected);

    // The record survives a reopen.
    let ca = Ca::open(&dir).unwrap();
    let by_serial = |s: &Serial| ca.records().iter().find(|r| &r.serial == s).unwrap();
    let rec = by_serial(&expected[0]);
    assert_eq!(rec.org, code(AGENCY));
    assert_eq!(rec.name, AGENCY_NAME);
    assert_eq!(
        rec.revoked.unwrap().reason,
        RevocationReason::AffiliationChanged
    );
    assert!(by_serial(&other.serial().unwrap()).revoked.is_none());

    let out = openssl(&["crl", "-in", p(&dir.join("crl.pem")), "-noout", "-text"]);
    let t = text(&out);
    for s in &expected {
        assert!(t.contains(s.as_str()), "{t}");
    }
    assert!(!t.contains(other.serial().unwrap().as_str()), "{t}");
    assert!(t.contains("Affiliation Changed"), "{t}");

    let mut ca = ca;
    assert!(matches!(
        ca.revoke(
            &RevokeTarget::Org(code(AGENCY)),
            RevocationReason::Superseded
        ),
        Err(CaError::NothingToRevoke(_))
    ));
}

#[test]
fn open_reads_the_ca_back_and_refuses_an_exposed_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let first = new_ca(&dir, KeyKind::P256);
    let mut ca = Ca::open(&dir).unwrap();
    assert_eq!(
        ca.certificate().to_der().unwrap(),
        first.certificate().to_der().unwrap()
    );
    ca.issue(&request(AGENCY, KeyKind::P256, 30)).unwrap();
    assert_eq!(Ca::open(&dir).unwrap().records().len(), 1);

    fs::set_permissions(dir.join("ca.key"), fs::Permissions::from_mode(0o644)).unwrap();
    let err = Ca::open(&dir).err().unwrap();
    assert!(
        matches!(err, CaError::KeyExposed { mode: 0o644, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"), "{err}");

    // A key that is not the CA's is refused too.
    let other = tmp.path().join("other");
    new_ca(&other, KeyKind::P256);
    fs::copy(other.join("ca.key"), dir.join("ca.key")).unwrap();
    fs::set_permissions(dir.join("ca.key"), fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(Ca::open(&dir), Err(CaError::KeyMismatch { .. })));
}

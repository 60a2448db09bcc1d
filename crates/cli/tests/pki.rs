//! `lienthong ca …` and `lienthong edxml …` run as real processes, their files and
//! packages checked with the independent `openssl` and `xmlsec1` tools.

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use lienthong_domain::OrgCode;
use lienthong_edxml::{
    Attachment, Code, DocumentId, DocumentType, MessageHeader, Organization, OtherInfo, Package,
    PromulgationInfo, SignerInfo,
};

const PROVINCE: &str = "000.00.00.H62";
const SKHCN: &str = "000.00.11.H62";
const SNV: &str = "000.00.12.H62";

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap()
}

fn lienthong(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_lienthong"), args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

/// The independent checker is installed by scripts/test; CI must not skip it.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(std::env::var("CI").is_err(), "{tool} is required in CI");
        eprintln!("SKIPPED: {tool} is not installed");
    }
    found
}

/// An unsigned package from `from` to the Department of Home Affairs.
fn package(from: &str) -> Vec<u8> {
    let org = |c: &str| OrgCode::parse(c).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    Package {
        header: MessageHeader {
            from: Organization::new(org(from), "Sở Khoa học và Công nghệ"),
            to: vec![Organization::new(org(SNV), "Sở Nội vụ")],
            document_id: Some(
                DocumentId::parse(&format!("{from},2026/11/20,15/SKHCN-VP")).unwrap(),
            ),
            code: Code {
                number: "15".into(),
                notation: "SKHCN-VP".into(),
            },
            promulgation: PromulgationInfo {
                place: "Vĩnh Long".into(),
                date: day,
            },
            document_type: DocumentType {
                kind: "2".into(),
                detail: None,
                name: "Công văn".into(),
            },
            subject: "Về việc triển khai chữ ký số trong liên thông văn bản".into(),
            content: None,
            signer: SignerInfo::default(),
            due_date: None,
            to_places: vec!["Như trên;".into()],
            other: OtherInfo::default(),
            steering_type: None,
            response_for: vec![],
        },
        traces: vec![],
        business: None,
        attachments: vec![Attachment {
            content_id: "cid:1".into(),
            content_type: "application/pdf".into(),
            description: None,
            name: "cong-van.pdf".into(),
            bytes: b"%PDF-1.7\n%%EOF\n".to_vec(),
        }],
    }
    .to_xml()
    .unwrap()
}

/// Copies a signed package with the CRL added to its KeyInfo, where this xmlsec1
/// reads CRLs from; KeyInfo is not signed, so the signature stays as it was.
fn add_crl(signed: &Path, crl: &Path, out: &Path) {
    let crl_pem = std::fs::read_to_string(crl).unwrap();
    let crl_b64: String = crl_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let xml = std::fs::read_to_string(signed).unwrap();
    let close = "</X509Data>";
    assert!(xml.contains(close), "{xml}");
    let with = xml.replacen(close, &format!("<X509CRL>{crl_b64}</X509CRL>{close}"), 1);
    std::fs::write(out, with).unwrap();
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn ca_issues_agency_certificates_that_sign_verifiable_packages() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = path(&data);
    let pki = data.join("pki");

    ok(lienthong(&[
        "ca",
        "init",
        "--data",
        d,
        "--province",
        PROVINCE,
    ]));
    let again = lienthong(&["ca", "init", "--data", d, "--province", PROVINCE]);
    assert!(
        !again.status.success(),
        "a second init must refuse: {}",
        text(&again)
    );
    let issued = ok(lienthong(&[
        "ca",
        "issue",
        "--data",
        d,
        "--org",
        SKHCN,
        "--name",
        "Sở Khoa học và Công nghệ",
    ]));
    assert!(issued.contains(SKHCN), "{issued}");
    ok(lienthong(&[
        "ca",
        "issue",
        "--data",
        d,
        "--org",
        SNV,
        "--name",
        "Sở Nội vụ",
        "--key",
        "rsa3072",
    ]));
    let bad = lienthong(&[
        "ca",
        "issue",
        "--data",
        d,
        "--org",
        "not-a-code",
        "--name",
        "X",
    ]);
    assert!(
        !bad.status.success() && text(&bad).contains("--org"),
        "{}",
        text(&bad)
    );
    let listed = ok(lienthong(&["ca", "list", "--data", d]));
    assert!(listed.contains(SKHCN) && listed.contains(SNV), "{listed}");

    let ca_pem = pki.join("ca/ca.pem");
    let crl = pki.join("ca/crl.pem");
    let cert = pki.join(format!("agencies/{SKHCN}.pem"));
    if have("openssl") {
        let verified = ok(run(
            "openssl",
            &["verify", "-CAfile", path(&ca_pem), path(&cert)],
        ));
        assert!(verified.contains("OK"), "{verified}");
        let subject = ok(run(
            "openssl",
            &[
                "x509",
                "-in",
                path(&cert),
                "-noout",
                "-subject",
                "-nameopt",
                "utf8",
            ],
        ));
        assert!(
            subject.contains(SKHCN) && subject.contains("Sở Khoa học và Công nghệ"),
            "{subject}"
        );
        ok(run(
            "openssl",
            &["crl", "-in", path(&crl), "-noout", "-text"],
        ));
    }

    // Sign an unsigned package as the department, then verify it three ways.
    let unsigned = dir.path().join("unsigned.xml");
    std::fs::write(&unsigned, package(SKHCN)).unwrap();
    let signed = dir.path().join("signed.xml");
    ok(lienthong(&[
        "edxml",
        "sign",
        "--data",
        d,
        "--org",
        SKHCN,
        path(&unsigned),
        path(&signed),
    ]));
    let report = ok(lienthong(&["edxml", "verify", path(&signed), "--data", d]));
    assert!(report.contains("trusted"), "{report}");
    ok(lienthong(&[
        "edxml",
        "verify",
        path(&signed),
        "--trust",
        path(&ca_pem),
        "--crl",
        path(&crl),
    ]));
    let untrusted = ok(lienthong(&["edxml", "verify", path(&signed)]));
    assert!(untrusted.contains("NOT checked"), "{untrusted}");
    if have("xmlsec1") {
        ok(run(
            "xmlsec1",
            &[
                "--verify",
                "--trusted-pem",
                path(&ca_pem),
                "--enabled-key-data",
                "x509",
                path(&signed),
            ],
        ));
    }
    let shown = ok(lienthong(&["edxml", "show", path(&signed)]));
    assert!(shown.contains("Về việc triển khai chữ ký số"), "{shown}");

    // One byte changed in the subject: refused with the reason, and by xmlsec1.
    let xml = std::fs::read_to_string(&signed).unwrap();
    let tampered = dir.path().join("tampered.xml");
    std::fs::write(&tampered, xml.replace("triển khai", "triển khaj")).unwrap();
    let refused = lienthong(&["edxml", "verify", path(&tampered), "--data", d]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("INVALID"), "{}", text(&refused));
    if have("xmlsec1") {
        let x = run(
            "xmlsec1",
            &[
                "--verify",
                "--trusted-pem",
                path(&ca_pem),
                "--enabled-key-data",
                "x509",
                path(&tampered),
            ],
        );
        assert!(!x.status.success(), "xmlsec1 accepted a tampered package");
    }

    // Signed by the department but claiming to come from the Department of Home Affairs.
    let forged_in = dir.path().join("forged-in.xml");
    std::fs::write(&forged_in, package(SNV)).unwrap();
    let forged = dir.path().join("forged.xml");
    ok(lienthong(&[
        "edxml",
        "sign",
        "--data",
        d,
        "--org",
        SKHCN,
        path(&forged_in),
        path(&forged),
    ]));
    let wrong = lienthong(&["edxml", "verify", path(&forged), "--data", d]);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(text(&wrong).contains(SNV), "{}", text(&wrong));

    // The control for the revocation check below: the same package with the CRL of
    // today in its KeyInfo passes xmlsec1.
    if have("xmlsec1") {
        let with_crl = dir.path().join("with-empty-crl.xml");
        add_crl(&signed, &crl, &with_crl);
        ok(run(
            "xmlsec1",
            &[
                "--verify",
                "--trusted-pem",
                path(&ca_pem),
                "--enabled-key-data",
                "x509",
                path(&with_crl),
            ],
        ));
    }

    // Once the department's certificate is revoked for a compromised key, its
    // signatures are refused, by us and by openssl.
    ok(lienthong(&[
        "ca",
        "revoke",
        "--data",
        d,
        "--org",
        SKHCN,
        "--reason",
        "key-compromise",
    ]));
    let revoked = lienthong(&["edxml", "verify", path(&signed), "--data", d]);
    assert_eq!(revoked.status.code(), Some(2), "{}", text(&revoked));
    assert!(
        text(&revoked).to_lowercase().contains("revoked"),
        "{}",
        text(&revoked)
    );
    if have("openssl") {
        let o = run(
            "openssl",
            &[
                "verify",
                "-crl_check",
                "-CAfile",
                path(&ca_pem),
                "-CRLfile",
                path(&crl),
                path(&cert),
            ],
        );
        assert!(
            !o.status.success(),
            "openssl still accepts the revoked certificate"
        );
    }
}

#[test]
fn ca_takes_the_province_and_agency_names_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = path(dir.path());
    ok(lienthong(&[
        "agency",
        "add",
        "--data",
        d,
        "--code",
        "000.00.00.H12",
        "--kind",
        "provincial_committee",
        "--name",
        "Ủy ban nhân dân tỉnh Cà Mau",
        "--short-name",
        "UBND",
    ]));
    ok(lienthong(&[
        "agency",
        "add",
        "--data",
        d,
        "--code",
        "000.00.11.H12",
        "--kind",
        "department",
        "--name",
        "Sở Khoa học và Công nghệ tỉnh Cà Mau",
        "--short-name",
        "SKHCN",
        "--parent",
        "000.00.00.H12",
    ]));
    let bad = lienthong(&[
        "agency",
        "add",
        "--data",
        d,
        "--code",
        "000.00.12.H12",
        "--kind",
        "nope",
        "--name",
        "X",
        "--short-name",
        "X",
    ]);
    assert!(
        !bad.status.success() && text(&bad).contains("--kind"),
        "{}",
        text(&bad)
    );
    let init = ok(lienthong(&["ca", "init", "--data", d]));
    assert!(init.contains("000.00.00.H12"), "{init}");
    ok(lienthong(&[
        "ca",
        "issue",
        "--data",
        d,
        "--org",
        "000.00.11.H12",
    ]));
    let listed = ok(lienthong(&["ca", "list", "--data", d]));
    assert!(
        listed.contains("Sở Khoa học và Công nghệ tỉnh Cà Mau"),
        "{listed}"
    );
    let unknown = lienthong(&["ca", "issue", "--data", d, "--org", "000.00.99.H12"]);
    assert!(
        !unknown.status.success() && text(&unknown).contains("--name"),
        "{}",
        text(&unknown)
    );
}

//! Shared test material: a package with every field, throwaway certificates, and
//! the independent checker xmlsec1.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use lienthong_domain::OrgCode;
use lienthong_edxml::*;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509Builder, X509NameBuilder, X509};

pub fn org(code: &str) -> OrgCode {
    OrgCode::parse(code).unwrap()
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Every header field set, two attachments: PDF-like bytes and all 256 byte values.
pub fn full_package() -> Package {
    let from = Organization {
        organ_id: org("000.00.00.H53"),
        organization_in_charge: Some("Ủy ban nhân dân tỉnh".into()),
        organ_name: "Văn phòng UBND tỉnh".into(),
        organ_add: Some("Số 1, đường Trần Hưng Đạo & phố <Lý>".into()),
        email: Some("vanphong@example.gov.vn".into()),
        telephone: Some("0290 3 123 456".into()),
        fax: Some("0290 3 123 457".into()),
        website: Some("https://example.gov.vn".into()),
    };
    let to = Organization {
        organ_id: org("000.00.11.H53"),
        organization_in_charge: None,
        organ_name: "Sở Khoa học và Công nghệ".into(),
        organ_add: Some("Số 2, đường Lê Lợi".into()),
        email: Some("sokhcn@example.gov.vn".into()),
        telephone: None,
        fax: None,
        website: None,
    };
    let mut to2 = Organization::new(org("000.00.12.H53"), "Sở Nội vụ");
    to2.email = Some("sonv@example.gov.vn".into());
    let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 5000));
    pdf.extend(b"\n%%EOF\n");
    Package {
        header: MessageHeader {
            from,
            to: vec![to, to2],
            document_id: Some(DocumentId::parse("000.00.00.H53,2024/05/17,123/UBND-VP").unwrap()),
            code: Code {
                number: "123".into(),
                notation: "UBND-VP".into(),
            },
            promulgation: PromulgationInfo {
                place: "Cà Mau".into(),
                date: date(2024, 5, 17),
            },
            document_type: DocumentType {
                kind: "2".into(),
                detail: Some("5".into()),
                name: "Công văn".into(),
            },
            subject: "Về việc triển khai liên thông văn bản SUBJMARK".into(),
            content: Some("Nội dung: \"quan trọng\" <khẩn> & 'gấp'\nDòng hai\r\ndòng ba".into()),
            signer: SignerInfo {
                competence: Some("TL. Chủ tịch".into()),
                position: Some("Chánh Văn phòng".into()),
                full_name: Some("Nguyễn Văn A".into()),
            },
            due_date: Some(date(2024, 6, 1)),
            to_places: vec!["Như trên;".into(), "Lưu: VT, TH.".into()],
            other: OtherInfo {
                priority: Some(1),
                sphere_of_promulgation: Some("Trong tỉnh".into()),
                typer_notation: Some("NVA".into()),
                promulgation_amount: Some(10),
                page_amount: Some(3),
                direction: Some(true),
                appendixes: vec!["Phụ lục I".into(), "Phụ lục II".into()],
            },
            steering_type: Some("1".into()),
            response_for: vec![ResponseFor {
                organ_id: org("000.00.00.G22"),
                code: "7816/VPCP-TTĐT".into(),
                promulgation_date: date(2015, 9, 30),
                document_id: Some(
                    DocumentId::parse("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT").unwrap(),
                ),
            }],
        },
        traces: vec![
            TraceHeader {
                organ_id: org("000.00.00.H53"),
                timestamp: time::parse_timestamp("2024-05-17T08:30:00+07:00").unwrap(),
            },
            TraceHeader {
                organ_id: org("000.00.00.G22"),
                timestamp: time::parse_timestamp("2024-05-17T01:31:02Z").unwrap(),
            },
        ],
        business: Some(Business {
            doc_type: BusinessDocType::Replace,
            reason: Some("Sai sót số ký hiệu".into()),
        }),
        attachments: vec![
            Attachment {
                content_id: "cid:vanban-1".into(),
                content_type: "application/pdf".into(),
                description: Some("Văn bản điện tử BODYMARK".into()),
                name: "123-UBND-VP.pdf".into(),
                bytes: pdf,
            },
            Attachment {
                content_id: "cid:phuluc-2".into(),
                content_type: "application/octet-stream".into(),
                description: None,
                name: "Phụ lục (nhị phân).bin".into(),
                bytes: (0..=255u8).collect(),
            },
        ],
    }
}

pub struct Pki {
    pub ca_key: PKey<Private>,
    pub ca: X509,
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_text("C", "VN").unwrap();
    n.append_entry_by_text("O", "UBND tinh (test)").unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn builder(subject: &str, key: &PKey<Private>) -> X509Builder {
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(96, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name(subject)).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b
}

pub fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(3072).unwrap()).unwrap()
}

pub fn p256_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = rsa_key();
        let mut b = builder("CA tinh (test)", &ca_key);
        b.set_issuer_name(&name("CA tinh (test)")).unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        let ski = SubjectKeyIdentifier::new()
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(ski).unwrap();
        b.sign(&ca_key, MessageDigest::sha256()).unwrap();
        Pki {
            ca_key,
            ca: b.build(),
        }
    }

    /// An agency certificate for `key`, issued by this CA.
    pub fn issue(&self, cn: &str, key: &PKey<Private>) -> X509 {
        let mut b = builder(cn, key);
        b.set_issuer_name(self.ca.subject_name()).unwrap();
        b.append_extension(BasicConstraints::new().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()
                .unwrap(),
        )
        .unwrap();
        b.sign(&self.ca_key, MessageDigest::sha256()).unwrap();
        b.build()
    }
}

/// Whether xmlsec1 can be run. Missing: a loud failure under CI=true, a clear skip
/// message otherwise.
pub fn have_xmlsec1() -> bool {
    let ok = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("xmlsec1 is not installed but CI=true: install it (apt-get install xmlsec1; scripts/test does)");
        }
        eprintln!("SKIPPED: xmlsec1 is not installed; the independent signature checks did not run (apt-get install xmlsec1)");
    }
    ok
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `xmlsec1 --verify --trusted-pem ca.pem --enabled-key-data x509 signed.xml`.
pub fn xmlsec_verify(ca: &X509, signed: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let ca_pem = write(dir.path(), "ca.pem", &ca.to_pem().unwrap());
    let file = write(dir.path(), "signed.xml", signed);
    Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(&ca_pem)
        .arg("--enabled-key-data")
        .arg("x509")
        .arg(&file)
        .output()
        .unwrap()
}

/// Signs `template` (a document holding an empty Signature template) with xmlsec1.
pub fn xmlsec_sign(key: &PKey<Private>, cert: &X509, template: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let key_pem = write(
        dir.path(),
        "key.pem",
        &key.private_key_to_pem_pkcs8().unwrap(),
    );
    let cert_pem = write(dir.path(), "cert.pem", &cert.to_pem().unwrap());
    let tpl = write(dir.path(), "template.xml", template);
    let out = dir.path().join("signed.xml");
    let o = Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!("{},{}", key_pem.display(), cert_pem.display()))
        .arg("--output")
        .arg(&out)
        .arg(&tpl)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "xmlsec1 --sign failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

/// Replaces the single occurrence of `from` with `to`.
pub fn replace_once(xml: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = std::str::from_utf8(xml).unwrap();
    assert_eq!(s.matches(from).count(), 1, "{from} must occur once");
    s.replacen(from, to, 1).into_bytes()
}

//! Signing checked by independent tools: poppler's `pdfsig` (NSS) validates
//! the signature and its coverage, `pdftotext` reads the visible mark,
//! `qpdf --check` the structure, `openssl cms` the CAdES attributes. Each tool
//! part is skipped with a message when the tool is missing (it fails under
//! CI=true); scripts/test installs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use lienthong_pdfsign::{sign_pdf, signatures, Mark, PdfSignError, SignatureInfo};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509Name, X509};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const AGENCY: &str = "Sở Khoa học và Công nghệ";
const TIME: &str = "2026-12-01T19:05:30+07:00";

// ---------------------------------------------------------------- keys

#[derive(Clone, Copy, Debug)]
enum Kind {
    Rsa,
    P256,
}

struct Pki {
    ca: X509,
    key: PKey<Private>,
    cert: X509,
}

fn new_key(kind: Kind) -> PKey<Private> {
    match kind {
        Kind::Rsa => PKey::from_rsa(Rsa::generate(3072).unwrap()).unwrap(),
        Kind::P256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
            PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
        }
    }
}

fn name(cn: &str) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_text("C", "VN").unwrap();
    n.append_entry_by_text("O", "UBND tỉnh Hà Giang").unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn certificate(
    subject: &X509Name,
    public: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    ca: bool,
) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(120, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(subject).unwrap();
    let (issuer_name, signing_key) = match issuer {
        Some((cert, key)) => (cert.subject_name(), key),
        None => (subject.as_ref(), public),
    };
    b.set_issuer_name(issuer_name).unwrap();
    b.set_pubkey(public).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(3650).unwrap())
        .unwrap();
    if ca {
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
    } else {
        b.append_extension(BasicConstraints::new().critical().build().unwrap())
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
    }
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(ski).unwrap();
    b.sign(signing_key, MessageDigest::sha256()).unwrap();
    b.build()
}

/// A throwaway CA and an agency certificate issued by it, per key kind.
fn pki(kind: Kind) -> &'static Pki {
    static RSA: OnceLock<Pki> = OnceLock::new();
    static P256: OnceLock<Pki> = OnceLock::new();
    let cell = match kind {
        Kind::Rsa => &RSA,
        Kind::P256 => &P256,
    };
    cell.get_or_init(|| {
        let ca_key = new_key(kind);
        let ca = certificate(&name("CA tỉnh Hà Giang (thử)"), &ca_key, None, true);
        let key = new_key(kind);
        let cert = certificate(&name(AGENCY), &key, Some((&ca, &ca_key)), false);
        Pki { ca, key, cert }
    })
}

fn mark() -> Mark {
    Mark {
        agency_name: AGENCY.to_owned(),
        signed_at: DateTime::parse_from_rfc3339(TIME).unwrap(),
        reason: Some("Phát hành văn bản".to_owned()),
        location: Some("Hà Giang".to_owned()),
    }
}

fn sign(pdf: &[u8], kind: Kind) -> Vec<u8> {
    let p = pki(kind);
    sign_pdf(pdf, &p.key, &p.cert, std::slice::from_ref(&p.ca), &mark()).unwrap()
}

// ---------------------------------------------------------------- inputs

/// As the project writes PDFs: pdf-writer, classic table or xref stream.
fn pdf_writer_pdf(xref_stream: bool) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, page, font, content) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, 595.28, 841.89));
    p.parent(tree);
    p.contents(content);
    p.resources().fonts().pair(Name(b"F1"), font);
    p.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let mut c = Content::new();
    c.begin_text();
    c.set_font(Name(b"F1"), 14.0);
    c.next_line(72.0, 700.0);
    c.show(Str(b"QUYET DINH so 05/QD-UBND"));
    c.end_text();
    pdf.stream(content, &c.finish());
    if xref_stream {
        pdf.finish_with_xref_stream(Ref::new(6))
    } else {
        pdf.finish()
    }
}

/// A minimal classic-xref PDF written by hand; the MediaBox is inherited
/// from the page tree. `pages: false` gives an empty page tree.
fn hand_pdf(pages: bool) -> Vec<u8> {
    hand_pdf_with(pages, "")
}

/// `extra`: more entries for the page dictionary, e.g. "/Rotate 90".
fn hand_pdf_with(pages: bool, extra: &str) -> Vec<u8> {
    let content = b"BT /F1 12 Tf 72 720 Td (Original content of the decision) Tj ET";
    let mut objects: Vec<Vec<u8>> = vec![b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()];
    if pages {
        objects.push(b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>".to_vec());
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R {extra}>>"
            )
            .into_bytes(),
        );
        objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
        let mut s = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        s.extend_from_slice(content);
        s.extend_from_slice(b"\nendstream");
        objects.push(s);
    } else {
        objects.push(b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec());
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

// ---------------------------------------------------------------- tools

fn tool(name: &str) -> bool {
    let ok = Command::new(name).arg("-v").output().is_ok()
        || Command::new(name).arg("--version").output().is_ok();
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed but CI=true (scripts/test installs it)");
        }
        eprintln!("SKIPPED: {name} is not installed; its independent checks did not run");
    }
    ok
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An NSS database trusting `ca`, for pdfsig's certificate validation.
fn nss_db(dir: &Path, ca: &X509) -> Option<String> {
    if !tool("certutil") {
        return None;
    }
    let db = dir.join("nss");
    std::fs::create_dir_all(&db).unwrap();
    let db = format!("sql:{}", db.display());
    let o = Command::new("certutil")
        .args(["-N", "--empty-password", "-d", &db])
        .output()
        .unwrap();
    assert!(o.status.success(), "certutil -N: {}", text(&o));
    let pem = write(dir, "ca.pem", &ca.to_pem().unwrap());
    let o = Command::new("certutil")
        .args(["-A", "-n", "ca", "-t", "CT,C,C", "-d", &db, "-i"])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(o.status.success(), "certutil -A: {}", text(&o));
    Some(db)
}

/// pdfsig's report, one block per signature; None without pdfsig.
fn pdfsig(signed: &[u8], ca: Option<&X509>) -> Option<Vec<String>> {
    if !tool("pdfsig") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "signed.pdf", signed);
    // No -no-ocsp: poppler 22.12 then reports "Unknown issue with
    // Certificate"; our certificates name no OCSP responder anyway.
    let mut cmd = Command::new("pdfsig");
    if let Some(db) = ca.and_then(|ca| nss_db(dir.path(), ca)) {
        cmd.args(["-nssdir", &db]);
    } else {
        cmd.arg("-nocert");
    }
    let o = cmd.arg(&file).output().unwrap();
    let out = text(&o);
    let blocks: Vec<String> = out
        .split("Signature #")
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert!(!blocks.is_empty(), "pdfsig found no signature:\n{out}");
    Some(blocks)
}

fn assert_pdfsig_valid(block: &str, whole: bool) {
    assert!(
        block.contains("Signature Validation: Signature is Valid."),
        "{block}"
    );
    assert!(
        block.contains("Signature Type: ETSI.CAdES.detached"),
        "{block}"
    );
    assert_eq!(block.contains("Total document signed"), whole, "{block}");
}

fn pdftotext_page1(signed: &[u8]) -> Option<String> {
    if !tool("pdftotext") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "signed.pdf", signed);
    let o = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success(), "pdftotext: {}", text(&o));
    Some(String::from_utf8(o.stdout).unwrap())
}

fn qpdf_check(pdf: &[u8]) {
    if !tool("qpdf") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "signed.pdf", pdf);
    let o = Command::new("qpdf")
        .arg("--check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "qpdf --check:\n{}", text(&o));
    assert!(!text(&o).contains("WARNING"), "qpdf --check:\n{}", text(&o));
}

/// qpdf's rewrite of `pdf` with object streams (and so an xref stream).
fn qpdf_object_streams(pdf: &[u8]) -> Option<Vec<u8>> {
    if !tool("qpdf") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.pdf", pdf);
    let output = dir.path().join("out.pdf");
    let o = Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    assert!(o.status.success(), "qpdf: {}", text(&o));
    Some(std::fs::read(output).unwrap())
}

/// `openssl cms -verify -cades` over the byte range: the ESS
/// signing-certificate-v2 attribute is checked against the signer; and the
/// printed structure has no signing-time.
fn openssl_cades(signed: &[u8], info: &SignatureInfo, ca: &X509) {
    if !tool("openssl") {
        return;
    }
    let [_, b, c, d] = info.byte_range.map(|v| v as usize);
    let hex = std::str::from_utf8(&signed[b + 1..c - 1]).unwrap();
    let hole: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    // The DER's own length, from its header: the rest of the hole is padding.
    let len = match hole[1] {
        n if n < 0x80 => 2 + usize::from(n),
        n => {
            let k = usize::from(n & 0x7f);
            2 + k
                + hole[2..2 + k]
                    .iter()
                    .fold(0, |a, b| (a << 8) | usize::from(*b))
        }
    };
    let der = &hole[..len];
    let mut content = signed[..b].to_vec();
    content.extend_from_slice(&signed[c..c + d]);
    let dir = tempfile::tempdir().unwrap();
    let cms = write(dir.path(), "sig.der", der);
    let data = write(dir.path(), "content.bin", &content);
    let ca_pem = write(dir.path(), "ca.pem", &ca.to_pem().unwrap());
    // -cades wants the chain checked too: against the test CA.
    let o = Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-cades", "-CAfile",
        ])
        .arg(&ca_pem)
        .arg("-in")
        .arg(&cms)
        .arg("-content")
        .arg(&data)
        .args(["-out", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl cms -verify -cades: {}",
        text(&o)
    );
    let o = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&cms)
        .output()
        .unwrap();
    let printed = text(&o);
    assert!(o.status.success(), "openssl cms -print: {printed}");
    assert!(printed.contains("signingCertificateV2"), "{printed}");
    assert!(printed.contains("messageDigest"), "{printed}");
    assert!(!printed.contains("signingTime"), "{printed}");
}

// ---------------------------------------------------------------- tests

fn check_signed(input: &[u8], signed: &[u8], kind: Kind, what: &str) {
    assert!(
        signed.starts_with(input),
        "{what}: original bytes not kept as a prefix"
    );
    let sigs = signatures(signed).unwrap();
    assert_eq!(sigs.len(), 1, "{what}: {sigs:?}");
    let s = &sigs[0];
    assert!(s.verifies, "{what}: {s:?}");
    assert!(s.covers_whole_document, "{what}: {s:?}");
    assert!(s.pades_attributes, "{what}: {s:?}");
    assert_eq!(s.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(s.field_name, "Signature1");
    assert_eq!(
        s.signed_at,
        Some(DateTime::<FixedOffset>::parse_from_rfc3339(TIME).unwrap())
    );
    let subject = s.signer_subject.as_deref().unwrap_or("");
    assert!(
        subject.contains(&format!("CN={AGENCY}")),
        "{what}: {subject}"
    );

    if let Some(blocks) = pdfsig(signed, Some(&pki(kind).ca)) {
        assert_eq!(blocks.len(), 1, "{what}: {blocks:?}");
        assert_pdfsig_valid(&blocks[0], true);
        if tool("certutil") {
            assert!(
                blocks[0].contains("Certificate Validation: Certificate is Trusted."),
                "{what}: {}",
                blocks[0]
            );
        }
    }
    if let Some(t) = pdftotext_page1(signed) {
        assert!(
            t.contains(AGENCY),
            "{what}: the mark is missing from page 1: {t:?}"
        );
        assert!(
            t.contains(TIME),
            "{what}: the time is missing from page 1: {t:?}"
        );
    }
    qpdf_check(signed);
    openssl_cades(signed, s, &pki(kind).ca);
}

#[test]
fn signs_common_inputs_with_rsa_and_p256() {
    let mut inputs = vec![
        ("pdf-writer, xref table", pdf_writer_pdf(false)),
        ("pdf-writer, xref stream", pdf_writer_pdf(true)),
        ("hand-written, xref table", hand_pdf(true)),
    ];
    if let Some(compressed) = qpdf_object_streams(&hand_pdf(true)) {
        inputs.push(("qpdf, object streams", compressed));
    }
    for (what, input) in &inputs {
        for kind in [Kind::Rsa, Kind::P256] {
            let signed = sign(input, kind);
            check_signed(input, &signed, kind, &format!("{what}, {kind:?}"));
        }
    }
}

#[test]
fn second_signature_keeps_the_first_valid() {
    let input = pdf_writer_pdf(false);
    let once = sign(&input, Kind::Rsa);
    let twice = sign(&once, Kind::P256);
    assert!(twice.starts_with(&once));
    let sigs = signatures(&twice).unwrap();
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    let first = sigs.iter().find(|s| s.field_name == "Signature1").unwrap();
    let second = sigs.iter().find(|s| s.field_name == "Signature2").unwrap();
    assert!(first.verifies && !first.covers_whole_document, "{first:?}");
    assert!(
        second.verifies && second.covers_whole_document,
        "{second:?}"
    );
    assert_eq!(first.byte_range[2] + first.byte_range[3], once.len() as u64);
    if let Some(blocks) = pdfsig(&twice, None) {
        assert_eq!(blocks.len(), 2, "{blocks:?}");
        assert_pdfsig_valid(&blocks[0], false);
        assert_pdfsig_valid(&blocks[1], true);
    }
    qpdf_check(&twice);
}

#[test]
fn tampering_with_the_original_is_detected() {
    let input = hand_pdf(true);
    let mut signed = sign(&input, Kind::Rsa);
    let at = signed
        .windows(16)
        .position(|w| w == b"Original content")
        .unwrap();
    signed[at] = b'X';
    let sigs = signatures(&signed).unwrap();
    assert_eq!(sigs.len(), 1);
    assert!(!sigs[0].verifies, "{:?}", sigs[0]);
    assert!(sigs[0].problem.is_some());
    if let Some(blocks) = pdfsig(&signed, None) {
        assert!(
            !blocks[0].contains("Signature is Valid."),
            "pdfsig accepts a tampered file: {}",
            blocks[0]
        );
    }
}

/// The signature dictionary itself is signed (all but /Contents), and a
/// changed byte of the CMS breaks it too.
#[test]
fn tampering_with_the_update_is_detected() {
    let signed = sign(&hand_pdf(true), Kind::P256);
    let mut later = signed.clone();
    let at = later.windows(6).rposition(|w| w == b"D:2026").unwrap();
    later[at + 5] = b'7';
    let sigs = signatures(&later).unwrap();
    assert!(!sigs[0].verifies, "{:?}", sigs[0]);

    let mut cms = signed.clone();
    let hole = sigs[0].byte_range[1] as usize;
    // Somewhere in the signature value near the end of the DER.
    let at = cms[hole..].iter().position(|b| *b == b'>').unwrap() + hole;
    let last = cms[hole..at].iter().rposition(|b| *b != b'0').unwrap() + hole;
    cms[last] = if cms[last] == b'1' { b'2' } else { b'1' };
    let sigs = signatures(&cms).unwrap();
    assert!(!sigs[0].verifies, "{:?}", sigs[0]);
    if let Some(blocks) = pdfsig(&cms, None) {
        assert!(!blocks[0].contains("Signature is Valid."), "{}", blocks[0]);
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    let p = pki(Kind::P256);
    let try_sign = |bytes: &[u8]| sign_pdf(bytes, &p.key, &p.cert, &[], &mark());

    assert!(matches!(try_sign(b""), Err(PdfSignError::NotPdf)));
    assert!(matches!(
        try_sign(b"PK\x03\x04 a zip, not a PDF"),
        Err(PdfSignError::NotPdf)
    ));
    assert!(matches!(signatures(b"hello"), Err(PdfSignError::NotPdf)));

    let good = hand_pdf(true);
    let half = &good[..good.len() / 2];
    assert!(matches!(try_sign(half), Err(PdfSignError::Truncated)));
    assert!(matches!(signatures(half), Err(PdfSignError::Truncated)));
    // Every cut point: an error or (cut in trailing whitespace) a signature,
    // never a panic.
    for cut in 0..good.len() {
        let _ = try_sign(&good[..cut]);
        let _ = signatures(&good[..cut]);
    }
    assert!(matches!(
        try_sign(b"%PDF-1.7\ngarbage\nstartxref\n99999\n%%EOF\n"),
        Err(PdfSignError::Malformed(_))
    ));
    assert!(matches!(
        try_sign(b"%PDF-1.7\ngarbage\nstartxref\n9\n%%EOF\n"),
        Err(PdfSignError::Malformed(_))
    ));
    assert!(matches!(
        try_sign(&hand_pdf(false)),
        Err(PdfSignError::NoPages)
    ));

    let other = pki(Kind::Rsa);
    assert!(matches!(
        sign_pdf(&good, &other.key, &p.cert, &[], &mark()),
        Err(PdfSignError::KeyMismatch)
    ));

    assert!(signatures(&good).unwrap().is_empty());

    if tool("qpdf") {
        let dir = tempfile::tempdir().unwrap();
        let input = write(dir.path(), "in.pdf", &good);
        let output = dir.path().join("enc.pdf");
        let o = Command::new("qpdf")
            .args(["--encrypt", "", "owner", "256", "--"])
            .arg(&input)
            .arg(&output)
            .output()
            .unwrap();
        assert!(o.status.success(), "qpdf --encrypt: {}", text(&o));
        let encrypted = std::fs::read(&output).unwrap();
        assert!(matches!(try_sign(&encrypted), Err(PdfSignError::Encrypted)));
    }
}

/// On a rotated page the mark is still top right and upright as shown: the
/// text comes out of pdftotext in reading order, and pdftoppm's rendering has
/// ink in the top right corner only.
#[test]
fn mark_follows_page_rotation() {
    for rotate in [90, 180, 270] {
        let input = hand_pdf_with(true, &format!("/Rotate {rotate} "));
        let signed = sign(&input, Kind::P256);
        let sigs = signatures(&signed).unwrap();
        assert!(sigs[0].verifies, "{rotate}: {sigs:?}");
        if let Some(t) = pdftotext_page1(&signed) {
            assert!(t.contains(AGENCY), "{rotate}: {t:?}");
            assert!(t.contains(TIME), "{rotate}: {t:?}");
        }
        if tool("pdftoppm") {
            let dir = tempfile::tempdir().unwrap();
            let file = write(dir.path(), "signed.pdf", &signed);
            let o = Command::new("pdftoppm")
                .args(["-r", "50", "-gray", "-f", "1", "-l", "1", "-singlefile"])
                .arg(&file)
                .arg(dir.path().join("page"))
                .output()
                .unwrap();
            assert!(o.status.success(), "pdftoppm: {}", text(&o));
            let (w, h, pixels) = read_pgm(&std::fs::read(dir.path().join("page.pgm")).unwrap());
            // The mark: dark pixels in the top twelfth of the shown page, on
            // the right (the page's own text starts lower, 72 pt in).
            let dark = |x0: usize, x1: usize, y0: usize, y1: usize| {
                (y0..y1)
                    .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                    .filter(|&(x, y)| pixels[y * w + x] < 200)
                    .count()
            };
            assert!(w > h || rotate == 180, "{rotate}: shown {w}x{h}");
            assert!(dark(w / 2, w, 0, h / 12) > 0, "{rotate}: no mark top right");
            assert_eq!(dark(0, w / 2, 0, h / 12), 0, "{rotate}: ink top left");
        }
    }
}

/// A binary PGM (P5) from pdftoppm -gray: width, height, pixels.
fn read_pgm(data: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&data[start..i]).unwrap().to_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, data[i + 1..i + 1 + w * h].to_vec())
}

/// Damage anywhere in a signed file: errors or failed checks, never a panic.
#[test]
fn damaged_files_never_panic() {
    let signed = sign(&pdf_writer_pdf(true), Kind::P256);
    let p = pki(Kind::P256);
    for at in (0..signed.len()).step_by(37) {
        for byte in [b'0', b'/', 0xff] {
            let mut bad = signed.clone();
            bad[at] = byte;
            if let Ok(sigs) = signatures(&bad) {
                assert!(sigs.len() <= 1);
            }
            if at % 370 == 0 {
                let _ = sign_pdf(&bad, &p.key, &p.cert, &[], &mark());
            }
        }
    }
}

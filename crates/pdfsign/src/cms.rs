//! The CMS SignedData (RFC 5652) inside `/Contents`, written as DER by hand.
//!
//! Why by hand: PAdES B-B (ETSI EN 319 142-1) wants exactly three signed
//! attributes — content-type, message-digest and ESS signing-certificate-v2 —
//! and *no* signing-time (the time is the dictionary's `/M`). The openssl
//! crate's `CmsContentInfo::sign` always adds signing-time and
//! S/MIME capabilities and exposes no `CMS_CADES` flag, so using it would mean
//! `unsafe` openssl-sys calls to delete attributes after the fact. The
//! structure is small and fixed; openssl still makes the signature itself, and
//! openssl's own CMS parser (and poppler/NSS in the tests) check every byte
//! we write.

use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKeyRef, Private};
use openssl::sign::Signer;
use openssl::x509::{X509Ref, X509};

use crate::PdfSignError;

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
/// `[0]` constructed (EXPLICIT content, or IMPLICIT SET OF).
const CONTEXT_0: u8 = 0xa0;
/// `[4]` constructed: GeneralName's directoryName.
const CONTEXT_4: u8 = 0xa4;

// Object identifiers, already DER-encoded (tag, length, value).
const OID_SIGNED_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];
const OID_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];
const OID_SHA256: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const OID_CONTENT_TYPE: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03,
];
const OID_MESSAGE_DIGEST: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04,
];
const OID_SIGNING_TIME: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05,
];
/// id-aa-signingCertificateV2, 1.2.840.113549.1.9.16.2.47.
const OID_SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];
const OID_RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
const OID_ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const NULL: &[u8] = &[0x05, 0x00];

/// One tag-length-value, with the length in DER's shortest form.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

/// A DER SET OF: the elements sorted by their encodings (X.690 11.6), which
/// matters for the signed attributes: verifiers re-encode them before hashing.
fn set_of(mut parts: Vec<Vec<u8>>, tag: u8) -> Vec<u8> {
    parts.sort();
    tlv(tag, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match magnitude.iter().position(|b| *b != 0) {
        Some(i) => &magnitude[i..],
        None => &[0],
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(INTEGER, &content)
}

fn serial_of(cert: &X509Ref) -> Result<Vec<u8>, PdfSignError> {
    let bn: BigNum = cert.serial_number().to_bn()?;
    Ok(unsigned_integer(&bn.to_vec()))
}

/// The signature algorithm for the key, or why the key is not supported.
fn signature_algorithm(key: &PKeyRef<Private>) -> Result<Vec<u8>, PdfSignError> {
    match key.id() {
        // rsaEncryption with NULL parameters, as RFC 3370 and OpenSSL write it.
        Id::RSA => Ok(seq(&[OID_RSA_ENCRYPTION, NULL])),
        Id::EC => Ok(seq(&[OID_ECDSA_SHA256])),
        other => Err(PdfSignError::UnsupportedKey(format!(
            "key type {other:?}: only RSA and ECDSA (P-256) keys sign"
        ))),
    }
}

/// The signed attributes as a DER SET (tag 0x31): the bytes that are signed.
fn signed_attributes(cert: &X509Ref, digest: &[u8; 32]) -> Result<Vec<u8>, PdfSignError> {
    let content_type = seq(&[OID_CONTENT_TYPE, &tlv(SET, OID_DATA)]);
    let message_digest = seq(&[OID_MESSAGE_DIGEST, &tlv(SET, &tlv(OCTET_STRING, digest))]);
    // ESSCertIDv2 { hashAlgorithm DEFAULT sha256 (so omitted), certHash,
    // issuerSerial { issuer GeneralNames, serialNumber } } (RFC 5035).
    let cert_hash = openssl::sha::sha256(&cert.to_der()?);
    let issuer = cert.issuer_name().to_der()?;
    let issuer_serial = seq(&[&seq(&[&tlv(CONTEXT_4, &issuer)]), &serial_of(cert)?]);
    let ess_cert_id = seq(&[&tlv(OCTET_STRING, &cert_hash), &issuer_serial]);
    let signing_certificate = seq(&[&seq(&[&ess_cert_id])]);
    let signing_certificate_v2 =
        seq(&[OID_SIGNING_CERTIFICATE_V2, &tlv(SET, &signing_certificate)]);
    Ok(set_of(
        vec![content_type, message_digest, signing_certificate_v2],
        SET,
    ))
}

/// The whole ContentInfo around a SignedData, with `signature` as the
/// SignerInfo's signature value.
fn assemble(
    cert: &X509Ref,
    chain: &[X509],
    attributes: &[u8],
    algorithm: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, PdfSignError> {
    let sha256 = seq(&[OID_SHA256]);
    let mut certs = vec![cert.to_der()?];
    for c in chain {
        let der = c.to_der()?;
        if !certs.contains(&der) {
            certs.push(der);
        }
    }
    let issuer_and_serial = seq(&[&cert.issuer_name().to_der()?, &serial_of(cert)?]);
    // In the SignerInfo the attributes are [0] IMPLICIT instead of SET.
    let mut implicit_attributes = attributes.to_vec();
    implicit_attributes[0] = CONTEXT_0;
    let signer_info = seq(&[
        &unsigned_integer(&[1]),
        &issuer_and_serial,
        &sha256,
        &implicit_attributes,
        algorithm,
        &tlv(OCTET_STRING, signature),
    ]);
    let signed_data = seq(&[
        &unsigned_integer(&[1]),
        &tlv(SET, &sha256),
        // Detached: encapContentInfo names the type and carries no content.
        &seq(&[OID_DATA]),
        &set_of(certs, CONTEXT_0),
        &tlv(SET, &signer_info),
    ]);
    Ok(seq(&[OID_SIGNED_DATA, &tlv(CONTEXT_0, &signed_data)]))
}

/// The largest SignedData this key and these certificates can give: what the
/// `/Contents` placeholder must hold. Lengths do not depend on the digest, and
/// a signature is never longer than `PKey::size` (ECDSA's DER varies below it).
pub(crate) fn max_len(
    key: &PKeyRef<Private>,
    cert: &X509Ref,
    chain: &[X509],
) -> Result<usize, PdfSignError> {
    let algorithm = signature_algorithm(key)?;
    let attributes = signed_attributes(cert, &[0; 32])?;
    let dummy = vec![0xffu8; key.size()];
    Ok(assemble(cert, chain, &attributes, &algorithm, &dummy)?.len())
}

/// A detached CAdES SignedData over content whose SHA-256 is `digest`.
pub(crate) fn sign(
    key: &PKeyRef<Private>,
    cert: &X509Ref,
    chain: &[X509],
    digest: &[u8; 32],
) -> Result<Vec<u8>, PdfSignError> {
    let algorithm = signature_algorithm(key)?;
    let attributes = signed_attributes(cert, digest)?;
    let mut signer = Signer::new(MessageDigest::sha256(), key)?;
    signer.update(&attributes)?;
    let signature = signer.sign_to_vec()?;
    assemble(cert, chain, &attributes, &algorithm, &signature)
}

// ---------------------------------------------------------------- reading

/// One DER element: its tag, its content, and all of its bytes.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// The first element of `input` and what follows it; `None` for anything but
/// definite-length DER with a one-byte tag.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    Some((
        Tlv {
            tag,
            content: &whole[header..],
            whole,
        },
        &input[end..],
    ))
}

fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read_tlv(rest)?;
        out.push(t);
        rest = r;
    }
    Some(out)
}

/// The length of the DER element at the start of `contents` (the signature
/// hole is padded with zeros after it), if it is definite-length DER.
pub(crate) fn der_len(contents: &[u8]) -> Option<usize> {
    read_tlv(contents).map(|(t, _)| t.whole.len())
}

/// What we read from a SignedData besides the signature check.
pub(crate) struct Parsed {
    /// The signer's certificate, found by issuer and serial number.
    pub signer: Option<X509>,
    /// ESS signing-certificate-v2 present and naming the signer's certificate.
    pub signing_certificate_v2: bool,
    /// A signing-time attribute, which PAdES forbids.
    pub has_signing_time: bool,
}

/// Read the signer certificate and the attributes PAdES cares about.
pub(crate) fn parse(der: &[u8]) -> Option<Parsed> {
    let (info, _) = read_tlv(der)?;
    let info = children(info.content)?;
    if info.first()?.whole != OID_SIGNED_DATA {
        return None;
    }
    let explicit = info.get(1)?;
    let (signed_data, _) = read_tlv(explicit.content)?;
    let parts = children(signed_data.content)?;
    let certs: Vec<X509> = parts
        .iter()
        .find(|p| p.tag == CONTEXT_0)
        .and_then(|p| children(p.content))
        .unwrap_or_default()
        .iter()
        .filter_map(|c| X509::from_der(c.whole).ok())
        .collect();
    let signer_infos = parts.iter().rev().find(|p| p.tag == SET)?;
    let signer_info = children(signer_infos.content)?.into_iter().next()?;
    let fields = children(signer_info.content)?;
    let sid = fields.get(1)?;
    let mut signer = None;
    if sid.tag == SEQUENCE {
        let id = children(sid.content)?;
        let (issuer, serial) = (id.first()?.whole, id.get(1)?.whole);
        signer = certs.iter().find(|c| {
            c.issuer_name().to_der().ok().as_deref() == Some(issuer)
                && serial_of(c).ok().as_deref() == Some(serial)
        });
    }
    let attributes = fields
        .iter()
        .find(|f| f.tag == CONTEXT_0)
        .and_then(|f| children(f.content))
        .unwrap_or_default();
    let mut signing_certificate_v2 = false;
    let mut has_signing_time = false;
    for attribute in &attributes {
        let Some(a) = children(attribute.content) else {
            continue;
        };
        let Some(oid) = a.first() else { continue };
        if oid.whole == OID_SIGNING_TIME {
            has_signing_time = true;
        }
        if oid.whole == OID_SIGNING_CERTIFICATE_V2 {
            let first_hash = a
                .get(1)
                .and_then(|values| read_tlv(values.content)) // SigningCertificateV2
                .and_then(|(v, _)| read_tlv(v.content)) // certs
                .and_then(|(certs, _)| read_tlv(certs.content)) // first ESSCertIDv2
                .and_then(|(id, _)| children(id.content))
                .and_then(|id| id.into_iter().find(|f| f.tag == OCTET_STRING));
            if let (Some(hash), Some(cert)) = (first_hash, signer) {
                signing_certificate_v2 = cert
                    .to_der()
                    .map(|d| openssl::sha::sha256(&d)[..] == *hash.content)
                    .unwrap_or(false);
            }
        }
    }
    Some(Parsed {
        signer: signer.cloned(),
        signing_certificate_v2,
        has_signing_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_lengths() {
        assert_eq!(unsigned_integer(&[0x00, 0x01]), vec![0x02, 0x01, 0x01]);
        assert_eq!(unsigned_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        let long = tlv(OCTET_STRING, &[7; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(der_len(&[long.clone(), vec![0; 10]].concat()), Some(304));
        assert!(der_len(&[0x30, 0x80, 0, 0]).is_none());
        assert!(der_len(&[0x30, 0x05, 1]).is_none());
    }

    #[test]
    fn set_of_sorts() {
        assert_eq!(
            set_of(vec![vec![3], vec![1, 9], vec![2]], SET),
            vec![0x31, 4, 1, 9, 2, 3]
        );
    }
}

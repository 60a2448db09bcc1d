//! Chữ ký số (digital signature) of a package: a W3C XML-DSig *enveloped*
//! signature over the whole document (Reference URI=""), placed last in
//! edXMLHeader, with the signer's X.509 certificate in KeyInfo.
//!
//! We produce rsa-sha256 or ecdsa-sha256 (P-256) with a sha256 digest and inclusive
//! C14N 1.0. We accept rsa-sha1 and sha1 digests from legacy senders, and exclusive
//! C14N, but never produce them. Only the digest and the signature value are
//! checked here: whether the certificate is trusted, valid and not revoked is the
//! pki crate's business, so [`verify`] hands back the certificate.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{Hasher, MessageDigest};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Private, Public};
use openssl::sha::sha256;
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::c14n::{canonicalize, Canonicalizer, Method, Scope, C14N_10};
use crate::error::{EdxmlError, SignatureError};
use crate::limits::Limits;
use crate::xml::{parse_tree_watched, Element, Token, Tokenizer};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// SignatureMethod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    RsaSha256,
    EcdsaSha256,
    /// Legacy: accepted on receipt only.
    RsaSha1,
}

impl SignatureAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha256 => RSA_SHA256,
            SignatureAlgorithm::EcdsaSha256 => ECDSA_SHA256,
            SignatureAlgorithm::RsaSha1 => RSA_SHA1,
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        [
            SignatureAlgorithm::RsaSha256,
            SignatureAlgorithm::EcdsaSha256,
            SignatureAlgorithm::RsaSha1,
        ]
        .into_iter()
        .find(|a| a.uri() == uri)
    }

    fn digest(self) -> MessageDigest {
        match self {
            SignatureAlgorithm::RsaSha256 | SignatureAlgorithm::EcdsaSha256 => {
                MessageDigest::sha256()
            }
            SignatureAlgorithm::RsaSha1 => MessageDigest::sha1(),
        }
    }

    /// Legacy algorithms: worth a warning to the sender, not a refusal.
    pub fn is_legacy(self) -> bool {
        self == SignatureAlgorithm::RsaSha1
    }
}

/// DigestMethod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Sha256,
    /// Legacy: accepted on receipt only.
    Sha1,
}

impl DigestAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => SHA256,
            DigestAlgorithm::Sha1 => SHA1,
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            SHA256 => Some(DigestAlgorithm::Sha256),
            SHA1 => Some(DigestAlgorithm::Sha1),
            _ => None,
        }
    }

    fn md(self) -> MessageDigest {
        match self {
            DigestAlgorithm::Sha256 => MessageDigest::sha256(),
            DigestAlgorithm::Sha1 => MessageDigest::sha1(),
        }
    }
}

/// A signature whose digest and value check out.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The certificate whose key made the signature (to be checked by the pki crate).
    pub certificate: X509,
    /// Every certificate in KeyInfo, in document order (often the signer's chain).
    pub certificates: Vec<X509>,
    pub algorithm: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    /// SignedInfo's CanonicalizationMethod.
    pub canonicalization: Method,
}

/// Signs an unsigned package (as written by [`crate::Package::to_xml`] or received),
/// appending the Signature to edXMLHeader.
pub fn sign(xml: &[u8], key: &PKey<Private>, cert: &X509) -> Result<Vec<u8>, SignatureError> {
    let limits = Limits::default();
    if !cert.public_key()?.public_eq(key) {
        return Err(SignatureError::KeyCertificateMismatch);
    }
    // The EC key, for P-256, is taken out once: it signs below.
    let (algorithm, ec_key) = match key.id() {
        Id::RSA if key.bits() >= 2048 => (SignatureAlgorithm::RsaSha256, None),
        Id::RSA => {
            return Err(SignatureError::UnsupportedKey(format!(
                "RSA keys need at least 2048 bits, this one has {}",
                key.bits()
            )))
        }
        Id::EC => {
            let ec_key = key.ec_key()?;
            if ec_key.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                return Err(SignatureError::UnsupportedKey(
                    "only the P-256 curve is used for ecdsa-sha256".into(),
                ));
            }
            (SignatureAlgorithm::EcdsaSha256, Some(ec_key))
        }
        other => return Err(SignatureError::UnsupportedKey(format!("{other:?}"))),
    };

    // With the Signature inserted and then removed by the enveloped transform, the
    // node-set is exactly the unsigned document's.
    let method = Method::Inclusive {
        with_comments: false,
    };
    let mut hasher = Hasher::new(MessageDigest::sha256())?;
    let insert_at = header_end_digesting(xml, &limits, &method, &mut hasher)?;
    let digest = STANDARD.encode(hasher.finish()?);

    let signed_info = format!(
        "<SignedInfo><CanonicalizationMethod Algorithm=\"{C14N_10}\"/>\
         <SignatureMethod Algorithm=\"{}\"/><Reference URI=\"\"><Transforms>\
         <Transform Algorithm=\"{ENVELOPED}\"/><Transform Algorithm=\"{C14N_10}\"/>\
         </Transforms><DigestMethod Algorithm=\"{SHA256}\"/>\
         <DigestValue>{digest}</DigestValue></Reference></SignedInfo>",
        algorithm.uri()
    );
    let cert_b64 = wrap76(&STANDARD.encode(cert.to_der()?));
    let signature = |value: &str| {
        format!(
            "<Signature xmlns=\"{DSIG_NS}\">{signed_info}<SignatureValue>{value}</SignatureValue>\
             <KeyInfo><X509Data><X509Certificate>{cert_b64}</X509Certificate></X509Data>\
             </KeyInfo></Signature>"
        )
    };
    // SignedInfo is canonicalized in place, so it gets the namespaces it inherits
    // from the package exactly as a verifier will see them.
    let draft = splice(xml, insert_at, &signature(""));
    let canonical = signed_info_canonical(&draft, &limits, &method)?;
    let value = match &ec_key {
        // ECDSA on the digest directly: OpenSSL 3's EVP interface looks the
        // algorithm up on every use, which costs a fifth of a P-256 signature. And
        // XML-DSig wants r||s, each as wide as the curve order, which this gives.
        Some(ec_key) => {
            let sig = EcdsaSig::sign(&sha256(&canonical), ec_key)?;
            let mut value = sig.r().to_vec_padded(32)?;
            value.extend(sig.s().to_vec_padded(32)?);
            value
        }
        None => {
            let mut signer = Signer::new(algorithm.digest(), key)?;
            signer.update(&canonical)?;
            signer.sign_to_vec()?
        }
    };
    Ok(splice(
        xml,
        insert_at,
        &signature(&wrap76(&STANDARD.encode(value))),
    ))
}

fn splice(xml: &[u8], at: usize, insert: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len() + insert.len());
    out.extend_from_slice(&xml[..at]);
    out.extend_from_slice(insert.as_bytes());
    out.extend_from_slice(&xml[at..]);
    out
}

fn wrap76(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 76 + 2);
    for (i, c) in s.chars().enumerate() {
        if i % 76 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    out.push('\n');
    out
}

/// Where `</…edXMLHeader>` starts (the Signature goes there), while the package's
/// canonical form is written to `out` in the same pass; refuses a package that is
/// already signed.
fn header_end_digesting(
    xml: &[u8],
    limits: &Limits,
    method: &Method,
    out: &mut dyn std::io::Write,
) -> Result<usize, SignatureError> {
    let mut tok = Tokenizer::new(xml, limits, false)?;
    let mut c14n = Canonicalizer::new(method.clone(), Scope::Document { exclude: None });
    let mut path: Vec<String> = Vec::new();
    let mut found = None;
    while let Some(t) = tok.next_token()? {
        match &t {
            Token::Start(s) => {
                if s.local == "Signature"
                    && (s.ns.as_deref() == Some(DSIG_NS)
                        || path.last().is_some_and(|p| p == "edXMLHeader"))
                {
                    return Err(SignatureError::AlreadySigned);
                }
                path.push(s.local.clone());
            }
            Token::End { offset } => {
                let local = path.pop().unwrap_or_default();
                let in_envelope = path.last().is_some_and(|p| p == "edXMLEnvelope");
                if local == "edXMLHeader" && in_envelope && found.is_none() {
                    found = Some(offset.ok_or(SignatureError::NoHeader)?);
                }
            }
            _ => {}
        }
        c14n.feed(&tok, &t, out)?;
    }
    found.ok_or(SignatureError::NoHeader)
}

/// The canonical form of the first XML-DSig SignedInfo of `xml`, found and
/// canonicalized in one pass that ends with it.
fn signed_info_canonical(
    xml: &[u8],
    limits: &Limits,
    method: &Method,
) -> Result<Vec<u8>, SignatureError> {
    let mut tok = Tokenizer::new(xml, limits, false)?;
    let mut c14n = Canonicalizer::new(method.clone(), Scope::SUBTREE_TO_COME);
    let mut canonical = Vec::new();
    let mut found = false;
    while let Some(t) = tok.next_token()? {
        if let Token::Start(s) = &t {
            if !found && s.local == "SignedInfo" && s.ns.as_deref() == Some(DSIG_NS) {
                c14n.set_apex(s.ordinal);
                found = true;
            }
        }
        if !c14n.feed(&tok, &t, &mut canonical)? {
            return Ok(canonical);
        }
    }
    Err(SignatureError::Missing {
        element: "SignedInfo",
    })
}

/// Checks the signature of a received package with the default [`Limits`].
pub fn verify(xml: &[u8]) -> Result<Verified, SignatureError> {
    verify_with(xml, &Limits::default())
}

/// Checks the digest and signature value; returns the signer's certificate.
pub fn verify_with(xml: &[u8], limits: &Limits) -> Result<Verified, SignatureError> {
    let (root, presumed) = read_digesting(xml, limits, false)?;
    verify_parsed(xml, &root, limits, presumed.as_ref())
}

/// The Reference digest of a package signed as we sign ours (inclusive C14N 1.0,
/// SHA-256, the whole document less its Signature), worked out while the package
/// was read, on the guess that its first XML-DSig `Signature` is the one: the check
/// uses it only when the guesses turn out right, and canonicalizes again otherwise.
pub(crate) struct PresumedDigest {
    /// The ordinal of the element left out.
    signature: usize,
    value: Vec<u8>,
    /// The ordinal and inclusive canonical form (without comments) of the first
    /// SignedInfo after it, what the signature value is checked against.
    signed_info: Option<(usize, Vec<u8>)>,
}

/// Reads `xml` into a tree (see `parse_tree`) and, in the same pass, its
/// [`PresumedDigest`]: a received package's attachments are tokenized once, not
/// once for the tree and again for the digest.
pub(crate) fn read_digesting(
    xml: &[u8],
    limits: &Limits,
    decode_payloads: bool,
) -> Result<(Element, Option<PresumedDigest>), EdxmlError> {
    let mut c14n = Canonicalizer::new(
        Method::Inclusive {
            with_comments: false,
        },
        Scope::Document { exclude: None },
    );
    let mut hasher = Hasher::new(MessageDigest::sha256()).ok();
    let mut signature = None;
    // SignedInfo is canonicalized in the same pass, until it closes.
    let mut signed_info = Canonicalizer::new(
        Method::Inclusive {
            with_comments: false,
        },
        Scope::SUBTREE_TO_COME,
    );
    let (mut signed_info_at, mut signed_info_c14n) = (None, Some(Vec::new()));
    let mut signed_info_open = true;
    let root = parse_tree_watched(xml, limits, decode_payloads, &mut |tok, t| {
        let Some(h) = hasher.as_mut() else { return };
        if let Token::Start(s) = t {
            // The tree's reader tolerates unbound prefixes, the canonicalizer does
            // not: such a document takes the canonicalizer's own pass, and its error.
            if (!s.prefix.is_empty() && s.ns.is_none())
                || s.attrs
                    .iter()
                    .any(|a| !a.prefix.is_empty() && a.ns.is_none())
            {
                hasher = None;
                return;
            }
            if signature.is_none() && s.local == "Signature" && s.ns.as_deref() == Some(DSIG_NS) {
                signature = Some(s.ordinal);
                c14n.exclude(s.ordinal);
            } else if signature.is_some() && signed_info_at.is_none() && s.local == "SignedInfo" {
                signed_info_at = Some(s.ordinal);
                signed_info.set_apex(s.ordinal);
            }
        }
        if c14n.feed(tok, t, h).is_err() {
            hasher = None;
        }
        if signed_info_open {
            if let Some(out) = signed_info_c14n.as_mut() {
                match signed_info.feed(tok, t, out) {
                    Ok(open) => signed_info_open = open,
                    Err(_) => signed_info_c14n = None,
                }
            }
        }
    })?;
    let presumed = match (signature, hasher) {
        (Some(signature), Some(mut h)) => h.finish().ok().map(|value| PresumedDigest {
            signature,
            value: value.to_vec(),
            // Closed: a SignedInfo still open at the end was never canonicalized whole.
            signed_info: signed_info_at
                .filter(|_| !signed_info_open)
                .zip(signed_info_c14n),
        }),
        _ => None,
    };
    Ok((root, presumed))
}

/// [`verify_with`] on a tree already read from `xml` (with or without payloads): the
/// tree locates the Signature, the digests are computed over `xml` itself (or were,
/// while the tree was read: `presumed`).
pub(crate) fn verify_parsed(
    xml: &[u8],
    root: &Element,
    limits: &Limits,
    presumed: Option<&PresumedDigest>,
) -> Result<Verified, SignatureError> {
    let mut all = Vec::new();
    root.find_all("Signature", &mut all);
    // Deployed senders sometimes leave the Signature without the XML-DSig
    // namespace; what makes it a signature is its SignedInfo.
    let sigs: Vec<&Element> = all
        .into_iter()
        .filter(|s| s.ns.as_deref() == Some(DSIG_NS) || s.child("SignedInfo").is_some())
        .collect();
    let sig = match sigs.as_slice() {
        [] => return Err(SignatureError::Unsigned),
        [one] => *one,
        many => return Err(SignatureError::SeveralSignatures(many.len())),
    };
    let header = envelope_header(root).ok_or(SignatureError::MisplacedSignature)?;
    if !header.children.iter().any(|c| c.ordinal == sig.ordinal) {
        return Err(SignatureError::MisplacedSignature);
    }

    let missing = |element| SignatureError::Missing { element };
    let si = sig.child("SignedInfo").ok_or(missing("SignedInfo"))?;
    let c14n_el = si
        .child("CanonicalizationMethod")
        .ok_or(missing("SignedInfo/CanonicalizationMethod"))?;
    let c14n = method_of(c14n_el, "canonicalization")?;
    let sm = si
        .child("SignatureMethod")
        .and_then(|e| e.attr("Algorithm"))
        .ok_or(missing("SignedInfo/SignatureMethod"))?;
    let algorithm =
        SignatureAlgorithm::from_uri(sm).ok_or_else(|| SignatureError::UnsupportedAlgorithm {
            what: "signature",
            uri: sm.to_owned(),
        })?;
    let refs: Vec<&Element> = si.children_named("Reference").collect();
    let [reference] = refs.as_slice() else {
        return Err(SignatureError::ReferenceCount(refs.len()));
    };
    match reference.attr("URI") {
        Some("") => {}
        other => {
            return Err(SignatureError::UnsupportedReference(
                other.unwrap_or("(none)").to_owned(),
            ))
        }
    }
    let transforms: Vec<&Element> = reference
        .child("Transforms")
        .map(|t| t.children_named("Transform").collect())
        .unwrap_or_default();
    let ref_method = match transforms.as_slice() {
        [env] if env.attr("Algorithm") == Some(ENVELOPED) => Method::Inclusive {
            with_comments: false,
        },
        [env, c] if env.attr("Algorithm") == Some(ENVELOPED) => method_of(c, "transform")?,
        other => {
            let names: Vec<&str> = other
                .iter()
                .map(|t| t.attr("Algorithm").unwrap_or("?"))
                .collect();
            return Err(SignatureError::UnsupportedTransforms(format!(
                "[{}]",
                names.join(", ")
            )));
        }
    };
    let dm = reference
        .child("DigestMethod")
        .and_then(|e| e.attr("Algorithm"))
        .ok_or(missing("Reference/DigestMethod"))?;
    let digest =
        DigestAlgorithm::from_uri(dm).ok_or_else(|| SignatureError::UnsupportedAlgorithm {
            what: "digest",
            uri: dm.to_owned(),
        })?;
    let digest_value = b64(
        reference
            .child("DigestValue")
            .ok_or(missing("Reference/DigestValue"))?,
        "DigestValue",
    )?;
    let signature_value = b64(
        sig.child("SignatureValue")
            .ok_or(missing("SignatureValue"))?,
        "SignatureValue",
    )?;
    let certificates = sig
        .child("KeyInfo")
        .and_then(|k| k.child("X509Data"))
        .map(|d| {
            d.children_named("X509Certificate")
                .map(|c| certificate(&b64(c, "X509Certificate")?))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    if certificates.is_empty() {
        return Err(missing("KeyInfo/X509Data/X509Certificate"));
    }

    // A same-document reference never includes comments (XML-DSig §4.3.3.3).
    let ref_method = ref_method.without_comments();
    let computed = match presumed {
        Some(p)
            if p.signature == sig.ordinal
                && digest == DigestAlgorithm::Sha256
                && ref_method
                    == (Method::Inclusive {
                        with_comments: false,
                    }) =>
        {
            p.value.clone()
        }
        _ => {
            let mut hasher = Hasher::new(digest.md())?;
            canonicalize(
                xml,
                limits,
                &ref_method,
                Scope::Document {
                    exclude: Some(sig.ordinal),
                },
                &mut hasher,
            )?;
            hasher.finish()?.to_vec()
        }
    };
    if computed != digest_value {
        return Err(SignatureError::DigestMismatch);
    }

    let presumed_signed_info = presumed
        .and_then(|p| p.signed_info.as_ref())
        .filter(|(at, _)| {
            *at == si.ordinal
                && c14n
                    == Method::Inclusive {
                        with_comments: false,
                    }
        });
    let canonical = match presumed_signed_info {
        Some((_, canonical)) => std::borrow::Cow::Borrowed(canonical),
        None => {
            let mut canonical = Vec::new();
            canonicalize(
                xml,
                limits,
                &c14n,
                Scope::Subtree { apex: si.ordinal },
                &mut canonical,
            )?;
            std::borrow::Cow::Owned(canonical)
        }
    };
    for Parsed { cert, public } in &certificates {
        let public = match public {
            Some(public) => public.clone(),
            None => cert.public_key()?,
        };
        if signature_ok(algorithm, &public, &canonical, &signature_value)? {
            return Ok(Verified {
                certificate: cert.clone(),
                certificates: certificates.iter().map(|p| p.cert.clone()).collect(),
                algorithm,
                digest,
                canonicalization: c14n,
            });
        }
    }
    Err(SignatureError::BadSignatureValue)
}

/// Certificates already parsed, with their public keys, by their exact DER bytes.
/// OpenSSL 3 takes longer to parse a certificate and decode its public key (both go
/// through the provider decoders) than to check an ECDSA signature, and each sender
/// signs every package with the same one. A province hears from hundreds of
/// agencies: room for a few thousand, forgotten all at once when full.
static CERTIFICATES: Mutex<Option<HashMap<Vec<u8>, Parsed>>> = Mutex::new(None);
const CACHED_CERTIFICATES: usize = 4096;

/// A certificate and its public key (none when it could not be decoded: the check
/// then fails on it as it would without the cache).
#[derive(Clone)]
struct Parsed {
    cert: X509,
    public: Option<PKey<Public>>,
}

/// The certificate of `der`, parsed once per distinct DER (an X509 is immutable and
/// shared by reference count, so handing out the cached one is handing out a parse
/// of exactly these bytes).
fn certificate(der: &[u8]) -> Result<Parsed, SignatureError> {
    // A poisoned lock only costs the cache, never the check.
    if let Ok(cache) = CERTIFICATES.lock() {
        if let Some(hit) = cache.as_ref().and_then(|c| c.get(der)) {
            return Ok(hit.clone());
        }
    }
    let cert = X509::from_der(der).map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
    let parsed = Parsed {
        public: cert.public_key().ok(),
        cert,
    };
    if let Ok(mut cache) = CERTIFICATES.lock() {
        let cache = cache.get_or_insert_with(HashMap::new);
        if cache.len() >= CACHED_CERTIFICATES {
            cache.clear();
        }
        cache.insert(der.to_vec(), parsed.clone());
    }
    Ok(parsed)
}

fn envelope_header(root: &Element) -> Option<&Element> {
    let env = if root.local == "edXMLEnvelope" {
        root
    } else {
        root.child("edXMLEnvelope").unwrap_or(root)
    };
    env.child("edXMLHeader")
}

fn method_of(e: &Element, what: &'static str) -> Result<Method, SignatureError> {
    let uri = e.attr("Algorithm").unwrap_or("");
    let prefixes = e
        .child("InclusiveNamespaces")
        .and_then(|i| i.attr("PrefixList"));
    Method::from_uri(uri, prefixes).ok_or_else(|| SignatureError::UnsupportedAlgorithm {
        what,
        uri: uri.to_owned(),
    })
}

fn b64(e: &Element, element: &'static str) -> Result<Vec<u8>, SignatureError> {
    let compact: String = e
        .text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(compact)
        .map_err(|_| SignatureError::BadBase64 { element })
}

fn signature_ok(
    algorithm: SignatureAlgorithm,
    key: &PKeyRef<Public>,
    data: &[u8],
    value: &[u8],
) -> Result<bool, SignatureError> {
    // A malformed signature is "does not verify", not a crypto failure.
    match (algorithm, key.id()) {
        (SignatureAlgorithm::EcdsaSha256, Id::EC) => {
            // r||s, checked on the digest directly (see `sign`).
            if value.is_empty() || !value.len().is_multiple_of(2) {
                return Ok(false);
            }
            let (r, s) = value.split_at(value.len() / 2);
            let sig =
                EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?;
            Ok(sig.verify(&sha256(data), &*key.ec_key()?).unwrap_or(false))
        }
        (SignatureAlgorithm::RsaSha256 | SignatureAlgorithm::RsaSha1, Id::RSA) => {
            let mut verifier = Verifier::new(algorithm.digest(), key)?;
            verifier.update(data)?;
            Ok(verifier.verify(value).unwrap_or(false))
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::x509::{X509Builder, X509NameBuilder};

    fn signer() -> (PKey<Private>, X509) {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "000.00.08.H62").unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        (key, b.build())
    }

    const UNSIGNED: &str = "<edXMLEnvelope xmlns=\"urn:test\"><edXMLHeader><MessageHeader>\
        <Subject a=\"1\">Về việc &amp; thử</Subject><!-- c --></MessageHeader></edXMLHeader>\
        <edXMLBody><Attachment><ContentTransferEncoded>SGVs\r\nbG8=</ContentTransferEncoded>\
        </Attachment></edXMLBody></edXMLEnvelope>";

    fn signed() -> Vec<u8> {
        let (key, cert) = signer();
        sign(UNSIGNED.as_bytes(), &key, &cert).unwrap()
    }

    /// The digest of `xml` without the element `signature`, by a pass of its own.
    fn digest_by_its_own_pass(xml: &[u8], signature: usize) -> Vec<u8> {
        let mut hasher = Hasher::new(MessageDigest::sha256()).unwrap();
        let method = Method::Inclusive {
            with_comments: false,
        };
        let scope = Scope::Document {
            exclude: Some(signature),
        };
        canonicalize(xml, &Limits::default(), &method, scope, &mut hasher).unwrap();
        hasher.finish().unwrap().to_vec()
    }

    #[test]
    fn the_digest_worked_out_while_reading_is_the_canonicalizers() {
        let signed = signed();
        let limits = Limits::default();
        for decode_payloads in [true, false] {
            let (root, presumed) = read_digesting(&signed, &limits, decode_payloads).unwrap();
            let presumed = presumed.expect("a package signed as ours");
            let mut signatures = Vec::new();
            root.find_all("Signature", &mut signatures);
            assert_eq!(presumed.signature, signatures[0].ordinal);
            assert_eq!(
                presumed.value,
                digest_by_its_own_pass(&signed, presumed.signature)
            );
            let (at, signed_info) = presumed.signed_info.as_ref().expect("its SignedInfo");
            let mut own_pass = Vec::new();
            canonicalize(
                &signed,
                &limits,
                &Method::Inclusive {
                    with_comments: false,
                },
                Scope::Subtree { apex: *at },
                &mut own_pass,
            )
            .unwrap();
            assert!(own_pass.starts_with(b"<SignedInfo xmlns="));
            assert_eq!(*signed_info, own_pass);
            verify_parsed(&signed, &root, &limits, Some(&presumed)).unwrap();
        }
    }

    #[test]
    fn the_check_relies_on_the_presumed_digest_only_when_its_guess_holds() {
        let signed = signed();
        let limits = Limits::default();
        let (root, presumed) = read_digesting(&signed, &limits, true).unwrap();
        let presumed = presumed.unwrap();
        // Used when it is about the Signature: a wrong value fails the check…
        let wrong = PresumedDigest {
            signature: presumed.signature,
            value: vec![0; 32],
            signed_info: None,
        };
        assert!(matches!(
            verify_parsed(&signed, &root, &limits, Some(&wrong)),
            Err(SignatureError::DigestMismatch)
        ));
        // …and ignored when it left out another element: the document's own pass.
        let elsewhere = PresumedDigest {
            signature: presumed.signature + 1,
            value: vec![0; 32],
            signed_info: None,
        };
        verify_parsed(&signed, &root, &limits, Some(&elsewhere)).unwrap();
        verify_parsed(&signed, &root, &limits, None).unwrap();
        // The same for the SignedInfo: used when it is the Signature's…
        let (at, _) = presumed.signed_info.clone().unwrap();
        let wrong = PresumedDigest {
            signed_info: Some((at, b"<SignedInfo></SignedInfo>".to_vec())),
            ..presumed
        };
        assert!(matches!(
            verify_parsed(&signed, &root, &limits, Some(&wrong)),
            Err(SignatureError::BadSignatureValue)
        ));
        // …and canonicalized again when it is another element.
        let elsewhere = PresumedDigest {
            signed_info: Some((at + 1, b"<SignedInfo></SignedInfo>".to_vec())),
            ..wrong
        };
        verify_parsed(&signed, &root, &limits, Some(&elsewhere)).unwrap();
    }

    #[test]
    fn no_digest_is_presumed_without_a_signature_or_with_an_unbound_prefix() {
        let limits = Limits::default();
        let (_, unsigned) = read_digesting(UNSIGNED.as_bytes(), &limits, true).unwrap();
        assert!(unsigned.is_none());
        // The tree's reader takes `p:` unbound; the canonicalizer refuses it.
        let unbound = String::from_utf8(signed())
            .unwrap()
            .replace("<Subject a=\"1\">", "<Subject p:a=\"1\">");
        let (_, presumed) = read_digesting(unbound.as_bytes(), &limits, true).unwrap();
        assert!(presumed.is_none());
        assert!(verify_with(unbound.as_bytes(), &limits).is_err());
    }
}

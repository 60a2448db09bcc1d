//! Deciding whether a certificate may sign for an agency: the trust store (kho
//! chứng thư số tin cậy).
//!
//! Trusted are our own CA and the external trust anchors an administrator imports,
//! such as the chain of the Government CA (Ban Cơ yếu Chính phủ) that issues
//! certificates to state agencies: an agency may sign with such a certificate
//! instead of one of ours.
//!
//! Revocation is checked against CRLs. For our CA a current CRL is required; for
//! an external issuer it is checked when one was imported, and then it must be
//! current too (an expired CRL fails the check rather than being skipped).
//!
//! A certificate revoked after `at` still vouches for what was signed at `at`
//! (an agency that merges does not void its past documents), unless the reason is
//! a key compromise, which may predate its discovery.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use lienthong_domain::{ErrorCode, OrgCode};
use openssl::error::ErrorStack;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{
    CrlStatus, ReasonCode, X509Crl, X509KeyUsage, X509Ref, X509StoreContext, X509VerifyResult, X509,
};
use openssl_sys as ffi;

use crate::ca::{CA_CERT, CRL};
use crate::crl::{is_compromise, RevocationReason};
use crate::fsutil::{self, FileError};
use crate::name;
use crate::serial::Serial;
use crate::time::{self, human};

/// Why a signer's certificate is not accepted. The messages go back to the
/// sending agency, so each says what is wrong in plain words; [`ErrorCode`] gives
/// a key for translated messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("the certificate was not issued by a certificate authority we trust (its issuer is \"{issuer}\")")]
    Untrusted { issuer: String },
    #[error("the certificate chain is not valid: {reason}")]
    InvalidChain { reason: String },
    #[error("the certificate expired on {}; it was not valid on {}", human(.not_after), human(.at))]
    Expired {
        not_after: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    #[error("the certificate is valid only from {}; it was not yet valid on {}", human(.not_before), human(.at))]
    NotYetValid {
        not_before: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    #[error("the certificate of the issuing authority \"{issuer}\" was not valid on {} (valid from {} to {})", human(.at), human(.not_before), human(.not_after))]
    IssuerNotValid {
        issuer: String,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    #[error("the certificate (serial {serial}) was revoked on {}{}", human(.at), reason_text(.reason))]
    Revoked {
        serial: Serial,
        at: DateTime<Utc>,
        reason: Option<RevocationReason>,
    },
    #[error("the certificate of the issuing authority \"{issuer}\" was revoked on {}", human(.at))]
    IssuerRevoked { issuer: String, at: DateTime<Utc> },
    #[error("whether the certificate is revoked cannot be checked: {reason}")]
    RevocationUnknown { reason: String },
    #[error(
        "the certificate may not make digital signatures (its key usage lacks digitalSignature)"
    )]
    NotForSigning,
    #[error("the certificate names no agency code; the sending agency is {expected}")]
    NoAgencyCode { expected: OrgCode },
    #[error("the certificate belongs to agency {found}, not to the sending agency {expected}")]
    WrongAgency { expected: OrgCode, found: OrgCode },
    #[error("the certificate could not be checked: {0}")]
    Internal(String),
}

fn reason_text(reason: &Option<RevocationReason>) -> String {
    match reason {
        None | Some(RevocationReason::Unspecified) => String::new(),
        Some(r) => format!(" ({r})"),
    }
}

impl ErrorCode for TrustError {
    fn code(&self) -> &'static str {
        match self {
            TrustError::Untrusted { .. } => "error.signer_untrusted",
            TrustError::InvalidChain { .. } => "error.signer_chain",
            TrustError::Expired { .. } => "error.signer_expired",
            TrustError::NotYetValid { .. } => "error.signer_not_yet_valid",
            TrustError::IssuerNotValid { .. } => "error.signer_issuer_not_valid",
            TrustError::Revoked { .. } => "error.signer_revoked",
            TrustError::IssuerRevoked { .. } => "error.signer_issuer_revoked",
            TrustError::RevocationUnknown { .. } => "error.signer_revocation_unknown",
            TrustError::NotForSigning => "error.signer_key_usage",
            TrustError::NoAgencyCode { .. } => "error.signer_no_agency",
            TrustError::WrongAgency { .. } => "error.signer_wrong_agency",
            TrustError::Internal(_) => "error.signer_internal",
        }
    }
}

impl From<ErrorStack> for TrustError {
    fn from(e: ErrorStack) -> Self {
        TrustError::Internal(e.to_string())
    }
}

/// Failures to load trust anchors or CRLs.
#[derive(Debug, thiserror::Error)]
pub enum TrustStoreError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("not a PEM certificate bundle: {0}")]
    Certificates(#[source] ErrorStack),
    #[error("the bundle holds no certificate")]
    Empty,
    #[error("not a CRL in PEM or DER: {0}")]
    Crl(#[source] ErrorStack),
}

pub struct TrustStore {
    own: X509,
    anchors: Vec<X509>,
    crls: Vec<X509Crl>,
    /// Signers accepted before, with the times for which that answer holds (see
    /// `verify_signer`). A receiver checks the same few agencies' certificates over
    /// and over; the full check costs several signature verifications.
    accepted: Mutex<HashMap<Vec<u8>, Window>>,
}

/// The times `[from, until)` for which an accepted signer stays accepted: inside
/// every certificate's validity, before any CRL used is due to be replaced, and
/// before any revocation dated in the future.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Accepted signers remembered at most (past it, the memory starts over).
const ACCEPTED_MAX: usize = 4096;

impl TrustStore {
    /// A store trusting our own CA only. Add its CRL before verifying: without it
    /// every certificate of our CA is refused.
    pub fn new(own_ca: X509) -> TrustStore {
        TrustStore {
            own: own_ca,
            anchors: Vec::new(),
            crls: Vec::new(),
            accepted: Mutex::new(HashMap::new()),
        }
    }

    /// Our CA and its CRL read from a CA folder; needs neither the key nor the index.
    pub fn from_ca_dir(dir: impl AsRef<Path>) -> Result<TrustStore, TrustStoreError> {
        let dir = dir.as_ref();
        let own = X509::from_pem(&fsutil::read(&dir.join(CA_CERT))?)
            .map_err(TrustStoreError::Certificates)?;
        let mut store = TrustStore::new(own);
        store.import_crl(&fsutil::read(&dir.join(CRL))?)?;
        Ok(store)
    }

    /// Trusts every certificate of a PEM bundle (a national CA's root and
    /// intermediates). Returns how many were added.
    pub fn import_anchor(&mut self, pem: &[u8]) -> Result<usize, TrustStoreError> {
        let certs = X509::stack_from_pem(pem).map_err(TrustStoreError::Certificates)?;
        if certs.is_empty() {
            return Err(TrustStoreError::Empty);
        }
        let n = certs.len();
        self.anchors.extend(certs);
        self.forget_accepted();
        Ok(n)
    }

    /// Adds a CRL, in PEM or DER. Its signature is checked when it is used, against
    /// the issuer found in the chain being verified.
    pub fn import_crl(&mut self, bytes: &[u8]) -> Result<(), TrustStoreError> {
        let crl = X509Crl::from_pem(bytes)
            .or_else(|_| X509Crl::from_der(bytes))
            .map_err(TrustStoreError::Crl)?;
        self.add_crl(crl);
        Ok(())
    }

    /// Adds a CRL, replacing any older one of the same issuer. The newcomer's
    /// signature is not known yet: if it turns out forged, the check fails closed
    /// (revocation unknown) rather than falling back to the older list.
    pub fn add_crl(&mut self, crl: X509Crl) {
        self.crls.retain(|old| {
            let same_issuer =
                old.issuer_name().try_cmp(crl.issuer_name()).ok() == Some(Ordering::Equal);
            let older =
                old.last_update().compare(crl.last_update()).ok() != Some(Ordering::Greater);
            !(same_issuer && older)
        });
        self.crls.push(crl);
        self.forget_accepted();
    }

    fn forget_accepted(&mut self) {
        if let Ok(accepted) = self.accepted.get_mut() {
            accepted.clear();
        }
    }

    /// Checks that `cert` may sign for `expected_org` at time `at`: it chains (with
    /// the help of `chain`, the intermediates the sender supplied) to a trusted
    /// anchor, every certificate of the chain is valid at `at` and not revoked, it
    /// allows digital signatures, and it names the agency.
    ///
    /// The agency code is read from the `UID` attribute; for a certificate issued
    /// by an external CA the `serialNumber` attribute is accepted as well.
    pub fn verify_signer(
        &self,
        cert: &X509,
        chain: &[X509],
        at: DateTime<Utc>,
        expected_org: &OrgCode,
    ) -> Result<(), TrustError> {
        // The same certificates, for the same agency, at a time inside the window of
        // an earlier acceptance: the full check would answer the same.
        let key = accepted_key(cert, chain, expected_org)?;
        if let Ok(accepted) = self.accepted.lock() {
            if accepted
                .get(&key)
                .is_some_and(|w| w.from <= at && at < w.until)
            {
                return Ok(());
            }
        }
        let window = self.check_signer(cert, chain, at, expected_org)?;
        if let Ok(mut accepted) = self.accepted.lock() {
            if accepted.len() >= ACCEPTED_MAX {
                accepted.clear();
            }
            accepted.insert(key, window);
        }
        Ok(())
    }

    /// The full check of [`TrustStore::verify_signer`]; on success, the window of
    /// times for which it holds.
    fn check_signer(
        &self,
        cert: &X509,
        chain: &[X509],
        at: DateTime<Utc>,
        expected_org: &OrgCode,
    ) -> Result<Window, TrustError> {
        let path = self.build_path(cert, chain, at)?;

        if !cert
            .key_usage()
            .is_some_and(|ku| ku.contains(X509KeyUsage::DIGITAL_SIGNATURE))
        {
            return Err(TrustError::NotForSigning);
        }

        let mut window = Window {
            from: at,
            until: self.check_revocation(&path, at)?,
        };
        for c in &path {
            window.from = window.from.max(time::from_asn1(c.not_before())?);
            window.until = window.until.min(time::from_asn1(c.not_after())?);
        }

        let issued_by_us = path
            .get(1)
            .is_some_and(|issuer| same_cert(issuer, &self.own));
        let found = if issued_by_us {
            name::uid_code(cert)
        } else {
            name::agency_code_of(cert)
        };
        match found {
            None => Err(TrustError::NoAgencyCode {
                expected: expected_org.clone(),
            }),
            Some(found) if &found != expected_org => Err(TrustError::WrongAgency {
                expected: expected_org.clone(),
                found,
            }),
            Some(_) => Ok(window),
        }
    }

    /// Lets OpenSSL build and check the path at time `at`: signatures, validity
    /// periods, CA flags and path lengths. Returns the path, leaf first.
    fn build_path(
        &self,
        cert: &X509,
        chain: &[X509],
        at: DateTime<Utc>,
    ) -> Result<Vec<X509>, TrustError> {
        // A store per call: the verification time is a property of the store, and
        // copying a handful of reference-counted certificates is cheap.
        let mut store = X509StoreBuilder::new()?;
        store.add_cert(self.own.clone())?;
        for anchor in &self.anchors {
            store.add_cert(anchor.clone())?;
        }
        let mut param = X509VerifyParam::new()?;
        param.set_time(at.timestamp() as _);
        store.set_param(&param)?;
        let store = store.build();

        let mut untrusted = Stack::new()?;
        for c in chain {
            untrusted.push(c.clone())?;
        }

        let mut ctx = X509StoreContext::new()?;
        let outcome = ctx.init(&store, cert, &untrusted, |ctx| {
            let ok = ctx.verify_cert()?;
            Ok(Outcome {
                ok,
                error: ctx.error(),
                depth: ctx.error_depth(),
                current: ctx.current_cert().map(|c| c.to_owned()),
                path: ctx
                    .chain()
                    .map(|s| s.iter().map(|c| c.to_owned()).collect())
                    .unwrap_or_default(),
            })
        })?;
        if outcome.ok {
            return Ok(outcome.path);
        }
        Err(explain(cert, &outcome, at)?)
    }

    /// Returns until when the answer holds: the earliest time a CRL used is due to
    /// be replaced, or a revocation dated after `at` takes effect.
    fn check_revocation(
        &self,
        path: &[X509],
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, TrustError> {
        let mut until = DateTime::<Utc>::MAX_UTC;
        for (depth, pair) in path.windows(2).enumerate() {
            let (subject, issuer) = (&pair[0], &pair[1]);
            let issuer_name = name::display(issuer.subject_name());
            let Some(crl) = self.crl_of(issuer, &issuer_name)? else {
                if same_cert(issuer, &self.own) {
                    return Err(TrustError::RevocationUnknown {
                        reason: format!(
                            "no revocation list (CRL) of \"{issuer_name}\" is available"
                        ),
                    });
                }
                continue;
            };
            if let Some(next) = crl.next_update() {
                let next = time::from_asn1(next)?;
                until = until.min(next);
                if at > next {
                    return Err(TrustError::RevocationUnknown {
                        reason: format!(
                            "the revocation list (CRL) of \"{issuer_name}\" was due to be replaced on {}; a newer one is needed",
                            human(&next)
                        ),
                    });
                }
            }
            let CrlStatus::Revoked(entry) = crl.get_by_serial(subject.serial_number()) else {
                continue;
            };
            let revoked_at = time::from_asn1(entry.revocation_date())?;
            let code = entry
                .extension::<ReasonCode>()?
                .and_then(|(_, e)| e.get_i64().ok());
            if revoked_at <= at || code.is_some_and(is_compromise) {
                return Err(if depth == 0 {
                    TrustError::Revoked {
                        serial: Serial::of(subject)?,
                        at: revoked_at,
                        reason: code.and_then(RevocationReason::from_code),
                    }
                } else {
                    TrustError::IssuerRevoked {
                        issuer: name::display(subject.subject_name()),
                        at: revoked_at,
                    }
                });
            }
            until = until.min(revoked_at);
        }
        Ok(until)
    }

    /// The newest CRL that `issuer` signed.
    fn crl_of(&self, issuer: &X509Ref, issuer_name: &str) -> Result<Option<&X509Crl>, TrustError> {
        let key = issuer.public_key()?;
        let mut named = false;
        let mut best: Option<&X509Crl> = None;
        for crl in &self.crls {
            if crl.issuer_name().try_cmp(issuer.subject_name())? != Ordering::Equal {
                continue;
            }
            named = true;
            if !crl.verify(&key).unwrap_or(false) {
                continue;
            }
            let newer = match best {
                None => true,
                Some(b) => b.last_update().compare(crl.last_update())? == Ordering::Less,
            };
            if newer {
                best = Some(crl);
            }
        }
        if named && best.is_none() {
            return Err(TrustError::RevocationUnknown {
                reason: format!(
                    "the revocation list (CRL) of \"{issuer_name}\" is not signed by it"
                ),
            });
        }
        Ok(best)
    }
}

struct Outcome {
    ok: bool,
    error: X509VerifyResult,
    depth: u32,
    current: Option<X509>,
    path: Vec<X509>,
}

/// Turns OpenSSL's verification error into a reason a person can act on.
fn explain(leaf: &X509, outcome: &Outcome, at: DateTime<Utc>) -> Result<TrustError, ErrorStack> {
    let current = outcome.current.as_deref().unwrap_or(leaf);
    let raw = outcome.error.as_raw();
    if matches!(
        raw,
        ffi::X509_V_ERR_CERT_HAS_EXPIRED | ffi::X509_V_ERR_CERT_NOT_YET_VALID
    ) {
        // OpenSSL checks from the root down, so an issuer's dates may be reported
        // first; the sender can act on its own certificate, so that comes first.
        let not_before = time::from_asn1(leaf.not_before())?;
        let not_after = time::from_asn1(leaf.not_after())?;
        if at < not_before {
            return Ok(TrustError::NotYetValid { not_before, at });
        }
        if at > not_after {
            return Ok(TrustError::Expired { not_after, at });
        }
        if outcome.depth > 0 {
            return Ok(TrustError::IssuerNotValid {
                issuer: name::display(current.subject_name()),
                not_before: time::from_asn1(current.not_before())?,
                not_after: time::from_asn1(current.not_after())?,
                at,
            });
        }
    }
    Ok(match raw {
        ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
        | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
        | ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
        | ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
        | ffi::X509_V_ERR_CERT_SIGNATURE_FAILURE => TrustError::Untrusted {
            issuer: name::display(current.issuer_name()),
        },
        _ => TrustError::InvalidChain {
            reason: outcome.error.error_string().to_owned(),
        },
    })
}

/// What identifies a signer check: the certificates offered and the agency.
fn accepted_key(cert: &X509, chain: &[X509], org: &OrgCode) -> Result<Vec<u8>, TrustError> {
    let mut hasher = openssl::sha::Sha256::new();
    for c in std::iter::once(cert).chain(chain) {
        let der = c.to_der()?;
        hasher.update(&(der.len() as u64).to_be_bytes());
        hasher.update(&der);
    }
    hasher.update(org.as_str().as_bytes());
    Ok(hasher.finish().to_vec())
}

fn same_cert(a: &X509Ref, b: &X509Ref) -> bool {
    matches!((a.to_der(), b.to_der()), (Ok(x), Ok(y)) if x == y)
}

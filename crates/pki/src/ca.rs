//! The provincial certificate authority (CA tỉnh) and the agency certificates
//! (chứng thư số của cơ quan) it issues.
//!
//! A CA is a folder:
//!
//! | file         | content                                                      |
//! |--------------|--------------------------------------------------------------|
//! | `ca.pem`     | the self-signed CA certificate (chứng thư số gốc)            |
//! | `ca.key`     | its private key (khóa bí mật), PKCS#8 PEM, mode 0600         |
//! | `serial`     | the serial of the last certificate issued, in hex            |
//! | `index.json` | every certificate issued and revoked, the CRL number and URL |
//! | `crl.pem`    | the current CRL, signed by the CA                            |
//!
//! One process at a time may change a CA (the CLI run by an administrator): there
//! is no lock file.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Months, SubsecRound, Utc};
use lienthong_domain::OrgCode;
use openssl::asn1::Asn1Type;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Crl, X509Name, X509NameBuilder, X509};

use crate::crl::{self, RevocationReason};
use crate::fsutil::{self, FileError};
use crate::index::{CertificateRecord, Index, Revocation};
use crate::key::KeyKind;
use crate::name;
use crate::serial::Serial;
use crate::time;
use crate::trust::TrustStore;

pub const CA_CERT: &str = "ca.pem";
pub const CA_KEY: &str = "ca.key";
pub const SERIAL: &str = "serial";
pub const INDEX: &str = "index.json";
pub const CRL: &str = "crl.pem";

/// Microsoft's "document signing" extended key usage, which Adobe Reader accepts
/// for PDF signatures next to emailProtection (what NSS, hence pdfsig, wants).
const DOCUMENT_SIGNING: &str = "1.3.6.1.4.1.311.10.3.12";

/// RFC 5280's upper bound for a common name (ub-common-name), in characters.
/// OpenSSL would encode longer names, but strict verifiers reject them.
const MAX_NAME_CHARS: usize = 64;

/// Certificates start a little in the past so that a server whose clock is a few
/// minutes behind does not see a fresh certificate as not yet valid.
const CLOCK_SKEW: Duration = Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("OpenSSL failed: {0}")]
    OpenSsl(#[from] ErrorStack),
    #[error("{}: not a valid CA index: {source}", path.display())]
    Index {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{} already exists; refusing to overwrite it", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("{} can be read by other users (mode {mode:o}); make it 0600 (chmod 600) before using the CA", path.display())]
    KeyExposed { path: PathBuf, mode: u32 },
    #[error("{} does not hold the private key of {}", dir.join(CA_KEY).display(), dir.join(CA_CERT).display())]
    KeyMismatch { dir: PathBuf },
    #[error("a name must be 1 to {MAX_NAME_CHARS} characters long, with no control characters (this one has {0})")]
    Name(usize),
    #[error("{0}")]
    Validity(&'static str),
    #[error("the CRL address must be an http:// or https:// URL without spaces")]
    CrlUrl,
    #[error("the certificate would be valid until {}, after the CA itself ({})", time::human(.not_after), time::human(.ca_not_after))]
    OutlivesCa {
        not_after: DateTime<Utc>,
        ca_not_after: DateTime<Utc>,
    },
    #[error("this CA issued no certificate with serial {0}")]
    UnknownSerial(Serial),
    #[error("the certificate with serial {serial} was already revoked on {}", time::human(.at))]
    AlreadyRevoked { serial: Serial, at: DateTime<Utc> },
    #[error("the certificate names no agency code in its UID attribute")]
    NoAgencyCode,
    #[error("agency {0} has no certificate in force to revoke")]
    NothingToRevoke(OrgCode),
}

/// What a new CA is made of.
#[derive(Debug, Clone)]
pub struct CaOptions {
    /// The CA's name, also the organisation (O) of every agency certificate, e.g.
    /// "CA tỉnh Bắc Ninh".
    pub name: String,
    /// The org code of the province (UBND tỉnh), e.g. `000.00.00.H62`.
    pub province_code: OrgCode,
    pub key: KeyKind,
    pub valid_years: u32,
    /// Where verifiers fetch the CRL, written into every certificate issued.
    pub crl_url: Option<String>,
}

/// A request for an agency certificate.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub org: OrgCode,
    /// The agency's name in Vietnamese (UTF-8), e.g. "Sở Khoa học và Công nghệ".
    pub name: String,
    pub key: KeyKind,
    pub valid_days: u32,
}

/// A certificate just issued with its new private key, and the chain up to the CA.
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
    /// The issuers of `cert`, nearest first; here only the CA.
    pub chain: Vec<X509>,
}

/// The files [`Issued::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub chain: PathBuf,
}

/// Which certificates to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeTarget {
    Serial(Serial),
    /// Every certificate of the agency still in force (an agency that merges or is
    /// dissolved).
    Org(OrgCode),
}

pub struct Ca {
    dir: PathBuf,
    cert: X509,
    key: PKey<Private>,
    index: Index,
}

impl Ca {
    /// Creates a CA in `dir` (created 0700 if missing). Refuses if a CA, or any of
    /// its files, is already there.
    pub fn init(dir: impl AsRef<Path>, options: &CaOptions) -> Result<Ca, CaError> {
        let dir = dir.as_ref();
        let ca_name = checked_name(&options.name)?;
        if options.valid_years == 0 {
            return Err(CaError::Validity(
                "a CA must be valid for at least one year",
            ));
        }
        if let Some(url) = &options.crl_url {
            check_crl_url(url)?;
        }
        for file in [CA_CERT, CA_KEY, SERIAL, INDEX, CRL] {
            let path = dir.join(file);
            if path.exists() {
                return Err(CaError::AlreadyExists { path });
            }
        }
        fsutil::private_dir(dir)?;

        let key = options.key.generate()?;
        let now = Utc::now().trunc_subsecs(0);
        let not_after = now
            .checked_add_months(Months::new(options.valid_years.saturating_mul(12)))
            .ok_or(CaError::Validity("the CA's validity is too long"))?;
        let subject = subject(ca_name, ca_name, &options.province_code)?;
        let serial = Serial::random()?;

        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        b.set_serial_number(&*serial.to_asn1()?)?;
        b.set_subject_name(&subject)?;
        b.set_issuer_name(&subject)?;
        b.set_pubkey(&key)?;
        b.set_not_before(&*time::to_asn1(now - CLOCK_SKEW)?)?;
        b.set_not_after(&*time::to_asn1(not_after)?)?;
        // pathlen 0: this CA issues agency certificates only, never another CA.
        b.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
        b.append_extension(ski)?;
        b.sign(&key, MessageDigest::sha256())?;
        let cert = b.build();

        // The key first, created 0600 and never overwritten: if two inits race,
        // one of them fails here before touching anything else.
        fsutil::write_new(&dir.join(CA_KEY), &key.private_key_to_pem_pkcs8()?, true)?;
        fsutil::write_new(&dir.join(CA_CERT), &cert.to_pem()?, false)?;
        fsutil::write_new(&dir.join(SERIAL), serial_line(&serial).as_bytes(), false)?;
        let mut ca = Ca {
            dir: dir.to_owned(),
            cert,
            key,
            index: Index {
                crl_url: options.crl_url.clone(),
                crl_number: 0,
                certificates: Vec::new(),
            },
        };
        ca.write_crl()?;
        Ok(ca)
    }

    /// Opens the CA in `dir`. Refuses a private key that others can read.
    pub fn open(dir: impl AsRef<Path>) -> Result<Ca, CaError> {
        let dir = dir.as_ref();
        let key_path = dir.join(CA_KEY);
        let mode = fsutil::mode(&key_path)?;
        if mode & 0o077 != 0 {
            return Err(CaError::KeyExposed {
                path: key_path,
                mode,
            });
        }
        let key = PKey::private_key_from_pem(&fsutil::read(&key_path)?)?;
        let cert = X509::from_pem(&fsutil::read(&dir.join(CA_CERT))?)?;
        if !cert.public_key()?.public_eq(&key) {
            return Err(CaError::KeyMismatch {
                dir: dir.to_owned(),
            });
        }
        let index_path = dir.join(INDEX);
        let index = serde_json::from_slice(&fsutil::read(&index_path)?).map_err(|source| {
            CaError::Index {
                path: index_path,
                source,
            }
        })?;
        Ok(Ca {
            dir: dir.to_owned(),
            cert,
            key,
            index,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn certificate(&self) -> &X509 {
        &self.cert
    }

    /// The CA's name (its common name).
    pub fn name(&self) -> String {
        name::entry(self.cert.subject_name(), Nid::COMMONNAME).unwrap_or_default()
    }

    /// Every certificate issued, oldest first.
    pub fn records(&self) -> &[CertificateRecord] {
        &self.index.certificates
    }

    /// Issues a certificate for an agency, with a new key pair, and records it.
    pub fn issue(&mut self, req: &IssueRequest) -> Result<Issued, CaError> {
        let agency_name = checked_name(&req.name)?;
        if req.valid_days == 0 {
            return Err(CaError::Validity(
                "a certificate must be valid for at least one day",
            ));
        }
        let now = Utc::now().trunc_subsecs(0);
        let not_before = now - CLOCK_SKEW;
        let not_after = now + Duration::days(i64::from(req.valid_days));
        let ca_not_after = time::from_asn1(self.cert.not_after())?;
        if not_after > ca_not_after {
            return Err(CaError::OutlivesCa {
                not_after,
                ca_not_after,
            });
        }
        // A repeat of a 128-bit random serial will not happen, but costs nothing to rule out.
        let serial = loop {
            let s = Serial::random()?;
            if !self.index.certificates.iter().any(|c| c.serial == s) {
                break s;
            }
        };
        let key = req.key.generate()?;
        let subject = subject(agency_name, &self.name(), &req.org)?;

        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        b.set_serial_number(&*serial.to_asn1()?)?;
        b.set_subject_name(&subject)?;
        b.set_issuer_name(self.cert.subject_name())?;
        b.set_pubkey(&key)?;
        b.set_not_before(&*time::to_asn1(not_before)?)?;
        b.set_not_after(&*time::to_asn1(not_after)?)?;
        b.append_extension(BasicConstraints::new().critical().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()?,
        )?;
        b.append_extension(
            ExtendedKeyUsage::new()
                .email_protection()
                .other(DOCUMENT_SIGNING)
                .build()?,
        )?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(ski)?;
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(aki)?;
        if let Some(url) = &self.index.crl_url {
            b.append_extension(crl::extension(
                "2.5.29.31",
                &crate::der::crl_distribution_points(url),
            )?)?;
        }
        b.sign(&self.key, MessageDigest::sha256())?;
        let cert = b.build();

        self.index.certificates.push(CertificateRecord {
            serial: serial.clone(),
            org: req.org.clone(),
            name: agency_name.to_owned(),
            not_before,
            not_after,
            revoked: None,
        });
        self.save_index()?;
        fsutil::replace(&self.dir.join(SERIAL), serial_line(&serial).as_bytes())?;
        Ok(Issued {
            cert,
            key,
            chain: vec![self.cert.clone()],
        })
    }

    /// Revokes certificates and publishes a new CRL at once, so that a revocation
    /// never waits for the next scheduled CRL. Returns the serials revoked.
    pub fn revoke(
        &mut self,
        target: &RevokeTarget,
        reason: RevocationReason,
    ) -> Result<Vec<Serial>, CaError> {
        let now = Utc::now().trunc_subsecs(0);
        let mut revoked = Vec::new();
        match target {
            RevokeTarget::Serial(serial) => {
                let record = self
                    .index
                    .certificates
                    .iter_mut()
                    .find(|c| &c.serial == serial)
                    .ok_or_else(|| CaError::UnknownSerial(serial.clone()))?;
                if let Some(r) = record.revoked {
                    return Err(CaError::AlreadyRevoked {
                        serial: serial.clone(),
                        at: r.at,
                    });
                }
                record.revoked = Some(Revocation { at: now, reason });
                revoked.push(serial.clone());
            }
            RevokeTarget::Org(org) => {
                for record in &mut self.index.certificates {
                    if &record.org == org && record.revoked.is_none() && record.not_after > now {
                        record.revoked = Some(Revocation { at: now, reason });
                        revoked.push(record.serial.clone());
                    }
                }
                if revoked.is_empty() {
                    return Err(CaError::NothingToRevoke(org.clone()));
                }
            }
        }
        self.save_index()?;
        self.write_crl()?;
        Ok(revoked)
    }

    /// The CRL currently published in `crl.pem`.
    pub fn crl(&self) -> Result<X509Crl, CaError> {
        Ok(X509Crl::from_pem(&fsutil::read(&self.dir.join(CRL))?)?)
    }

    /// Signs and publishes a new CRL, valid for [`crl::CRL_VALIDITY`], listing every
    /// revoked certificate. Run it at least that often.
    pub fn write_crl(&mut self) -> Result<X509Crl, CaError> {
        let entries: Vec<crl::Entry> = self
            .index
            .certificates
            .iter()
            .filter_map(|c| {
                c.revoked.map(|r| crl::Entry {
                    serial: c.serial.clone(),
                    at: r.at,
                    reason: r.reason,
                })
            })
            .collect();
        let number = self.index.crl_number + 1;
        let crl = crl::build(&self.cert, &self.key, number, &entries, Utc::now())?;
        // The number is saved before the CRL is published, so that a crash between
        // the two can skip a number but never reuse one.
        self.index.crl_number = number;
        self.save_index()?;
        fsutil::replace(&self.dir.join(CRL), &crl.to_pem()?)?;
        Ok(crl)
    }

    /// A trust store with this CA and its current CRL.
    pub fn trust_store(&self) -> Result<TrustStore, CaError> {
        let mut store = TrustStore::new(self.cert.clone());
        store.add_crl(self.crl()?);
        Ok(store)
    }

    fn save_index(&self) -> Result<(), CaError> {
        let path = self.dir.join(INDEX);
        let mut json = serde_json::to_vec_pretty(&self.index).map_err(|source| CaError::Index {
            path: path.clone(),
            source,
        })?;
        json.push(b'\n');
        Ok(fsutil::replace(&path, &json)?)
    }
}

impl Issued {
    pub fn serial(&self) -> Result<Serial, ErrorStack> {
        Serial::of(&self.cert)
    }

    /// Writes `<org>.pem`, `<org>.key` (0600) and `chain.pem` into `out_dir`,
    /// created 0700 if missing. An existing certificate or key is never
    /// overwritten; `chain.pem`, public and the same for every agency, is.
    pub fn write(&self, out_dir: impl AsRef<Path>) -> Result<IssuedFiles, CaError> {
        let out_dir = out_dir.as_ref();
        let org = name::uid_code(&self.cert).ok_or(CaError::NoAgencyCode)?;
        if !out_dir.exists() {
            fsutil::private_dir(out_dir)?;
        }
        let files = IssuedFiles {
            cert: out_dir.join(format!("{org}.pem")),
            key: out_dir.join(format!("{org}.key")),
            chain: out_dir.join("chain.pem"),
        };
        for path in [&files.cert, &files.key] {
            if path.exists() {
                return Err(CaError::AlreadyExists { path: path.clone() });
            }
        }
        fsutil::write_new(&files.key, &self.key.private_key_to_pem_pkcs8()?, true)?;
        fsutil::write_new(&files.cert, &self.cert.to_pem()?, false)?;
        let mut chain = Vec::new();
        for c in &self.chain {
            chain.extend(c.to_pem()?);
        }
        fsutil::replace(&files.chain, &chain)?;
        Ok(files)
    }
}

fn checked_name(raw: &str) -> Result<&str, CaError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(CaError::Name(chars));
    }
    Ok(name)
}

fn check_crl_url(url: &str) -> Result<(), CaError> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.is_ascii()
        && !url
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control());
    if ok {
        Ok(())
    } else {
        Err(CaError::CrlUrl)
    }
}

/// `C=VN, O=<province CA>, CN=<name>, UID=<org code>`. UTF8String is asked for
/// explicitly so that Vietnamese letters are kept as written.
fn subject(common_name: &str, organisation: &str, code: &OrgCode) -> Result<X509Name, ErrorStack> {
    let mut n = X509NameBuilder::new()?;
    n.append_entry_by_nid_with_type(Nid::COUNTRYNAME, "VN", Asn1Type::PRINTABLESTRING)?;
    n.append_entry_by_nid_with_type(Nid::ORGANIZATIONNAME, organisation, Asn1Type::UTF8STRING)?;
    n.append_entry_by_nid_with_type(Nid::COMMONNAME, common_name, Asn1Type::UTF8STRING)?;
    n.append_entry_by_nid_with_type(Nid::USERID, code.as_str(), Asn1Type::UTF8STRING)?;
    Ok(n.build())
}

fn serial_line(serial: &Serial) -> String {
    format!("{serial}\n")
}

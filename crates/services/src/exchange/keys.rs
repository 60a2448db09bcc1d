//! The keys and certificates of the exchange, on disk under `<data>/pki/`:
//!
//! | path                          | content                                            |
//! |-------------------------------|----------------------------------------------------|
//! | `ca/`                         | our provincial CA (CA tỉnh), a `lienthong-pki` CA folder; its `crl.pem` is published |
//! | `agencies/<ORGCODE>.pem`/`.key` | the signing certificate and key (chứng thư số, khóa bí mật) of each agency on this instance, as `Issued::write` leaves them |
//! | `trust/*.pem`, `trust/*.crl`  | extra trust anchors (a national CA, another province's CA) and their CRLs |
//!
//! What was read is kept while the files stay as they were (same size and
//! modification time, checked on each use), so a certificate issued or revoked with
//! the CLI is seen without a restart, and a busy receiver does not parse PEM files
//! (slow in OpenSSL 3) for every package.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lienthong_domain::OrgCode;
use lienthong_pki::openssl::pkey::{PKey, Private};
use lienthong_pki::openssl::x509::X509;
use lienthong_pki::{Ca, CaOptions, IssueRequest, KeyKind, TrustStore};

/// Why keys could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a PEM key or certificate: {source}", path.display())]
    Pem {
        path: PathBuf,
        #[source]
        source: lienthong_pki::openssl::error::ErrorStack,
    },
    #[error("the provincial CA: {0}")]
    Ca(#[from] lienthong_pki::CaError),
    #[error("the trust store: {0}")]
    Trust(#[from] lienthong_pki::TrustStoreError),
}

/// What an agency signs with: its key, its certificate, and the chain above it.
pub struct Signer {
    pub key: PKey<Private>,
    pub cert: X509,
    pub chain: Vec<X509>,
}

/// The `<data>/pki/` folder.
#[derive(Clone)]
pub struct KeyStore {
    dir: PathBuf,
    cache: Arc<Mutex<Cache>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").field("dir", &self.dir).finish()
    }
}

/// The files something was read from, as they were then.
type Fingerprint = Vec<(PathBuf, Option<(u64, SystemTime)>)>;

/// A file's size and modification time, if it is there.
fn stat(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

fn fingerprint(paths: impl IntoIterator<Item = PathBuf>) -> Fingerprint {
    paths
        .into_iter()
        .map(|p| {
            let seen = stat(&p);
            (p, seen)
        })
        .collect()
}

/// Whether the files are still as they were.
fn unchanged(was: &Fingerprint) -> bool {
    was.iter().all(|(path, seen)| stat(path) == *seen)
}

#[derive(Default)]
struct Cache {
    trust: Option<(Arc<Fingerprint>, Arc<TrustStore>)>,
    signers: HashMap<OrgCode, (Arc<Fingerprint>, Arc<Signer>)>,
}

impl KeyStore {
    /// Opens the folder; nothing needs to exist yet (an instance without keys
    /// issues documents without sending them, and refuses every package).
    pub fn open(dir: impl AsRef<Path>) -> KeyStore {
        KeyStore {
            dir: dir.as_ref().to_owned(),
            cache: Arc::default(),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while the cache was held leaves at worst a stale entry, which
        // the fingerprint check replaces.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.dir.join("ca")
    }

    pub fn agencies_dir(&self) -> PathBuf {
        self.dir.join("agencies")
    }

    pub fn trust_dir(&self) -> PathBuf {
        self.dir.join("trust")
    }

    /// The signing key, certificate and chain of an agency of this instance, or
    /// `None` when it has none (or its files cannot be read, which is logged).
    pub fn signer(&self, org: &OrgCode) -> Option<Arc<Signer>> {
        let cached = self.cache().signers.get(org).cloned();
        if let Some((was, signer)) = cached {
            if unchanged(&was) {
                return Some(signer);
            }
        }
        let dir = self.agencies_dir();
        let seen = Arc::new(fingerprint([
            dir.join(format!("{org}.pem")),
            dir.join(format!("{org}.key")),
            dir.join("chain.pem"),
        ]));
        match self.read_signer(org) {
            Ok(Some(s)) => {
                let s = Arc::new(s);
                self.cache().signers.insert(org.clone(), (seen, s.clone()));
                Some(s)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(agency = %org, error = %e, "cannot read the agency's signing key");
                None
            }
        }
    }

    fn read_signer(&self, org: &OrgCode) -> Result<Option<Signer>, KeyError> {
        let dir = self.agencies_dir();
        let (cert_path, key_path) = (
            dir.join(format!("{org}.pem")),
            dir.join(format!("{org}.key")),
        );
        if !cert_path.exists() || !key_path.exists() {
            return Ok(None);
        }
        let cert = X509::from_pem(&read(&cert_path)?).map_err(|source| KeyError::Pem {
            path: cert_path.clone(),
            source,
        })?;
        let key =
            PKey::private_key_from_pem(&read(&key_path)?).map_err(|source| KeyError::Pem {
                path: key_path.clone(),
                source,
            })?;
        let chain_path = dir.join("chain.pem");
        let chain = if chain_path.exists() {
            X509::stack_from_pem(&read(&chain_path)?).map_err(|source| KeyError::Pem {
                path: chain_path,
                source,
            })?
        } else {
            Vec::new()
        };
        Ok(Some(Signer { key, cert, chain }))
    }

    /// Whether an agency of this instance can sign what others will accept at `at`:
    /// it has its key and certificate here, and our own trust store takes them for
    /// it (issued by a CA we trust, in their validity, not revoked).
    pub fn can_sign(&self, org: &OrgCode, at: DateTime<Utc>) -> bool {
        let (Some(signer), Ok(trust)) = (self.signer(org), self.trust()) else {
            return false;
        };
        trust
            .verify_signer(&signer.cert, &signer.chain, at, org)
            .is_ok()
    }

    /// Our CA with its CRL, plus every anchor and CRL in `trust/`.
    pub fn trust(&self) -> Result<Arc<TrustStore>, KeyError> {
        let cached = self.cache().trust.clone();
        if let Some((was, store)) = cached {
            if unchanged(&was) {
                return Ok(store);
            }
        }
        // The folder `trust/` is one of the files: putting an anchor or CRL in or
        // taking one out changes its modification time, so it is listed only then.
        let mut files = vec![
            self.ca_dir().join(lienthong_pki::ca::CA_CERT),
            self.ca_dir().join(lienthong_pki::ca::CRL),
            self.trust_dir(),
        ];
        if let Ok(entries) = std::fs::read_dir(self.trust_dir()) {
            let mut more: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            more.sort();
            files.extend(more);
        }
        let seen = Arc::new(fingerprint(files));
        let store = Arc::new(self.read_trust()?);
        self.cache().trust = Some((seen, store.clone()));
        Ok(store)
    }

    fn read_trust(&self) -> Result<TrustStore, KeyError> {
        let mut store = TrustStore::from_ca_dir(self.ca_dir())?;
        let trust = self.trust_dir();
        if trust.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&trust)
                .map_err(|source| KeyError::Io {
                    path: trust.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for path in entries {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("pem") => {
                        store.import_anchor(&read(&path)?)?;
                    }
                    Some("crl") => store.import_crl(&read(&path)?)?,
                    _ => {}
                }
            }
        }
        Ok(store)
    }

    /// For the demo and tests: creates the CA if missing (named after the
    /// province: the first agency listed, its People's Committee) and issues a certificate to every listed
    /// agency that has none. Returns how many were issued.
    pub fn ensure_demo(
        dir: impl AsRef<Path>,
        agencies: &[(OrgCode, String)],
    ) -> Result<(KeyStore, usize), KeyError> {
        let keys = KeyStore::open(dir);
        std::fs::create_dir_all(&keys.dir).map_err(|source| KeyError::Io {
            path: keys.dir.clone(),
            source,
        })?;
        let ca_dir = keys.ca_dir();
        let mut ca = if ca_dir.join(lienthong_pki::ca::CA_CERT).exists() {
            Ca::open(&ca_dir)?
        } else {
            let Some((province, _)) = agencies.first() else {
                return Ok((keys, 0));
            };
            Ca::init(
                &ca_dir,
                &CaOptions {
                    name: format!("CA tỉnh {}", province.level1()),
                    province_code: province.clone(),
                    key: KeyKind::P256,
                    valid_years: 10,
                    crl_url: None,
                },
            )?
        };
        let mut issued = 0;
        for (code, name) in agencies {
            if keys.agencies_dir().join(format!("{code}.pem")).exists() {
                continue;
            }
            // Certificate names are at most 64 characters.
            let name: String = name.chars().take(64).collect();
            let cert = ca.issue(&IssueRequest {
                org: code.clone(),
                name,
                key: KeyKind::P256,
                valid_days: 365 * 2,
            })?;
            cert.write(keys.agencies_dir())?;
            issued += 1;
        }
        Ok((keys, issued))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn code(s: &str) -> OrgCode {
        OrgCode::parse(s).unwrap()
    }

    /// An anchor put into `trust/`, or taken out, counts from the next package on.
    #[test]
    fn trust_anchors_put_in_or_taken_out_are_seen_at_once() {
        let temp = tempfile::tempdir().unwrap();
        let (keys, _) = KeyStore::ensure_demo(
            temp.path().join("pki"),
            &[(code("000.00.00.H62"), "UBND".into())],
        )
        .unwrap();
        let mut other = Ca::init(
            temp.path().join("other-ca"),
            &CaOptions {
                name: "CA tỉnh khác".into(),
                province_code: code("000.00.00.H63"),
                key: KeyKind::P256,
                valid_years: 1,
                crl_url: None,
            },
        )
        .unwrap();
        let org = code("000.00.01.H63");
        let issued = other
            .issue(&IssueRequest {
                org: org.clone(),
                name: "Sở khác".into(),
                key: KeyKind::P256,
                valid_days: 30,
            })
            .unwrap();
        let check = |keys: &KeyStore| {
            keys.trust()
                .unwrap()
                .verify_signer(&issued.cert, &issued.chain, Utc::now(), &org)
        };
        assert!(check(&keys).is_err(), "trusted before its CA was imported");

        std::fs::create_dir_all(keys.trust_dir()).unwrap();
        let anchor = keys.trust_dir().join("other.pem");
        std::fs::write(&anchor, other.certificate().to_pem().unwrap()).unwrap();
        check(&keys).unwrap();

        std::fs::remove_file(&anchor).unwrap();
        assert!(
            check(&keys).is_err(),
            "still trusted after its CA was removed"
        );
    }
}

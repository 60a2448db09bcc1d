//! `lienthong ca …` and `lienthong edxml …`: the provincial certificate authority (CA
//! tỉnh) and offline work on edXML packages, for administrators.
//!
//! Files under the data directory (the layout the server reads):
//!
//! | path | what |
//! |---|---|
//! | `pki/ca/` | the provincial CA: `ca.pem`, `ca.key` (0600), `crl.pem`, `index.json` |
//! | `pki/agencies/<CODE>.pem`, `<CODE>.key` | each agency's signing certificate and key |
//! | `pki/trust/*.pem`, `*.crl` | other trust anchors (a national CA chain…) and their CRLs |
//!
//! Keys at rest are protected by file permissions only; the production path for a
//! province is an HSM reached through PKCS#11 (see the README).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use lienthong_domain::OrgCode;
use lienthong_edxml::{Limits, Package, StatusPackage};
use lienthong_pki::openssl::pkey::PKey;
use lienthong_pki::openssl::x509::X509;
use lienthong_pki::{
    agency_code_of, Ca, CaOptions, IssueRequest, KeyKind, RevocationReason, RevokeTarget, Serial,
    TrustStore,
};

use lienthong_services::exchange::KeyStore;

use crate::Storage;

#[derive(Subcommand)]
pub enum CaCommand {
    /// Create the provincial CA under DATA/pki/ca (refuses to replace one).
    Init {
        #[command(flatten)]
        storage: Storage,
        /// The CA's name (its certificate's CN).
        #[arg(long)]
        name: Option<String>,
        /// The province's People's Committee code; default: the database's.
        #[arg(long)]
        province: Option<String>,
        /// rsa3072 or p256.
        #[arg(long, default_value = "rsa3072")]
        key: String,
        #[arg(long, default_value_t = 10)]
        years: u32,
        /// URL where the CRL is published (written into the certificates).
        #[arg(long)]
        crl_url: Option<String>,
    },
    /// Issue an agency's signing certificate and key.
    Issue {
        #[command(flatten)]
        storage: Storage,
        /// The agency identifier (mã định danh), e.g. 000.00.11.H62.
        #[arg(long)]
        org: String,
        /// The agency's name; default: its current name in the database.
        #[arg(long)]
        name: Option<String>,
        /// Where to write <CODE>.pem, <CODE>.key and chain.pem; default DATA/pki/agencies.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value = "p256")]
        key: String,
        #[arg(long, default_value_t = 730)]
        days: u32,
    },
    /// Revoke a certificate (by serial) or every certificate of an agency, and
    /// publish the new CRL.
    Revoke {
        #[command(flatten)]
        storage: Storage,
        #[arg(long, conflicts_with = "org", required_unless_present = "org")]
        serial: Option<String>,
        #[arg(long)]
        org: Option<String>,
        /// unspecified, key-compromise, affiliation-changed, superseded,
        /// cessation-of-operation or privilege-withdrawn.
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// Sign and publish a fresh CRL (run at least weekly: it expires after 7 days).
    Crl(Storage),
    /// List the certificates the CA issued.
    List(Storage),
    /// Trust another CA (a PEM bundle, e.g. a national CA's chain), optionally with its CRL.
    Trust {
        #[command(flatten)]
        storage: Storage,
        pem: PathBuf,
        #[arg(long)]
        crl: Option<PathBuf>,
    },
    /// Use an agency certificate issued elsewhere (it must chain to a trusted CA and
    /// name the agency) instead of one of ours.
    Import {
        #[command(flatten)]
        storage: Storage,
        #[arg(long)]
        org: String,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum EdxmlCommand {
    /// Exit 0 when the package's signature is valid (and its certificate trusted, with
    /// --trust or --data); otherwise exit 2 with the reason.
    Verify {
        file: PathBuf,
        /// The CA certificate (PEM) to trust; add --crl to check revocation.
        #[arg(long, conflicts_with = "data")]
        trust: Option<PathBuf>,
        #[arg(long, requires = "trust")]
        crl: Option<PathBuf>,
        /// Trust what this instance trusts (DATA/pki).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Print a package's header in human form.
    Show { file: PathBuf },
    /// Sign an unsigned package as an agency of this instance (for interoperability tests).
    Sign {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        org: String,
        input: PathBuf,
        output: PathBuf,
    },
}

/// The key folders of an instance (the layout in the module doc).
fn keys(data: &Path) -> KeyStore {
    KeyStore::open(data.join("pki"))
}

fn org_code(s: &str, flag: &str) -> anyhow::Result<OrgCode> {
    OrgCode::parse(s).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

fn key_kind(s: &str) -> anyhow::Result<KeyKind> {
    match s {
        "rsa3072" => Ok(KeyKind::Rsa3072),
        "p256" => Ok(KeyKind::P256),
        other => bail!("--key: {other:?} is neither rsa3072 nor p256"),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

pub async fn ca(cmd: CaCommand) -> anyhow::Result<()> {
    match cmd {
        CaCommand::Init {
            storage,
            name,
            province,
            key,
            years,
            crl_url,
        } => {
            let province = match province {
                Some(p) => org_code(&p, "--province")?,
                None => province_of(&storage)
                    .await?
                    .context("no People's Committee in the database: give --province")?,
            };
            let options = CaOptions {
                name: name.unwrap_or_else(|| format!("CA chuyên dùng {province}")),
                province_code: province,
                key: key_kind(&key)?,
                valid_years: years,
                crl_url,
            };
            let dir = keys(&storage.data_dir()).ca_dir();
            let ca = Ca::init(&dir, &options)?;
            println!("CA \"{}\" created in {}", ca.name(), dir.display());
        }
        CaCommand::Issue {
            storage,
            org,
            name,
            out,
            key,
            days,
        } => {
            let org = org_code(&org, "--org")?;
            let name = match name {
                Some(n) => n,
                None => agency_name(&storage, &org)
                    .await?
                    .with_context(|| format!("no agency {org} in the database: give --name"))?,
            };
            let data = storage.data_dir();
            let mut ca = Ca::open(keys(&data).ca_dir())?;
            let issued = ca.issue(&IssueRequest {
                org: org.clone(),
                name,
                key: key_kind(&key)?,
                valid_days: days,
            })?;
            let files = issued.write(out.unwrap_or_else(|| keys(&data).agencies_dir()))?;
            println!(
                "issued {} (serial {}): {}, key {}",
                org,
                issued.serial()?.as_str(),
                files.cert.display(),
                files.key.display()
            );
        }
        CaCommand::Revoke {
            storage,
            serial,
            org,
            reason,
        } => {
            let target = match (serial, org) {
                (Some(s), _) => RevokeTarget::Serial(
                    Serial::parse(&s).map_err(|e| anyhow::anyhow!("--serial: {e}"))?,
                ),
                (None, Some(o)) => RevokeTarget::Org(org_code(&o, "--org")?),
                (None, None) => bail!("give --serial or --org"),
            };
            let reason = RevocationReason::ALL
                .iter()
                .copied()
                .find(|r| r.as_str().replace(' ', "-") == reason)
                .with_context(|| {
                    let known: Vec<String> = RevocationReason::ALL
                        .iter()
                        .map(|r| r.as_str().replace(' ', "-"))
                        .collect();
                    format!("--reason: {reason:?} is not one of {}", known.join(", "))
                })?;
            let mut ca = Ca::open(keys(&storage.data_dir()).ca_dir())?;
            for serial in ca.revoke(&target, reason)? {
                println!("revoked {}", serial.as_str());
            }
            println!("CRL published in {}", ca.dir().join("crl.pem").display());
        }
        CaCommand::Crl(storage) => {
            let mut ca = Ca::open(keys(&storage.data_dir()).ca_dir())?;
            ca.write_crl()?;
            println!("CRL published in {}", ca.dir().join("crl.pem").display());
        }
        CaCommand::List(storage) => {
            let ca = Ca::open(keys(&storage.data_dir()).ca_dir())?;
            for r in ca.records() {
                let state = match &r.revoked {
                    Some(rev) => format!("revoked {} ({})", rev.at, rev.reason),
                    None => "valid".to_owned(),
                };
                println!(
                    "{}  {}  {}  until {}  {}",
                    r.serial.as_str(),
                    r.org.as_str(),
                    r.name,
                    r.not_after,
                    state
                );
            }
        }
        CaCommand::Trust { storage, pem, crl } => {
            let bytes = read(&pem)?;
            let certs = X509::stack_from_pem(&bytes)
                .with_context(|| format!("{} is not a PEM certificate bundle", pem.display()))?;
            if certs.is_empty() {
                bail!("{} holds no certificate", pem.display());
            }
            let dir = keys(&storage.data_dir()).trust_dir();
            std::fs::create_dir_all(&dir)?;
            let stem = file_stem(&pem)?;
            std::fs::write(dir.join(format!("{stem}.pem")), &bytes)?;
            if let Some(crl) = crl {
                let crl_bytes = read(&crl)?;
                let mut probe = TrustStore::new(certs[0].clone());
                probe
                    .import_crl(&crl_bytes)
                    .with_context(|| format!("{} is not a CRL", crl.display()))?;
                std::fs::write(dir.join(format!("{stem}.crl")), &crl_bytes)?;
            }
            println!(
                "trusting {} certificate(s) from {}",
                certs.len(),
                pem.display()
            );
        }
        CaCommand::Import {
            storage,
            org,
            cert,
            key,
        } => {
            let org = org_code(&org, "--org")?;
            let data = storage.data_dir();
            let cert_pem = read(&cert)?;
            let key_pem = read(&key)?;
            let chain = X509::stack_from_pem(&cert_pem)?;
            let (leaf, rest) = chain
                .split_first()
                .with_context(|| format!("{} holds no certificate", cert.display()))?;
            let private = PKey::private_key_from_pem(&key_pem)
                .with_context(|| format!("{} is not a PEM private key", key.display()))?;
            if !leaf.public_key()?.public_eq(&private) {
                bail!("the key does not belong to the certificate");
            }
            trust_store(&data)?.verify_signer(leaf, rest, chrono::Utc::now(), &org)?;
            let dir = keys(&data).agencies_dir();
            lienthong_pki::install_private_key(&dir, &format!("{org}.key"), &key_pem)?;
            std::fs::write(dir.join(format!("{org}.pem")), &cert_pem)?;
            println!(
                "{org} now signs with the certificate from {}",
                cert.display()
            );
        }
    }
    Ok(())
}

fn file_stem(path: &Path) -> anyhow::Result<String> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_owned)
        .with_context(|| format!("{} has no usable file name", path.display()))
}

/// What this instance trusts: its CA (with its CRL) and every anchor in pki/trust.
fn trust_store(data: &Path) -> anyhow::Result<std::sync::Arc<TrustStore>> {
    let keys = keys(data);
    keys.trust()
        .with_context(|| format!("reading what {} trusts", keys.dir().display()))
}

async fn province_of(storage: &Storage) -> anyhow::Result<Option<OrgCode>> {
    let db = storage.open().await?;
    let code = lienthong_services::org::province_code(&db).await?;
    db.close().await;
    Ok(code)
}

async fn agency_name(storage: &Storage, org: &OrgCode) -> anyhow::Result<Option<String>> {
    let db = storage.open().await?;
    let name = match lienthong_services::org::id_by_code(&db, org).await? {
        Some(id) => Some(
            lienthong_services::org::get(&db, id, lienthong_store::time::today())
                .await?
                .name,
        ),
        None => None,
    };
    db.close().await;
    Ok(name)
}

pub fn edxml(cmd: EdxmlCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EdxmlCommand::Verify {
            file,
            trust,
            crl,
            data,
        } => {
            let bytes = read(&file)?;
            match verify(&bytes, trust.as_deref(), crl.as_deref(), data.as_deref()) {
                Ok(report) => {
                    println!("{report}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("INVALID: {e:#}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        EdxmlCommand::Show { file } => {
            let bytes = read(&file)?;
            let limits = Limits::default();
            match Package::parse(&bytes, &limits) {
                Ok(p) => println!("{}", p.describe()),
                Err(as_document) => match StatusPackage::parse(&bytes, &limits) {
                    Ok(s) => println!("{}", s.describe()),
                    Err(_) => bail!("not an edXML package: {as_document}"),
                },
            }
            Ok(ExitCode::SUCCESS)
        }
        EdxmlCommand::Sign {
            data,
            org,
            input,
            output,
        } => {
            let org = org_code(&org, "--org")?;
            let signer = keys(&data).signer(&org).with_context(|| {
                format!("agency {org} has no signing key in {}", data.display())
            })?;
            let signed = lienthong_edxml::sign(&read(&input)?, &signer.key, &signer.cert)?;
            std::fs::write(&output, signed)
                .with_context(|| format!("writing {}", output.display()))?;
            println!("signed as {org}: {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The signature, then (when given something to trust) the signer's certificate
/// against the package's From agency.
fn verify(
    bytes: &[u8],
    trust: Option<&Path>,
    crl: Option<&Path>,
    data: Option<&Path>,
) -> anyhow::Result<String> {
    let verified = lienthong_edxml::verify(bytes)?;
    let limits = Limits::default();
    let from = match Package::parse(bytes, &limits) {
        Ok(p) => p.header.from.organ_id,
        Err(_) => StatusPackage::parse(bytes, &limits)?.from.organ_id,
    };
    let store = match (trust, data) {
        (Some(ca), _) => {
            let certs = X509::stack_from_pem(&read(ca)?)?;
            let (own, rest) = certs
                .split_first()
                .with_context(|| format!("{} holds no certificate", ca.display()))?;
            let mut store = TrustStore::new(own.clone());
            for anchor in rest {
                store.import_anchor(&anchor.to_pem()?)?;
            }
            if let Some(crl) = crl {
                store.import_crl(&read(crl)?)?;
            }
            Some(std::sync::Arc::new(store))
        }
        (None, Some(data)) => Some(trust_store(data)?),
        (None, None) => None,
    };
    let signer = agency_code_of(&verified.certificate)
        .map_or_else(|| "an unnamed agency".to_owned(), |c| c.to_string());
    let signer_der = verified.certificate.to_der()?;
    let mut chain: Vec<X509> = Vec::new();
    for cert in &verified.certificates {
        if cert.to_der()? != signer_der {
            chain.push(cert.clone());
        }
    }
    Ok(match store {
        Some(store) => {
            store.verify_signer(&verified.certificate, &chain, chrono::Utc::now(), &from)?;
            format!(
                "valid: signed by {from} ({}), certificate trusted",
                verified.algorithm.uri()
            )
        }
        None => format!(
            "valid signature by {signer} ({}); the certificate was NOT checked against a trust anchor (give --trust CA.pem or --data DIR)",
            verified.algorithm.uri()
        ),
    })
}

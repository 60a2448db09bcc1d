//! Public key infrastructure of Liên Thông: the provincial certificate authority
//! (CA tỉnh), the digital certificates of agencies (chứng thư số của cơ quan) that
//! sign the documents they exchange, and the checks a receiver makes on a signer.
//!
//! - [`ca`]: create and open a CA folder, issue agency certificates, revoke them
//!   (thu hồi) and publish the certificate revocation list (CRL).
//! - [`trust`]: the trust store, our CA plus imported external anchors, and
//!   [`TrustStore::verify_signer`].
//! - [`agency_code_of`]: the agency code (mã định danh, [`OrgCode`]) in a certificate.
//!
//! Everything is files and OpenSSL: no database, no async.
//!
//! # Private keys
//!
//! Private keys (khóa bí mật) at rest are protected by file permissions only: the
//! CA folder is 0700, `ca.key` and every agency key are 0600, written with that
//! mode from the start, and [`Ca::open`] refuses a CA key that others can read.
//! That suits a test or a pilot. In production the CA key belongs in a hardware
//! security module (HSM) reached through PKCS#11: the CA would name it by a
//! PKCS#11 URI (`pkcs11:token=ca-tinh;object=ca-signing;type=private`) in place
//! of `ca.key`, and sign through OpenSSL 3's pkcs11 provider, so that the key never
//! leaves the device. Agencies' keys likewise belong on their USB tokens. None of
//! this is implemented here.
//!
//! [`OrgCode`]: lienthong_domain::OrgCode

pub mod ca;
pub mod crl;
mod der;
mod fsutil;
mod index;
pub mod key;
mod name;
pub mod serial;
mod time;
pub mod trust;

pub use ca::{Ca, CaError, CaOptions, IssueRequest, Issued, IssuedFiles, RevokeTarget};
pub use crl::{RevocationReason, CRL_VALIDITY};
pub use fsutil::FileError;
pub use index::{CertificateRecord, Revocation};
pub use key::KeyKind;
pub use name::agency_code_of;
pub use serial::{Serial, SerialError};
pub use trust::{TrustError, TrustStore, TrustStoreError};

/// Re-exported so that callers name the same types as this crate.
pub use openssl;

/// Installs a private key file as `dir/file_name`: the folder is made 0700 and the
/// file is created 0600, and an existing key is never replaced (remove it first).
pub fn install_private_key(
    dir: &std::path::Path,
    file_name: &str,
    pem: &[u8],
) -> Result<std::path::PathBuf, FileError> {
    fsutil::private_dir(dir)?;
    let path = dir.join(file_name);
    fsutil::write_new(&path, pem, true)?;
    Ok(path)
}

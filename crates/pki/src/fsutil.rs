//! File writing with the permissions that private keys need.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// An I/O failure, with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

pub(crate) trait At<T> {
    fn at(self, path: &Path) -> Result<T, FileError>;
}

impl<T> At<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T, FileError> {
        self.map_err(|source| FileError {
            path: path.to_owned(),
            source,
        })
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    fs::read(path).at(path)
}

/// Creates `dir` (and its parents) if needed and makes it 0700: only the owner
/// may list the folder that holds private keys.
pub(crate) fn private_dir(dir: &Path) -> Result<(), FileError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .at(dir)?;
    // The mode above does not apply to a folder that already existed.
    fs::set_permissions(dir, Permissions::from_mode(0o700)).at(dir)
}

/// Writes a file that must not exist yet. A private file is created 0600 from the
/// start, so the key is never readable by others, not even for an instant.
pub(crate) fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), FileError> {
    let mode = if private { 0o600 } else { 0o644 };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .at(path)?;
    file.write_all(bytes).at(path)?;
    file.sync_all().at(path)
}

/// Replaces a public file atomically: readers see the old or the new content,
/// never half of it (a verifier may read the CRL while the CA rewrites it).
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)
        .at(&tmp)?;
    file.write_all(bytes).at(&tmp)?;
    file.sync_all().at(&tmp)?;
    fs::rename(&tmp, path).at(path)
}

/// The permission bits of a file.
pub(crate) fn mode(path: &Path) -> Result<u32, FileError> {
    Ok(fs::metadata(path).at(path)?.permissions().mode() & 0o777)
}

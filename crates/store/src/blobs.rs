//! Content-addressed blob storage: a file is stored under the SHA-256 of its bytes,
//! so storing the same file twice costs nothing and a stored file cannot change
//! without its name changing. Backed by `object_store`: the local filesystem by
//! default; an S3-compatible bucket is the same trait with another constructor.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    #[error("blob {0} is not stored")]
    Missing(String),
    #[error("blob {0} does not match its hash (storage corruption)")]
    Corrupt(String),
    #[error("not a SHA-256 hex digest")]
    BadId,
    #[error("creating the blob directory: {0}")]
    Io(#[from] std::io::Error),
}

/// The SHA-256 of a blob's content, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobId(String);

impl BlobId {
    pub fn parse(s: &str) -> Result<Self, BlobError> {
        if s.len() == 64
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            Ok(BlobId(s.to_owned()))
        } else {
            Err(BlobError::BadId)
        }
    }

    pub fn of(bytes: &[u8]) -> Self {
        BlobId(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> ObjectPath {
        ObjectPath::from(format!(
            "sha256/{}/{}/{}",
            &self.0[..2],
            &self.0[2..4],
            self.0
        ))
    }
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// For files on a local disk: their root, to sync what was written (object_store
    /// renames a complete file into place but does not sync it).
    local_root: Option<PathBuf>,
}

impl BlobStore {
    /// Files under `dir` (created if needed); writes are atomic renames.
    pub fn filesystem(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir)?;
        Ok(BlobStore {
            store: Arc::new(LocalFileSystem::new_with_prefix(dir)?),
            local_root: Some(dir.to_path_buf()),
        })
    }

    /// Any `object_store` backend, e.g. `AmazonS3Builder` for an S3-compatible bucket.
    pub fn on(store: Arc<dyn ObjectStore>) -> Self {
        BlobStore {
            store,
            local_root: None,
        }
    }

    /// Stores `bytes` and returns their id; storing the same content again is a no-op.
    pub async fn put(&self, bytes: Bytes) -> Result<BlobId, BlobError> {
        let id = BlobId::of(&bytes);
        let path = id.path();
        match self.store.head(&path).await {
            Ok(_) => return Ok(id),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.store.put(&path, PutPayload::from_bytes(bytes)).await?;
        if let Some(root) = &self.local_root {
            // A database row may point at this file as soon as put returns: the file
            // and the directories naming it must survive a power cut like the commit.
            let file = root.join(path.as_ref());
            let root = root.clone();
            tokio::task::spawn_blocking(move || sync_down_to(&root, &file))
                .await
                .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        }
        Ok(id)
    }

    /// Reads a blob back and checks it still matches its hash.
    pub async fn get(&self, id: &BlobId) -> Result<Bytes, BlobError> {
        let bytes = match self.store.get(&id.path()).await {
            Ok(r) => r.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BlobError::Missing(id.0.clone()))
            }
            Err(e) => return Err(e.into()),
        };
        if BlobId::of(&bytes) != *id {
            return Err(BlobError::Corrupt(id.0.clone()));
        }
        Ok(bytes)
    }

    pub async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        match self.store.delete(&id.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Syncs `file`, then each directory from its parent up to `root`.
fn sync_down_to(root: &Path, file: &Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    let mut dir = file.parent();
    while let Some(d) = dir {
        std::fs::File::open(d)?.sync_all()?;
        if d == root {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_content_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::filesystem(dir.path()).unwrap();
        let id = store
            .put(Bytes::from_static(
                b"Quy\xe1\xba\xbft \xc4\x91\xe1\xbb\x8bnh",
            ))
            .await
            .unwrap();
        assert_eq!(id, BlobId::of("Quyết định".as_bytes()));
        assert_eq!(store.put(Bytes::from("Quyết định")).await.unwrap(), id);
        assert_eq!(store.get(&id).await.unwrap(), Bytes::from("Quyết định"));

        let file = dir
            .path()
            .join("sha256")
            .join(&id.as_str()[..2])
            .join(&id.as_str()[2..4])
            .join(id.as_str());
        std::fs::write(&file, b"tampered").unwrap();
        assert!(matches!(store.get(&id).await, Err(BlobError::Corrupt(_))));

        store.delete(&id).await.unwrap();
        assert!(matches!(store.get(&id).await, Err(BlobError::Missing(_))));
        store.delete(&id).await.unwrap();
    }

    #[test]
    fn ids_are_validated() {
        assert!(BlobId::parse(&"a".repeat(64)).is_ok());
        assert!(BlobId::parse(&"A".repeat(64)).is_err());
        assert!(BlobId::parse("../etc/passwd").is_err());
    }
}

//! Content-addressed blob storage: a file is stored under the SHA-256 of its bytes,
//! so storing the same file twice costs nothing and a stored file cannot change
//! without its name changing. Backed by `object_store`: the local filesystem by
//! default; an S3-compatible bucket is the same trait with another constructor.

use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(target_os = "linux")]
use std::sync::{Condvar, Mutex};

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

    /// Where the blob is stored: under a directory named by its first two hex
    /// digits, 256 in all, as git keeps loose objects. (Two levels, 65,536
    /// directories, meant a new directory for nearly every blob of a young store:
    /// a `mkdir`, an inode and a block each, a measurable part of receiving a
    /// package.)
    fn path(&self) -> ObjectPath {
        ObjectPath::from(format!("sha256/{}/{}", &self.0[..2], self.0))
    }

    /// Where stores written before the one-level layout keep a blob: still read,
    /// recognized and deleted there.
    fn legacy_path(&self) -> ObjectPath {
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
    /// For files on a local disk: written to directly (see [`put_file`]).
    local: Option<Arc<Local>>,
}

impl BlobStore {
    /// Files under `dir` (created if needed); writes are atomic renames.
    pub fn filesystem(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir)?;
        Ok(BlobStore {
            store: Arc::new(LocalFileSystem::new_with_prefix(dir)?),
            local: Some(Arc::new(Local {
                root: dir.to_path_buf(),
                #[cfg(target_os = "linux")]
                group: SyncGroup::default(),
            })),
        })
    }

    /// Any `object_store` backend, e.g. `AmazonS3Builder` for an S3-compatible bucket.
    pub fn on(store: Arc<dyn ObjectStore>) -> Self {
        BlobStore { store, local: None }
    }

    /// Stores `bytes` and returns their id; storing the same content again is a no-op.
    pub async fn put(&self, bytes: Bytes) -> Result<BlobId, BlobError> {
        if let Some(local) = &self.local {
            // One trip to a blocking thread for the whole write (object_store's own
            // takes three, and does not sync).
            let local = local.clone();
            return tokio::task::spawn_blocking(move || put_file(&local, &bytes))
                .await
                .map_err(|e| BlobError::Io(std::io::Error::other(e)))?;
        }
        let id = BlobId::of(&bytes);
        for path in [id.path(), id.legacy_path()] {
            match self.store.head(&path).await {
                Ok(_) => return Ok(id),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.store
            .put(&id.path(), PutPayload::from_bytes(bytes))
            .await?;
        Ok(id)
    }

    /// Reads a blob back and checks it still matches its hash.
    pub async fn get(&self, id: &BlobId) -> Result<Bytes, BlobError> {
        for path in [id.path(), id.legacy_path()] {
            let bytes = match self.store.get(&path).await {
                Ok(r) => r.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            if BlobId::of(&bytes) != *id {
                return Err(BlobError::Corrupt(id.0.clone()));
            }
            return Ok(bytes);
        }
        Err(BlobError::Missing(id.0.clone()))
    }

    pub async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        for path in [id.path(), id.legacy_path()] {
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// A blob store's directory on a local disk.
struct Local {
    root: PathBuf,
    #[cfg(target_os = "linux")]
    group: SyncGroup,
}

/// Writes a blob as a file under the store's root, where `LocalFileSystem` reads it from, and
/// makes it durable: a database row may point at it as soon as this returns, so the
/// file and the directory entries naming it must survive a power cut like a commit.
/// The content goes to a file of its own first and is renamed into place, so the
/// name never shows a partial file.
fn put_file(local: &Local, bytes: &[u8]) -> Result<BlobId, BlobError> {
    let root = local.root.as_path();
    let id = BlobId::of(bytes);
    let file = root.join(id.path().as_ref());
    let dir = file.parent().ok_or(BlobError::BadId)?;
    // The directories missing, outermost first.
    let mut missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| *d != root && !d.exists())
        .collect();
    missing.reverse();
    for d in &missing {
        match std::fs::create_dir(d) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e.into()),
            _ => {}
        }
    }
    // Stored before (perhaps by a writer that has not synced it yet), or now. A
    // blob stored again is touched: the sweep leaves what was stored lately alone.
    if !touch(&file)? && !touch(&root.join(id.legacy_path().as_ref()))? {
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let partial = dir.join(format!("{}#{}-{n}", id.0, std::process::id()));
        let written = (|| {
            let mut f = std::fs::File::create_new(&partial)?;
            std::io::Write::write_all(&mut f, bytes)?;
            std::fs::rename(&partial, &file)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    }
    // On Linux, files written at about the same time share one `syncfs`.
    #[cfg(target_os = "linux")]
    local.group.after_write(root)?;
    // Elsewhere: the file, its directory (the new entry), and the parent of each
    // directory made (its entry).
    #[cfg(not(target_os = "linux"))]
    for d in [file.as_path(), dir]
        .into_iter()
        .chain(missing.iter().filter_map(|d| d.parent()))
    {
        std::fs::File::open(d)?.sync_all()?;
    }
    Ok(id)
}

/// Sets a file's modification time to now; `false` when there is no such file.
fn touch(file: &Path) -> std::io::Result<bool> {
    match std::fs::File::options().write(true).open(file) {
        Ok(f) => f.set_modified(std::time::SystemTime::now()).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        // A file made read-only (restored so from a backup, say) is there all the same.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(file.exists()),
        Err(e) => Err(e),
    }
}

/// The name a blob file takes while the sweep decides on it; a partial file's name
/// (`id#…`), so that nothing reads it as the blob.
const SWEPT: &str = "#swept";

impl BlobStore {
    /// The blobs on the local disk not stored (or stored again) since `cutoff`: the
    /// candidates of the sweep of blobs no row points at. Partial files from writes
    /// that crashed before `cutoff` are removed on the way. `None` for other
    /// backends, which keep what they are given (a bucket's lifecycle rules are the
    /// place to expire objects there).
    pub fn stale(&self, cutoff: std::time::SystemTime) -> Result<Option<Vec<BlobId>>, BlobError> {
        let Some(local) = &self.local else {
            return Ok(None);
        };
        let mut stale = Vec::new();
        let mut dirs = vec![local.root.join("sha256")];
        while let Some(dir) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in entries {
                let entry = entry?;
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    dirs.push(entry.path());
                    continue;
                }
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if let Some(id) = name.strip_suffix(SWEPT) {
                    // A sweep stopped half-way: the blob goes back under its name,
                    // to be judged again (or goes, if a writer stored it anew).
                    let file = entry.path().with_file_name(id);
                    if file.exists() {
                        std::fs::remove_file(entry.path())?;
                    } else {
                        std::fs::rename(entry.path(), &file)?;
                    }
                    continue;
                }
                let old = meta.modified()? < cutoff;
                match BlobId::parse(&name) {
                    Ok(id) if old => stale.push(id),
                    Ok(_) => {}
                    Err(_) if old && name.contains('#') => std::fs::remove_file(entry.path())?,
                    Err(_) => {}
                }
            }
        }
        Ok(Some(stale))
    }

    /// Removes a blob found by [`BlobStore::stale`] once its owner has checked that
    /// no row points at it, unless it was stored again since `cutoff` (a writer
    /// that stored it again between that check and now is about to point a row at
    /// it). Returns whether it was removed.
    pub fn remove_stale(
        &self,
        id: &BlobId,
        cutoff: std::time::SystemTime,
    ) -> Result<bool, BlobError> {
        let Some(local) = &self.local else {
            return Ok(false);
        };
        let mut removed = false;
        for path in [id.path(), id.legacy_path()] {
            let file = local.root.join(path.as_ref());
            let aside = file.with_file_name(format!("{}{SWEPT}", id.0));
            // Moved aside first: a writer storing it again from now on finds no
            // file and writes it anew, and one that touched it before shows here.
            match std::fs::rename(&file, &aside) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
            if std::fs::metadata(&aside)?.modified()? < cutoff {
                std::fs::remove_file(&aside)?;
                removed = true;
            } else {
                std::fs::rename(&aside, &file)?;
                #[cfg(target_os = "linux")]
                local.group.after_write(&local.root)?;
            }
        }
        Ok(removed)
    }
}

/// Group sync: `syncfs` makes everything written to a filesystem durable in one call
/// (file contents, inodes and directory entries alike), where each file would
/// otherwise take an `fsync` of its own and of its directories. A writer waits for a
/// `syncfs` that started after its write; one of the writers waiting runs it, and
/// all who were waiting for it are answered at once, as a database's group commit
/// does. One group per blob store, whose root names the filesystem synced.
#[cfg(target_os = "linux")]
#[derive(Default)]
struct SyncGroup {
    rounds: Mutex<Rounds>,
    done: Condvar,
}

#[cfg(target_os = "linux")]
#[derive(Default)]
struct Rounds {
    started: u64,
    finished: u64,
    running: bool,
    /// The last round that failed, and why.
    failed: Option<(u64, std::io::ErrorKind, String)>,
}

#[cfg(target_os = "linux")]
impl SyncGroup {
    /// Returns once a sync of the filesystem holding `root`, started after this
    /// call, has completed.
    fn after_write(&self, root: &Path) -> std::io::Result<()> {
        let mut rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
        // A round already running may have started before the write: the next.
        let needed = rounds.started + 1;
        while rounds.finished < needed {
            if rounds.running {
                rounds = self.done.wait(rounds).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            rounds.running = true;
            rounds.started += 1;
            let round = rounds.started;
            drop(rounds);
            let result = std::fs::File::open(root)
                .and_then(|dir| rustix::fs::syncfs(&dir).map_err(std::io::Error::from));
            rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
            rounds.running = false;
            rounds.finished = round;
            if let Err(e) = result {
                rounds.failed = Some((round, e.kind(), e.to_string()));
            }
            self.done.notify_all();
        }
        match &rounds.failed {
            Some((round, kind, message)) if *round >= needed => Err(std::io::Error::new(
                *kind,
                format!("syncing the blob store: {message}"),
            )),
            _ => Ok(()),
        }
    }
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

        let file = dir.path().join(id.path().as_ref());
        std::fs::write(&file, b"tampered").unwrap();
        assert!(matches!(store.get(&id).await, Err(BlobError::Corrupt(_))));

        store.delete(&id).await.unwrap();
        assert!(matches!(store.get(&id).await, Err(BlobError::Missing(_))));
        store.delete(&id).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_at_the_same_moment_share_syncs_and_each_gets_its_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::filesystem(dir.path()).unwrap();
        // A partial file left by a crash does not stand in the way.
        let stray = BlobId::of(b"blob 0");
        let file = dir.path().join(stray.path().as_ref());
        let leaf = file.parent().unwrap();
        std::fs::create_dir_all(leaf).unwrap();
        std::fs::write(leaf.join(format!("{}#1-0", stray.as_str())), b"blo").unwrap();
        let puts: Vec<_> = (0..64)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.put(Bytes::from(format!("blob {n}"))).await })
            })
            .collect();
        for (n, put) in puts.into_iter().enumerate() {
            let id = put.await.unwrap().unwrap();
            assert_eq!(id, BlobId::of(format!("blob {n}").as_bytes()));
            assert_eq!(
                store.get(&id).await.unwrap(),
                Bytes::from(format!("blob {n}"))
            );
        }
    }

    #[tokio::test]
    async fn blobs_of_the_two_level_layout_are_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::filesystem(dir.path()).unwrap();
        let id = BlobId::of(b"Cong van cu");
        let old = dir.path().join(id.legacy_path().as_ref());
        std::fs::create_dir_all(old.parent().unwrap()).unwrap();
        std::fs::write(&old, b"Cong van cu").unwrap();
        assert_eq!(store.get(&id).await.unwrap(), Bytes::from("Cong van cu"));
        // Stored already: not written again in the new layout.
        assert_eq!(store.put(Bytes::from("Cong van cu")).await.unwrap(), id);
        assert!(!dir.path().join(id.path().as_ref()).exists());
        std::fs::write(&old, b"tampered").unwrap();
        assert!(matches!(store.get(&id).await, Err(BlobError::Corrupt(_))));
        store.delete(&id).await.unwrap();
        assert!(!old.exists());
        assert!(matches!(store.get(&id).await, Err(BlobError::Missing(_))));
        // A new blob goes one level down.
        let fresh = store.put(Bytes::from("Cong van moi")).await.unwrap();
        let file = dir
            .path()
            .join("sha256")
            .join(&fresh.as_str()[..2])
            .join(fresh.as_str());
        assert_eq!(std::fs::read(file).unwrap(), b"Cong van moi");
    }

    #[test]
    fn ids_are_validated() {
        assert!(BlobId::parse(&"a".repeat(64)).is_ok());
        assert!(BlobId::parse(&"A".repeat(64)).is_err());
        assert!(BlobId::parse("../etc/passwd").is_err());
    }

    /// Sets a file's modification time back by a day.
    fn age(file: &Path) {
        let day = std::time::Duration::from_secs(86_400);
        std::fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - day)
            .unwrap();
    }

    #[tokio::test]
    async fn the_sweep_finds_what_was_not_stored_lately_and_spares_what_is_stored_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::filesystem(dir.path()).unwrap();
        let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let old = store.put(Bytes::from_static(b"old")).await.unwrap();
        let again = store
            .put(Bytes::from_static(b"stored again"))
            .await
            .unwrap();
        let new = store.put(Bytes::from_static(b"new")).await.unwrap();
        let legacy = BlobId::of(b"old layout");
        let legacy_file = dir.path().join(legacy.legacy_path().as_ref());
        std::fs::create_dir_all(legacy_file.parent().unwrap()).unwrap();
        std::fs::write(&legacy_file, b"old layout").unwrap();
        let partial = dir
            .path()
            .join(format!("sha256/{}/{}#9-9", &new.0[..2], new.0));
        std::fs::write(&partial, b"ne").unwrap();
        for id in [&old, &again] {
            age(&dir.path().join(id.path().as_ref()));
        }
        age(&legacy_file);
        age(&partial);
        // Stored again: touched, no longer a candidate.
        store
            .put(Bytes::from_static(b"stored again"))
            .await
            .unwrap();

        let mut stale = store.stale(cutoff).unwrap().unwrap();
        stale.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = vec![old.clone(), legacy.clone()];
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(stale, expected);
        assert!(
            !partial.exists(),
            "a partial file of a crashed write is removed"
        );

        assert!(store.remove_stale(&old, cutoff).unwrap());
        assert!(store.remove_stale(&legacy, cutoff).unwrap());
        assert!(matches!(store.get(&old).await, Err(BlobError::Missing(_))));
        assert!(matches!(
            store.get(&legacy).await,
            Err(BlobError::Missing(_))
        ));
        // Stored again after it was listed: kept, under its name.
        assert!(!store.remove_stale(&again, cutoff).unwrap());
        assert!(!store.remove_stale(&new, cutoff).unwrap());
        assert_eq!(
            store.get(&again).await.unwrap(),
            Bytes::from_static(b"stored again")
        );
        assert_eq!(store.get(&new).await.unwrap(), Bytes::from_static(b"new"));
        // Nothing is left aside.
        let aside: Vec<_> = walkdir(dir.path())
            .into_iter()
            .filter(|p| p.to_string_lossy().contains('#'))
            .collect();
        assert!(aside.is_empty(), "{aside:?}");
    }

    #[tokio::test]
    async fn a_blob_left_aside_by_a_sweep_that_stopped_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::filesystem(dir.path()).unwrap();
        let id = store.put(Bytes::from_static(b"kept")).await.unwrap();
        let file = dir.path().join(id.path().as_ref());
        std::fs::rename(&file, file.with_file_name(format!("{}{SWEPT}", id.0))).unwrap();
        assert!(matches!(store.get(&id).await, Err(BlobError::Missing(_))));
        let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        assert_eq!(store.stale(cutoff).unwrap(), Some(vec![]));
        assert_eq!(store.get(&id).await.unwrap(), Bytes::from_static(b"kept"));
        // Left aside while a writer stored the same bytes anew: the copy goes.
        let aside = file.with_file_name(format!("{}{SWEPT}", id.0));
        std::fs::copy(&file, &aside).unwrap();
        assert_eq!(store.stale(cutoff).unwrap(), Some(vec![]));
        assert!(!aside.exists());
        assert_eq!(store.get(&id).await.unwrap(), Bytes::from_static(b"kept"));
    }

    fn walkdir(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}

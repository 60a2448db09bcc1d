//! Replays the fuzz corpus (`fuzz/corpus/parse_package`, `fuzz/corpus/verify`) and
//! any saved crash inputs (`tests/fixtures/fuzz-crashes`) through
//! `Package::parse`, `StatusPackage::parse` and `verify`, as the fuzz targets do:
//! every input must return Ok or Err, never panic. Runs in the plain `cargo test`,
//! without any fuzz tooling; see `fuzz/README.md` for growing the corpus.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lienthong_edxml::*;

const CORPUS_DIRS: [&str; 2] = ["fuzz/corpus/parse_package", "fuzz/corpus/verify"];
const CRASH_DIR: &str = "tests/fixtures/fuzz-crashes";

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// What the fuzz targets do with one input. Returns (parsed as a package or a
/// status package, signature verified).
fn exercise(input: &[u8]) -> (bool, bool) {
    let limits = Limits::default();
    let mut parsed = false;
    if let Ok(package) = Package::parse(input, &limits) {
        parsed = true;
        let _ = package.describe();
        let _ = package.to_xml();
    }
    if let Ok(status) = StatusPackage::parse(input, &limits) {
        parsed = true;
        let _ = status.describe();
        let _ = status.to_xml();
    }
    let verified = verify(input).is_ok();
    (parsed, verified)
}

#[test]
fn corpus_and_crashes_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = Vec::new();
    for dir in CORPUS_DIRS {
        let files = files_in(&root.join(dir));
        assert!(
            !files.is_empty(),
            "{dir} is empty or missing: the corpus must be kept in the repository"
        );
        inputs.extend(files);
    }
    inputs.extend(files_in(&root.join(CRASH_DIR)));

    let mut panicked = Vec::new();
    let (mut parsed, mut verified) = (0, 0);
    for path in &inputs {
        let bytes = std::fs::read(path).unwrap();
        match catch_unwind(AssertUnwindSafe(|| exercise(&bytes))) {
            Ok((p, v)) => {
                parsed += usize::from(p);
                verified += usize::from(v);
            }
            Err(_) => panicked.push(path.strip_prefix(root).unwrap().display().to_string()),
        }
    }
    assert!(panicked.is_empty(), "inputs that panicked: {panicked:?}");
    // The corpus still holds valid inputs, so the success paths are replayed too.
    assert!(parsed > 0, "no input of {} parsed", inputs.len());
    assert!(verified > 0, "no input of {} verified", inputs.len());
}

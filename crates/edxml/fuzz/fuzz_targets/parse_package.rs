//! Arbitrary bytes through the package and status-package readers: Ok or Err,
//! never a panic, a hang or an allocation beyond the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lienthong_edxml::{Limits, Package, StatusPackage};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(package) = Package::parse(data, &limits) {
        // What was read must be describable and writable again.
        let _ = package.describe();
        let _ = package.to_xml();
    }
    if let Ok(status) = StatusPackage::parse(data, &limits) {
        let _ = status.describe();
        let _ = status.to_xml();
    }
});

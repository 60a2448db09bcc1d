//! Arbitrary bytes through the XML-DSig checker (canonicalization, digest and
//! signature checks): Ok or Err, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lienthong_edxml::verify(data);
});

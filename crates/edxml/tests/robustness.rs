//! `Package::parse`, `StatusPackage::parse` and `verify` never panic, whatever the
//! input: every truncation and many deterministic mutations of a valid signed
//! package return Ok or Err.

mod common;

use common::*;
use lienthong_edxml::*;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn exercise(input: &[u8]) -> bool {
    let limits = Limits::default();
    let a = Package::parse(input, &limits).is_ok();
    let _ = StatusPackage::parse(input, &limits);
    let _ = verify(input);
    a
}

fn small_signed_package() -> Vec<u8> {
    let mut p = full_package();
    p.attachments[0].bytes.truncate(200);
    let pki = Pki::new();
    let key = p256_key();
    let cert = pki.issue("fuzz", &key);
    sign(&p.to_xml().unwrap(), &key, &cert).unwrap()
}

#[test]
fn truncations_never_panic() {
    let xml = small_signed_package();
    assert!(exercise(&xml));
    let mut oks = 0;
    // Every prefix length near the ends, a stride through the middle.
    let lens: Vec<usize> = (0..xml.len())
        .filter(|i| *i < 300 || *i > xml.len() - 300 || i % 7 == 0)
        .collect();
    for n in lens {
        if exercise(&xml[..n]) {
            oks += 1;
        }
    }
    // A package cut anywhere before its end tag is not a package.
    assert!(oks <= 2, "{oks} truncated inputs parsed");
}

#[test]
fn mutations_never_panic() {
    let xml = small_signed_package();
    let specials = b"<>&;/=\"' \n\r\t:#x\xc3\xff\x00]!?-";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut refused = 0;
    for _ in 0..1500 {
        let mut m = xml.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(m.len());
            match rng.below(4) {
                0 => m[i] = specials[rng.below(specials.len())],
                1 => {
                    m.remove(i);
                }
                2 => m.insert(i, specials[rng.below(specials.len())]),
                _ => {
                    // Duplicate a random slice (elements repeated, nested deeper).
                    let j = (i + rng.below(200)).min(m.len());
                    let chunk = m[i..j].to_vec();
                    let at = rng.below(m.len());
                    m.splice(at..at, chunk);
                }
            }
        }
        if !exercise(&m) {
            refused += 1;
        }
    }
    assert!(
        refused > 100,
        "mutations should mostly be refused, {refused} were"
    );
}

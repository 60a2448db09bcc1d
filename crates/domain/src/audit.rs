//! The audit log (nhật ký) is a hash chain: each entry's hash covers the previous
//! entry's hash and every field of its own, so editing or deleting a stored entry
//! breaks the chain from that entry on.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored, without its own hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFields<'a> {
    pub seq: i64,
    /// RFC 3339 UTC timestamp.
    pub at: &'a str,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    /// What happened, e.g. `agency.create`, `person.password_change`.
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: &'a str,
    /// JSON describing what changed.
    pub changes: &'a str,
}

/// SHA-256 of the previous hash and this entry's fields, as lowercase hex.
///
/// Fields are length-prefixed so that no two different entries hash the same input.
pub fn chain_hash(prev_hash: &str, e: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    let actor_id = e.actor_id.map(|i| i.to_string()).unwrap_or_default();
    let seq = e.seq.to_string();
    for part in [
        prev_hash,
        seq.as_str(),
        e.at,
        actor_id.as_str(),
        e.actor,
        e.action,
        e.record_type,
        e.record_id,
        e.changes,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: expected sequence number {expected} (an entry is missing)")]
    Gap { seq: i64, expected: i64 },
    #[error("entry {seq}: its prev_hash does not match the entry before it")]
    PrevHash { seq: i64 },
    #[error("entry {seq}: its hash does not match its contents (the entry was edited)")]
    Hash { seq: i64 },
    #[error(
        "the chain ends at entry {last} but the head says {head} (entries were removed at the end)"
    )]
    Head { last: i64, head: i64 },
}

/// Walks stored entries in order and reports the first break. Each item is the
/// entry's fields, its stored `prev_hash` and its stored `hash`.
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    pub fn check(
        &mut self,
        e: &AuditFields<'_>,
        stored_prev: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                seq: e.seq,
                expected: self.expected_seq,
            });
        }
        if stored_prev != self.prev_hash {
            return Err(ChainBreak::PrevHash { seq: e.seq });
        }
        if chain_hash(stored_prev, e) != stored_hash {
            return Err(ChainBreak::Hash { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = stored_hash.to_owned();
        Ok(())
    }

    /// After the last entry: the head row must point at it.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if head_seq != last || head_hash != self.prev_hash {
            return Err(ChainBreak::Head {
                last,
                head: head_seq,
            });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, changes: &str) -> AuditFields<'_> {
        AuditFields {
            seq,
            at: "2026-11-25T10:00:00.000000Z",
            actor_id: Some(1),
            actor: "admin",
            action: "agency.create",
            record_type: "agency",
            record_id: "7",
            changes,
        }
    }

    fn chain(n: i64) -> Vec<(AuditFields<'static>, String, String)> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|i| {
                let e = entry(i, "{}");
                let h = chain_hash(&prev, &e);
                let out = (e, prev.clone(), h.clone());
                prev = h;
                out
            })
            .collect()
    }

    fn verify(
        c: &[(AuditFields<'_>, String, String)],
        head: (i64, &str),
    ) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for (e, p, h) in c {
            v.check(e, p, h)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let head = c.last().unwrap().2.clone();
        assert_eq!(verify(&c, (5, &head)), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn hash_depends_on_every_field() {
        let base = entry(1, "{}");
        let h = chain_hash(GENESIS_HASH, &base);
        let variants = [
            AuditFields {
                seq: 2,
                ..base.clone()
            },
            AuditFields {
                at: "2026-11-25T10:00:00.000001Z",
                ..base.clone()
            },
            AuditFields {
                actor_id: None,
                ..base.clone()
            },
            AuditFields {
                actor: "admin2",
                ..base.clone()
            },
            AuditFields {
                action: "agency.update",
                ..base.clone()
            },
            AuditFields {
                record_type: "unit",
                ..base.clone()
            },
            AuditFields {
                record_id: "8",
                ..base.clone()
            },
            AuditFields {
                changes: "{\"a\":1}",
                ..base.clone()
            },
        ];
        for v in &variants {
            assert_ne!(chain_hash(GENESIS_HASH, v), h, "{v:?}");
        }
        assert_ne!(chain_hash(&"1".repeat(64), &base), h);
        // Length prefixes: moving a character between fields changes the hash.
        let a = AuditFields {
            actor: "ab",
            action: "c",
            ..base.clone()
        };
        let b = AuditFields {
            actor: "a",
            action: "bc",
            ..base.clone()
        };
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(GENESIS_HASH, &b));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut c = chain(4);
        c[2].0.changes = "{\"edited\":true}";
        let head = c.last().unwrap().2.clone();
        assert_eq!(verify(&c, (4, &head)), Err(ChainBreak::Hash { seq: 3 }));
    }

    #[test]
    fn an_edited_entry_with_recomputed_hash_breaks_the_next_link() {
        let mut c = chain(4);
        c[1].0.changes = "{\"edited\":true}";
        c[1].2 = chain_hash(&c[1].1, &c[1].0);
        let head = c.last().unwrap().2.clone();
        assert_eq!(verify(&c, (4, &head)), Err(ChainBreak::PrevHash { seq: 3 }));
    }

    #[test]
    fn a_deleted_entry_is_a_gap() {
        let mut c = chain(4);
        c.remove(1);
        let head = c.last().unwrap().2.clone();
        assert_eq!(
            verify(&c, (4, &head)),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn entries_removed_at_the_end_disagree_with_the_head() {
        let c = chain(4);
        let head = c.last().unwrap().2.clone();
        assert_eq!(
            verify(&c[..3], (4, &head)),
            Err(ChainBreak::Head { last: 3, head: 4 })
        );
    }
}

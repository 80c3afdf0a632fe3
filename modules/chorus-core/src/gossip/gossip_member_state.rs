use alloc::boxed::Box;
use alloc::vec::Vec;

use super::GossipKeyValue;

/// Everything one node knows of one member's gossip state.
///
/// - `entries`: key → latest value known, last-writer-wins by the owner's sequence number;
/// - `heartbeat`: the highest heartbeat counter seen for the member (merged by max);
/// - `watermark`: every write of the member with a sequence number ≤ `watermark` is known
///   here (or superseded by a later write of the same key). Deltas are built from it: a
///   peer that reports watermark `w` is sent the entries with a sequence number above `w`.
///
/// A member has a handful of keys, so `entries` is a vector sorted by key rather than a
/// tree: a `BTreeMap` allocates a node of about 700 bytes for even one entry, and every
/// node holds such a state for every member (N² of them in a simulated cluster).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GossipMemberState {
    entries: Vec<(Box<str>, GossipKeyValue)>,
    pub(crate) heartbeat: u64,
    pub(crate) watermark: u64,
    /// The highest sequence number among `entries`, kept up to date by every write.
    pub(crate) max_seq: u64,
}

impl GossipMemberState {
    /// The value of `key`, if known.
    pub fn get(&self, key: &str) -> Option<&GossipKeyValue> {
        self.position(key)
            .ok()
            .and_then(|at| self.entries.get(at))
            .map(|(_, value)| value)
    }

    /// The number of keys known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(held, _)| (**held).cmp(key))
    }

    /// Stores `value` under `key`, replacing what the key held.
    pub(crate) fn insert(&mut self, key: &str, value: GossipKeyValue) {
        match self.position(key) {
            Ok(at) => {
                if let Some((_, held)) = self.entries.get_mut(at) {
                    *held = value;
                }
            }
            Err(at) => {
                // Members hold few keys: grow by one, not by doubling.
                self.entries.reserve_exact(1);
                self.entries.insert(at, (Box::from(key), value));
            }
        }
    }

    /// The keys and values, sorted by key.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &GossipKeyValue)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// The highest heartbeat seen.
    pub fn heartbeat(&self) -> u64 {
        self.heartbeat
    }

    /// Every write up to this sequence number is known here.
    pub fn watermark(&self) -> u64 {
        self.watermark
    }

    /// The highest sequence number of any entry held.
    pub fn max_seq(&self) -> u64 {
        self.max_seq
    }

    /// The entries with a sequence number above `seq`, in ascending sequence order.
    pub(crate) fn entries_after(&self, seq: u64) -> Vec<(&str, &GossipKeyValue)> {
        let mut newer: Vec<_> = self
            .entries
            .iter()
            .filter(|(_, v)| v.seq() > seq)
            .map(|(k, v)| (&**k, v))
            .collect();
        newer.sort_by_key(|(_, v)| v.seq());
        newer
    }

    /// Stores `value` for `key` if its sequence number is strictly higher than the one
    /// held; returns whether it was accepted.
    pub(crate) fn offer(&mut self, key: &str, value: &[u8], seq: u64, now: u64) -> bool {
        let accepted = self.store_if_newer(key, value, seq, now);
        if accepted {
            self.max_seq = self.max_seq.max(seq);
        }
        accepted
    }

    fn store_if_newer(&mut self, key: &str, value: &[u8], seq: u64, now: u64) -> bool {
        if self.get(key).is_some_and(|held| held.seq() >= seq) {
            return false;
        }
        self.insert(key, GossipKeyValue::new(value.to_vec(), seq, now));
        true
    }

    /// The content that must agree between nodes: keys, values and sequence numbers, not
    /// the local timestamps.
    pub fn same_content(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(other.entries.iter())
                .all(|((ka, va), (kb, vb))| {
                    ka == kb && va.seq() == vb.seq() && va.value() == vb.value()
                })
    }
}

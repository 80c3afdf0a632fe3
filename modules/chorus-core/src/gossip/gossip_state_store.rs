use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::gossip_state::FnvMap;
use super::{
    DeltaEntry, DeltaLimits, DigestEntry, GossipDelta, GossipDigest, GossipKeyValue,
    GossipMemberState, GossipState, GossipUpdate, OwnerDelta, encoded_size,
};
use crate::topology::MemberId;

/// Bytes a delta needs besides its owner parts: the vector length prefix.
const DELTA_OVERHEAD: usize = 5;
/// Bytes a digest needs besides its entries: the length prefix and the `complete` flag.
const DIGEST_OVERHEAD: usize = 6;

/// The replicated key-value state of one node: its own keys and what it learnt of every
/// other member's, with the rules of `docs/protocol.md`.
///
/// - A member owns one sequence counter for all its keys, incremented on every change;
///   writing the value a key already holds changes nothing.
/// - Merging keeps, per key, the write with the strictly higher sequence number and stamps
///   accepted writes with the receiver's `now`.
/// - A delta for a peer holds what its digest says it lacks, bounded in size.
#[derive(Debug, Clone)]
pub struct GossipStateStore {
    me: MemberId,
    state: GossipState,
    seq: u64,
}

impl GossipStateStore {
    /// An empty store owned by `me`.
    pub fn new(me: MemberId) -> Self {
        let mut state = GossipState::new();
        state
            .members
            .insert(me.clone(), GossipMemberState::default());
        Self { me, state, seq: 0 }
    }

    /// The owner of the local keys.
    pub fn me(&self) -> &MemberId {
        &self.me
    }

    /// The whole state.
    pub fn state(&self) -> &GossipState {
        &self.state
    }

    /// The local sequence counter: the sequence number of the last local write.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Writes `value` under the local `key`; `None` when the key already held that value.
    pub fn set(&mut self, key: &str, value: &[u8], now: u64) -> Option<GossipUpdate> {
        let own = self.state.members.entry(self.me.clone()).or_default();
        if own
            .entries
            .get(key)
            .is_some_and(|held| held.value() == value)
        {
            return None;
        }
        self.seq += 1;
        own.entries.insert(
            String::from(key),
            GossipKeyValue::new(value.to_vec(), self.seq, now),
        );
        own.watermark = self.seq;
        own.max_seq = self.seq;
        Some(GossipUpdate {
            member: self.me.clone(),
            key: String::from(key),
            seq: self.seq,
        })
    }

    /// The local value of `key`.
    pub fn get_local(&self, key: &str) -> Option<&GossipKeyValue> {
        self.get(&self.me, key)
    }

    /// The value of `key` owned by `member`, as known here.
    pub fn get(&self, member: &MemberId, key: &str) -> Option<&GossipKeyValue> {
        self.state.members.get(member).and_then(|s| s.get(key))
    }

    /// Sets `map_key` in the map kept under the local `key` (one gossip key holds the whole
    /// map, so a map change is one write).
    pub fn map_set(
        &mut self,
        key: &str,
        map_key: &str,
        value: &[u8],
        now: u64,
    ) -> Option<GossipUpdate> {
        let mut map = self.local_map(key);
        map.insert(String::from(map_key), value.to_vec());
        self.write_map(key, &map, now)
    }

    /// Removes `map_key` from the map kept under the local `key`.
    pub fn map_remove(&mut self, key: &str, map_key: &str, now: u64) -> Option<GossipUpdate> {
        let mut map = self.local_map(key);
        map.remove(map_key)?;
        self.write_map(key, &map, now)
    }

    /// The value of `map_key` in the map `member` keeps under `key`.
    pub fn map_get(&self, member: &MemberId, key: &str, map_key: &str) -> Option<Vec<u8>> {
        self.map_of(member, key).remove(map_key)
    }

    /// The keys of the map `member` keeps under `key`, sorted.
    pub fn map_keys(&self, member: &MemberId, key: &str) -> Vec<String> {
        self.map_of(member, key).into_keys().collect()
    }

    /// The map `member` keeps under `key` (empty when absent or unreadable).
    pub fn map_of(&self, member: &MemberId, key: &str) -> BTreeMap<String, Vec<u8>> {
        self.get(member, key)
            .and_then(|v| postcard::from_bytes(v.value()).ok())
            .unwrap_or_default()
    }

    fn local_map(&self, key: &str) -> BTreeMap<String, Vec<u8>> {
        self.map_of(&self.me.clone(), key)
    }

    fn write_map(
        &mut self,
        key: &str,
        map: &BTreeMap<String, Vec<u8>>,
        now: u64,
    ) -> Option<GossipUpdate> {
        // Encoding a map of strings and byte vectors into memory cannot fail.
        let bytes = postcard::to_allocvec(map).unwrap_or_default();
        self.set(key, &bytes, now)
    }

    /// Every write of `member` held here with a sequence number above `from`, as one delta
    /// part claiming `(from, watermark]` (a receiver that holds every write up to `from`
    /// then holds every write up to our watermark); `None` for an unknown member.
    pub fn owner_part(&self, member: &MemberId, from: u64) -> Option<OwnerDelta> {
        let state = self.state.members.get(member)?;
        let entries = state
            .entries_after(from)
            .into_iter()
            .map(|(key, value)| DeltaEntry {
                key: key.clone(),
                seq: value.seq(),
                value: value.value().to_vec(),
            })
            .collect();
        Some(OwnerDelta {
            member: member.clone(),
            from,
            to: state.watermark.max(from),
            entries,
        })
    }

    /// Increments the local heartbeat; returns the new value.
    pub fn bump_heartbeat(&mut self) -> u64 {
        let own = self.state.members.entry(self.me.clone()).or_default();
        own.heartbeat += 1;
        own.heartbeat
    }

    /// The heartbeat known for `member`.
    pub fn heartbeat(&self, member: &MemberId) -> Option<u64> {
        self.state
            .members
            .get(member)
            .map(GossipMemberState::heartbeat)
    }

    /// Forgets everything about `member` (it was blocked).
    pub fn remove_member(&mut self, member: &MemberId) {
        if *member != self.me {
            self.state.members.remove(member);
        }
    }

    /// Merges a remote state wholesale (see [`GossipState::merge`]); our own keys are never
    /// taken from others.
    pub fn merge_state(&mut self, other: &GossipState, now: u64) -> Vec<GossipUpdate> {
        let mut foreign = other.clone();
        foreign.members.remove(&self.me);
        self.state.merge(&foreign, now)
    }

    /// Merges a delta: per key the strictly higher sequence number wins, accepted entries
    /// are stamped `now`, and a watermark rises to an owner part's `to` when it held every
    /// write up to its `from`. Parts about ourselves, or about members `accept` refuses
    /// (blocked ones), are skipped. Returns the accepted writes.
    pub fn merge_delta(
        &mut self,
        delta: &GossipDelta,
        now: u64,
        accept: impl Fn(&MemberId) -> bool,
    ) -> Vec<GossipUpdate> {
        let mut updates = Vec::new();
        for part in &delta.owners {
            if part.member == self.me || !accept(&part.member) {
                continue;
            }
            let state = self.state.members.entry(part.member.clone()).or_default();
            for entry in &part.entries {
                if state.offer(&entry.key, &entry.value, entry.seq, now) {
                    updates.push(GossipUpdate {
                        member: part.member.clone(),
                        key: entry.key.clone(),
                        seq: entry.seq,
                    });
                }
            }
            if part.from <= state.watermark {
                state.watermark = state.watermark.max(part.to);
            }
        }
        updates
    }

    /// Takes the heartbeats of a peer's digest (maximum wins) and learns members it names;
    /// returns the members whose heartbeat rose. Members `accept` refuses are skipped.
    pub fn observe_digest(
        &mut self,
        digest: &GossipDigest,
        accept: impl Fn(&MemberId) -> bool,
    ) -> Vec<MemberId> {
        let mut advanced = Vec::new();
        for entry in &digest.entries {
            if entry.member == self.me || !accept(&entry.member) {
                continue;
            }
            let state = self.state.members.entry(entry.member.clone()).or_default();
            if entry.heartbeat > state.heartbeat {
                state.heartbeat = entry.heartbeat;
                advanced.push(entry.member.clone());
            }
        }
        advanced
    }

    /// Our digest: every member `include` accepts, our own first, cut to `max_bytes`. When
    /// it does not fit, a window of members starting at `rotation` (modulo the count) is
    /// listed and the digest is marked incomplete.
    pub fn digest(
        &self,
        max_bytes: usize,
        rotation: usize,
        include: impl Fn(&MemberId) -> bool,
    ) -> GossipDigest {
        let mut others: Vec<(&MemberId, &GossipMemberState)> = self
            .state
            .members
            .iter()
            .filter(|(m, _)| **m != self.me && include(m))
            .collect();
        others.sort_by(|a, b| a.0.cmp(b.0));
        let mut entries = Vec::with_capacity(others.len() + 1);
        let mut used = DIGEST_OVERHEAD;
        if let Some(own) = self.state.members.get(&self.me) {
            let entry = Self::digest_entry(&self.me, own);
            used += Self::digest_entry_size(&entry);
            entries.push(entry);
        }
        let count = others.len();
        let start = if count == 0 { 0 } else { rotation % count };
        let mut complete = true;
        for i in 0..count {
            let Some((member, state)) = others.get((start + i) % count) else {
                break;
            };
            let entry = Self::digest_entry(member, state);
            let size = Self::digest_entry_size(&entry);
            if used + size > max_bytes {
                complete = false;
                break;
            }
            used += size;
            entries.push(entry);
        }
        GossipDigest {
            entries,
            complete,
            view: None,
        }
    }

    fn digest_entry(member: &MemberId, state: &GossipMemberState) -> DigestEntry {
        DigestEntry {
            member: member.clone(),
            heartbeat: state.heartbeat,
            watermark: state.watermark,
        }
    }

    /// Encoded bytes of `digest`.
    pub(crate) fn digest_size(digest: &GossipDigest) -> usize {
        let view = digest.view.as_ref().map_or(0, |v| {
            let all: usize = v
                .all
                .iter()
                .map(|(h, w)| encoded_size::varint(*h) + encoded_size::varint(*w))
                .sum();
            let some: usize = v
                .some
                .iter()
                .map(|(p, h, w)| {
                    encoded_size::varint(u64::from(*p))
                        + encoded_size::varint(*h)
                        + encoded_size::varint(*w)
                })
                .sum();
            10 + all + some
        });
        let entries: usize = digest.entries.iter().map(Self::digest_entry_size).sum();
        DIGEST_OVERHEAD + view + entries
    }

    fn digest_entry_size(entry: &DigestEntry) -> usize {
        encoded_size::member_id(&entry.member)
            + encoded_size::varint(entry.heartbeat)
            + encoded_size::varint(entry.watermark)
    }

    /// What we know better than the peer whose digest this is, as a digest of our own: the
    /// members where our watermark is lower (we lack writes it has) or our heartbeat is
    /// higher (it lacks liveness news), and — for a complete digest — the members it does
    /// not know at all. The peer answers the watermarks with a delta. A reply is never
    /// complete: members it leaves out are simply not news.
    pub fn digest_reply(
        &self,
        theirs: &GossipDigest,
        max_bytes: usize,
        include: impl Fn(&MemberId) -> bool,
    ) -> GossipDigest {
        let mut entries = Vec::new();
        let mut used = DIGEST_OVERHEAD;
        let mut push = |entry: DigestEntry, entries: &mut Vec<DigestEntry>| {
            let size = Self::digest_entry_size(&entry);
            if used + size <= max_bytes {
                used += size;
                entries.push(entry);
            }
        };
        for theirs_entry in &theirs.entries {
            if !include(&theirs_entry.member) {
                continue;
            }
            match self.state.members.get(&theirs_entry.member) {
                Some(ours)
                    if ours.watermark < theirs_entry.watermark
                        || ours.heartbeat > theirs_entry.heartbeat =>
                {
                    push(Self::digest_entry(&theirs_entry.member, ours), &mut entries);
                }
                Some(_) => {}
                None => push(
                    DigestEntry {
                        member: theirs_entry.member.clone(),
                        heartbeat: 0,
                        watermark: 0,
                    },
                    &mut entries,
                ),
            }
        }
        if theirs.complete {
            let listed: FnvMap<&MemberId, ()> =
                theirs.entries.iter().map(|e| (&e.member, ())).collect();
            let mut unknown: Vec<(&MemberId, &GossipMemberState)> = self
                .state
                .members
                .iter()
                .filter(|(m, _)| !listed.contains_key(m) && include(m))
                .collect();
            unknown.sort_by(|a, b| a.0.cmp(b.0));
            for (member, state) in unknown {
                push(Self::digest_entry(member, state), &mut entries);
            }
        }
        GossipDigest {
            entries,
            complete: false,
            view: None,
        }
    }

    /// The entries the sender of `digest` lacks, within `limits`: our own state first,
    /// then the owners it is furthest behind on. Members missing from a complete digest are
    /// unknown to its sender and sent whole; members `include` refuses are never sent.
    pub fn delta_for(
        &self,
        digest: &GossipDigest,
        limits: DeltaLimits,
        include: impl Fn(&MemberId) -> bool,
    ) -> GossipDelta {
        let theirs: FnvMap<&MemberId, u64> = digest
            .entries
            .iter()
            .map(|e| (&e.member, e.watermark))
            .collect();
        // (owner, their watermark, how far behind they are)
        let mut wanted: Vec<(&MemberId, &GossipMemberState, u64, u64)> = Vec::new();
        for (member, state) in &self.state.members {
            if !include(member) {
                continue;
            }
            let their_watermark = match theirs.get(member) {
                Some(w) => *w,
                None if digest.complete => 0,
                None => continue,
            };
            let max_seq = state.max_seq();
            if max_seq > their_watermark {
                wanted.push((member, state, their_watermark, max_seq - their_watermark));
            }
        }
        wanted.sort_by(|a, b| {
            let own = (*b.0 == self.me).cmp(&(*a.0 == self.me));
            own.then(b.3.cmp(&a.3)).then(a.0.cmp(b.0))
        });

        let mut delta = GossipDelta::default();
        let mut entries_left = limits.max_entries;
        let mut bytes_left = limits.max_bytes.saturating_sub(DELTA_OVERHEAD);
        for (member, state, from, _) in wanted {
            let header = encoded_size::member_id(member)
                + encoded_size::varint(from)
                + encoded_size::varint(state.watermark)
                + 5;
            if entries_left == 0 || bytes_left <= header {
                break;
            }
            bytes_left -= header;
            let newer = state.entries_after(from);
            let mut part = OwnerDelta {
                member: member.clone(),
                from,
                to: from,
                entries: Vec::new(),
            };
            let mut all_sent = true;
            for (key, value) in &newer {
                let size = encoded_size::bytes(key.len())
                    + encoded_size::varint(value.seq())
                    + encoded_size::bytes(value.value().len());
                if entries_left == 0 || size > bytes_left {
                    all_sent = false;
                    break;
                }
                entries_left -= 1;
                bytes_left -= size;
                part.entries.push(DeltaEntry {
                    key: (*key).clone(),
                    seq: value.seq(),
                    value: value.value().to_vec(),
                });
            }
            let last_sent = part.entries.last().map_or(from, |e| e.seq);
            part.to = if all_sent {
                state.watermark.max(from)
            } else {
                last_sent.min(state.watermark).max(from)
            };
            let full = !all_sent;
            if !part.entries.is_empty() || part.to > part.from {
                delta.owners.push(part);
            }
            if full {
                break;
            }
        }
        delta
    }
}

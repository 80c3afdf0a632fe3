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
        if own.get(key).is_some_and(|held| held.value() == value) {
            return None;
        }
        self.seq += 1;
        own.insert(key, GossipKeyValue::new(value.to_vec(), self.seq, now));
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
        let bytes = self.map_value_with(key, map_key, value);
        self.set(key, &bytes, now)
    }

    /// Removes `map_key` from the map kept under the local `key`.
    pub fn map_remove(&mut self, key: &str, map_key: &str, now: u64) -> Option<GossipUpdate> {
        let bytes = self.map_value_without(key, map_key)?;
        self.set(key, &bytes, now)
    }

    /// The encoded value the local map under `key` would hold with `map_key` set to
    /// `value` (what [`map_set`](Self::map_set) writes).
    pub fn map_value_with(&self, key: &str, map_key: &str, value: &[u8]) -> Vec<u8> {
        let mut map = self.local_map(key);
        map.insert(String::from(map_key), value.to_vec());
        Self::encode_map(&map)
    }

    /// The encoded value the local map under `key` would hold without `map_key`; `None`
    /// when it holds no such key (what [`map_remove`](Self::map_remove) writes).
    pub fn map_value_without(&self, key: &str, map_key: &str) -> Option<Vec<u8>> {
        let mut map = self.local_map(key);
        map.remove(map_key)?;
        Some(Self::encode_map(&map))
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

    fn encode_map(map: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
        // Encoding a map of strings and byte vectors into memory cannot fail.
        postcard::to_allocvec(map).unwrap_or_default()
    }

    /// Every write of each `(member, from)` held here with a sequence number above `from`,
    /// as delta parts claiming `(from, watermark]`, within `limits` (a part cut short
    /// claims only the prefix it carries, so the rest travels in anti-entropy). Pushes,
    /// announcements and leaves are built this way, so no message outgrows its bounds.
    pub fn parts_since<'a>(
        &self,
        owners: impl IntoIterator<Item = (&'a MemberId, u64)>,
        limits: DeltaLimits,
    ) -> GossipDelta {
        let mut budget = Budget::new(limits);
        let mut delta = GossipDelta::default();
        for (member, from) in owners {
            let Some(state) = self.state.members.get(member) else {
                continue;
            };
            match Self::bounded_part(member, state, from, &mut budget) {
                Cut::Whole(part) => delta.owners.extend(part),
                Cut::Prefix(part) => {
                    delta.owners.push(part);
                    break;
                }
                Cut::Nothing => {}
            }
        }
        delta
    }

    /// The writes of `member` above `from` that fit `budget`, ascending by sequence
    /// number, as one part (see [`OwnerDelta`] for what it claims).
    fn bounded_part(
        member: &MemberId,
        state: &GossipMemberState,
        from: u64,
        budget: &mut Budget,
    ) -> Cut {
        let header = encoded_size::member_id(member)
            + encoded_size::varint(from)
            + encoded_size::varint(state.watermark)
            + 5;
        if budget.entries == 0 || budget.bytes <= header {
            return Cut::Nothing;
        }
        let mut part = OwnerDelta {
            member: member.clone(),
            from,
            to: from,
            entries: Vec::new(),
        };
        let mut bytes_left = budget.bytes - header;
        let mut all_sent = true;
        for (key, value) in state.entries_after(from) {
            let size = encoded_size::bytes(key.len())
                + encoded_size::varint(value.seq())
                + encoded_size::bytes(value.value().len());
            if budget.entries == 0 || size > bytes_left {
                all_sent = false;
                break;
            }
            budget.entries -= 1;
            bytes_left -= size;
            part.entries.push(DeltaEntry {
                key: String::from(key),
                seq: value.seq(),
                value: value.value().to_vec(),
            });
        }
        if all_sent {
            part.to = state.watermark.max(from);
        } else if part.entries.is_empty() {
            // Not even the first write fits what is left: send nothing of this owner, and
            // let the next owners use the room (a write too large for any message is
            // refused when it is set, so this one fits an emptier message).
            return Cut::Nothing;
        } else {
            let last_sent = part.entries.last().map_or(from, |e| e.seq);
            part.to = last_sent.min(state.watermark).max(from);
        }
        budget.bytes = bytes_left;
        if all_sent {
            let worth_sending = !part.entries.is_empty() || part.to > part.from;
            Cut::Whole(worth_sending.then_some(part))
        } else {
            Cut::Prefix(part)
        }
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
            // A part claims every write in `(from, to]`; the last of them is in the part
            // unless it was superseded by a later write of the same key, which is in it
            // too. A claim beyond what it carries is malformed and raises nothing: a
            // watermark raised too far would stop anti-entropy for that owner for good.
            let carried = part.entries.iter().map(|e| e.seq).max().unwrap_or(0);
            let plausible = part.from <= part.to && part.to <= part.from.max(carried);
            if plausible && part.from <= state.watermark {
                state.watermark = state.watermark.max(part.to);
            }
        }
        updates
    }

    /// Takes the heartbeats of a peer's digest (maximum wins) for the members held here;
    /// returns the members whose heartbeat rose. Members `accept` refuses are skipped. A
    /// member only named in a digest is not taken in: it becomes known with its writes
    /// (its delta), so ids made up in a digest cost nothing here.
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
            let Some(state) = self.state.members.get_mut(&entry.member) else {
                continue;
            };
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
        let mut budget = Budget::new(limits);
        for (member, state, from, _) in wanted {
            match Self::bounded_part(member, state, from, &mut budget) {
                Cut::Whole(part) => delta.owners.extend(part),
                Cut::Prefix(part) => {
                    delta.owners.push(part);
                    break;
                }
                Cut::Nothing if budget.entries == 0 => break,
                Cut::Nothing => {}
            }
        }
        delta
    }
}

/// What is left of a message's bounds while a delta is built.
#[derive(Debug, Clone, Copy)]
struct Budget {
    entries: usize,
    bytes: usize,
}

impl Budget {
    fn new(limits: DeltaLimits) -> Self {
        Self {
            entries: limits.max_entries,
            bytes: limits.max_bytes.saturating_sub(DELTA_OVERHEAD),
        }
    }
}

/// One owner's part of a delta, as far as the budget allowed.
#[derive(Debug)]
enum Cut {
    /// Every write above `from` (`None`: nothing worth sending).
    Whole(Option<OwnerDelta>),
    /// A prefix: the message is full.
    Prefix(OwnerDelta),
    /// Nothing fitted.
    Nothing,
}

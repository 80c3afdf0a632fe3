use alloc::string::String;
use alloc::vec::Vec;

use super::{GossipMemberState, GossipUpdate};
use crate::topology::MemberId;

/// A hash map keyed with FNV: deterministic from run to run, which the simulator needs.
pub(crate) type FnvMap<K, V> = hashbrown::HashMap<K, V, fnv::FnvBuildHasher>;

/// The gossip state one node holds: for every known member, its [`GossipMemberState`].
#[derive(Debug, Clone, Default)]
pub struct GossipState {
    pub(crate) members: FnvMap<MemberId, GossipMemberState>,
}

impl GossipState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state of `member`, if known.
    pub fn member(&self, member: &MemberId) -> Option<&GossipMemberState> {
        self.members.get(member)
    }

    /// The known members with their states, in no particular order.
    pub fn members(&self) -> impl Iterator<Item = (&MemberId, &GossipMemberState)> {
        self.members.iter()
    }

    /// The number of known members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether no member is known.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Merges a whole remote state into this one: per key the higher sequence number wins,
    /// heartbeats and watermarks take the maximum. Accepted entries are stamped `now`.
    ///
    /// The merge is commutative, associative and idempotent on the content (keys, values,
    /// sequence numbers, heartbeats, watermarks).
    pub fn merge(&mut self, other: &GossipState, now: u64) -> Vec<GossipUpdate> {
        let mut updates = Vec::new();
        for (member, remote) in &other.members {
            let local = self.members.entry(member.clone()).or_default();
            for (key, value) in remote.entries() {
                if local.offer(key, value.value(), value.seq(), now) {
                    updates.push(GossipUpdate {
                        member: member.clone(),
                        key: String::from(key),
                        seq: value.seq(),
                    });
                }
            }
            local.heartbeat = local.heartbeat.max(remote.heartbeat);
            local.watermark = local.watermark.max(remote.watermark);
        }
        updates
    }

    /// Whether both states hold the same members with the same content (timestamps aside).
    pub fn same_content(&self, other: &GossipState) -> bool {
        self.members.len() == other.members.len()
            && self.members.iter().all(|(member, state)| {
                other.members.get(member).is_some_and(|o| {
                    state.same_content(o)
                        && state.heartbeat == o.heartbeat
                        && state.watermark == o.watermark
                })
            })
    }
}

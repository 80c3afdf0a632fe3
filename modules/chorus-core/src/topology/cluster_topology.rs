use alloc::vec::Vec;
use core::hash::Hasher;

use serde::{Deserialize, Serialize};

use super::{Member, MemberId, TopologyDecodeError, TopologyError};

/// A view of the cluster: the members sorted by id, what changed since the previous view
/// (joined, left), the blocked members, and a content hash of the member ids.
///
/// The hash is FNV-1a 64 over the sorted member ids, so every node holding the same members
/// computes the same hash whatever order it learnt them in; nodes agree on it through a
/// consensus check. Joined, left and blocked do not enter the hash: they describe how a
/// node got to this view, not the view.
///
/// Deserializing checks what the constructors guarantee — members sorted without
/// duplicates, joined, left and blocked sorted, and the hash recomputed from the members —
/// and refuses anything else ([`TopologyDecodeError`]), so bytes from outside never yield
/// a topology whose lookups or hash disagree with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TopologyWire")]
pub struct ClusterTopology {
    members: Vec<Member>,
    joined: Vec<Member>,
    left: Vec<Member>,
    blocked: Vec<MemberId>,
    hash: u64,
}

impl ClusterTopology {
    /// A topology with `members` (sorted here) and no changes or blocked members.
    pub fn new(mut members: Vec<Member>) -> Self {
        members.sort_by(|a, b| a.id().cmp(b.id()));
        let hash = Self::hash_of(members.iter().map(Member::id));
        Self {
            members,
            joined: Vec::new(),
            left: Vec::new(),
            blocked: Vec::new(),
            hash,
        }
    }

    /// The empty topology: no members.
    pub fn empty() -> Self {
        Self::new(Vec::new())
    }

    /// The topology that follows `previous` when the members are `members`: joined and
    /// left are the difference between the two member lists.
    pub fn next(previous: &Self, members: Vec<Member>, blocked: Vec<MemberId>) -> Self {
        let topology = Self::new(members);
        let joined = topology
            .members
            .iter()
            .filter(|m| !previous.contains(m.id()))
            .cloned()
            .collect();
        let left = previous
            .members
            .iter()
            .filter(|m| !topology.contains(m.id()))
            .cloned()
            .collect();
        topology.with_changes(joined, left).with_blocked(blocked)
    }

    /// The same topology, reporting `joined` and `left` as the change that led to it.
    #[must_use]
    pub fn with_changes(mut self, mut joined: Vec<Member>, mut left: Vec<Member>) -> Self {
        joined.sort_by(|a, b| a.id().cmp(b.id()));
        left.sort_by(|a, b| a.id().cmp(b.id()));
        self.joined = joined;
        self.left = left;
        self
    }

    /// The same topology, reporting `blocked` as the blocked members.
    #[must_use]
    pub fn with_blocked(mut self, mut blocked: Vec<MemberId>) -> Self {
        blocked.sort();
        blocked.dedup();
        self.blocked = blocked;
        self
    }

    /// FNV-1a 64 over the ids sorted, whatever order they come in.
    pub fn hash_of<'a>(ids: impl IntoIterator<Item = &'a MemberId>) -> u64 {
        let mut sorted: Vec<&MemberId> = ids.into_iter().collect();
        sorted.sort();
        let mut hasher = fnv::FnvHasher::default();
        for id in sorted {
            id.write_stable(&mut hasher);
        }
        hasher.finish()
    }

    /// The members, sorted by id.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The members that joined since the previous view, sorted by id.
    pub fn joined(&self) -> &[Member] {
        &self.joined
    }

    /// The members that left since the previous view, sorted by id.
    pub fn left(&self) -> &[Member] {
        &self.left
    }

    /// The blocked members, sorted.
    pub fn blocked(&self) -> &[MemberId] {
        &self.blocked
    }

    /// The content hash of the member ids.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Whether `id` is a member.
    pub fn contains(&self, id: &MemberId) -> bool {
        self.member(id).is_some()
    }

    /// The member with `id`, if it is one.
    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.members
            .binary_search_by(|m| m.id().cmp(id))
            .ok()
            .and_then(|i| self.members.get(i))
    }

    /// Checks the rules every applied topology keeps: no duplicate members, joined ⊆
    /// members, left ∩ members = ∅, and no member among `blocked` nor among the
    /// topology's own blocked list.
    pub fn validate<'a>(
        &self,
        blocked: impl Fn(&MemberId) -> bool + 'a,
    ) -> Result<(), TopologyError> {
        for pair in self.members.windows(2) {
            if let [a, b] = pair
                && a.id() == b.id()
            {
                return Err(TopologyError::DuplicateMember(a.id().clone()));
            }
        }
        if let Some(m) = self.joined.iter().find(|m| !self.contains(m.id())) {
            return Err(TopologyError::JoinedNotMember(m.id().clone()));
        }
        if let Some(m) = self.left.iter().find(|m| self.contains(m.id())) {
            return Err(TopologyError::LeftStillMember(m.id().clone()));
        }
        if let Some(m) = self
            .members
            .iter()
            .find(|m| blocked(m.id()) || self.blocked.binary_search(m.id()).is_ok())
        {
            return Err(TopologyError::BlockedIsMember(m.id().clone()));
        }
        Ok(())
    }
}

/// The serialized fields of a [`ClusterTopology`], checked before they become one.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(super) struct TopologyWire {
    pub(super) members: Vec<Member>,
    pub(super) joined: Vec<Member>,
    pub(super) left: Vec<Member>,
    pub(super) blocked: Vec<MemberId>,
    pub(super) hash: u64,
}

impl TryFrom<TopologyWire> for ClusterTopology {
    type Error = TopologyDecodeError;

    fn try_from(wire: TopologyWire) -> Result<Self, Self::Error> {
        for pair in wire.members.windows(2) {
            if let [a, b] = pair {
                match a.id().cmp(b.id()) {
                    core::cmp::Ordering::Less => {}
                    core::cmp::Ordering::Equal => {
                        return Err(TopologyDecodeError::DuplicateMember(a.id().clone()));
                    }
                    core::cmp::Ordering::Greater => {
                        return Err(TopologyDecodeError::MembersNotSorted);
                    }
                }
            }
        }
        let sorted = |list: &[Member]| {
            list.windows(2)
                .all(|p| matches!(p, [a, b] if a.id() <= b.id()))
        };
        if !sorted(&wire.joined) || !sorted(&wire.left) {
            return Err(TopologyDecodeError::ChangesNotSorted);
        }
        if !wire
            .blocked
            .windows(2)
            .all(|p| matches!(p, [a, b] if a < b))
        {
            return Err(TopologyDecodeError::BlockedNotSorted);
        }
        let computed = Self::hash_of(wire.members.iter().map(Member::id));
        if computed != wire.hash {
            return Err(TopologyDecodeError::HashMismatch {
                stored: wire.hash,
                computed,
            });
        }
        Ok(Self {
            members: wire.members,
            joined: wire.joined,
            left: wire.left,
            blocked: wire.blocked,
            hash: computed,
        })
    }
}

impl Default for ClusterTopology {
    fn default() -> Self {
        Self::empty()
    }
}

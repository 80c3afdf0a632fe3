mod exchange;
mod leave;
mod round;
#[cfg(test)]
mod tests;
mod view;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::gossip_state::FnvMap;
use super::{
    GossipConfig, GossipConfigError, GossipKeyValue, GossipMetrics, GossipOutput, GossipStateStore,
    GossiperError, reserved_keys,
};
use crate::consensus::{ConsensusCheck, ConsensusChecks, ConsensusHandle};
use crate::membership::{FailureDetector, HeartbeatFailureDetector, MemberInfo};
use crate::topology::{ClusterTopology, Member, MemberId};

/// The name of the built-in consensus check on the topology hash.
pub const TOPOLOGY_CHECK: &str = "topology";

/// One node of the gossip protocol, as a sans-IO state machine.
///
/// The driver calls [`tick`](Self::tick) every gossip interval, hands every received
/// message to [`handle`](Self::handle), and after each call sends and publishes what
/// [`drain_outputs`](Self::drain_outputs) returns. Time is the `now` the driver passes (ms);
/// randomness (peer choice) comes from a generator seeded by the driver. Nothing here
/// touches a clock, a socket or a thread.
///
/// The node keeps the replicated state ([`GossipStateStore`]), bumps its heartbeat, runs
/// push-pull rounds with `fan_out` random live peers, pushes fresh changes at once, blocks
/// members whose heartbeat stopped or who left, derives the [`ClusterTopology`] and
/// evaluates consensus checks (one built in: every live member publishes the same topology
/// hash). The rules are in `docs/protocol.md`.
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent flags (derived state to refresh, announce due, leaving), not states of one machine"
)]
pub struct GossipNode {
    config: GossipConfig,
    member: Member,
    seeds: Vec<String>,
    store: GossipStateStore,
    detector: Box<dyn FailureDetector + Send>,
    rng: SmallRng,
    /// Blocked members: when and why.
    blocked: FnvMap<MemberId, Block>,
    topology: ClusterTopology,
    /// Live members other than this node.
    peers: Vec<Member>,
    /// Each topology member's position: what view digests refer to.
    view_positions: FnvMap<MemberId, u32>,
    /// The last few topologies' member lists by hash: a peer still on the previous view
    /// (views change at slightly different times on each node) can still be read.
    recent_views: alloc::collections::VecDeque<(u64, Vec<Member>)>,
    /// The highest incarnation seen of every member name: a newer one supersedes it.
    incarnations: FnvMap<alloc::sync::Arc<str>, u64>,
    /// A member was blocked: the topology is refreshed before the call returns.
    membership_dirty: bool,
    /// Members became known: the topology is refreshed once the refresh gap has passed
    /// since the last deferred refresh (see `refresh_gap`), so that a join storm costs a
    /// bounded number of O(N) rebuilds rather than one per message.
    membership_grown: bool,
    consensus: ConsensusChecks,
    topology_check: ConsensusHandle,
    consensus_dirty: bool,
    /// Remote values of a checked key changed: checks are evaluated with the deferred
    /// refresh.
    consensus_stale: bool,
    /// When the deferred work (`membership_grown`, `consensus_stale`) last ran.
    last_deferred_at: u64,
    pending: FnvMap<u64, Pending>,
    /// The requests of the last round.
    last_round: Vec<u64>,
    next_request_id: u64,
    last_heartbeat_at: Option<u64>,
    next_round_at: u64,
    digest_rotation: usize,
    /// This node's own state still has to be pushed to peers (after start or rejoin).
    announce: bool,
    leaving: bool,
    /// The leave under way: who still has to acknowledge it.
    leave_progress: Option<leave::LeaveProgress>,
    outputs: Vec<GossipOutput>,
    metrics: GossipMetrics,
}

/// Why and when a member was blocked.
#[derive(Debug, Clone, Copy)]
struct Block {
    at: u64,
    reason: BlockReason,
    /// The member's heartbeat when it was blocked: a higher one seen later proves it
    /// lived on after this node gave up on it.
    heartbeat: u64,
}

/// Why a member was blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockReason {
    /// Its heartbeat stopped rising.
    Expired,
    /// It wrote the left key.
    Left,
    /// A newer incarnation of the same name appeared.
    Superseded,
    /// It is this node's own identity before a rejoin.
    Rejoined,
}

/// A request waiting for its response.
#[derive(Debug, Clone)]
struct Pending {
    sent_at: u64,
    leave: bool,
}

impl GossipNode {
    /// A node for `member` that finds the cluster through `seeds` (addresses), with a
    /// random generator seeded by `rng_seed`. The first [`tick`](Self::tick) contacts the
    /// seeds.
    pub fn new(
        member: Member,
        seeds: Vec<String>,
        config: GossipConfig,
        rng_seed: u64,
        now: u64,
    ) -> Result<Self, GossipConfigError> {
        config.validate()?;
        let mut consensus = ConsensusChecks::new();
        let topology_check =
            consensus.register(ConsensusCheck::new(TOPOLOGY_CHECK, reserved_keys::TOPOLOGY));
        let mut node = Self {
            config,
            store: GossipStateStore::new(member.id().clone()),
            detector: Box::new(HeartbeatFailureDetector::new(
                config.heartbeat_expiration_ms,
            )),
            member,
            seeds,
            rng: SmallRng::seed_from_u64(rng_seed),
            blocked: FnvMap::default(),
            topology: ClusterTopology::empty(),
            peers: Vec::new(),
            view_positions: FnvMap::default(),
            recent_views: alloc::collections::VecDeque::new(),
            incarnations: FnvMap::default(),
            membership_dirty: true,
            membership_grown: false,
            consensus,
            topology_check,
            consensus_dirty: true,
            consensus_stale: false,
            last_deferred_at: now,
            pending: FnvMap::default(),
            last_round: Vec::new(),
            next_request_id: 1,
            last_heartbeat_at: None,
            next_round_at: now,
            digest_rotation: 0,
            announce: true,
            leaving: false,
            leave_progress: None,
            outputs: Vec::new(),
            metrics: GossipMetrics::default(),
        };
        node.write_member_info(now);
        node.settle(now);
        Ok(node)
    }

    /// Replaces the failure detector (the default gives up after the heartbeat expiration).
    #[must_use]
    pub fn with_failure_detector(mut self, detector: Box<dyn FailureDetector + Send>) -> Self {
        self.detector = detector;
        self
    }

    fn write_member_info(&mut self, now: u64) {
        let id = self.member.id();
        self.incarnations.insert(id.shared_name(), id.incarnation());
        let info = MemberInfo::of(&self.member).encode();
        if let Some(update) = self.store.set(reserved_keys::MEMBER, &info, now) {
            self.emit_update(&update);
        }
    }

    /// This node's member id.
    pub fn member_id(&self) -> &MemberId {
        self.member.id()
    }

    /// This node as a member (id, address, kinds).
    pub fn member(&self) -> &Member {
        &self.member
    }

    /// The configuration.
    pub fn config(&self) -> &GossipConfig {
        &self.config
    }

    /// The seed addresses.
    pub fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// Replaces the seed addresses: the driver hands over what the seed names it was
    /// given resolve to now (a DNS name can stand for several nodes, and for other ones
    /// later). The next rounds contact the new seeds; peers and membership stay as they are.
    pub fn set_seeds(&mut self, seeds: Vec<String>) {
        self.seeds = seeds;
    }

    /// The replicated state.
    pub fn store(&self) -> &GossipStateStore {
        &self.store
    }

    /// The current view of the cluster.
    pub fn topology(&self) -> &ClusterTopology {
        &self.topology
    }

    /// The live members other than this node, with their addresses.
    pub fn peers(&self) -> impl Iterator<Item = (&MemberId, &str)> {
        self.peers.iter().map(|m| (m.id(), m.address()))
    }

    /// Whether `member` is blocked here.
    pub fn is_blocked(&self, member: &MemberId) -> bool {
        self.blocked.contains_key(member)
    }

    /// The blocked members still remembered, sorted.
    pub fn blocked(&self) -> Vec<MemberId> {
        let mut blocked: Vec<MemberId> = self.blocked.keys().cloned().collect();
        blocked.sort();
        blocked
    }

    /// The counters.
    pub fn metrics(&self) -> GossipMetrics {
        self.metrics
    }

    /// When the driver should call [`tick`](Self::tick) next.
    pub fn next_round_at(&self) -> u64 {
        self.next_round_at
    }

    /// When the driver should call [`poll`](Self::poll) (or [`tick`](Self::tick), when
    /// that comes first): the time deferred work falls due — a topology refresh after
    /// members joined, consensus checks after remote values changed — or the next round.
    pub fn next_wake_at(&self) -> u64 {
        match self.deferred_due_at() {
            Some(due) => due.min(self.next_round_at),
            None => self.next_round_at,
        }
    }

    /// Does the deferred work that is due at `now` (see
    /// [`next_wake_at`](Self::next_wake_at)); nothing else. Calling it early or often is
    /// harmless.
    pub fn poll(&mut self, now: u64) {
        if self.leaving {
            return;
        }
        self.settle(now);
        self.announce_if_due(now);
    }

    /// How long a node lets joins and remote consensus values pile up before it rebuilds
    /// its topology and evaluates its checks: a rebuild costs O(N), so the gap grows with
    /// the cluster — a few ms for a handful of members (joins show at once), one gossip
    /// interval from 128 members on (then the rounds do it: one rebuild per round in a
    /// join storm).
    pub(super) fn refresh_gap(&self) -> u64 {
        let members = (self.topology.members().len() as u64).clamp(1, 128);
        (self.config.gossip_interval_ms.saturating_mul(members) / 128).max(1)
    }

    /// When deferred work falls due between rounds; `None` when there is none, or when the
    /// rounds do it.
    pub(super) fn deferred_due_at(&self) -> Option<u64> {
        let pending = self.membership_grown || self.consensus_stale;
        let gap = self.refresh_gap();
        (pending && gap < self.config.gossip_interval_ms)
            .then(|| self.last_deferred_at.saturating_add(gap))
    }

    /// Takes what the node asked for since the last call, in order.
    pub fn drain_outputs(&mut self) -> Vec<GossipOutput> {
        core::mem::take(&mut self.outputs)
    }

    /// The value of `key` owned by `member`.
    pub fn get(&self, member: &MemberId, key: &str) -> Option<&GossipKeyValue> {
        self.store.get(member, key)
    }

    /// Writes a local key and pushes the change to `push_fan_out` peers at once. Returns
    /// whether the value changed (writing the held value again does nothing).
    pub fn set(&mut self, key: &str, value: &[u8], now: u64) -> Result<bool, GossiperError> {
        self.check_writable(key)?;
        self.write(key, value, now)
    }

    /// Sets `map_key` in the map kept under the local `key` and pushes the change.
    pub fn map_set(
        &mut self,
        key: &str,
        map_key: &str,
        value: &[u8],
        now: u64,
    ) -> Result<bool, GossiperError> {
        self.check_writable(key)?;
        let bytes = self.store.map_value_with(key, map_key, value);
        self.write(key, &bytes, now)
    }

    /// Removes `map_key` from the map kept under the local `key` and pushes the change.
    pub fn map_remove(
        &mut self,
        key: &str,
        map_key: &str,
        now: u64,
    ) -> Result<bool, GossiperError> {
        self.check_writable(key)?;
        match self.store.map_value_without(key, map_key) {
            Some(bytes) => self.write(key, &bytes, now),
            None => Ok(false),
        }
    }

    /// Writes a reserved key on behalf of a chorus component (pub/sub writes its
    /// subscriptions this way) and pushes the change.
    pub fn set_reserved(
        &mut self,
        key: &str,
        value: &[u8],
        now: u64,
    ) -> Result<bool, GossiperError> {
        if self.leaving {
            return Err(GossiperError::Left);
        }
        self.write(key, value, now)
    }

    fn check_writable(&self, key: &str) -> Result<(), GossiperError> {
        if self.leaving {
            return Err(GossiperError::Left);
        }
        if reserved_keys::is_reserved(key) {
            return Err(GossiperError::ReservedKey { key: key.into() });
        }
        Ok(())
    }

    /// Writes `value` under the local `key` when it fits `max_write_bytes`, and spreads it.
    fn write(&mut self, key: &str, value: &[u8], now: u64) -> Result<bool, GossiperError> {
        let bytes = key.len() + value.len();
        if bytes > self.config.max_write_bytes {
            return Err(GossiperError::WriteTooLarge {
                key: key.into(),
                bytes,
                max: self.config.max_write_bytes,
            });
        }
        let before = self.store.seq();
        let changed = self.store.set(key, value, now);
        Ok(self.after_local_write(before, changed, now))
    }

    fn after_local_write(
        &mut self,
        before: u64,
        changed: Option<super::GossipUpdate>,
        now: u64,
    ) -> bool {
        let Some(update) = changed else {
            return false;
        };
        self.emit_update(&update);
        if self.consensus.watches(&update.key) {
            self.consensus_dirty = true;
        }
        self.push_own_change(before, now);
        self.settle(now);
        true
    }

    /// Registers a consensus check; it is evaluated at once and after every change.
    pub fn register_consensus(&mut self, check: ConsensusCheck, now: u64) -> ConsensusHandle {
        let handle = self.consensus.register(check);
        self.consensus_dirty = true;
        self.settle(now);
        handle
    }

    /// Removes a consensus check; returns whether it was registered.
    pub fn remove_consensus(&mut self, handle: ConsensusHandle) -> bool {
        handle != self.topology_check && self.consensus.remove(handle)
    }

    /// The value every live member agrees on for the check, if they do.
    pub fn consensus(&self, handle: ConsensusHandle) -> Option<&[u8]> {
        self.consensus.agreed(handle)
    }

    /// The handle of the built-in topology check.
    pub fn topology_check(&self) -> ConsensusHandle {
        self.topology_check
    }

    /// The topology hash every live member agrees on, if they do.
    pub fn topology_consensus(&self) -> Option<u64> {
        let bytes: [u8; 8] = self.consensus(self.topology_check)?.try_into().ok()?;
        Some(u64::from_le_bytes(bytes))
    }
}

impl fmt::Debug for GossipNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GossipNode")
            .field("member", self.member.id())
            .field("peers", &self.peers.len())
            .field("blocked", &self.blocked.len())
            .field("pending", &self.pending.len())
            .field("leaving", &self.leaving)
            .finish_non_exhaustive()
    }
}

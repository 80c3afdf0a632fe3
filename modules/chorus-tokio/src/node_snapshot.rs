use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chorus_core::gossip::GossipMetrics;
use chorus_core::pubsub::TopicMetrics;
use chorus_core::topology::MemberId;
use tokio::time::Instant;

/// What the node's loop last published about itself, shared with the readers that must
/// not wait for the loop (`Cluster::metrics`, the admin endpoint).
///
/// The loop writes it at every gossip round and after each command that changes pub/sub
/// (subscribe, unsubscribe, a new node, pub/sub started or stopped) — never per message,
/// so counters read from it are at most one gossip interval old.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeSnapshot {
    shared: Arc<Mutex<SnapshotData>>,
}

/// The content of a [`NodeSnapshot`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotData {
    /// The node's current member id; `None` until the provider attached a node.
    pub(crate) member: Option<MemberId>,
    pub(crate) gossip: GossipMetrics,
    /// The broker's counters of every topic with local activity, with the broadcast
    /// deliveries the loop dropped at full subscriber buffers (`dropped`).
    pub(crate) topics: BTreeMap<String, TopicMetrics>,
    /// Delivery batches waiting for their acknowledgement.
    pub(crate) pending_batches: usize,
    /// Received frames waiting for the loop.
    pub(crate) inbound_queue: usize,
    /// Commands of the application waiting for the loop.
    pub(crate) command_queue: usize,
    /// When the loop last saw each member of its topology give a sign of life.
    pub(crate) heard: HashMap<MemberId, Heard>,
}

/// The last sign of life of a member: its heartbeat counter, and when the loop saw it
/// rise (or first saw the member), at the granularity of the gossip rounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heard {
    pub(crate) heartbeat: u64,
    pub(crate) at: Instant,
}

impl NodeSnapshot {
    /// Changes the snapshot (the loop).
    pub(crate) fn update(&self, f: impl FnOnce(&mut SnapshotData)) {
        f(&mut self.shared.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Reads the snapshot; `f` runs under its lock, so it should copy and return.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&SnapshotData) -> R) -> R {
        f(&self.shared.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

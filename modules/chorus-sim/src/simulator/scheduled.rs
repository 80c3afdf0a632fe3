//! Events waiting in the simulator's queue.

use std::cmp::Ordering;

/// What happens at a virtual time.
#[derive(Debug)]
pub(super) enum Event {
    /// Node `node` runs a round (ignored if the node crashed or restarted since).
    Tick { node: usize, generation: u64 },
    /// Node `node`'s deferred work falls due (`GossipNode::poll`).
    Poll { node: usize, generation: u64 },
    /// A local group instance finished processing a message.
    Complete {
        node: usize,
        generation: u64,
        publisher: chorus_core::topology::MemberId,
        topic: String,
        group: String,
        subscriber: chorus_core::pubsub::SubscriberId,
        message_id: u64,
    },
    /// Encoded frame `bytes` from `from` reaches `to`.
    Deliver {
        from: usize,
        to: usize,
        bytes: Vec<u8>,
    },
}

/// An event with its time and the order it was scheduled in (ties run first-scheduled
/// first, which keeps runs deterministic).
#[derive(Debug)]
pub(super) struct Scheduled {
    pub(super) at: u64,
    pub(super) seq: u64,
    pub(super) event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

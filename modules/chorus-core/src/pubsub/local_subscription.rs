use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::SubscriberId;

/// A subscription as its member gossips it (under `chorus.subscriptions`): every node
/// derives the cluster-wide registry from these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSubscription {
    /// The topic.
    pub topic: String,
    /// The subscriber on this member.
    pub subscriber: SubscriberId,
    /// The load-balanced group it belongs to; `None` for a broadcast subscriber.
    pub group: Option<String>,
    /// How many group messages it may hold unfinished at once (groups only, ≥ 1).
    pub max_in_flight: u32,
}

impl LocalSubscription {
    /// The gossip value holding `subscriptions`.
    pub fn encode_all(subscriptions: &[LocalSubscription]) -> Vec<u8> {
        // Encoding plain data into memory cannot fail.
        postcard::to_allocvec(subscriptions).unwrap_or_default()
    }

    /// Reads a gossip value; `None` when it is not a valid list.
    pub fn decode_all(bytes: &[u8]) -> Option<Vec<LocalSubscription>> {
        postcard::from_bytes(bytes).ok()
    }
}

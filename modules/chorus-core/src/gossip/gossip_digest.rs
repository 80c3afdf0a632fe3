use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{DigestEntry, ViewDigest};

/// A summary of a node's state: one [`DigestEntry`] per member.
///
/// A digest is how a node acknowledges what it holds: a peer answers it with the entries
/// above each watermark. `complete` says whether every member the sender knows is listed;
/// when a digest had to be cut to fit a message, members it does not list are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipDigest {
    /// One entry per member described.
    pub entries: Vec<DigestEntry>,
    /// Whether every member the sender knows (and has not blocked) is listed.
    pub complete: bool,
    /// Members named by position in the sender's topology, when the cluster agrees on
    /// it; `entries` then holds only members outside that topology.
    pub view: Option<ViewDigest>,
}

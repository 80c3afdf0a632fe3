use serde::{Deserialize, Serialize};

use super::{GossipDelta, GossipDigest};
use crate::topology::MemberId;

/// Answers a [`GossipRequest`](super::GossipRequest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipResponse {
    /// The request's id.
    pub id: u64,
    /// The responder.
    pub from: MemberId,
    /// Where the responder is behind the requester (or knows fresher heartbeats).
    pub digest: GossipDigest,
    /// What the requester lacks.
    pub delta: GossipDelta,
}

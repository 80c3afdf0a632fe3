use serde::{Deserialize, Serialize};

use super::{GossipDelta, GossipDigest};
use crate::topology::MemberId;

/// Opens a push-pull round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipRequest {
    /// Matches the response to the request.
    pub id: u64,
    /// The requester.
    pub from: MemberId,
    /// What the requester holds.
    pub digest: GossipDigest,
    /// Entries sent along unasked (a leaving member sends its left key this way, so that
    /// the responses acknowledge it).
    pub delta: GossipDelta,
}

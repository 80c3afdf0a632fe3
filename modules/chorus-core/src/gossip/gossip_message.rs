use serde::{Deserialize, Serialize};

use super::{GossipPush, GossipRejected, GossipRequest, GossipResponse, GossipSuspect};

/// The messages of the gossip protocol (carried by `wire::Frame::Gossip`).
///
/// One round is a push-pull exchange: `Request` (the requester's digest) → `Response`
/// (what the requester lacks, and a digest of what the responder lacks) → `Push` (what the
/// responder lacks). Fresh changes travel as `Push` at once, outside rounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipMessage {
    /// Opens a round.
    Request(GossipRequest),
    /// Answers a request.
    Response(GossipResponse),
    /// Entries the receiver lacks; no answer expected.
    Push(GossipPush),
    /// The sender blocked the receiver and will not gossip with it.
    Rejected(GossipRejected),
    /// The sender's failure detector gave up on some members.
    Suspect(GossipSuspect),
}

impl GossipMessage {
    /// The member the message says it comes from (its `from` field).
    pub fn sender(&self) -> &crate::topology::MemberId {
        match self {
            Self::Request(m) => &m.from,
            Self::Response(m) => &m.from,
            Self::Push(m) => &m.from,
            Self::Rejected(m) => &m.from,
            Self::Suspect(m) => &m.from,
        }
    }
}

use core::fmt;

/// Why a node refused a pub/sub frame from a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FrameRefusal {
    /// The sender is no member this node has heard of through gossip.
    NotAMember,
    /// A payload is larger than this node's `max_payload_bytes`.
    PayloadTooLarge,
}

impl fmt::Display for FrameRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAMember => "the sender is not a member this node knows",
            Self::PayloadTooLarge => "a payload is over this node's max_payload_bytes",
        })
    }
}

use serde::{Deserialize, Serialize};

use crate::topology::MemberId;

/// What a node knows of one member, as it tells a peer: the member's heartbeat and the
/// watermark up to which it holds every write of that member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestEntry {
    /// The member described.
    pub member: MemberId,
    /// The highest heartbeat of that member the sender has seen.
    pub heartbeat: u64,
    /// The sender holds every write of that member up to this sequence number.
    pub watermark: u64,
}

use serde::{Deserialize, Serialize};

use crate::topology::MemberId;

/// Tells a blocked member that it is blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipRejected {
    /// The member that refused.
    pub from: MemberId,
    /// The blocked member.
    pub blocked: MemberId,
    /// How many live members the refusing node sees (itself included), so that the blocked
    /// side can tell whether it is the smaller one.
    pub members: u32,
}

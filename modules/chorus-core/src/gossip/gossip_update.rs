use alloc::string::String;

use crate::topology::MemberId;

/// A key of a member's state that changed here: a local write or an accepted remote entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GossipUpdate {
    /// The member that owns the key.
    pub member: MemberId,
    /// The key.
    pub key: String,
    /// The owner's sequence number of the new value.
    pub seq: u64,
}

use serde::{Deserialize, Serialize};

use super::GossipDelta;
use crate::topology::MemberId;

/// Entries sent without a round: a fresh change, or the last leg of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipPush {
    /// The sender.
    pub from: MemberId,
    /// The entries.
    pub delta: GossipDelta,
    /// How many more times receivers relay the entries that are new to them (0 for the
    /// last leg of a round, which is never relayed).
    pub relays: u8,
}

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::topology::MemberId;

/// The sender's failure detector gave up on `members`. A receiver that has itself not
/// heard from one of them for half the heartbeat expiration blocks it too
/// and relays the news; otherwise it ignores it — one node's stale view alone never makes
/// others block a member they hear from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipSuspect {
    /// The sender.
    pub from: MemberId,
    /// The members it blocked for silence.
    pub members: Vec<MemberId>,
    /// How many more times receivers that agree relay it.
    pub relays: u8,
}

use alloc::vec::Vec;

use crate::topology::MemberId;

/// Decides when a member is gone. It sees liveness news and is asked which members it
/// gives up on; the gossip node blocks those. Kept small so that the rule can change (for
/// example to SWIM-style probing) without touching the state store.
pub trait FailureDetector {
    /// `member` showed it is alive at `now` (its heartbeat rose, or it was first seen).
    fn alive(&mut self, member: &MemberId, now: u64);
    /// The members given up on at `now`.
    fn expired(&self, now: u64) -> Vec<MemberId>;
    /// Stops watching `member` (it was blocked or forgotten).
    fn forget(&mut self, member: &MemberId);
    /// How long `member` has been silent at `now`, if watched.
    fn silent_for(&self, member: &MemberId, now: u64) -> Option<u64>;
    /// Whether `member` is watched.
    fn is_watched(&self, member: &MemberId) -> bool;
    /// Stops watching every member (the node rejoined under a new identity).
    fn reset(&mut self);
}

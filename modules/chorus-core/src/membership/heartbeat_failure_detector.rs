use alloc::vec::Vec;

use super::FailureDetector;
use crate::topology::MemberId;

type FnvMap<K, V> = hashbrown::HashMap<K, V, fnv::FnvBuildHasher>;

/// Gives up on a member whose heartbeat has not risen for `expiration_ms`.
///
/// Every member increments its heartbeat each heartbeat interval and the counter spreads
/// with every digest, so a live member's heartbeat keeps rising everywhere; a crashed
/// member's stops. Detection time is about the expiration plus the time the last heartbeat
/// took to spread.
#[derive(Debug, Clone)]
pub struct HeartbeatFailureDetector {
    expiration_ms: u64,
    last_alive: FnvMap<MemberId, u64>,
}

impl HeartbeatFailureDetector {
    /// A detector that gives up after `expiration_ms` without news.
    pub fn new(expiration_ms: u64) -> Self {
        Self {
            expiration_ms,
            last_alive: FnvMap::default(),
        }
    }

    /// When `member` last showed it is alive, if watched.
    pub fn last_alive(&self, member: &MemberId) -> Option<u64> {
        self.last_alive.get(member).copied()
    }
}

impl FailureDetector for HeartbeatFailureDetector {
    fn alive(&mut self, member: &MemberId, now: u64) {
        let last = self.last_alive.entry(member.clone()).or_insert(now);
        *last = (*last).max(now);
    }

    fn expired(&self, now: u64) -> Vec<MemberId> {
        let mut expired: Vec<MemberId> = self
            .last_alive
            .iter()
            .filter(|(_, last)| now.saturating_sub(**last) >= self.expiration_ms)
            .map(|(m, _)| m.clone())
            .collect();
        expired.sort();
        expired
    }

    fn forget(&mut self, member: &MemberId) {
        self.last_alive.remove(member);
    }

    fn silent_for(&self, member: &MemberId, now: u64) -> Option<u64> {
        self.last_alive
            .get(member)
            .map(|last| now.saturating_sub(*last))
    }

    fn is_watched(&self, member: &MemberId) -> bool {
        self.last_alive.contains_key(member)
    }

    fn reset(&mut self) {
        self.last_alive.clear();
    }
}

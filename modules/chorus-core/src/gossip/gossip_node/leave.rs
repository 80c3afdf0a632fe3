//! Leaving gracefully: the left key, sent to every live peer until each acknowledged it.

#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::vec::Vec;

use super::GossipNode;
use crate::gossip::{GossipDelta, GossipMessage, GossiperError, reserved_keys};
use crate::topology::MemberId;

/// A leave under way: what to send, and to whom.
#[derive(Debug, Clone)]
pub(super) struct LeaveProgress {
    /// The delta carrying the left key.
    delta: GossipDelta,
    /// The live peers when the leave began.
    targets: Vec<LeaveTarget>,
}

/// A peer told of the leave.
#[derive(Debug, Clone)]
struct LeaveTarget {
    member: MemberId,
    address: String,
    /// Every leave request sent to it: an answer to any of them, even a late one,
    /// acknowledges.
    requests: Vec<u64>,
    acknowledged: bool,
}

impl GossipNode {
    /// Whether [`leave`](Self::leave) was called.
    pub fn has_left(&self) -> bool {
        self.leaving
    }

    /// Whether every peer told of the leave acknowledged it: it answered one of the
    /// leave requests, or refused one because it blocked this node already. A request
    /// that timed out is no acknowledgement: the next [`tick`](Self::tick) sends it
    /// again, so this stays false while a peer is unreachable — the driver bounds the
    /// wait and reports [`leave_unacknowledged`](Self::leave_unacknowledged).
    pub fn leave_acknowledged(&self) -> bool {
        self.leaving
            && self
                .leave_progress
                .as_ref()
                .is_none_or(|progress| progress.targets.iter().all(|t| t.acknowledged))
    }

    /// The peers told of the leave that have not acknowledged it, sorted.
    pub fn leave_unacknowledged(&self) -> Vec<MemberId> {
        let mut members: Vec<MemberId> = self
            .leave_progress
            .iter()
            .flat_map(|progress| progress.targets.iter())
            .filter(|t| !t.acknowledged)
            .map(|t| t.member.clone())
            .collect();
        members.sort();
        members
    }

    /// Leaves the cluster gracefully: writes the left key and sends it, as a request that
    /// each peer answers, to every live peer; peers block this node as soon as they have
    /// it. The node stops gossiping. Each round, the leave is sent again to every peer
    /// whose request timed out; [`leave_acknowledged`](Self::leave_acknowledged) tells
    /// when every peer acknowledged.
    pub fn leave(&mut self, now: u64) -> Result<(), GossiperError> {
        if self.leaving {
            return Err(GossiperError::Left);
        }
        let before = self.store.seq();
        if let Some(update) = self.store.set(reserved_keys::LEFT, &[1], now) {
            self.emit_update(&update);
        }
        let delta = self.own_delta_since(before);
        let peers = self.peers.clone();
        #[cfg(feature = "tracing")]
        tracing::info!(peers = peers.len(), "leaving: telling every live peer");
        let mut targets = Vec::with_capacity(peers.len());
        for peer in peers {
            let address = String::from(peer.address());
            let request = self.send_request(address.clone(), delta.clone(), true, false, now);
            targets.push(LeaveTarget {
                member: peer.id().clone(),
                address,
                requests: alloc::vec![request],
                acknowledged: false,
            });
        }
        self.leave_progress = Some(LeaveProgress { delta, targets });
        self.leaving = true;
        Ok(())
    }

    /// At each round while leaving: the leave again to every peer that has not
    /// acknowledged it and has no leave request pending (the last one timed out).
    pub(super) fn retry_leave(&mut self, now: u64) {
        let Some(mut progress) = self.leave_progress.take() else {
            return;
        };
        for target in &mut progress.targets {
            let pending = &self.pending;
            let waiting = target
                .requests
                .iter()
                .any(|id| pending.get(id).is_some_and(|p| p.leave));
            if target.acknowledged || waiting {
                continue;
            }
            #[cfg(feature = "tracing")]
            tracing::debug!(
                member = %target.member,
                address = %target.address,
                attempts = target.requests.len(),
                "leave request timed out: sending it again"
            );
            let id = self.send_request(
                target.address.clone(),
                progress.delta.clone(),
                true,
                false,
                now,
            );
            target.requests.push(id);
        }
        self.leave_progress = Some(progress);
    }

    /// A message received while leaving. A response to a leave request acknowledges it;
    /// so does a refusal (`Rejected`) from a peer that blocked this node already — it had
    /// an earlier request, whose answer was lost. Anything else is ignored.
    pub(super) fn on_leave_answer(&mut self, from: &str, message: &GossipMessage) {
        let Some(progress) = self.leave_progress.as_mut() else {
            return;
        };
        match message {
            GossipMessage::Response(response) => {
                if self.pending.remove(&response.id).is_some() {
                    self.metrics.responses_received += 1;
                }
                for target in &mut progress.targets {
                    if target.requests.contains(&response.id) {
                        target.acknowledged = true;
                    }
                }
            }
            GossipMessage::Rejected(rejected) if rejected.blocked == *self.member.id() => {
                self.metrics.rejections_received += 1;
                for target in &mut progress.targets {
                    if target.member == rejected.from || target.address == from {
                        target.acknowledged = true;
                    }
                }
            }
            _ => {}
        }
    }
}

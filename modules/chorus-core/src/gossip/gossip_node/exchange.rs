//! Handling received messages: requests, responses, pushes and rejections.

use alloc::string::String;
use alloc::vec::Vec;

use super::{BlockReason, GossipNode};
use crate::cluster::ClusterEvent;
use crate::gossip::{
    GossipDelta, GossipDigest, GossipMessage, GossipOutput, GossipPush, GossipRejected,
    GossipRequest, GossipResponse, GossipSuspect, GossipUpdate, reserved_keys,
};
use crate::topology::MemberId;

impl GossipNode {
    /// Handles a message received from the node listening at `from` at `now`.
    pub fn handle(&mut self, from: &str, message: GossipMessage, now: u64) {
        if self.leaving {
            // A leaving node only collects the answers to its leave.
            self.on_leave_answer(from, &message);
            return;
        }
        match message {
            GossipMessage::Request(request) => self.on_request(from, &request, now),
            GossipMessage::Response(response) => self.on_response(from, &response, now),
            GossipMessage::Push(push) => self.on_push(&push, now),
            GossipMessage::Rejected(rejected) => self.on_rejected(from, &rejected, now),
            GossipMessage::Suspect(suspect) => self.on_suspect(&suspect, now),
        }
        self.settle(now);
        self.announce_if_due(now);
    }

    fn on_request(&mut self, from: &str, request: &GossipRequest, now: u64) {
        self.metrics.requests_received += 1;
        if request.from == *self.member.id() {
            return;
        }
        if self.blocked.contains_key(&request.from) {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                member = %request.from,
                %from,
                "request of a blocked member refused"
            );
            self.reject(from, &request.from);
            // A blocked requester that sees a larger cluster than ours, without us in it,
            // is on the larger side of a healed partition: we are the ones to rejoin.
            let larger = request.digest.complete
                && request.digest.entries.len() > self.topology.members().len()
                && !request
                    .digest
                    .entries
                    .iter()
                    .any(|e| e.member == *self.member.id());
            if larger && self.config.rejoin_when_blocked {
                #[cfg(feature = "tracing")]
                tracing::info!(
                    member = %request.from,
                    %from,
                    their_members = request.digest.entries.len(),
                    our_members = self.topology.members().len(),
                    "a member we blocked sees a larger cluster without us: this side rejoins"
                );
                self.rejoin(Some(String::from(from)), now);
            }
            return;
        }
        let Some(digest) = self.expand(&request.digest) else {
            #[cfg(feature = "tracing")]
            tracing::trace!(
                member = %request.from,
                "request in view form of a topology not held here: answering with a full digest"
            );
            // The digest names members of a topology we do not hold (views differ for a
            // moment during changes): take what the request carries and answer with our
            // full digest, so that the last leg brings what we lack.
            let updates = self.merge(&request.delta, now);
            self.relay_joins(&updates, &request.from, now);
            let blocked = &self.blocked;
            let ours = self
                .store
                .digest(self.config.max_bytes_per_message / 4, 0, |m| {
                    !blocked.contains_key(m)
                });
            let reply = GossipDigest {
                complete: false,
                ..ours
            };
            self.respond(from, request.id, reply, GossipDelta::default());
            return;
        };
        if self.rejoin_on_evidence(from, &digest, now) {
            return;
        }
        self.observe(&digest, now);
        let updates = self.merge(&request.delta, now);
        self.relay_joins(&updates, &request.from, now);
        if self.blocked.contains_key(&request.from) {
            // The request told us the requester left: answer to acknowledge, nothing more.
            self.respond(
                from,
                request.id,
                GossipDigest::default(),
                GossipDelta::default(),
            );
            return;
        }
        let blocked = &self.blocked;
        let reply = self
            .store
            .digest_reply(&digest, self.config.max_bytes_per_message / 4, |m| {
                !blocked.contains_key(m)
            });
        // A requester that spoke in view form of our current topology: answer in view form.
        let same_view = request
            .digest
            .view
            .as_ref()
            .is_some_and(|v| v.hash == self.topology.hash());
        let reply = if same_view {
            self.compact_reply(reply)
        } else {
            reply
        };
        let limits = crate::gossip::DeltaLimits {
            max_entries: self.config.max_entries_per_message,
            max_bytes: self.delta_budget(&reply),
        };
        let blocked = &self.blocked;
        let delta = self
            .store
            .delta_for(&digest, limits, |m| !blocked.contains_key(m));
        self.respond(from, request.id, reply, delta);
    }

    fn respond(&mut self, to: &str, id: u64, digest: GossipDigest, delta: GossipDelta) {
        self.outputs.push(GossipOutput::Send {
            to: String::from(to),
            message: GossipMessage::Response(GossipResponse {
                id,
                from: self.member.id().clone(),
                digest,
                delta,
            }),
        });
    }

    fn reject(&mut self, to: &str, blocked: &MemberId) {
        self.metrics.rejections_sent += 1;
        self.outputs.push(GossipOutput::Send {
            to: String::from(to),
            message: GossipMessage::Rejected(GossipRejected {
                from: self.member.id().clone(),
                blocked: blocked.clone(),
                members: self.topology.members().len() as u32,
            }),
        });
    }

    fn on_response(&mut self, from: &str, response: &GossipResponse, now: u64) {
        match self.pending.remove(&response.id) {
            Some(_) => self.metrics.responses_received += 1,
            None => self.metrics.late_responses += 1,
        }
        if self.blocked.contains_key(&response.from) {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                member = %response.from,
                %from,
                "response of a blocked member ignored"
            );
            return;
        }
        // A reply in view form against a topology we no longer hold is skipped: its
        // delta still counts, and the next round catches up.
        let expanded = self.expand(&response.digest);
        #[cfg(feature = "tracing")]
        if expanded.is_none() {
            tracing::trace!(
                member = %response.from,
                "response in view form of a topology not held here: its digest is skipped"
            );
        }
        let digest = expanded.unwrap_or_default();
        if self.rejoin_on_evidence(from, &digest, now) {
            return;
        }
        self.observe(&digest, now);
        let updates = self.merge(&response.delta, now);
        self.relay_joins(&updates, &response.from, now);
        // Last leg: what the responder said it lacks, never relayed further.
        let blocked = &self.blocked;
        let delta = self
            .store
            .delta_for(&digest, self.config.limits(), |m| !blocked.contains_key(m));
        if !delta.is_empty() {
            self.send_push(alloc::vec![String::from(from)], &delta, 0);
        }
    }

    fn on_push(&mut self, push: &GossipPush, now: u64) {
        self.metrics.pushes_received += 1;
        if self.blocked.contains_key(&push.from) || push.from == *self.member.id() {
            return;
        }
        let updates = self.merge(&push.delta, now);
        if push.relays == 0 {
            // The last leg of a round: not a rumor, but the members it introduces are.
            self.relay_joins(&updates, &push.from, now);
            return;
        }
        if updates.is_empty() {
            return;
        }
        // Relay the parts that were news here; where they are news nowhere, relays stop.
        let fresh: Vec<_> = push
            .delta
            .owners
            .iter()
            .filter(|part| updates.iter().any(|u| u.member == part.member))
            .filter(|part| !self.blocked.contains_key(&part.member))
            .cloned()
            .collect();
        if fresh.is_empty() {
            return;
        }
        let delta = GossipDelta { owners: fresh };
        let sender = push.from.clone();
        let targets = self.choose_peers(self.config.push_fan_out, |id| {
            *id == sender || delta.owners.iter().any(|p| p.member == *id)
        });
        self.send_push(targets, &delta, push.relays - 1);
    }

    fn on_suspect(&mut self, suspect: &GossipSuspect, now: u64) {
        if self.blocked.contains_key(&suspect.from) || suspect.from == *self.member.id() {
            return;
        }
        self.metrics.suspicions_received += 1;
        let threshold = self.config.heartbeat_expiration_ms / 2;
        let confirmed: Vec<MemberId> = suspect
            .members
            .iter()
            .filter(|m| !self.blocked.contains_key(*m) && **m != *self.member.id())
            .filter(|m| {
                self.detector
                    .silent_for(m, now)
                    .is_some_and(|s| s >= threshold)
            })
            .cloned()
            .collect();
        #[cfg(feature = "tracing")]
        if !confirmed.is_empty() {
            tracing::debug!(
                peer = %suspect.from,
                confirmed = confirmed.len(),
                "a peer's suspicion confirmed here"
            );
        }
        self.metrics.suspicions_confirmed += confirmed.len() as u64;
        for member in &confirmed {
            self.block(member, BlockReason::Expired, now);
        }
        if suspect.relays > 0 && !confirmed.is_empty() {
            let sender = suspect.from.clone();
            let targets = self.choose_peers(self.config.push_fan_out, |id| *id == sender);
            self.send_suspect(targets, &confirmed, suspect.relays - 1);
        }
    }

    fn on_rejected(&mut self, from: &str, rejected: &GossipRejected, now: u64) {
        self.metrics.rejections_received += 1;
        if rejected.blocked != *self.member.id() {
            return;
        }
        #[cfg(feature = "tracing")]
        tracing::warn!(
            peer = %rejected.from,
            %from,
            peer_members = rejected.members,
            rejoin_when_blocked = self.config.rejoin_when_blocked,
            "blocked by a peer: it refused this node's gossip"
        );
        self.emit(ClusterEvent::BlockedByPeer {
            peer: rejected.from.clone(),
            peer_members: rejected.members,
        });
        if !self.config.rejoin_when_blocked {
            return;
        }
        // Refused by a member we consider alive: to our own cluster we are gone. Refused
        // by one we blocked too: a partition healed, and the smaller side rejoins.
        let mutual = self.blocked.contains_key(&rejected.from);
        if !mutual || rejected.members as usize >= self.topology.members().len() {
            self.rejoin(Some(String::from(from)), now);
        }
    }

    /// A peer we did not block reports, among the members we blocked for silence, at
    /// least as many with a newer heartbeat as our whole view holds: they lived on, so it
    /// was us who were cut off. Rejoin through that peer.
    fn rejoin_on_evidence(&mut self, from: &str, digest: &GossipDigest, now: u64) -> bool {
        if !self.config.rejoin_when_blocked {
            return false;
        }
        // Only fresh news counts: during a partition, a peer that has not yet given up on
        // the other side still names it, but with the same stale heartbeats.
        let silenced = digest
            .entries
            .iter()
            .filter(|e| self.lived_on_after_block(&e.member, e.heartbeat))
            .count();
        if silenced > 0 && silenced >= self.topology.members().len() {
            #[cfg(feature = "tracing")]
            tracing::info!(
                %from,
                lived_on = silenced,
                our_members = self.topology.members().len(),
                "members blocked here for silence lived on: this node was cut off and rejoins"
            );
            self.rejoin(Some(String::from(from)), now);
            return true;
        }
        false
    }

    /// Members that became known here through a round (not through a relayed push) are
    /// news everywhere: spread what we hold of each (to every peer in a small cluster, as a
    /// rumor in a large one), so a join spreads in message delays instead of rounds. A
    /// node passes a join on only when it is news to it.
    fn relay_joins(&mut self, updates: &[GossipUpdate], sender: &MemberId, now: u64) {
        let joined: Vec<MemberId> = updates
            .iter()
            .filter(|u| u.key == reserved_keys::MEMBER && !self.blocked.contains_key(&u.member))
            .map(|u| u.member.clone())
            .collect();
        if joined.is_empty() {
            return;
        }
        let delta = self
            .store
            .parts_since(joined.iter().map(|m| (m, 0)), self.config.limits());
        let sender = sender.clone();
        self.spread(&delta, |id| *id == sender || joined.contains(id), now);
    }

    /// Takes the heartbeats of a digest; members whose heartbeat rose are alive.
    fn observe(&mut self, digest: &GossipDigest, now: u64) {
        let blocked = &self.blocked;
        let advanced = self
            .store
            .observe_digest(digest, |m| !blocked.contains_key(m));
        for member in advanced {
            self.detector.alive(&member, now);
        }
    }

    /// Merges a delta and reacts to what it brought: new members, leaves, consensus.
    fn merge(&mut self, delta: &GossipDelta, now: u64) -> Vec<GossipUpdate> {
        let blocked = &self.blocked;
        let updates = self
            .store
            .merge_delta(delta, now, |m| !blocked.contains_key(m));
        for update in &updates {
            self.metrics.entries_accepted += 1;
            self.emit_update(update);
            match update.key.as_str() {
                reserved_keys::MEMBER => {
                    // A node that knows no peer yet needs its first view at once (to
                    // announce itself); later additions wait for the round.
                    if self.peers.is_empty() {
                        self.membership_dirty = true;
                    } else {
                        self.membership_grown = true;
                    }
                    self.detector.alive(&update.member, now);
                    self.supersede_older_incarnations(&update.member, now);
                }
                reserved_keys::LEFT => self.block(&update.member, BlockReason::Left, now),
                key if self.consensus.watches(key) => self.consensus_stale = true,
                _ => {}
            }
        }
        updates
    }
}

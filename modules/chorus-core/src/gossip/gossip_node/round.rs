//! The periodic round: heartbeat, timeouts, failure detection, and push-pull requests.

use alloc::string::String;
use alloc::vec::Vec;

use rand::Rng;
use rand::seq::IndexedRandom;

use super::{GossipNode, Pending};
use crate::gossip::{
    GossipDelta, GossipMessage, GossipOutput, GossipPush, GossipRequest, GossipStateStore,
};
use crate::topology::{Member, MemberId};

impl GossipNode {
    /// Runs one round at `now`: bumps the heartbeat when due, times out requests, blocks
    /// members whose heartbeat expired, and opens a push-pull exchange with `fan_out`
    /// random live peers (or with seeds while no peer is known). Every
    /// `seed_probe_rounds` rounds it also contacts one seed that is not a live member.
    pub fn tick(&mut self, now: u64) {
        self.expire_pending(now);
        if self.leaving {
            self.retry_leave(now);
            return;
        }
        self.metrics.rounds += 1;
        let heartbeat_due = self
            .last_heartbeat_at
            .is_none_or(|at| now.saturating_sub(at) >= self.config.heartbeat_interval_ms);
        if heartbeat_due {
            self.store.bump_heartbeat();
            self.last_heartbeat_at = Some(now);
        }
        self.detect_failures(now);
        self.forget_old_blocks(now);
        // A round does whatever was deferred, due or not.
        self.take_deferred(now);
        self.settle(now);
        self.announce_if_due(now);

        // A request of the last round still unanswered a whole round later was most
        // likely lost, or went to a peer that is gone: contact one more peer this round
        // for each (up to two more), so that news keeps flowing under loss and while a
        // partition is not yet detected. A healthy cluster pays nothing for this.
        let pending = &self.pending;
        let unanswered = self
            .last_round
            .iter()
            .filter(|id| pending.contains_key(*id))
            .count();
        let count = self.config.fan_out + unanswered.min(2);
        let to_peers = !self.peers.is_empty();
        let targets = if to_peers {
            self.choose_peers(count, |_| false)
        } else {
            self.choose_seeds(self.config.fan_out)
        };
        self.last_round.clear();
        for target in targets {
            let id = self.send_request(target, GossipDelta::default(), false, to_peers, now);
            self.last_round.push(id);
        }
        let probe_due = self.config.seed_probe_rounds > 0
            && !self.peers.is_empty()
            && self.metrics.rounds % u64::from(self.config.seed_probe_rounds) == 0;
        if probe_due && let Some(seed) = self.choose_seeds(1).pop() {
            // A probe may reach the other side of a healed partition: a full digest lets
            // it tell which side is larger.
            let _ = self.send_request(seed, GossipDelta::default(), false, false, now);
        }
        self.next_round_at = now.saturating_add(self.config.gossip_interval_ms);
    }

    fn expire_pending(&mut self, now: u64) {
        let timeout = self.config.request_timeout_ms;
        let before = self.pending.len();
        self.pending
            .retain(|_, p| now.saturating_sub(p.sent_at) < timeout);
        self.metrics.request_timeouts += (before - self.pending.len()) as u64;
    }

    fn detect_failures(&mut self, now: u64) {
        let me = self.member.id().clone();
        for member in self.store.state().members.keys() {
            if *member != me && !self.detector.is_watched(member) {
                self.detector.alive(member, now);
            }
        }
        let expired = self.detector.expired(now);
        if expired.is_empty() {
            return;
        }
        for member in &expired {
            self.block(member, super::BlockReason::Expired, now);
        }
        // Tell a few peers: those that agree block at once, so the last survivor does not
        // wait for the crashed member's final heartbeat to reach it.
        let (targets, relays) = if self.peers.len() <= self.config.broadcast_max_peers {
            let all = self
                .peers
                .iter()
                .map(|m| String::from(m.address()))
                .collect();
            (all, 0)
        } else {
            let some = self.choose_peers(self.config.push_fan_out, |_| false);
            (some, self.relay_budget())
        };
        self.send_suspect(targets, &expired, relays);
    }

    /// Up to `count` random live peers for which `skip` is false, as addresses.
    pub(super) fn choose_peers(
        &mut self,
        count: usize,
        skip: impl Fn(&MemberId) -> bool,
    ) -> Vec<String> {
        let peers = self.peers.len();
        if count == 0 || peers == 0 {
            return Vec::new();
        }
        // Against many peers, draw and reject: a choice then costs a few draws, not a
        // pass over every peer (with `skip` evaluated on each), which made every relayed
        // push O(members × owners) in large clusters. Distinct draws kept until `count`
        // are a uniform choice among the eligible peers.
        if peers > count.saturating_mul(4) {
            let mut chosen: Vec<&Member> = Vec::with_capacity(count);
            // Here `count` is below a quarter of `peers`: the bound cannot overflow.
            for _ in 0..count * 8 {
                let Some(peer) = self.peers.get(self.rng.random_range(0..peers)) else {
                    continue;
                };
                if !chosen.iter().any(|c| core::ptr::eq(*c, peer)) && !skip(peer.id()) {
                    chosen.push(peer);
                    if chosen.len() == count {
                        return chosen
                            .into_iter()
                            .map(|m| String::from(m.address()))
                            .collect();
                    }
                }
            }
            // Most peers are skipped: fall back to the full pass below.
        }
        let eligible: Vec<&Member> = self.peers.iter().filter(|m| !skip(m.id())).collect();
        eligible
            .choose_multiple(&mut self.rng, count)
            .map(|m| String::from(m.address()))
            .collect()
    }

    /// Up to `count` random seeds that are neither this node nor a live peer.
    fn choose_seeds(&mut self, count: usize) -> Vec<String> {
        let own = self.member.address();
        let eligible: Vec<&String> = self
            .seeds
            .iter()
            .filter(|s| s.as_str() != own && !self.peers.iter().any(|m| m.address() == s.as_str()))
            .collect();
        eligible
            .choose_multiple(&mut self.rng, count)
            .map(|s| (*s).clone())
            .collect()
    }

    /// Opens an exchange with `to`, carrying our digest and `delta`. With `view`, the
    /// digest names members by position when the cluster agrees on its topology.
    pub(super) fn send_request(
        &mut self,
        to: String,
        delta: GossipDelta,
        leave: bool,
        view: bool,
        now: u64,
    ) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        let view_digest = if view { self.view_digest() } else { None };
        let digest = view_digest.unwrap_or_else(|| {
            self.digest_rotation = self.digest_rotation.wrapping_add(1 + self.peers.len() / 2);
            let blocked = &self.blocked;
            self.store.digest(
                self.config.max_bytes_per_message.saturating_sub(256),
                self.digest_rotation,
                |m| !blocked.contains_key(m),
            )
        });
        self.pending.insert(
            id,
            Pending {
                sent_at: now,
                leave,
            },
        );
        self.metrics.requests_sent += 1;
        self.outputs.push(GossipOutput::Send {
            to,
            message: GossipMessage::Request(GossipRequest {
                id,
                from: self.member.id().clone(),
                digest,
                delta,
            }),
        });
        id
    }

    /// Tells `targets` that this node gave up on `members`.
    pub(super) fn send_suspect(&mut self, targets: Vec<String>, members: &[MemberId], relays: u8) {
        for to in targets {
            self.metrics.suspicions_sent += 1;
            self.outputs.push(GossipOutput::Send {
                to,
                message: GossipMessage::Suspect(crate::gossip::GossipSuspect {
                    from: self.member.id().clone(),
                    members: members.to_vec(),
                    relays,
                }),
            });
        }
    }

    /// Sends `delta` to each of `targets`, to be relayed `relays` more times.
    pub(super) fn send_push(&mut self, targets: Vec<String>, delta: &GossipDelta, relays: u8) {
        for to in targets {
            self.metrics.pushes_sent += 1;
            self.outputs.push(GossipOutput::Send {
                to,
                message: GossipMessage::Push(GossipPush {
                    from: self.member.id().clone(),
                    delta: delta.clone(),
                    relays,
                }),
            });
        }
    }

    /// How many times a fresh change is relayed: enough hops for an epidemic to cover
    /// the cluster (log2 of its size, plus slack); relays stop early where nothing is new.
    pub(super) fn relay_budget(&self) -> u8 {
        let members = self.peers.len() + 1;
        let log2 = usize::BITS - members.leading_zeros();
        (log2 + 2).min(16) as u8
    }

    /// Our own writes after sequence number `before`, as a delta part that lets a receiver
    /// holding every write up to `before` raise its watermark.
    pub(super) fn own_delta_since(&self, before: u64) -> GossipDelta {
        self.store
            .parts_since([(self.member.id(), before)], self.config.limits())
    }

    /// Pushes our writes after `before` to every peer (small clusters) or to
    /// `push_fan_out` random peers, to be relayed on.
    pub(super) fn push_own_change(&mut self, before: u64, now: u64) {
        let delta = self.own_delta_since(before);
        self.spread(&delta, |_| false, now);
    }

    /// Sends fresh news to every peer while there are at most `broadcast_max_peers` of
    /// them (not relayed: everyone got it), otherwise to `push_fan_out` random peers as a
    /// rumor relayed while it is news. Peers for which `skip` holds are left out.
    pub(super) fn spread(
        &mut self,
        delta: &GossipDelta,
        skip: impl Fn(&MemberId) -> bool,
        now: u64,
    ) {
        if self.peers.len() <= self.config.broadcast_max_peers {
            // Sending to every peer needs every peer: members that joined since the last
            // refresh are news receivers too (two nodes joining at once learn of each
            // other this way), so a refresh still waiting for its gap is done now.
            if self.membership_grown {
                self.take_deferred(now);
                self.settle(now);
            }
            let targets: Vec<String> = self
                .peers
                .iter()
                .filter(|m| !skip(m.id()))
                .map(|m| String::from(m.address()))
                .collect();
            self.send_push(targets, delta, 0);
        } else {
            let targets = self.choose_peers(self.config.push_fan_out, skip);
            let relays = self.relay_budget();
            self.send_push(targets, delta, relays);
        }
    }

    /// After start or rejoin, once peers are known, opens an exchange with `push_fan_out`
    /// of them carrying our whole state: they learn of us at once (and relay the news),
    /// and we pull what we lack — including members that joined at the same time as us.
    pub(super) fn announce_if_due(&mut self, now: u64) {
        if self.announce && !self.peers.is_empty() {
            self.announce = false;
            let delta = self.own_delta_since(0);
            let targets = self.choose_peers(self.config.push_fan_out, |_| false);
            for target in targets {
                let _ = self.send_request(target, delta.clone(), false, false, now);
            }
        }
    }

    /// Bytes left for a delta once `digest` is in a message.
    pub(super) fn delta_budget(&self, digest: &crate::gossip::GossipDigest) -> usize {
        self.config
            .max_bytes_per_message
            .saturating_sub(GossipStateStore::digest_size(digest))
    }
}

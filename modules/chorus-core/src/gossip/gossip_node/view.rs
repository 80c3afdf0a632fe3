//! Membership view, blocking, consensus evaluation and rejoin.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Block, BlockReason, GossipNode};
use crate::cluster::ClusterEvent;
use crate::gossip::{
    GossipDigest, GossipKeyValue, GossipOutput, GossipStateStore, GossipUpdate, ViewDigest,
    reserved_keys,
};
use crate::membership::MemberInfo;
use crate::topology::{ClusterTopology, Member, MemberId};

/// How many previous topologies a node can still read view digests against.
const RECENT_VIEWS: usize = 4;

impl GossipNode {
    pub(super) fn emit(&mut self, event: ClusterEvent) {
        self.outputs.push(GossipOutput::Event(event));
    }

    pub(super) fn emit_update(&mut self, update: &GossipUpdate) {
        self.emit(ClusterEvent::GossipUpdated {
            member: update.member.clone(),
            key: update.key.clone(),
            seq: update.seq,
        });
    }

    /// Our digest in view form, when every live member agrees on our topology (so the
    /// peer almost surely holds the same member list): positions instead of ids. `None`
    /// when there is no agreement or the digest would not fit a message.
    pub(super) fn view_digest(&self) -> Option<GossipDigest> {
        if self.topology_consensus() != Some(self.topology.hash()) {
            return None;
        }
        let view = self.topology.members();
        let mut all = Vec::with_capacity(view.len());
        for member in view {
            let state = self.store.state().member(member.id())?;
            all.push((state.heartbeat(), state.watermark()));
        }
        // Members known but not (yet) in the topology travel as plain entries.
        let mut entries = Vec::new();
        if self.store.state().len() > view.len() {
            for (member, state) in self.store.state().members() {
                if !self.view_positions.contains_key(member) && !self.blocked.contains_key(member) {
                    entries.push(crate::gossip::DigestEntry {
                        member: member.clone(),
                        heartbeat: state.heartbeat(),
                        watermark: state.watermark(),
                    });
                }
            }
        }
        let digest = GossipDigest {
            entries,
            complete: true,
            view: Some(ViewDigest {
                hash: self.topology.hash(),
                all,
                some: Vec::new(),
            }),
        };
        let fits = GossipStateStore::digest_size(&digest)
            <= self.config.max_bytes_per_message.saturating_sub(256);
        fits.then_some(digest)
    }

    /// A partial digest in view form: members of the shared topology by position.
    pub(super) fn compact_reply(&self, reply: GossipDigest) -> GossipDigest {
        let mut entries = Vec::new();
        let mut some = Vec::new();
        for entry in reply.entries {
            match self.view_positions.get(&entry.member) {
                Some(position) => some.push((*position, entry.heartbeat, entry.watermark)),
                None => entries.push(entry),
            }
        }
        GossipDigest {
            entries,
            complete: reply.complete,
            view: Some(ViewDigest {
                hash: self.topology.hash(),
                all: Vec::new(),
                some,
            }),
        }
    }

    /// The digest with its view part read against our topology, or one of the last few;
    /// `None` when it refers to a topology we do not know.
    pub(super) fn expand(&self, digest: &GossipDigest) -> Option<GossipDigest> {
        let Some(view) = &digest.view else {
            return Some(digest.clone());
        };
        let members = if view.hash == self.topology.hash() {
            self.topology.members()
        } else {
            &self
                .recent_views
                .iter()
                .find(|(hash, _)| *hash == view.hash)?
                .1
        };
        let mut entries = view.expand(members)?;
        entries.extend(digest.entries.iter().cloned());
        Some(GossipDigest {
            entries,
            complete: digest.complete,
            view: None,
        })
    }

    /// Turns the deferred work (new members, remote consensus values) into work to do now.
    pub(super) fn take_deferred(&mut self, now: u64) {
        if self.membership_grown || self.consensus_stale {
            self.membership_dirty |= core::mem::take(&mut self.membership_grown);
            self.consensus_dirty |= core::mem::take(&mut self.consensus_stale);
            self.last_deferred_at = now;
        }
    }

    /// Brings the derived state up to date: membership first, then consensus. Deferred
    /// work is included once its gap has passed.
    pub(super) fn settle(&mut self, now: u64) {
        if self.deferred_due_at().is_some_and(|due| now >= due) {
            self.take_deferred(now);
        }
        if self.membership_dirty {
            self.refresh_membership(now);
        }
        if self.consensus_dirty {
            self.consensus_dirty = false;
            let members: Vec<MemberId> = self
                .topology
                .members()
                .iter()
                .map(|m| m.id().clone())
                .collect();
            let store = &self.store;
            let events = self.consensus.evaluate(&members, |member, key| {
                store.get(member, key).map(GossipKeyValue::value)
            });
            for event in events {
                self.emit(event);
            }
        }
    }

    /// Derives the topology from the state: every member not blocked whose member key is
    /// known. A new hash is published as `TopologyUpdated` and written under the topology
    /// key, which the built-in consensus check compares.
    fn refresh_membership(&mut self, now: u64) {
        self.membership_dirty = false;
        let members: Vec<Member> = self
            .store
            .state()
            .members()
            .filter(|(id, _)| !self.blocked.contains_key(*id))
            .filter_map(|(id, state)| {
                let info = MemberInfo::decode(state.get(reserved_keys::MEMBER)?.value())?;
                // Unchanged members are shared with the current view, not copied.
                match self.topology.member(id) {
                    Some(known) if info.describes(known) => Some(known.clone()),
                    _ => Some(info.to_member(id.clone())),
                }
            })
            .collect();
        let next = ClusterTopology::next(&self.topology, members, self.blocked());
        if next.hash() == self.topology.hash() {
            return;
        }
        let me = self.member.id().clone();
        self.peers = next
            .members()
            .iter()
            .filter(|m| *m.id() != me)
            .cloned()
            .collect();
        if let Some(update) =
            self.store
                .set(reserved_keys::TOPOLOGY, &next.hash().to_le_bytes(), now)
        {
            self.emit_update(&update);
        }
        let previous = self.topology.members().to_vec();
        if !previous.is_empty() {
            if self.recent_views.len() == RECENT_VIEWS {
                self.recent_views.pop_back();
            }
            self.recent_views
                .push_front((self.topology.hash(), previous));
        }
        self.view_positions = next
            .members()
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id().clone(), i as u32))
            .collect();
        self.topology = next.clone();
        self.consensus_dirty = true;
        self.emit(ClusterEvent::TopologyUpdated(next));
    }

    /// Blocks `member` for good (never this node): its state is dropped, it gets no
    /// gossip, and it counts in no consensus.
    pub(super) fn block(&mut self, member: &MemberId, reason: BlockReason, now: u64) {
        if member == self.member.id() || self.blocked.contains_key(member) {
            return;
        }
        self.blocked.insert(
            member.clone(),
            Block {
                at: now,
                reason,
                heartbeat: self.store.heartbeat(member).unwrap_or(0),
            },
        );
        #[cfg(feature = "tracing")]
        match reason {
            BlockReason::Expired => {
                tracing::info!(%member, "member blocked: its heartbeat stopped");
            }
            BlockReason::Left => tracing::debug!(%member, "member blocked: it left"),
            BlockReason::Superseded => {
                tracing::debug!(%member, "member blocked: a newer incarnation is known");
            }
            // Logged by `rejoin`.
            BlockReason::Rejoined => {}
        }
        self.store.remove_member(member);
        self.detector.forget(member);
        self.metrics.members_blocked += 1;
        self.membership_dirty = true;
    }

    /// Forgets blocks older than the retention, which bounds the blocked list.
    pub(super) fn forget_old_blocks(&mut self, now: u64) {
        let retention = self.config.blocked_retention_ms;
        let before = self.blocked.len();
        self.blocked
            .retain(|_, block| now.saturating_sub(block.at) < retention);
        if self.blocked.len() != before {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                forgotten = before - self.blocked.len(),
                "blocks past their retention forgotten"
            );
            self.membership_dirty = true;
        }
    }

    /// Reacts to a member's new `chorus.member` key: an older incarnation of the same name
    /// is superseded and blocked at once; so is this member if a newer one is known.
    pub(super) fn supersede_older_incarnations(&mut self, member: &MemberId, now: u64) {
        let name = member.name();
        let newest = self.incarnations.get(name).copied();
        match newest {
            Some(known) if known > member.incarnation() => {
                self.block(member, BlockReason::Superseded, now);
            }
            Some(known) if known < member.incarnation() => {
                self.incarnations
                    .insert(member.shared_name(), member.incarnation());
                let older = MemberId::new(name, known);
                self.block(&older, BlockReason::Superseded, now);
            }
            Some(_) => {}
            None => {
                self.incarnations
                    .insert(member.shared_name(), member.incarnation());
            }
        }
    }

    /// Whether `member` was blocked here for silence and yet beat on: a peer reports a
    /// heartbeat well above the one this node last saw — more than the beats that could
    /// have been in flight when contact was lost (half an expiration's worth). Several
    /// such members tell that this node, rather than they, was cut off.
    pub(super) fn lived_on_after_block(&self, member: &MemberId, heartbeat: u64) -> bool {
        let in_flight = self.config.heartbeat_expiration_ms / self.config.heartbeat_interval_ms / 2;
        self.blocked.get(member).is_some_and(|b| {
            b.reason == BlockReason::Expired && heartbeat > b.heartbeat.saturating_add(in_flight)
        })
    }

    /// Joins again under a new incarnation: the blocked identity is dropped with its
    /// state and its view, and the node contacts `seed` (the peer that told it it is
    /// blocked) and its seeds as a new member.
    pub fn rejoin(&mut self, seed: Option<String>, now: u64) {
        let previous = self.member.id().clone();
        // Saturating: a node at the largest incarnation keeps it rather than wrap to 0.
        let id = MemberId::new(previous.name(), previous.incarnation().saturating_add(1));
        #[cfg(feature = "tracing")]
        tracing::info!(
            %previous,
            member = %id,
            seed = seed.as_deref().unwrap_or("none"),
            "rejoining as a new incarnation"
        );
        self.member = Member::new(id.clone(), String::from(self.member.address()))
            .with_kinds(self.member.kinds().iter().cloned());
        // The application's own keys go with the node into its new identity (reserved
        // keys are written anew: member info below, subscriptions by the node).
        let own: Vec<(String, Vec<u8>)> = self
            .store
            .state()
            .member(&previous)
            .into_iter()
            .flat_map(crate::gossip::GossipMemberState::entries)
            .filter(|(key, _)| !reserved_keys::is_reserved(key))
            .map(|(key, value)| (String::from(key), value.value().to_vec()))
            .collect();
        self.store = GossipStateStore::new(id.clone());
        self.blocked.clear();
        self.blocked.insert(
            previous.clone(),
            Block {
                at: now,
                reason: BlockReason::Rejoined,
                heartbeat: 0,
            },
        );
        self.detector.reset();
        self.peers.clear();
        self.view_positions.clear();
        self.recent_views.clear();
        self.incarnations.clear();
        self.pending.clear();
        self.announce = true;
        self.last_heartbeat_at = None;
        self.next_round_at = now;
        if let Some(seed) = seed
            && !self.seeds.contains(&seed)
        {
            self.seeds.insert(0, seed);
        }
        self.metrics.rejoins += 1;
        self.emit(ClusterEvent::Rejoined {
            previous,
            member: id,
        });
        self.write_member_info(now);
        for (key, value) in own {
            if let Some(update) = self.store.set(&key, &value, now) {
                self.emit_update(&update);
            }
        }
        self.membership_dirty = true;
        self.consensus_dirty = true;
        self.settle(now);
    }
}

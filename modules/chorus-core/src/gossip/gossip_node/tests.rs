use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::GossipNode;
use crate::cluster::ClusterEvent;
use crate::consensus::ConsensusCheck;
use crate::gossip::{
    GossipConfig, GossipConfigError, GossipMessage, GossipOutput, GossiperError, reserved_keys,
};
use crate::topology::{Member, MemberId};
use crate::wire::Frame;

fn config() -> GossipConfig {
    GossipConfig::new()
}

fn addr(name: &str) -> String {
    alloc::format!("{name}:7000")
}

fn node(name: &str, seeds: &[&str]) -> GossipNode {
    let member = Member::new(MemberId::new(name, 1), addr(name));
    GossipNode::new(
        member,
        seeds.iter().map(|s| addr(s)).collect(),
        config(),
        name.len() as u64 + 7,
        0,
    )
    .unwrap()
}

/// An in-memory network of nodes delivering every message at the current time.
struct Net {
    nodes: Vec<GossipNode>,
    now: u64,
    events: Vec<(usize, ClusterEvent)>,
    /// Nodes that neither receive nor send.
    down: Vec<usize>,
    sent: usize,
}

impl Net {
    fn new(names: &[&str]) -> Self {
        let seed = names[0];
        let nodes = names.iter().map(|n| node(n, &[seed])).collect();
        Self {
            nodes,
            now: 0,
            events: Vec::new(),
            down: Vec::new(),
            sent: 0,
        }
    }

    fn index_of(&self, address: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.member().address() == address)
    }

    /// Delivers until nothing is in flight.
    fn deliver(&mut self) {
        let mut queue: VecDeque<(String, String, GossipMessage)> = VecDeque::new();
        loop {
            for i in 0..self.nodes.len() {
                let from = self.nodes[i].member().address().to_string();
                for out in self.nodes[i].drain_outputs() {
                    match out {
                        GossipOutput::Send { to, message } => {
                            if !self.down.contains(&i) {
                                queue.push_back((from.clone(), to, message));
                            }
                        }
                        GossipOutput::Event(e) => self.events.push((i, e)),
                    }
                }
            }
            let Some((from, to, message)) = queue.pop_front() else {
                if self.nodes.iter_mut().all(|n| n.outputs.is_empty()) {
                    return;
                }
                continue;
            };
            self.sent += 1;
            if let Some(j) = self.index_of(&to)
                && !self.down.contains(&j)
            {
                self.nodes[j].handle(&from, message, self.now);
            }
        }
    }

    /// One round: time advances by the gossip interval, every live node ticks.
    fn round(&mut self) {
        self.now += config().gossip_interval_ms;
        for i in 0..self.nodes.len() {
            if !self.down.contains(&i) {
                self.nodes[i].tick(self.now);
            }
        }
        self.deliver();
    }

    fn live(&self) -> impl Iterator<Item = &GossipNode> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.down.contains(i))
            .map(|(_, n)| n)
    }

    /// How many members each live node sees.
    fn view_sizes(&self) -> Vec<usize> {
        self.live().map(|n| n.topology().members().len()).collect()
    }

    fn all_see(&self, count: usize) -> bool {
        self.live().all(|n| n.topology().members().len() == count)
    }
}

#[test]
fn a_new_node_contacts_its_seeds_first() {
    let mut n = node("b", &["a"]);
    n.tick(250);
    let outputs = n.drain_outputs();
    let sent: Vec<&str> = outputs
        .iter()
        .filter_map(|o| match o {
            GossipOutput::Send {
                to,
                message: GossipMessage::Request(_),
            } => Some(to.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, ["a:7000"]);
}

#[test]
fn nodes_join_through_a_seed_and_agree_on_the_topology() {
    let mut net = Net::new(&["a", "b", "c", "d"]);
    for _ in 0..6 {
        net.round();
    }
    assert!(net.all_see(4));
    let hashes: Vec<Option<u64>> = net.live().map(GossipNode::topology_consensus).collect();
    let expected = Some(net.nodes[0].topology().hash());
    assert!(hashes.iter().all(|h| *h == expected), "{hashes:?}");
    assert!(net.events.iter().any(
        |(_, e)| matches!(e, ClusterEvent::ConsensusReached { check, .. } if check == "topology")
    ));
}

#[test]
fn a_join_shows_in_every_topology_within_the_refresh_gap_not_at_the_next_round() {
    let mut net = Net::new(&["a", "b", "c", "d"]);
    for _ in 0..6 {
        net.round();
    }
    assert!(net.all_see(4));
    let round_at = net.nodes[0].next_round_at();
    net.nodes.push(node("e", &["a"]));
    let now = net.now;
    net.nodes[4].tick(now);
    net.deliver();
    // Deferred work asks for a wake-up well before the next round…
    let wake = net.live().map(GossipNode::next_wake_at).min().unwrap();
    assert!(wake < round_at, "wake {wake}, round {round_at}");
    // …and polling then is enough: no round has run, yet everyone sees e.
    net.now = net.live().map(GossipNode::next_wake_at).max().unwrap();
    assert!(net.now < round_at);
    let now = net.now;
    for n in &mut net.nodes {
        n.poll(now);
    }
    net.deliver();
    assert!(net.all_see(5), "{:?}", net.view_sizes());
}

#[test]
fn nodes_joining_at_once_learn_of_each_other_in_message_delays() {
    // Five nodes start together and join through a; a single round's messages (each node
    // ticks once, then everything in flight is delivered, no time passing) must be enough
    // for every node to see every other, although each joiner's request reached a before
    // a knew the others.
    let mut net = Net::new(&["a", "b", "c", "d", "e"]);
    net.round();
    assert!(net.all_see(5), "{:?}", net.view_sizes());
}

#[test]
fn a_set_key_is_pushed_at_once_without_waiting_for_a_round() {
    let mut net = Net::new(&["a", "b", "c", "d", "e"]);
    for _ in 0..6 {
        net.round();
    }
    let now = net.now;
    assert!(net.nodes[2].set("app.color", b"blue", now).unwrap());
    net.deliver();
    let c = net.nodes[2].member_id().clone();
    for n in net.live() {
        assert_eq!(
            n.get(&c, "app.color")
                .map(crate::gossip::GossipKeyValue::value),
            Some(&b"blue"[..]),
            "{} lacks the key",
            n.member_id()
        );
    }
}

#[test]
fn requests_are_answered_with_what_the_requester_lacks_and_the_last_leg_pushes_back() {
    let mut a = node("a", &[]);
    let mut b = node("b", &["a"]);
    a.set("x", b"1", 0).unwrap();
    a.drain_outputs();
    b.drain_outputs();
    b.tick(250);
    let request = b.drain_outputs().into_iter().find_map(|o| match o {
        GossipOutput::Send {
            message: m @ GossipMessage::Request(_),
            ..
        } => Some(m),
        _ => None,
    });
    a.handle("b:7000", request.unwrap(), 250);
    let response = a.drain_outputs().into_iter().find_map(|o| match o {
        GossipOutput::Send {
            message: GossipMessage::Response(r),
            ..
        } => Some(r),
        _ => None,
    });
    let response = response.unwrap();
    let keys: Vec<&str> = response.delta.owners[0]
        .entries
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert!(keys.contains(&"x"), "{keys:?}");
    b.handle("a:7000", GossipMessage::Response(response), 260);
    assert_eq!(b.get(a.member_id(), "x").unwrap().value(), b"1");
    let last_leg = b.drain_outputs().into_iter().any(|o| {
        matches!(o, GossipOutput::Send { ref to, message: GossipMessage::Push(ref p) } if to == "a:7000" && p.relays == 0 && !p.delta.is_empty())
    });
    assert!(last_leg, "b pushes its own state back to a");
}

#[test]
fn heartbeat_rises_every_round() {
    let mut a = node("a", &[]);
    for round in 1..=3 {
        a.tick(round * 250);
    }
    assert_eq!(a.store().heartbeat(a.member_id()), Some(3));
}

#[test]
fn a_silent_member_is_blocked_after_the_expiration_and_never_this_node() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..5 {
        net.round();
    }
    assert!(net.all_see(3));
    net.down.push(2);
    let crashed = net.nodes[2].member_id().clone();
    let crash_at = net.now;
    let mut blocked_at = None;
    for _ in 0..40 {
        net.round();
        if net.live().all(|n| n.is_blocked(&crashed)) {
            blocked_at = Some(net.now);
            break;
        }
    }
    let elapsed = blocked_at.expect("crashed member blocked by all") - crash_at;
    assert!(
        elapsed >= config().heartbeat_expiration_ms,
        "not before the expiration: {elapsed}"
    );
    assert!(
        elapsed <= config().heartbeat_expiration_ms + 4 * config().gossip_interval_ms,
        "{elapsed}"
    );
    for n in net.live() {
        assert!(!n.is_blocked(n.member_id()));
        assert_eq!(n.topology().members().len(), 2);
        assert!(n.topology().blocked().contains(&crashed));
    }
}

#[test]
fn a_leaving_member_is_blocked_at_once_by_everyone_and_knows_it_was_heard() {
    let mut net = Net::new(&["a", "b", "c", "d"]);
    for _ in 0..6 {
        net.round();
    }
    let now = net.now;
    let leaver = net.nodes[3].member_id().clone();
    net.nodes[3].leave(now).unwrap();
    assert!(!net.nodes[3].leave_acknowledged(), "answers not in yet");
    net.deliver();
    assert!(net.nodes[3].leave_acknowledged());
    for n in net.nodes.iter().take(3) {
        assert!(
            n.is_blocked(&leaver),
            "{} did not block the leaver",
            n.member_id()
        );
        assert!(n.topology().left().iter().any(|m| *m.id() == leaver));
    }
    assert_eq!(net.nodes[3].set("x", b"y", now), Err(GossiperError::Left));
    assert_eq!(net.nodes[3].leave(now), Err(GossiperError::Left));
}

#[test]
fn blocked_members_get_no_gossip_and_are_told_so() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..5 {
        net.round();
    }
    let c = net.nodes[2].member_id().clone();
    let now = net.now;
    net.nodes[0].block(&c, super::BlockReason::Expired, now);
    net.nodes[0].settle(now);
    for _ in 0..20 {
        net.nodes[0].tick(net.now);
        let to_c = net.nodes[0]
            .drain_outputs()
            .into_iter()
            .any(|o| matches!(o, GossipOutput::Send { ref to, .. } if to == "c:7000"));
        assert!(!to_c, "a blocked c and must not gossip with it");
        net.now += 250;
    }
    // c asks a: a refuses, and c — refused by a member it sees alive — rejoins.
    net.nodes[2].drain_outputs();
    let _ = net.nodes[2].send_request(
        "a:7000".into(),
        crate::gossip::GossipDelta::default(),
        false,
        false,
        net.now,
    );
    net.deliver();
    assert!(
        net.events
            .iter()
            .any(|(i, e)| *i == 2 && matches!(e, ClusterEvent::BlockedByPeer { .. }))
    );
    assert!(
        net.events
            .iter()
            .any(|(i, e)| *i == 2 && matches!(e, ClusterEvent::Rejoined { .. }))
    );
    assert_eq!(net.nodes[2].member_id().incarnation(), 2);
    for _ in 0..8 {
        net.round();
    }
    assert!(net.all_see(3), "c is back as a new incarnation");
    assert!(
        net.live()
            .all(|n| n.topology().members().iter().all(|m| *m.id() != c))
    );
}

#[test]
fn a_restarted_member_supersedes_its_old_incarnation_at_once() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..5 {
        net.round();
    }
    let old = net.nodes[2].member_id().clone();
    net.nodes[2] = GossipNode::new(
        Member::new(MemberId::new("c", 2), addr("c")),
        vec![addr("a")],
        config(),
        99,
        net.now,
    )
    .unwrap();
    for _ in 0..4 {
        net.round();
    }
    for n in net.live() {
        assert!(
            n.topology()
                .members()
                .iter()
                .any(|m| *m.id() == MemberId::new("c", 2))
        );
        assert!(n.member_id() == &MemberId::new("c", 2) || n.is_blocked(&old));
    }
    assert!(
        net.now < config().heartbeat_expiration_ms * 3,
        "well before expiry"
    );
}

#[test]
fn topology_updates_are_produced_only_when_the_hash_changes() {
    let mut net = Net::new(&["a", "b"]);
    for _ in 0..10 {
        net.round();
    }
    let updates: Vec<u64> = net
        .events
        .iter()
        .filter_map(|(i, e)| match e {
            ClusterEvent::TopologyUpdated(t) if *i == 0 => Some(t.hash()),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 2, "alone, then with b: {updates:?}");
    assert_ne!(updates[0], updates[1]);
}

#[test]
fn a_custom_consensus_check_is_reached_and_lost() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..5 {
        net.round();
    }
    let now = net.now;
    let handles: Vec<_> = (0..3)
        .map(|i| {
            net.nodes[i].register_consensus(ConsensusCheck::new("version", "app.version"), now)
        })
        .collect();
    for i in 0..3 {
        net.nodes[i].set("app.version", b"7", now).unwrap();
    }
    net.deliver();
    for _ in 0..3 {
        net.round();
    }
    for (node, handle) in net.nodes.iter().zip(&handles) {
        assert_eq!(node.consensus(*handle), Some(&b"7"[..]));
    }
    let now = net.now;
    net.nodes[1].set("app.version", b"8", now).unwrap();
    net.deliver();
    // The writer sees the disagreement at once; the others at their next round.
    assert_eq!(net.nodes[1].consensus(handles[1]), None);
    net.round();
    for (node, handle) in net.nodes.iter().zip(&handles) {
        assert_eq!(node.consensus(*handle), None, "{}", node.member_id());
    }
    assert!(
        net.events
            .iter()
            .any(|(_, e)| matches!(e, ClusterEvent::ConsensusLost { check } if check == "version"))
    );
    assert!(net.nodes[0].remove_consensus(handles[0]));
    let builtin = net.nodes[0].topology_check();
    assert!(!net.nodes[0].remove_consensus(builtin), "built-in stays");
}

#[test]
fn unanswered_requests_time_out() {
    let mut b = node("b", &["a"]);
    b.tick(250);
    b.tick(500);
    assert_eq!(b.metrics().request_timeouts, 0);
    b.tick(250 + config().request_timeout_ms);
    assert_eq!(b.metrics().request_timeouts, 1);
}

#[test]
fn peer_choice_is_random_but_reproducible_from_the_seed() {
    let run = |seed: u64| {
        let mut net = Net::new(&["a", "b", "c", "d", "e", "f"]);
        for n in &mut net.nodes {
            n.rng = rand::SeedableRng::seed_from_u64(seed);
        }
        for _ in 0..5 {
            net.round();
        }
        let mut targets = Vec::new();
        for _ in 0..10 {
            net.nodes[0].tick(net.now);
            for o in net.nodes[0].drain_outputs() {
                if let GossipOutput::Send {
                    to,
                    message: GossipMessage::Request(_),
                } = o
                {
                    targets.push(to);
                }
            }
        }
        targets
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    let targets = run(1);
    assert!(
        targets
            .iter()
            .collect::<alloc::collections::BTreeSet<_>>()
            .len()
            > 2
    );
}

#[test]
fn user_keys_may_not_use_the_reserved_prefix() {
    let mut a = node("a", &[]);
    assert_eq!(
        a.set(reserved_keys::MEMBER, b"x", 0),
        Err(GossiperError::ReservedKey {
            key: reserved_keys::MEMBER.into()
        })
    );
}

#[test]
fn configuration_rules_are_enforced() {
    let bad = |f: fn(&mut GossipConfig)| {
        let mut c = GossipConfig::new();
        f(&mut c);
        c.validate().unwrap_err()
    };
    assert_eq!(bad(|c| c.fan_out = 0), GossipConfigError::ZeroFanOut);
    assert_eq!(
        bad(|c| c.gossip_interval_ms = 0),
        GossipConfigError::ZeroGossipInterval
    );
    assert_eq!(
        bad(|c| c.max_entries_per_message = 0),
        GossipConfigError::ZeroMaxEntries
    );
    assert!(matches!(
        bad(|c| c.request_timeout_ms = c.heartbeat_expiration_ms),
        GossipConfigError::RequestTimeoutNotBelowExpiration { .. }
    ));
    assert!(matches!(
        bad(|c| c.heartbeat_expiration_ms = c.heartbeat_interval_ms * 2),
        GossipConfigError::ExpirationTooShort { .. }
    ));
    assert!(matches!(
        bad(|c| c.max_bytes_per_message = 100),
        GossipConfigError::MessageBytesTooSmall { .. }
    ));
    assert_eq!(
        bad(|c| c.heartbeat_interval_ms = 0),
        GossipConfigError::ZeroHeartbeatInterval
    );
    assert_eq!(bad(|c| c.push_fan_out = 0), GossipConfigError::ZeroFanOut);
    assert_eq!(
        bad(|c| c.max_write_bytes = c.max_bytes_per_message / 2 + 1),
        GossipConfigError::WriteBytesOutOfRange {
            bytes: 30 * 1024 + 1,
            maximum: 30 * 1024
        }
    );
    assert!(matches!(
        bad(|c| c.max_write_bytes = 0),
        GossipConfigError::WriteBytesOutOfRange { .. }
    ));
    // Absurd intervals are refused with an error, not an arithmetic overflow.
    assert!(matches!(
        bad(|c| c.gossip_interval_ms = u64::MAX),
        GossipConfigError::ExpirationTooShort { .. }
    ));
    assert!(GossipConfig::new().validate().is_ok());
    assert!(GossipConfig::new_lan(1_000).validate().is_ok());
    assert!(
        GossipConfig::new_lan(1_000).heartbeat_expiration_ms
            > GossipConfig::new().heartbeat_expiration_ms
    );
    let member = Member::new(MemberId::new("a", 1), "a");
    let mut c = GossipConfig::new();
    c.fan_out = 0;
    assert!(GossipNode::new(member, vec![], c, 0, 0).is_err());
}

#[test]
fn a_suspicion_is_followed_only_by_nodes_that_also_stopped_hearing_the_member() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..5 {
        net.round();
    }
    let c = net.nodes[2].member_id().clone();
    let a = net.nodes[0].member_id().clone();
    let suspect = |members: Vec<MemberId>| {
        GossipMessage::Suspect(crate::gossip::GossipSuspect {
            from: a.clone(),
            members,
            relays: 0,
        })
    };
    // b heard from c a moment ago: a's suspicion alone does not make it block c.
    let now = net.now;
    net.nodes[1].handle("a:7000", suspect(vec![c.clone()]), now);
    assert!(!net.nodes[1].is_blocked(&c));
    let counted = net.nodes[1].metrics();
    assert_eq!(
        (counted.suspicions_received, counted.suspicions_confirmed),
        (1, 0)
    );
    // Once b itself has not heard from c for half the expiration, it agrees.
    net.down.push(2);
    let quiet = config().heartbeat_expiration_ms / 2;
    let later = now + quiet + config().gossip_interval_ms;
    net.nodes[1].handle("a:7000", suspect(vec![c.clone()]), later);
    assert!(
        net.nodes[1].is_blocked(&c),
        "b blocks c before its own expiration"
    );
    assert_eq!(net.nodes[1].metrics().suspicions_confirmed, 1);
    // Nobody blocks itself because of a suspicion.
    let b = net.nodes[1].member_id().clone();
    net.nodes[1].handle("a:7000", suspect(vec![b.clone()]), later + 10_000);
    assert!(!net.nodes[1].is_blocked(&b));
}

#[test]
fn once_the_cluster_agrees_digests_name_members_by_position() {
    let mut net = Net::new(&["node-alpha", "node-bravo", "node-charlie", "node-delta"]);
    for _ in 0..10 {
        net.round();
    }
    assert!(net.nodes[0].topology_consensus().is_some());
    net.nodes[0].tick(net.now + 250);
    let request = net.nodes[0]
        .drain_outputs()
        .into_iter()
        .find_map(|o| match o {
            GossipOutput::Send {
                message: GossipMessage::Request(r),
                ..
            } => Some(r),
            _ => None,
        });
    let request = request.expect("a round request");
    let view = request.digest.view.as_ref().expect("a view digest");
    assert_eq!(view.all.len(), 4, "one (heartbeat, watermark) per member");
    assert!(
        request.digest.entries.is_empty(),
        "no member ids on the wire"
    );
    let full = crate::gossip::GossipDigest {
        view: None,
        ..net.nodes[0].store().digest(usize::MAX, 0, |_| true)
    };
    let compact = Frame::Gossip(GossipMessage::Request(request.clone()))
        .encode()
        .len();
    let long = Frame::Gossip(GossipMessage::Request(crate::gossip::GossipRequest {
        digest: full,
        ..request.clone()
    }))
    .encode()
    .len();
    assert!(
        compact < long,
        "view form {compact} bytes, full form {long} bytes"
    );
}

#[test]
fn a_view_digest_against_another_topology_is_answered_with_a_full_digest() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..8 {
        net.round();
    }
    let now = net.now + 250;
    net.nodes[0].tick(now);
    let request = net.nodes[0]
        .drain_outputs()
        .into_iter()
        .find_map(|o| match o {
            GossipOutput::Send {
                message: GossipMessage::Request(r),
                ..
            } => Some(r),
            _ => None,
        });
    let mut request = request.expect("a round request");
    let view = request.digest.view.as_mut().expect("a view digest");
    view.hash ^= 1; // a topology b does not hold
    net.nodes[1].handle("a:7000", GossipMessage::Request(request), now);
    let response = net.nodes[1]
        .drain_outputs()
        .into_iter()
        .find_map(|o| match o {
            GossipOutput::Send {
                message: GossipMessage::Response(r),
                ..
            } => Some(r),
            _ => None,
        });
    let response = response.expect("b still answers");
    assert!(response.digest.view.is_none());
    assert_eq!(
        response.digest.entries.len(),
        3,
        "b lists what it holds, by id"
    );
}

#[test]
fn a_view_digest_with_a_position_out_of_range_reads_as_nothing() {
    let members = vec![MemberId::new("a", 1)];
    let view = crate::gossip::ViewDigest {
        hash: 0,
        all: Vec::new(),
        some: vec![(5, 1, 1)],
    };
    assert_eq!(view.expand(&members), None);
    let wrong_length = crate::gossip::ViewDigest {
        hash: 0,
        all: vec![(1, 1), (2, 2)],
        some: Vec::new(),
    };
    assert_eq!(wrong_length.expand(&members), None);
}

#[test]
fn a_write_larger_than_max_write_bytes_is_refused_and_changes_nothing() {
    let mut n = node("a", &[]);
    let max = config().max_write_bytes;
    let seq = n.store().seq();
    let too_big = vec![7u8; max];
    assert_eq!(
        n.set("k", &too_big, 1),
        Err(GossiperError::WriteTooLarge {
            key: "k".into(),
            bytes: max + 1,
            max
        })
    );
    assert!(matches!(
        n.map_set("m", "entry", &too_big, 1),
        Err(GossiperError::WriteTooLarge { .. })
    ));
    assert_eq!(n.store().seq(), seq, "nothing written");
    assert!(n.get(n.member_id(), "k").is_none());
    // One byte less (key included) fits.
    assert_eq!(n.set("k", &too_big[1..], 1), Ok(true));
}

#[test]
fn a_made_up_heartbeat_for_a_blocked_member_neither_panics_nor_counts_as_news() {
    let mut net = Net::new(&["a", "b", "c"]);
    for _ in 0..5 {
        net.round();
    }
    assert!(net.all_see(3));
    // A peer claims c beats at u64::MAX; then c goes silent and a blocks it.
    let c = net.nodes[2].member_id().clone();
    let lie = GossipMessage::Request(crate::gossip::GossipRequest {
        id: 99,
        from: net.nodes[1].member_id().clone(),
        digest: crate::gossip::GossipDigest {
            entries: vec![crate::gossip::DigestEntry {
                member: c.clone(),
                heartbeat: u64::MAX,
                watermark: 0,
            }],
            complete: false,
            view: None,
        },
        delta: crate::gossip::GossipDelta::default(),
    });
    let now = net.now;
    net.nodes[0].handle("b:7000", lie.clone(), now);
    net.down.push(2);
    for _ in 0..20 {
        net.round();
    }
    assert!(net.nodes[0].is_blocked(&c));
    let member = net.nodes[0].member_id().clone();
    // The same claim again must not overflow, and must not make a rejoin.
    let now = net.now;
    net.nodes[0].handle("b:7000", lie, now);
    assert_eq!(net.nodes[0].member_id(), &member, "no rejoin");
}

#[test]
fn peers_are_chosen_distinct_and_never_skipped_among_many_or_few_eligible() {
    let mut n = node("a", &[]);
    n.peers = (0..60)
        .map(|i| {
            let name = alloc::format!("p{i}");
            Member::new(MemberId::new(&name, 1), addr(&name))
        })
        .collect();
    let odd = |id: &MemberId| id.name()[1..].parse::<u32>().unwrap() % 2 == 1;
    let mut seen = alloc::collections::BTreeSet::new();
    for _ in 0..500 {
        // Many eligible: the drawing path.
        let chosen = n.choose_peers(3, odd);
        assert_eq!(chosen.len(), 3);
        let distinct: alloc::collections::BTreeSet<_> = chosen.iter().collect();
        assert_eq!(distinct.len(), 3, "{chosen:?}");
        for address in &chosen {
            let number: u32 = address[1..address.find(':').unwrap()].parse().unwrap();
            assert_eq!(number % 2, 0, "{address} is skipped");
            seen.insert(number);
        }
    }
    // Every eligible peer gets its turn.
    assert_eq!(seen.len(), 30);
    // Few eligible: every one of them, through the full pass.
    let only_two = |id: &MemberId| !matches!(id.name(), "p7" | "p42");
    let mut chosen = n.choose_peers(3, only_two);
    chosen.sort();
    assert_eq!(chosen, vec![addr("p42"), addr("p7")]);
    assert!(n.choose_peers(3, |_| true).is_empty());
    assert!(n.choose_peers(0, |_| false).is_empty());
    // An absurd count is every eligible peer, with no overflow.
    assert_eq!(n.choose_peers(usize::MAX, odd).len(), 30);
}

#[test]
fn new_seeds_are_contacted_from_the_next_round() {
    let requests_to = |n: &mut GossipNode| -> Vec<String> {
        n.drain_outputs()
            .into_iter()
            .filter_map(|o| match o {
                GossipOutput::Send {
                    to,
                    message: GossipMessage::Request(_),
                } => Some(to),
                _ => None,
            })
            .collect()
    };
    let mut n = node("b", &[]);
    n.tick(250);
    assert!(requests_to(&mut n).is_empty(), "no seed, no one to contact");
    n.set_seeds(vec![addr("a")]);
    assert_eq!(n.seeds(), [addr("a")]);
    n.tick(500);
    assert_eq!(requests_to(&mut n), [addr("a")]);
}

#[test]
fn a_rejoin_at_the_largest_incarnation_does_not_wrap_to_zero() {
    let member = Member::new(MemberId::new("max", u64::MAX), addr("max"));
    let mut node = GossipNode::new(member, vec![addr("a")], config(), 3, 0).unwrap();
    node.rejoin(None, 10);
    assert_eq!(node.member_id().incarnation(), u64::MAX);
}

#[test]
fn a_rejoin_keeps_the_applications_own_keys_under_the_new_identity() {
    let mut node = node("keeper", &["a"]);
    node.set("app.config", b"v2", 1).unwrap();
    node.map_set("app.map", "k", b"x", 2).unwrap();
    let before = node.member_id().clone();
    node.rejoin(None, 10);
    let after = node.member_id().clone();
    assert_ne!(before, after);
    assert_eq!(
        node.get(&after, "app.config").map(|v| v.value().to_vec()),
        Some(b"v2".to_vec())
    );
    assert!(node.get(&after, "app.map").is_some());
    let updates: Vec<String> = node
        .drain_outputs()
        .into_iter()
        .filter_map(|o| match o {
            GossipOutput::Event(ClusterEvent::GossipUpdated { member, key, .. })
                if member == after =>
            {
                Some(key)
            }
            _ => None,
        })
        .collect();
    assert!(
        updates.iter().any(|k| k == "app.config"),
        "the rewrite is an update peers receive: {updates:?}"
    );
}

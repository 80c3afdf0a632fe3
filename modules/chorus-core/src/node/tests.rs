use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::{LocalDelivery, Node, NodeOutput};
use crate::cluster::ClusterEvent;
use crate::gossip::{GossipConfig, GossipNode, reserved_keys};
use crate::pubsub::{
    DeliveryStatus, LocalSubscription, PubSubConfig, PubSubError, PubSubEvent, PublishAck,
    PublishRejection, SubscriberId, SubscriptionRegistry,
};
use crate::topology::{Member, MemberId};
use crate::wire::{DEFAULT_MAX_FRAME_BYTES, Frame};

fn addr(name: &str) -> String {
    alloc::format!("{name}:7000")
}

fn node(name: &str, seed: &str) -> Node {
    let member = Member::new(MemberId::new(name, 1), addr(name));
    let gossip = GossipNode::new(
        member,
        vec![addr(seed)],
        GossipConfig::new(),
        name.len() as u64 + 11,
        0,
    )
    .unwrap();
    Node::new(gossip)
        .with_pub_sub(PubSubConfig::new(), DEFAULT_MAX_FRAME_BYTES)
        .unwrap()
}

/// Nodes on an in-memory network that delivers every frame, encoded and decoded, at once.
struct Net {
    nodes: Vec<Node>,
    now: u64,
    events: Vec<(usize, ClusterEvent)>,
    delivered: Vec<(usize, LocalDelivery)>,
    /// Frames sent to an address no node listens at.
    lost: usize,
}

impl Net {
    fn new(names: &[&str]) -> Self {
        let nodes = names.iter().map(|n| node(n, names[0])).collect();
        let mut net = Self {
            nodes,
            now: 0,
            events: Vec::new(),
            delivered: Vec::new(),
            lost: 0,
        };
        net.pump();
        net
    }

    fn pump(&mut self) {
        let mut queue: VecDeque<(usize, String, Frame)> = VecDeque::new();
        loop {
            for (i, node) in self.nodes.iter_mut().enumerate() {
                for output in node.drain_outputs() {
                    match output {
                        NodeOutput::Send { to, frame } => queue.push_back((i, to, frame)),
                        NodeOutput::Event(e) => self.events.push((i, e)),
                        NodeOutput::Deliver(d) => self.delivered.push((i, d)),
                    }
                }
            }
            let Some((from, to, frame)) = queue.pop_front() else {
                return;
            };
            let bytes = frame.encode();
            let frame = Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES).unwrap();
            let sender = self.nodes[from].member_id().clone();
            let from_address = addr(sender.name());
            let now = self.now;
            match self
                .nodes
                .iter_mut()
                .find(|n| addr(n.member_id().name()) == to)
            {
                Some(target) => target.handle_frame(&from_address, Some(&sender), frame, now),
                None => self.lost += 1,
            }
        }
    }

    fn rounds(&mut self, n: usize) {
        for _ in 0..n {
            self.now += GossipConfig::new().gossip_interval_ms;
            let now = self.now;
            for node in &mut self.nodes {
                node.tick(now);
            }
            self.pump();
        }
    }

    fn knows(&self, topic: &str, subscribers: usize) -> bool {
        self.nodes
            .iter()
            .all(|n| n.subscriptions(topic).len() == subscribers)
    }
}

#[test]
fn a_subscription_on_one_node_reaches_every_registry_and_a_publish_reaches_it() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.rounds(10);
    let now = net.now;
    let s = net.nodes[2].subscribe("news", None, 1, now).unwrap();
    net.pump();
    assert!(
        net.knows("news", 1),
        "every node learnt the subscription at once"
    );
    let gossiped = net.nodes[0]
        .get(net.nodes[2].member_id(), reserved_keys::SUBSCRIPTIONS)
        .and_then(|v| LocalSubscription::decode_all(v.value()))
        .unwrap();
    assert_eq!(
        gossiped.len(),
        1,
        "the node wrote its subscriptions into gossip"
    );
    let ack = net.nodes[0].publish("news", vec![b"hi".to_vec()], now);
    assert!(ack.is_accepted(), "{ack:?}");
    net.pump();
    let got: Vec<(usize, &SubscriberId, &[u8])> = net
        .delivered
        .iter()
        .map(|(i, d)| (*i, &d.subscriber, &*d.payload))
        .collect();
    assert_eq!(got, [(2, &s, &b"hi"[..])]);
    assert_eq!(net.nodes[0].topic_metrics("news").delivered, 1);
}

#[test]
fn subscriber_ids_are_allocated_by_the_node_and_never_repeat() {
    let mut net = Net::new(&["a"]);
    let now = net.now;
    let first = net.nodes[0].subscribe("t", None, 1, now).unwrap();
    net.nodes[0].unsubscribe("t", &first, now).unwrap();
    let second = net.nodes[0].subscribe("t", None, 1, now).unwrap();
    let third = net.nodes[0].subscribe("u", Some("g"), 2, now).unwrap();
    assert!(first != second && second != third && first != third);
    // A refused subscription takes no id.
    assert!(net.nodes[0].subscribe("", None, 1, now).is_err());
    let fourth = net.nodes[0].subscribe("t", None, 1, now).unwrap();
    assert_eq!(fourth.as_str(), "s4");
}

#[test]
fn a_subscription_list_over_one_gossip_write_is_refused_and_undone() {
    let mut net = Net::new(&["a"]);
    let now = net.now;
    let topic = "t".repeat(200);
    let mut refused = None;
    for _ in 0..200 {
        match net.nodes[0].subscribe(&topic, None, 1, now) {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let Some(PubSubError::SubscriptionsTooLarge { bytes, max }) = refused else {
        panic!("refused: {refused:?}");
    };
    assert!(bytes > max);
    let made = net.nodes[0]
        .pub_sub()
        .unwrap()
        .local_subscriptions()
        .count();
    let gossiped = net.nodes[0]
        .get(net.nodes[0].member_id(), reserved_keys::SUBSCRIPTIONS)
        .and_then(|v| LocalSubscription::decode_all(v.value()))
        .unwrap();
    assert_eq!(gossiped.len(), made, "the refused one is in neither list");
}

#[test]
fn a_group_instance_that_unsubscribes_hands_its_message_to_another() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.rounds(10);
    let now = net.now;
    let w1 = net.nodes[1].subscribe("jobs", Some("g"), 1, now).unwrap();
    let _w2 = net.nodes[2].subscribe("jobs", Some("g"), 1, now).unwrap();
    net.pump();
    assert!(
        net.nodes[0]
            .publish("jobs", vec![vec![1]], now)
            .is_accepted()
    );
    net.pump();
    let (first, d) = net.delivered[0].clone();
    assert_eq!(first, 1, "the first instance in round-robin order");
    assert_eq!(d.subscriber, w1);
    net.nodes[1].unsubscribe("jobs", &w1, now).unwrap();
    net.pump();
    let (second, again) = net.delivered.last().unwrap().clone();
    assert_eq!((second, again.message_id), (2, d.message_id));
    assert!(net.events.iter().any(|(i, e)| *i == 0
        && matches!(e, ClusterEvent::PubSub(PubSubEvent::Requeued { message_id, .. }) if *message_id == d.message_id)));
}

#[test]
fn stopping_pub_sub_ends_the_local_subscriptions_and_refuses_publishes() {
    let mut net = Net::new(&["a", "b"]);
    net.rounds(10);
    let now = net.now;
    net.nodes[1].subscribe("news", None, 1, now).unwrap();
    net.pump();
    assert!(net.knows("news", 1));
    net.nodes[1].stop_pub_sub(now).unwrap();
    net.pump();
    assert!(net.knows("news", 0), "the subscriptions left gossip");
    assert_eq!(
        net.nodes[1].publish("news", vec![vec![1]], now),
        PublishAck::Rejected {
            reason: PublishRejection::NotStarted
        }
    );
    assert_eq!(
        net.nodes[1].subscribe("news", None, 1, now),
        Err(PubSubError::NotStarted)
    );
    net.nodes[1].start_pub_sub().unwrap();
    assert!(net.nodes[1].subscribe("news", None, 1, now).is_ok());
}

#[test]
fn a_new_identity_moves_the_local_subscriptions_in_the_registry() {
    let mut net = Net::new(&["a"]);
    let now = net.now;
    let s = net.nodes[0].subscribe("jobs", Some("g"), 1, now).unwrap();
    net.pump();
    let old = net.nodes[0].member_id().clone();
    let new = MemberId::new("a", 2);
    net.nodes[0].take_identity(new.clone(), now);
    net.nodes[0].settle(now);
    net.pump();
    let subs = net.nodes[0].subscriptions("jobs");
    assert_eq!(subs.len(), 1);
    assert_eq!((&subs[0].member, &subs[0].subscriber), (&new, &s));
    assert!(net.events.iter().any(|(_, e)| matches!(
        e,
        ClusterEvent::PubSub(PubSubEvent::SubscriberRemoved { member, .. }) if *member == old
    )));
    let group = net.nodes[0].pub_sub().unwrap().group("jobs", "g").unwrap();
    assert_eq!(group.instances(), 1, "one instance, under the new identity");
}

#[test]
fn a_batch_for_a_member_without_an_address_is_reported_and_fails_at_once() {
    let mut net = Net::new(&["a"]);
    let now = net.now;
    // A member the registry knows but the topology does not (as right after it left).
    let ghost = MemberId::new("ghost", 1);
    let list = LocalSubscription::encode_all(&[LocalSubscription {
        topic: "news".into(),
        subscriber: SubscriberId::new("g1"),
        group: None,
        max_in_flight: 1,
    }]);
    let broker = net.nodes[0].pub_sub.as_mut().unwrap();
    broker.sync_members([(&ghost, Some(list.as_slice()))], &[], now);
    let ack = net.nodes[0].publish("news", vec![vec![1]], now);
    assert!(ack.is_accepted());
    net.pump();
    assert_eq!(net.lost, 0, "nothing was sent to a made-up address");
    let events: Vec<&PubSubEvent> = net
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            ClusterEvent::PubSub(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(events.contains(&&PubSubEvent::Unroutable {
        member: ghost.clone(),
        topic: "news".into()
    }));
    assert!(events.iter().any(|e| matches!(
        e,
        PubSubEvent::DeliveryFailed {
            status: DeliveryStatus::Unreachable,
            ..
        }
    )));
    assert_eq!(net.nodes[0].pub_sub().unwrap().pending_batches(), 0);
}

/// A subscription as (topic, subscriber, group, in-flight limit), in small numbers.
type Spec = (u8, u8, Option<u8>, u8);

fn lists() -> impl Strategy<Value = Vec<(u8, Vec<Spec>)>> {
    prop::collection::vec(
        (
            0..4u8,
            prop::collection::vec((0..3u8, 0..3u8, prop::option::of(0..2u8), 1..3u8), 0..4),
        ),
        0..12,
    )
}

fn decode(spec: &[Spec]) -> Vec<LocalSubscription> {
    spec.iter()
        .map(|(t, s, g, l)| LocalSubscription {
            topic: alloc::format!("t{t}"),
            subscriber: SubscriberId::new(&alloc::format!("s{s}")),
            group: g.map(|g| alloc::format!("g{g}")),
            max_in_flight: u32::from(*l),
        })
        .collect()
}

proptest! {
    /// Replacing one member's list at a time gives the registry a full rebuild would, and
    /// reports the same change the full diff does.
    #[test]
    fn replacing_members_one_by_one_equals_rebuilding(steps in lists()) {
        let mut current: alloc::collections::BTreeMap<MemberId, Vec<LocalSubscription>> =
            alloc::collections::BTreeMap::new();
        let mut incremental = SubscriptionRegistry::new();
        for (member, spec) in steps {
            let member = MemberId::new(&alloc::format!("m{member}"), 1);
            let list = decode(&spec);
            let before = SubscriptionRegistry::from_members(
                current.iter().map(|(m, l)| (m, l.as_slice())),
            );
            current.insert(member.clone(), list.clone());
            let rebuilt = SubscriptionRegistry::from_members(
                current.iter().map(|(m, l)| (m, l.as_slice())),
            );
            let mut change = incremental.replace_member(&member, &list);
            let mut expected = before.diff(&rebuilt);
            for c in [&mut change, &mut expected] {
                c.added.sort();
                c.removed.sort();
                c.updated.sort();
            }
            prop_assert_eq!(&incremental, &rebuilt);
            prop_assert_eq!(change, expected);
            prop_assert_eq!(
                incremental.of_member(&member).count(),
                rebuilt.all().filter(|s| s.member == member).count()
            );
        }
    }
}

#[test]
fn a_batch_from_a_member_nobody_heard_of_or_with_an_oversized_payload_is_refused() {
    let mut net = Net::new(&["a", "b"]);
    net.rounds(10);
    let now = net.now;
    let s = net.nodes[1].subscribe("news", None, 1, now).unwrap();
    net.pump();
    let batch = |from: &MemberId, payload: Vec<u8>| {
        crate::pubsub::PubSubMessage::Batch(crate::pubsub::DeliveryBatch {
            batch_id: 1,
            from: from.clone(),
            topic: "news".into(),
            messages: vec![crate::pubsub::BatchMessage {
                message_id: 1,
                payload,
                subscribers: vec![s.clone()],
                group: None,
            }],
        })
    };
    let stranger = MemberId::new("stranger", 1);
    net.nodes[1].handle_pub_sub(&stranger, batch(&stranger, vec![1]), now);
    let member = net.nodes[0].member_id().clone();
    let limit = PubSubConfig::new().max_payload_bytes;
    net.nodes[1].handle_pub_sub(&member, batch(&member, vec![0; limit + 1]), now);
    net.pump();
    assert!(
        net.delivered.is_empty(),
        "nothing was handed to the subscriber"
    );
    let refused: Vec<(MemberId, crate::pubsub::FrameRefusal)> = net
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            ClusterEvent::PubSub(PubSubEvent::FrameRefused { from, reason }) => {
                Some((from.clone(), *reason))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        [
            (stranger, crate::pubsub::FrameRefusal::NotAMember),
            (member.clone(), crate::pubsub::FrameRefusal::PayloadTooLarge)
        ]
    );
    // The same member's batch within the limit is delivered.
    net.nodes[1].handle_pub_sub(&member, batch(&member, vec![1; limit]), now);
    net.pump();
    assert_eq!(net.delivered.len(), 1);
}

#[test]
fn a_gossip_message_claiming_another_sender_than_its_connection_is_dropped() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.rounds(10);
    let now = net.now;
    let c = net.nodes[2].member_id().clone();
    let b = net.nodes[1].member_id().clone();
    // On b's connection, a suspicion "from" c, which would speak for c.
    let forged = crate::gossip::GossipMessage::Suspect(crate::gossip::GossipSuspect {
        from: c.clone(),
        members: vec![b.clone()],
        relays: 0,
    });
    net.nodes[0].handle_gossip("b:7000", Some(&b), forged, now);
    net.pump();
    assert!(net.events.iter().any(|(i, e)| *i == 0
        && *e
            == ClusterEvent::ForgedSender {
                address: "b:7000".into(),
                member: b.clone(),
                claimed: c.clone(),
            }));
    assert_eq!(
        net.nodes[0].gossip_metrics().suspicions_received,
        0,
        "the message never reached the gossip node"
    );
    // The same message on c's own connection is heard.
    let genuine = crate::gossip::GossipMessage::Suspect(crate::gossip::GossipSuspect {
        from: c.clone(),
        members: vec![b],
        relays: 0,
    });
    net.nodes[0].handle_gossip("c:7000", Some(&c), genuine, now);
    assert_eq!(net.nodes[0].gossip_metrics().suspicions_received, 1);
}

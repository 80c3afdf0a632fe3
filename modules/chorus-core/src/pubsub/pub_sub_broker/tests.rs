use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::PubSubBroker;
use crate::pubsub::{
    BatchMessage, DeliveryAck, DeliveryBatch, DeliveryStatus, GroupCompletion, LocalDelivery,
    PubSub, PubSubConfig, PubSubEvent, PubSubMessage, PubSubOutput, PublishAck, PublishRejection,
    RemovalReason, RequeueReason, SubscriberId, SubscriberStatus,
};
use crate::topology::MemberId;

/// A delivery a subscriber received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Got {
    node: usize,
    subscriber: SubscriberId,
    message_id: u64,
    publisher: MemberId,
    group: Option<alloc::string::String>,
}

/// Brokers wired directly: the registry is synced from every broker's own list.
struct Net {
    brokers: Vec<PubSubBroker>,
    live: Vec<bool>,
    got: Vec<Got>,
    events: Vec<(usize, PubSubEvent)>,
    frames: usize,
    now: u64,
}

impl Net {
    fn new(n: usize, config: &PubSubConfig) -> Self {
        let brokers = (0..n)
            .map(|i| {
                let mut b =
                    PubSubBroker::new(MemberId::new(&alloc::format!("m{i}"), 1), config.clone());
                b.start().unwrap();
                b
            })
            .collect();
        Self {
            brokers,
            live: vec![true; n],
            got: Vec::new(),
            events: Vec::new(),
            frames: 0,
            now: 0,
        }
    }

    fn id(&self, i: usize) -> MemberId {
        self.brokers[i].member().clone()
    }

    fn sub(&mut self, node: usize, topic: &str, who: &str, group: Option<&str>, limit: u32) {
        self.brokers[node]
            .subscribe(topic, &SubscriberId::new(who), group, limit)
            .unwrap();
        self.sync();
    }

    /// Every live broker learns every live broker's subscriptions (as gossip would).
    fn sync(&mut self) {
        let values: Vec<(MemberId, Vec<u8>)> = (0..self.brokers.len())
            .filter(|i| self.live[*i])
            .map(|i| (self.id(i), self.brokers[i].local_subscriptions_value()))
            .collect();
        for i in 0..self.brokers.len() {
            if self.live[i] {
                let now = self.now;
                self.brokers[i]
                    .sync_registry(values.iter().map(|(m, v)| (m, Some(v.as_slice()))), now);
            }
        }
        self.pump();
    }

    /// Delivers every frame until none is left.
    fn pump(&mut self) {
        loop {
            let mut sent = Vec::new();
            for i in 0..self.brokers.len() {
                for out in self.brokers[i].drain_outputs() {
                    match out {
                        PubSubOutput::Send { to, message } => sent.push((i, to, message)),
                        PubSubOutput::Deliver(LocalDelivery {
                            subscriber,
                            message_id,
                            publisher,
                            group,
                            ..
                        }) => {
                            self.got.push(Got {
                                node: i,
                                subscriber,
                                message_id,
                                publisher,
                                group,
                            });
                        }
                        PubSubOutput::Event(e) => self.events.push((i, e)),
                    }
                }
            }
            if sent.is_empty() {
                return;
            }
            for (from, to, message) in sent {
                self.frames += 1;
                let Some(j) = (0..self.brokers.len()).find(|j| self.id(*j) == to) else {
                    continue;
                };
                if self.live[j] {
                    // Through the wire format, as a driver would.
                    let bytes = crate::wire::Frame::PubSub(message).encode();
                    let Ok(crate::wire::Frame::PubSub(decoded)) =
                        crate::wire::Frame::decode(&bytes, crate::wire::DEFAULT_MAX_FRAME_BYTES)
                    else {
                        panic!("frame did not survive the wire");
                    };
                    let now = self.now;
                    let from = self.id(from);
                    self.brokers[j].handle(&from, decoded, now);
                }
            }
        }
    }

    fn publish(&mut self, node: usize, topic: &str, n: usize) -> PublishAck {
        let payloads = (0..n).map(|i| vec![i as u8]).collect();
        let now = self.now;
        let ack = self.brokers[node].publish(topic, payloads, now);
        self.pump();
        ack
    }

    fn complete(&mut self, got: &Got, topic: &str) {
        let group = got.group.clone().unwrap();
        let now = self.now;
        self.brokers[got.node]
            .complete(
                &got.publisher,
                topic,
                &group,
                &got.subscriber,
                got.message_id,
                now,
            )
            .unwrap();
        self.pump();
    }
}

#[test]
fn every_broadcast_subscriber_gets_every_message_once_with_one_batch_per_member() {
    let mut net = Net::new(10, &PubSubConfig::new());
    for node in 0..10 {
        for k in 0..10 {
            net.sub(node, "news", &alloc::format!("s{node}-{k}"), None, 1);
        }
    }
    net.frames = 0;
    let PublishAck::Accepted { message_ids } = net.publish(0, "news", 5) else {
        panic!("accepted");
    };
    assert_eq!(message_ids.len(), 5);
    assert_eq!(net.got.len(), 100 * 5, "100 subscribers × 5 messages");
    let mut per: BTreeMap<(SubscriberId, u64), usize> = BTreeMap::new();
    for g in &net.got {
        *per.entry((g.subscriber.clone(), g.message_id)).or_default() += 1;
    }
    assert!(per.values().all(|n| *n == 1), "exactly once each");
    // One batch to each of the 9 other members, and one acknowledgement back.
    assert_eq!(net.frames, 9 * 2);
}

#[test]
fn messages_over_max_batch_bytes_travel_in_several_batches_in_order() {
    let config = PubSubConfig {
        max_batch_bytes: 100,
        ..PubSubConfig::new()
    };
    let mut net = Net::new(2, &config);
    net.sub(1, "news", "s", None, 1);
    net.frames = 0;
    // Five messages of about 42 encoded bytes: two fit a batch of 100 bytes.
    let payloads = (0..5u8).map(|i| vec![i; 40]).collect();
    let ack = net.brokers[0].publish("news", payloads, 0);
    net.pump();
    let PublishAck::Accepted { message_ids } = ack else {
        panic!("accepted");
    };
    let got: Vec<u64> = net.got.iter().map(|g| g.message_id).collect();
    assert_eq!(got, message_ids, "every message once, in publish order");
    assert_eq!(
        net.frames,
        3 * 2,
        "three batches (2 + 2 + 1), each acknowledged"
    );
    assert_eq!(net.brokers[0].pending_batches(), 0);
    assert_eq!(net.brokers[0].metrics("news").delivered, 5);
}

#[test]
fn a_message_larger_than_max_batch_bytes_travels_alone() {
    let config = PubSubConfig {
        max_batch_bytes: 10,
        ..PubSubConfig::new()
    };
    let mut net = Net::new(2, &config);
    net.sub(1, "news", "s", None, 1);
    net.frames = 0;
    let payloads = vec![vec![1; 50], vec![2; 50]];
    assert!(net.brokers[0].publish("news", payloads, 0).is_accepted());
    net.pump();
    assert_eq!(net.got.len(), 2);
    assert_eq!(net.frames, 2 * 2, "one batch per message");
}

#[test]
fn each_group_message_reaches_exactly_one_instance_and_the_queue_feeds_completions() {
    let mut net = Net::new(3, &PubSubConfig::new());
    for node in 0..3 {
        net.sub(node, "jobs", &alloc::format!("w{node}"), Some("workers"), 1);
    }
    assert!(net.publish(1, "jobs", 5).is_accepted());
    assert_eq!(net.got.len(), 3, "three idle instances, one message each");
    let mut by_message: Vec<(u64, usize)> =
        net.got.iter().map(|g| (g.message_id, g.node)).collect();
    by_message.sort_unstable();
    assert_eq!(
        by_message,
        [(1, 0), (2, 1), (3, 2)],
        "round robin in member order"
    );
    assert_eq!(
        net.brokers[1].group("jobs", "workers").unwrap().queue_len(),
        2
    );
    let first = net.got.iter().find(|g| g.message_id == 1).unwrap().clone();
    net.complete(&first, "jobs");
    assert_eq!(net.got.len(), 4);
    assert_eq!(
        net.got[3].node, first.node,
        "the idle instance gets the next message"
    );
    assert_eq!(net.got[3].message_id, 4, "queue order");
}

#[test]
fn a_full_group_queue_rejects_the_whole_publish() {
    let config = PubSubConfig {
        group_queue_capacity: 2,
        ..PubSubConfig::new()
    };
    let mut net = Net::new(2, &config);
    net.sub(1, "jobs", "w", Some("g"), 1);
    assert!(
        net.publish(0, "jobs", 3).is_accepted(),
        "1 in flight + 2 queued"
    );
    assert_eq!(
        net.publish(0, "jobs", 1),
        PublishAck::Rejected {
            reason: PublishRejection::QueueFull
        }
    );
    assert_eq!(
        net.brokers[0].group("jobs", "g").unwrap().queue_len(),
        2,
        "nothing added"
    );
    assert_eq!(net.brokers[0].metrics("jobs").rejected, 1);
}

#[test]
fn publishes_are_refused_with_a_reason() {
    let config = PubSubConfig {
        max_payload_bytes: 4,
        ..PubSubConfig::new()
    };
    let mut net = Net::new(2, &config);
    assert_eq!(
        net.publish(0, "empty", 1),
        PublishAck::Rejected {
            reason: PublishRejection::NoSubscribers
        }
    );
    assert_eq!(
        net.publish(0, "", 1),
        PublishAck::Rejected {
            reason: PublishRejection::InvalidTopic
        }
    );
    assert_eq!(
        net.publish(0, "chorus.internal", 1),
        PublishAck::Rejected {
            reason: PublishRejection::InvalidTopic
        }
    );
    net.sub(1, "t", "s", None, 1);
    let now = net.now;
    assert_eq!(
        net.brokers[0].publish("t", vec![vec![0; 5]], now),
        PublishAck::Rejected {
            reason: PublishRejection::PayloadTooLarge
        }
    );
    net.brokers[0].stop().unwrap();
    assert_eq!(
        net.publish(0, "t", 1),
        PublishAck::Rejected {
            reason: PublishRejection::NotStarted
        }
    );
    // Rejections are counted per topic, not published as events: two on "t" above.
    assert_eq!(net.brokers[0].metrics("t").rejected, 2);
}

#[test]
fn a_lost_instance_hands_its_unfinished_messages_to_another() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "a", Some("g"), 1);
    net.sub(2, "jobs", "b", Some("g"), 1);
    assert!(net.publish(0, "jobs", 3).is_accepted());
    let on_1 = net.got.iter().find(|g| g.node == 1).unwrap().message_id;
    // Member 1 crashes: the registry loses it.
    net.live[1] = false;
    net.sync();
    assert!(net.events.iter().any(|(_, e)| matches!(
        e,
        PubSubEvent::SubscriberRemoved {
            reason: RemovalReason::MemberGone,
            ..
        }
    )));
    let b_first = net.got.iter().find(|g| g.node == 2).unwrap().clone();
    net.complete(&b_first, "jobs");
    let handed = net.got.last().unwrap();
    assert_eq!(
        (handed.node, handed.message_id),
        (2, on_1),
        "the lost message first"
    );
}

#[test]
fn an_unreachable_subscriber_is_removed_with_an_event() {
    let mut net = Net::new(2, &PubSubConfig::new());
    net.sub(1, "t", "s", None, 1);
    // Member 1 forgets its subscriber, but member 0's registry has not heard yet.
    net.brokers[1]
        .unsubscribe("t", &SubscriberId::new("s"))
        .unwrap();
    // The publisher has not learnt of the unsubscription yet: it still sends.
    let _ = net.publish(0, "t", 1);
    assert!(net.got.is_empty());
    assert!(net.events.iter().any(|(i, e)| *i == 0
        && matches!(
            e,
            PubSubEvent::DeliveryFailed {
                status: DeliveryStatus::Unreachable,
                ..
            }
        )));
    assert!(net.events.iter().any(|(i, e)| *i == 0
        && matches!(
            e,
            PubSubEvent::SubscriberRemoved {
                reason: RemovalReason::Unreachable,
                ..
            }
        )));
    assert!(!net.brokers[0].registry().has_topic("t"));
}

#[test]
fn a_timed_out_group_delivery_goes_back_to_the_queue_and_to_another_instance() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "w1", Some("g"), 1);
    net.sub(2, "jobs", "w2", Some("g"), 1);
    net.live[1] = false; // crashed, but not yet out of the registry
    assert!(net.publish(0, "jobs", 2).is_accepted());
    // Message 1 went to w1 (lost with member 1), message 2 to w2.
    let on_2 = net.got.iter().find(|g| g.node == 2).unwrap().clone();
    assert_eq!(on_2.message_id, 2);
    net.complete(&on_2, "jobs");
    assert_eq!(net.brokers[0].pending_batches(), 1, "the batch to member 1");
    net.events.clear();
    net.now = 5_000;
    net.brokers[0].tick(5_000);
    net.pump();
    assert!(net.events.iter().any(|(i, e)| *i == 0
        && *e
            == PubSubEvent::DeliveryFailed {
                topic: "jobs".into(),
                subscriber: SubscriberId::new("w1"),
                message_id: 1,
                status: DeliveryStatus::Timeout,
            }));
    assert!(net.events.iter().any(|(i, e)| *i == 0
        && *e
            == PubSubEvent::Requeued {
                topic: "jobs".into(),
                group: "g".into(),
                member: net.id(1),
                subscriber: SubscriberId::new("w1"),
                message_id: 1,
                reason: RequeueReason::DeliveryTimeout,
            }));
    // Not lost: handed to the other, idle instance rather than back to the silent one.
    let last = net.got.last().unwrap();
    assert_eq!((last.node, last.message_id), (2, 1));
    let g = net.brokers[0].group("jobs", "g").unwrap();
    assert_eq!(
        g.in_flight(&net.id(1), &SubscriberId::new("w1")),
        [] as [u64; 0]
    );
    assert_eq!(g.in_flight(&net.id(2), &SubscriberId::new("w2")), [1]);
    assert_eq!(net.brokers[0].metrics("jobs").requeued, 1);
}

#[test]
fn a_group_without_instances_keeps_its_queue_reports_it_and_hands_it_to_a_new_instance() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "w", Some("g"), 1);
    assert!(net.publish(0, "jobs", 3).is_accepted());
    net.events.clear();
    net.live[1] = false;
    net.sync();
    let on_0: Vec<&PubSubEvent> = net
        .events
        .iter()
        .filter(|(i, _)| *i == 0)
        .map(|(_, e)| e)
        .collect();
    assert!(on_0.contains(&&PubSubEvent::Requeued {
        topic: "jobs".into(),
        group: "g".into(),
        member: net.id(1),
        subscriber: SubscriberId::new("w"),
        message_id: 1,
        reason: RequeueReason::InstanceGone,
    }));
    assert!(on_0.contains(&&PubSubEvent::GroupWithoutInstances {
        topic: "jobs".into(),
        group: "g".into(),
        queued: 3,
    }));
    let queued: Vec<u64> = net.brokers[0]
        .group("jobs", "g")
        .unwrap()
        .queued()
        .collect();
    assert_eq!(queued, [1, 2, 3], "the held message first, then the queue");
    assert_eq!(
        net.publish(0, "jobs", 1),
        PublishAck::Rejected {
            reason: PublishRejection::NoSubscribers
        },
        "a group without instances takes no new message"
    );
    // An instance subscribes again: the queue drains to it in order.
    net.sub(2, "jobs", "w2", Some("g"), 1);
    let first = net.got.last().unwrap().clone();
    assert_eq!((first.node, first.message_id), (2, 1));
    net.complete(&first, "jobs");
    let second = net.got.last().unwrap().clone();
    assert_eq!(second.message_id, 2);
    net.complete(&second, "jobs");
    let third = net.got.last().unwrap().clone();
    assert_eq!(third.message_id, 3);
    net.complete(&third, "jobs");
    // Nothing waits and nobody is left: the group is forgotten.
    net.brokers[2]
        .unsubscribe("jobs", &SubscriberId::new("w2"))
        .unwrap();
    net.sync();
    assert!(net.brokers[0].group("jobs", "g").is_none());
}

#[test]
fn a_topic_with_two_groups_keeps_a_payload_until_both_groups_are_done_with_it() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "a", Some("ga"), 1);
    net.sub(2, "jobs", "b", Some("gb"), 1);
    // Message 1 goes to a and b; message 2 waits in both queues.
    assert!(net.publish(0, "jobs", 2).is_accepted());
    let a1 = net.got.iter().find(|g| g.node == 1).unwrap().clone();
    net.complete(&a1, "jobs");
    let a2 = net.got.last().unwrap().clone();
    assert_eq!((a2.node, a2.message_id), (1, 2));
    // Group ga is done with message 2 while gb still has it queued.
    net.complete(&a2, "jobs");
    let b1 = net.got.iter().find(|g| g.node == 2).unwrap().clone();
    net.complete(&b1, "jobs");
    let b2 = net.got.last().unwrap().clone();
    assert_eq!((b2.node, b2.message_id), (2, 2), "gb still gets message 2");
    net.complete(&b2, "jobs");
    assert!(
        net.brokers[0].payloads.is_empty(),
        "no payload kept after both"
    );
}

#[test]
fn a_retained_message_reaches_a_subscriber_that_arrives_later() {
    let config = PubSubConfig::new().retain("prices");
    let mut net = Net::new(3, &config);
    net.sub(1, "prices", "early", None, 1);
    assert!(net.publish(0, "prices", 2).is_accepted());
    net.sub(2, "prices", "late", None, 1);
    let late: Vec<&Got> = net.got.iter().filter(|g| g.node == 2).collect();
    assert_eq!(late.len(), 1, "only the latest");
    assert_eq!(late[0].message_id, 2);
}

#[test]
fn subscribing_validates_its_input() {
    let mut b = PubSubBroker::new(MemberId::new("a", 1), PubSubConfig::new());
    assert!(b.subscribe("", &SubscriberId::new("s"), None, 1).is_err());
    assert!(b.subscribe("t", &SubscriberId::new(""), None, 1).is_err());
    assert!(
        b.subscribe("t", &SubscriberId::new("s"), Some("g"), 0)
            .is_err()
    );
    assert!(b.unsubscribe("t", &SubscriberId::new("s")).is_err());
    assert!(
        b.complete(
            &MemberId::new("x", 1),
            "t",
            "g",
            &SubscriberId::new("s"),
            1,
            0
        )
        .is_err()
    );
    let topic_events = |net: &Net| {
        net.events
            .iter()
            .filter(|(_, e)| matches!(e, PubSubEvent::TopicCreated { .. }))
            .count()
    };
    let mut net = Net::new(2, &PubSubConfig::new());
    net.sub(1, "t", "s", None, 1);
    assert_eq!(topic_events(&net), 2, "each node sees the topic appear");
}

#[test]
fn topic_created_fires_once_per_new_topic_however_many_subscribers_arrive() {
    let mut net = Net::new(3, &PubSubConfig::new());
    for who in ["a", "b", "c"] {
        net.brokers[1]
            .subscribe("t", &SubscriberId::new(who), None, 1)
            .unwrap();
    }
    net.brokers[2]
        .subscribe("t", &SubscriberId::new("d"), Some("g"), 1)
        .unwrap();
    net.brokers[2]
        .subscribe("u", &SubscriberId::new("e"), None, 1)
        .unwrap();
    net.sync();
    for node in 0..3 {
        let created: Vec<&str> = net
            .events
            .iter()
            .filter_map(|(i, e)| match e {
                PubSubEvent::TopicCreated { topic } if *i == node => Some(topic.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(created, ["t", "u"], "node {node}");
        let subscribed = net
            .events
            .iter()
            .filter(|(i, e)| *i == node && matches!(e, PubSubEvent::Subscribed { .. }))
            .count();
        assert_eq!(subscribed, 5, "node {node}");
    }
    // A subscriber more on a known topic creates nothing.
    net.events.clear();
    net.sub(0, "t", "f", None, 1);
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, PubSubEvent::TopicCreated { .. }))
    );
}

#[test]
fn unsubscribing_is_reported_as_unsubscribed_and_a_lost_member_as_removed() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "t", "s", None, 1);
    net.sub(2, "t", "r", None, 1);
    net.events.clear();
    net.brokers[1]
        .unsubscribe("t", &SubscriberId::new("s"))
        .unwrap();
    net.sync();
    let unsubscribed = PubSubEvent::Unsubscribed {
        topic: "t".into(),
        member: net.id(1),
        subscriber: SubscriberId::new("s"),
        group: None,
    };
    // Locally (its own list) and remotely (the gossiped list no longer names it).
    for node in 0..3 {
        assert!(
            net.events.contains(&(node, unsubscribed.clone())),
            "node {node}: {:?}",
            net.events
        );
    }
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, PubSubEvent::SubscriberRemoved { .. })),
        "an unsubscription is not a removal"
    );
    net.events.clear();
    net.live[2] = false;
    net.sync();
    let removed = PubSubEvent::SubscriberRemoved {
        topic: "t".into(),
        member: net.id(2),
        subscriber: SubscriberId::new("r"),
        reason: RemovalReason::MemberGone,
    };
    assert!(net.events.contains(&(0, removed.clone())));
    assert!(net.events.contains(&(1, removed)));
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, PubSubEvent::Unsubscribed { .. }))
    );
}

#[test]
fn an_unsubscribed_group_instance_hands_its_unfinished_messages_to_another() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "a", Some("g"), 1);
    net.sub(2, "jobs", "b", Some("g"), 1);
    assert!(net.publish(0, "jobs", 3).is_accepted());
    net.events.clear();
    net.brokers[1]
        .unsubscribe("jobs", &SubscriberId::new("a"))
        .unwrap();
    net.sync();
    assert!(net.events.contains(&(
        0,
        PubSubEvent::Unsubscribed {
            topic: "jobs".into(),
            member: net.id(1),
            subscriber: SubscriberId::new("a"),
            group: Some("g".into()),
        }
    )));
    assert!(net.events.contains(&(
        0,
        PubSubEvent::Requeued {
            topic: "jobs".into(),
            group: "g".into(),
            member: net.id(1),
            subscriber: SubscriberId::new("a"),
            message_id: 1,
            reason: RequeueReason::InstanceGone,
        }
    )));
    let queued: Vec<u64> = net.brokers[0]
        .group("jobs", "g")
        .unwrap()
        .queued()
        .collect();
    assert_eq!(
        queued,
        [1, 3],
        "the requeued message before the waiting one"
    );
}

#[test]
fn subscribing_again_with_another_limit_updates_the_instance_in_place() {
    let mut net = Net::new(2, &PubSubConfig::new());
    net.sub(1, "jobs", "w", Some("g"), 1);
    assert!(net.publish(0, "jobs", 3).is_accepted());
    assert_eq!(net.got.len(), 1);
    net.events.clear();
    net.sub(1, "jobs", "w", Some("g"), 3);
    let ids: Vec<u64> = net.got.iter().map(|g| g.message_id).collect();
    assert_eq!(
        ids,
        [1, 2, 3],
        "the queued messages go out; message 1 is not sent again"
    );
    let w = SubscriberId::new("w");
    assert_eq!(
        net.brokers[0]
            .group("jobs", "g")
            .unwrap()
            .in_flight(&net.id(1), &w),
        [1, 2, 3]
    );
    assert!(
        !net.events.iter().any(|(_, e)| matches!(
            e,
            PubSubEvent::Subscribed { .. }
                | PubSubEvent::Unsubscribed { .. }
                | PubSubEvent::SubscriberRemoved { .. }
                | PubSubEvent::Requeued { .. }
        )),
        "a new limit is no new subscription: {:?}",
        net.events
    );
    assert_eq!(
        net.brokers[0]
            .registry()
            .get("jobs", &net.id(1), &w)
            .map(|s| s.max_in_flight),
        Some(3)
    );
    // Lowering it: nothing is taken back, but no new message goes until it is below.
    net.sub(1, "jobs", "w", Some("g"), 1);
    assert!(net.publish(0, "jobs", 1).is_accepted());
    assert_eq!(net.got.len(), 3);
    let first = net.got[0].clone();
    net.complete(&first, "jobs");
    let second = net.got[1].clone();
    net.complete(&second, "jobs");
    assert_eq!(net.got.len(), 3, "still at its limit of 1");
    let third = net.got[2].clone();
    net.complete(&third, "jobs");
    assert_eq!(net.got.last().unwrap().message_id, 4);
}

#[test]
fn only_the_member_a_batch_went_to_can_acknowledge_it() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "t", "s", None, 1);
    net.live[1] = false; // the batch stays unanswered
    assert!(net.publish(0, "t", 1).is_accepted());
    assert_eq!(net.brokers[0].pending_batches(), 1);
    let batch_id = *net.brokers[0].pending.keys().next().unwrap();
    let ack = |from: &MemberId, status| {
        PubSubMessage::Ack(DeliveryAck {
            batch_id,
            from: from.clone(),
            statuses: vec![SubscriberStatus {
                subscriber: SubscriberId::new("s"),
                message_id: 1,
                status,
            }],
        })
    };
    let (m1, m2) = (net.id(1), net.id(2));
    net.brokers[0].drain_outputs();
    // Member 2 answers for a batch that went to member 1, or claims to be member 1.
    net.brokers[0].handle(&m2, ack(&m2, DeliveryStatus::Unreachable), 0);
    net.brokers[0].handle(&m2, ack(&m1, DeliveryStatus::Unreachable), 0);
    assert_eq!(net.brokers[0].pending_batches(), 1, "still waiting");
    assert!(net.brokers[0].registry().has_topic("t"), "nobody removed");
    assert!(net.brokers[0].drain_outputs().is_empty(), "no event either");
    assert_eq!(net.brokers[0].metrics("t").failed, 0);
    // Member 1 itself can.
    net.brokers[0].handle(&m1, ack(&m1, DeliveryStatus::Delivered), 0);
    assert_eq!(net.brokers[0].pending_batches(), 0);
    assert_eq!(net.brokers[0].metrics("t").delivered, 1);
    // A batch claiming another publisher is dropped unanswered.
    let forged = DeliveryBatch {
        batch_id: 7,
        from: m1.clone(),
        topic: "t".into(),
        messages: vec![],
    };
    net.brokers[1].drain_outputs();
    net.brokers[1].handle(&m2, PubSubMessage::Batch(forged), 0);
    assert!(net.brokers[1].drain_outputs().is_empty());
}

#[test]
fn a_completion_frees_only_a_message_held_by_the_sending_members_instance() {
    let mut net = Net::new(3, &PubSubConfig::new());
    // The same subscriber name on two members.
    net.sub(1, "jobs", "w", Some("g"), 1);
    net.sub(2, "jobs", "w", Some("g"), 1);
    // 1 → (m1, w), 2 → (m2, w), 3 queued.
    assert!(net.publish(0, "jobs", 3).is_accepted());
    let (m1, m2) = (net.id(1), net.id(2));
    let w = SubscriberId::new("w");
    let done = |from: &MemberId, message_id| {
        PubSubMessage::Completed(GroupCompletion {
            from: from.clone(),
            topic: "jobs".into(),
            group: "g".into(),
            subscriber: SubscriberId::new("w"),
            message_ids: vec![message_id],
        })
    };
    net.brokers[0].drain_outputs();
    net.brokers[0].handle(&m2, done(&m2, 1), 0); // member 2's instance does not hold 1
    net.brokers[0].handle(&m2, done(&m1, 1), 0); // claims to be member 1
    net.brokers[0].handle(&m2, done(&m2, 3), 0); // queued, held by nobody
    net.brokers[0].handle(&m1, done(&m1, 2), 0); // held by member 2's instance
    let g = net.brokers[0].group("jobs", "g").unwrap();
    assert_eq!(g.in_flight(&m1, &w), [1]);
    assert_eq!(g.in_flight(&m2, &w), [2]);
    assert_eq!(g.queued().collect::<Vec<_>>(), [3]);
    assert_eq!(net.brokers[0].metrics("jobs").completed, 0);
    assert!(net.brokers[0].drain_outputs().is_empty());
    net.brokers[0].handle(&m1, done(&m1, 1), 0);
    let g = net.brokers[0].group("jobs", "g").unwrap();
    assert_eq!(
        g.in_flight(&m1, &w),
        [3],
        "freed, and the next message goes to it"
    );
    assert_eq!(net.brokers[0].metrics("jobs").completed, 1);
}

#[test]
fn a_batch_for_an_invalid_or_unknown_topic_is_refused_without_keeping_state() {
    let mut net = Net::new(2, &PubSubConfig::new());
    net.sub(1, "t", "s", None, 1);
    let (m0, m1) = (net.id(0), net.id(1));
    let long = "x".repeat(300);
    for topic in [
        "",
        "chorus.subscriptions",
        "bad\u{7}topic",
        &long,
        "made-up",
    ] {
        let batch = DeliveryBatch {
            batch_id: 9,
            from: m0.clone(),
            topic: topic.into(),
            messages: vec![BatchMessage {
                message_id: 1,
                payload: vec![1],
                subscribers: vec![SubscriberId::new("s")],
                group: None,
            }],
        };
        net.brokers[1].handle(&m0, PubSubMessage::Batch(batch), 0);
        let expected = PubSubOutput::Send {
            to: m0.clone(),
            message: PubSubMessage::Ack(DeliveryAck {
                batch_id: 9,
                from: m1.clone(),
                statuses: vec![SubscriberStatus {
                    subscriber: SubscriberId::new("s"),
                    message_id: 1,
                    status: DeliveryStatus::Unreachable,
                }],
            }),
        };
        assert_eq!(net.brokers[1].drain_outputs(), [expected], "{topic:?}");
    }
    assert!(
        net.brokers[1].metrics.is_empty(),
        "no counters for topics a peer made up"
    );
    // The real topic is delivered and counted.
    assert!(net.publish(0, "t", 1).is_accepted());
    assert_eq!(net.brokers[1].metrics("t").received, 1);
    assert_eq!(net.brokers[1].metrics.len(), 1);
}

#[test]
fn an_ack_that_leaves_a_group_delivery_unanswered_puts_it_back_in_the_queue() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "w1", Some("g"), 1);
    net.sub(2, "jobs", "w2", Some("g"), 1);
    net.live[1] = false;
    assert!(net.publish(0, "jobs", 1).is_accepted()); // message 1 → w1, unanswered
    let batch_id = *net.brokers[0].pending.keys().next().unwrap();
    let m1 = net.id(1);
    // Member 1 answers, but about a delivery the batch did not hold.
    let ack = DeliveryAck {
        batch_id,
        from: m1.clone(),
        statuses: vec![SubscriberStatus {
            subscriber: SubscriberId::new("w1"),
            message_id: 99,
            status: DeliveryStatus::Delivered,
        }],
    };
    net.events.clear();
    let delivered_before = net.brokers[0].metrics("jobs").delivered;
    net.brokers[0].handle(&m1, PubSubMessage::Ack(ack), 0);
    net.pump();
    // The one delivery counted is the requeued message's, to w2 (checked below).
    assert_eq!(
        net.brokers[0].metrics("jobs").delivered,
        delivered_before + 1,
        "the ack about a delivery w1 never had counts nothing"
    );
    assert!(net.events.contains(&(
        0,
        PubSubEvent::DeliveryFailed {
            topic: "jobs".into(),
            subscriber: SubscriberId::new("w1"),
            message_id: 1,
            status: DeliveryStatus::Timeout,
        }
    )));
    let last = net.got.last().unwrap();
    assert_eq!((last.node, last.message_id), (2, 1));
}

/// One step of the broadcast property.
#[derive(Debug, Clone)]
enum BroadcastOp {
    /// Node, subscriber, topic: subscribes locally (others learn it at the next sync).
    Subscribe(usize, usize, usize),
    /// Node, subscriber, topic: unsubscribes locally.
    Unsubscribe(usize, usize, usize),
    /// Every node learns every node's subscriptions.
    Sync,
    /// Node, topic, messages.
    Publish(usize, usize, u8),
}

fn broadcast_ops() -> impl Strategy<Value = Vec<BroadcastOp>> {
    let op = prop_oneof![
        (0..3usize, 0..3usize, 0..2usize).prop_map(|(n, s, t)| BroadcastOp::Subscribe(n, s, t)),
        (0..3usize, 0..3usize, 0..2usize).prop_map(|(n, s, t)| BroadcastOp::Unsubscribe(n, s, t)),
        Just(BroadcastOp::Sync),
        (0..3usize, 0..2usize, 1..4u8).prop_map(|(n, t, k)| BroadcastOp::Publish(n, t, k)),
    ];
    proptest::collection::vec(op, 1..60)
}

proptest! {
    /// Over random subscribes, unsubscribes, syncs and publishes, each broadcast
    /// subscriber present at publish time — in the publisher's registry and still
    /// subscribed on its member — receives each message exactly once, and nobody else
    /// receives it. Frames cross the wire format between brokers.
    #[test]
    fn each_present_broadcast_subscriber_receives_each_message_exactly_once(ops in broadcast_ops()) {
        const TOPICS: [&str; 2] = ["a", "b"];
        let mut net = Net::new(3, &PubSubConfig::new());
        for op in ops {
            match op {
                BroadcastOp::Subscribe(node, who, topic) => {
                    let who = SubscriberId::new(&alloc::format!("s{who}"));
                    net.brokers[node].subscribe(TOPICS[topic], &who, None, 1).unwrap();
                }
                BroadcastOp::Unsubscribe(node, who, topic) => {
                    let who = SubscriberId::new(&alloc::format!("s{who}"));
                    // Not subscribed is fine: nothing changes.
                    let _ = net.brokers[node].unsubscribe(TOPICS[topic], &who);
                }
                BroadcastOp::Sync => net.sync(),
                BroadcastOp::Publish(node, topic, count) => {
                    let topic = TOPICS[topic];
                    let mut expected: BTreeMap<(usize, SubscriberId), usize> = BTreeMap::new();
                    for s in net.brokers[node].registry().subscribers(topic) {
                        let member = (0..3).find(|i| net.id(*i) == s.member).unwrap();
                        if net.brokers[member]
                            .local
                            .contains_key(&(topic.into(), s.subscriber.clone()))
                        {
                            expected.insert((member, s.subscriber.clone()), 1);
                        }
                    }
                    let before = net.got.len();
                    let ack = net.publish(node, topic, usize::from(count));
                    let ids = match ack {
                        PublishAck::Accepted { message_ids } => {
                            prop_assert_eq!(message_ids.len(), usize::from(count));
                            message_ids
                        }
                        PublishAck::Rejected { reason } => {
                            prop_assert_eq!(reason, PublishRejection::NoSubscribers);
                            prop_assert!(!net.brokers[node].registry().has_topic(topic));
                            Vec::new()
                        }
                    };
                    let publisher = net.id(node);
                    for id in &ids {
                        let mut got: BTreeMap<(usize, SubscriberId), usize> = BTreeMap::new();
                        for g in net.got.iter().skip(before) {
                            if g.message_id == *id && g.publisher == publisher {
                                *got.entry((g.node, g.subscriber.clone())).or_default() += 1;
                            }
                        }
                        prop_assert_eq!(&got, &expected, "message {} from node {}", id, node);
                    }
                    let others = net.got.iter().skip(before)
                        .filter(|g| g.publisher != publisher || !ids.contains(&g.message_id))
                        .count();
                    prop_assert_eq!(others, 0, "a delivery of no message of this publish");
                }
            }
        }
    }
}

#[test]
fn acknowledged_deliveries_are_counted_in_the_latency_histogram_and_queues_are_gauged() {
    use crate::pubsub::LatencyHistogram;

    let config = PubSubConfig {
        group_queue_capacity: 4,
        ..PubSubConfig::new()
    };
    let mut net = Net::new(2, &config);
    net.sub(0, "t", "here", None, 1);
    net.sub(1, "t", "there", None, 1);
    net.live[1] = false; // its batch waits for a hand-made ack
    net.now = 1_000;
    assert!(net.publish(0, "t", 2).is_accepted());
    let batch_id = *net.brokers[0].pending.keys().next().unwrap();
    let m1 = net.id(1);
    let statuses = (1..=2)
        .map(|message_id| SubscriberStatus {
            subscriber: SubscriberId::new("there"),
            message_id,
            status: DeliveryStatus::Delivered,
        })
        .collect();
    let ack = PubSubMessage::Ack(DeliveryAck {
        batch_id,
        from: m1.clone(),
        statuses,
    });
    net.brokers[0].handle(&m1, ack, 1_037);
    let metrics = net.brokers[0].metrics("t");
    assert_eq!(metrics.delivered, 4, "2 here and 2 there");
    assert_eq!(metrics.latency.count(), metrics.delivered);
    assert_eq!(metrics.latency.sum_ms(), 2 * 37);
    let bucket = |ms: u64| {
        let at = LatencyHistogram::BOUNDS_MS.iter().position(|b| *b == ms);
        metrics.latency.counts()[at.unwrap()]
    };
    assert_eq!(bucket(1), 2, "the local deliveries took 0 ms");
    assert_eq!(bucket(50), 2, "37 ms is at most 50 ms");

    // A queue depth is a gauge: what waits now.
    net.live[1] = true;
    net.sub(1, "jobs", "w", Some("g"), 1);
    assert!(
        net.publish(0, "jobs", 3).is_accepted(),
        "1 in flight, 2 queued"
    );
    assert_eq!(net.brokers[0].metrics("jobs").queued, 2);
    let all = net.brokers[0].all_metrics();
    assert_eq!(all["jobs"].queued, 2);
    assert_eq!(all["t"].delivered, 4);
    assert_eq!(all["t"].queued, 0);
}

#[test]
fn a_remote_list_over_the_limits_is_cut_down_and_reported() {
    let config = PubSubConfig {
        max_subscriptions_per_member: 100,
        max_in_flight: 8,
        ..PubSubConfig::new()
    };
    let mut broker = PubSubBroker::new(MemberId::new("me", 1), config);
    broker.start().unwrap();
    let forger = MemberId::new("forger", 1);
    // 5,000 subscriptions, the first a group instance declaring an unbounded limit, one
    // to a topic no node would accept.
    let mut list: Vec<crate::pubsub::LocalSubscription> = (0..5_000)
        .map(|i| crate::pubsub::LocalSubscription {
            topic: alloc::format!("t{i}"),
            subscriber: SubscriberId::new("s"),
            group: (i == 0).then(|| "g".into()),
            max_in_flight: u32::MAX,
        })
        .collect();
    list.insert(
        1,
        crate::pubsub::LocalSubscription {
            topic: "chorus.reserved".into(),
            subscriber: SubscriberId::new("s"),
            group: None,
            max_in_flight: 1,
        },
    );
    let value = crate::pubsub::LocalSubscription::encode_all(&list);
    broker.sync_members([(&forger, Some(value.as_slice()))], &[], 0);
    assert_eq!(broker.registry().of_member(&forger).count(), 100);
    assert!(
        broker
            .registry()
            .subscribers("chorus.reserved")
            .next()
            .is_none()
    );
    let instance = broker
        .registry()
        .get("t0", &forger, &SubscriberId::new("s"));
    assert_eq!(instance.map(|s| s.max_in_flight), Some(8));
    let limited: Vec<PubSubEvent> = broker
        .drain_outputs()
        .into_iter()
        .filter_map(|o| match o {
            PubSubOutput::Event(e @ PubSubEvent::SubscriptionsLimited { .. }) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(
        limited,
        [PubSubEvent::SubscriptionsLimited {
            member: forger,
            declared: 5_001,
            kept: 100,
            in_flight_lowered: 1,
        }]
    );
    // Locally, a limit over the maximum is refused outright.
    assert_eq!(
        broker.subscribe("jobs", &SubscriberId::new("w"), Some("g"), 9),
        Err(crate::pubsub::PubSubError::InFlightTooLarge { asked: 9, max: 8 })
    );
}

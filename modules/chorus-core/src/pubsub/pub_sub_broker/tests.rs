use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::PubSubBroker;
use crate::pubsub::{
    DeliveryStatus, PubSub, PubSubConfig, PubSubEvent, PubSubMessage, PubSubOutput, PublishAck,
    PublishRejection, RemovalReason, SubscriberId,
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
                        PubSubOutput::Send { to, message } => sent.push((to, message)),
                        PubSubOutput::Deliver {
                            subscriber,
                            message_id,
                            publisher,
                            group,
                            ..
                        } => {
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
            for (to, message) in sent {
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
                    self.brokers[j].handle(decoded, now);
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
    assert!(net.events.iter().any(|(_, e)| matches!(
        e,
        PubSubEvent::PublishRejected {
            reason: PublishRejection::NotStarted,
            ..
        }
    )));
}

#[test]
fn a_lost_instance_hands_its_unfinished_messages_to_another() {
    let mut net = Net::new(3, &PubSubConfig::new());
    net.sub(1, "jobs", "a", Some("g"), 1);
    net.sub(2, "jobs", "b", Some("g"), 1);
    net.publish(0, "jobs", 3);
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
    net.publish(0, "t", 1);
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
fn an_unacknowledged_batch_times_out_and_frees_its_group_slot() {
    let mut net = Net::new(2, &PubSubConfig::new());
    net.sub(1, "jobs", "w", Some("g"), 1);
    net.live[1] = false; // crashed, but not yet out of the registry
    let now = net.now;
    assert!(
        net.brokers[0]
            .publish("jobs", vec![vec![1], vec![2]], now)
            .is_accepted()
    );
    net.pump();
    assert_eq!(net.brokers[0].pending_batches(), 1);
    net.brokers[0].tick(now + 5_000);
    net.pump();
    assert!(net.events.iter().any(|(_, e)| matches!(
        e,
        PubSubEvent::DeliveryFailed {
            status: DeliveryStatus::Timeout,
            ..
        }
    )));
    // At most once: the timed-out message is not queued again; the next one goes out.
    assert_eq!(net.brokers[0].group("jobs", "g").unwrap().queue_len(), 0);
}

#[test]
fn a_retained_message_reaches_a_subscriber_that_arrives_later() {
    let config = PubSubConfig::new().retain("prices");
    let mut net = Net::new(3, &config);
    net.sub(1, "prices", "early", None, 1);
    net.publish(0, "prices", 2);
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
    let _ = PubSubMessage::Completed;
}

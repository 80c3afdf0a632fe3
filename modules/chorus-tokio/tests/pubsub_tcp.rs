//! Distributed pub/sub between nodes over real TCP on 127.0.0.1, in one process:
//! broadcast to every node in publish order, a load-balanced group fed from another node,
//! an instance whose node crashes while holding a message, refused publishes, unsubscribing
//! by dropping a stream, a subscriber that falls behind, publishes larger than a frame, and
//! streams ending at shutdown. Every wait is bounded; every node is stopped.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::pubsub::{
    PubSubConfig, PubSubError, PubSubEvent, PublishAck, PublishRejection, RequeueReason,
};
use chorus_core::topology::MemberId;
use chorus_tokio::{Cluster, Delivery, NodeError, SubscriptionStream};
use futures_util::StreamExt;

/// The longest any single wait may take.
const LIMIT: Duration = Duration::from_secs(15);

#[path = "../src/test_support.rs"]
mod test_support;
use test_support::eventually;

async fn node(name: &str, seeds: &[String], config: PubSubConfig) -> Cluster {
    Cluster::builder()
        .name(name)
        .seeds(seeds.iter().cloned())
        .cluster_name("pubsub-test")
        .pub_sub_config(config)
        .start()
        .await
        .expect("node starts")
}

/// `n` nodes that all see each other; node `i` is named `n<i>`.
async fn cluster_of(n: usize, config: &PubSubConfig) -> Vec<Cluster> {
    let first = node("n0", &[], config.clone()).await;
    let seed = vec![first.address()];
    let mut nodes = vec![first];
    for i in 1..n {
        nodes.push(node(&format!("n{i}"), &seed, config.clone()).await);
    }
    let joined = eventually(LIMIT, || async {
        nodes.iter().all(|c| c.members().len() == n)
    })
    .await;
    assert!(joined, "all {n} nodes see each other");
    nodes
}

async fn shutdown_all(nodes: Vec<Cluster>) {
    for node in nodes {
        let _ = node.shutdown().await;
    }
}

/// Waits until every node in `nodes` has `count` subscriptions of `topic` in its registry.
async fn registries_hold(nodes: &[&Cluster], topic: &str, count: usize) -> bool {
    eventually(LIMIT, || async {
        for node in nodes {
            match node.subscriptions(topic).await {
                Ok(found) if found.len() == count => {}
                _ => return false,
            }
        }
        true
    })
    .await
}

/// The next delivery of `stream`, waiting at most `limit`.
async fn next_within(stream: &mut SubscriptionStream, limit: Duration) -> Option<Delivery> {
    tokio::time::timeout(limit, stream.next())
        .await
        .ok()
        .flatten()
}

fn number(delivery: &Delivery) -> u32 {
    u32::from_be_bytes(
        delivery
            .payload
            .as_ref()
            .try_into()
            .expect("a 4-byte payload"),
    )
}

/// Every pub/sub event `events` yields within `wait`, once it stays quiet that long.
async fn pub_sub_events(
    events: &mut chorus_tokio::ClusterEvents,
    wait: Duration,
) -> Vec<PubSubEvent> {
    let mut seen = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(wait, events.next()).await {
        if let ClusterEvent::PubSub(event) = event {
            seen.push(event);
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_reaches_every_broadcast_subscriber_once_in_publish_order_per_publisher() {
    let nodes = cluster_of(3, &PubSubConfig::new()).await;
    let mut streams = Vec::new();
    for node in &nodes {
        streams.push(node.subscribe("news").await.unwrap());
    }
    let all: Vec<&Cluster> = nodes.iter().collect();
    assert!(
        registries_hold(&all, "news", 3).await,
        "every node knows the three subscribers"
    );
    let publishers = [
        nodes[0].member_id().await.unwrap(),
        nodes[1].member_id().await.unwrap(),
    ];
    // Two nodes publish at once, one message per publish and one publish of many.
    let from_n0 = async {
        for i in 0..10u32 {
            let ack = nodes[0].publish_one("news", i.to_be_bytes()).await.unwrap();
            assert!(ack.is_accepted(), "{ack:?}");
        }
        let many = (10..20u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let ack = nodes[0].publish("news", many).await.unwrap();
        let PublishAck::Accepted { message_ids } = ack else {
            panic!("accepted: {ack:?}");
        };
        assert_eq!(message_ids.len(), 10);
    };
    let from_n1 = async {
        for i in 100..120u32 {
            let ack = nodes[1].publish_one("news", i.to_be_bytes()).await.unwrap();
            assert!(ack.is_accepted(), "{ack:?}");
        }
    };
    tokio::join!(from_n0, from_n1);

    for (i, stream) in streams.iter_mut().enumerate() {
        let mut got: BTreeMap<MemberId, Vec<u32>> = BTreeMap::new();
        for _ in 0..40 {
            let delivery = next_within(stream, LIMIT)
                .await
                .unwrap_or_else(|| panic!("subscriber on n{i} gets all 40 messages"));
            assert_eq!(delivery.topic, "news");
            assert_eq!(delivery.group, None);
            got.entry(delivery.publisher.clone())
                .or_default()
                .push(number(&delivery));
        }
        assert_eq!(
            got.get(&publishers[0]).unwrap(),
            &(0..20).collect::<Vec<_>>(),
            "n{i}: n0's messages once each, in publish order"
        );
        assert_eq!(
            got.get(&publishers[1]).unwrap(),
            &(100..120).collect::<Vec<_>>(),
            "n{i}: n1's messages once each, in publish order"
        );
        assert!(
            next_within(stream, Duration::from_millis(300))
                .await
                .is_none(),
            "n{i}: nothing twice"
        );
        assert_eq!(stream.dropped(), 0);
    }
    // The metrics are those of the publisher's last gossip round: wait for them.
    let counted = eventually(LIMIT, || async {
        let metrics = nodes[0].metrics().topic("news");
        metrics.published == 20 && metrics.delivered == 60
    })
    .await;
    assert!(
        counted,
        "20 published, every delivery acknowledged to the publisher"
    );
    drop(streams);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_three_instances_takes_each_of_thirty_messages_exactly_once() {
    let nodes = cluster_of(4, &PubSubConfig::new()).await;
    let got: Arc<Mutex<Vec<(usize, u32)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for (i, node) in nodes.iter().enumerate().skip(1) {
        let mut stream = node.subscribe_group("jobs", "workers", 1).await.unwrap();
        assert_eq!(stream.group(), Some("workers"));
        let got = Arc::clone(&got);
        workers.push(tokio::spawn(async move {
            while let Some(delivery) = next_within(&mut stream, LIMIT).await {
                assert_eq!(delivery.group.as_deref(), Some("workers"));
                got.lock().unwrap().push((i, number(&delivery)));
                // Some work, then the slot is free for the next message.
                tokio::time::sleep(Duration::from_millis(5)).await;
                delivery.complete().await.unwrap();
            }
        }));
    }
    assert!(registries_hold(&[&nodes[0]], "jobs", 3).await);
    let payloads = (0..30u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let ack = nodes[0].publish("jobs", payloads).await.unwrap();
    assert!(ack.is_accepted(), "3 handed out, 27 queued: {ack:?}");

    let all = eventually(LIMIT, || async { got.lock().unwrap().len() >= 30 }).await;
    assert!(all, "every message handed out: {:?}", got.lock().unwrap());
    let completed = eventually(LIMIT, || async {
        nodes[0].metrics().topic("jobs").completed == 30
    })
    .await;
    assert!(completed, "the publisher saw every completion");
    // Nothing more comes: no duplicates.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = got.lock().unwrap().clone();
    let mut numbers: Vec<u32> = got.iter().map(|(_, n)| *n).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..30).collect::<Vec<_>>(), "each exactly once");
    for i in 1..4 {
        assert!(
            got.iter().any(|(node, _)| *node == i),
            "instance on n{i} took part: {got:?}"
        );
    }
    let metrics = nodes[0].metrics().topic("jobs");
    assert_eq!((metrics.published, metrics.requeued), (30, 0));
    for worker in workers {
        worker.abort();
    }
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_held_by_an_instance_whose_node_crashes_goes_to_another_instance() {
    let nodes = cluster_of(3, &PubSubConfig::new()).await;
    let mut events = nodes[0].events();
    let mut first = nodes[1]
        .subscribe_group("jobs", "workers", 1)
        .await
        .unwrap();
    let mut second = nodes[2]
        .subscribe_group("jobs", "workers", 1)
        .await
        .unwrap();
    assert!(registries_hold(&[&nodes[0]], "jobs", 2).await);
    let ack = nodes[0]
        .publish_one("jobs", 7u32.to_be_bytes())
        .await
        .unwrap();
    let PublishAck::Accepted { message_ids } = ack else {
        panic!("accepted: {ack:?}");
    };
    // Whichever instance holds it, it does not complete it; its node crashes.
    let (held, crashed, mut survivor) = tokio::select! {
        Some(d) = first.next() => (d, 1, second),
        Some(d) = second.next() => (d, 2, first),
        () = tokio::time::sleep(LIMIT) => panic!("no instance got the message"),
    };
    assert_eq!(held.message_id, message_ids[0]);
    let mut nodes: Vec<Option<Cluster>> = nodes.into_iter().map(Some).collect();
    let crashed_id = nodes[crashed].as_ref().unwrap().member_id().await.unwrap();
    nodes[crashed].take().unwrap().abort();

    let again = next_within(&mut survivor, LIMIT * 2)
        .await
        .expect("the other instance gets the message once the crashed member is blocked");
    assert_eq!(again.message_id, held.message_id, "the same message");
    assert_eq!(again.publisher, held.publisher);
    assert_eq!(number(&again), 7);
    let publisher = nodes[0].as_ref().unwrap();
    assert!(
        publisher.topology().blocked().contains(&crashed_id),
        "handed on only after the member was blocked"
    );
    again.complete().await.unwrap();
    let seen = pub_sub_events(&mut events, Duration::from_millis(300)).await;
    assert!(
        seen.iter().any(|e| matches!(
            e,
            PubSubEvent::Requeued { member, reason: RequeueReason::InstanceGone, .. }
                if *member == crashed_id
        )),
        "the publisher reports the requeue: {seen:?}"
    );
    let completed = eventually(LIMIT, || async {
        publisher.metrics().topic("jobs").completed == 1
    })
    .await;
    assert!(completed);
    drop(survivor);
    shutdown_all(nodes.into_iter().flatten().collect()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_are_refused_with_the_reason_and_nothing_is_sent() {
    let config = PubSubConfig {
        max_payload_bytes: 1_024,
        ..PubSubConfig::new()
    };
    let nodes = cluster_of(2, &config).await;
    let (publisher, subscriber) = (&nodes[0], &nodes[1]);
    let refused = |reason| PublishAck::Rejected { reason };

    assert_eq!(
        publisher
            .publish_one("nobody", b"x".to_vec())
            .await
            .unwrap(),
        refused(PublishRejection::NoSubscribers)
    );
    assert_eq!(
        publisher.publish_one("", b"x".to_vec()).await.unwrap(),
        refused(PublishRejection::InvalidTopic)
    );
    assert_eq!(
        publisher
            .publish_one("chorus.mine", b"x".to_vec())
            .await
            .unwrap(),
        refused(PublishRejection::InvalidTopic)
    );

    let mut big = subscriber.subscribe("big").await.unwrap();
    assert!(registries_hold(&[publisher], "big", 1).await);
    assert_eq!(
        publisher.publish_one("big", vec![0; 1_025]).await.unwrap(),
        refused(PublishRejection::PayloadTooLarge)
    );
    assert_eq!(
        publisher
            .publish("big", vec![vec![0; 1_024], vec![0; 1_025]])
            .await
            .unwrap(),
        refused(PublishRejection::PayloadTooLarge),
        "one payload too large refuses the whole publish"
    );
    assert!(
        publisher
            .publish_one("big", vec![1; 1_024])
            .await
            .unwrap()
            .is_accepted()
    );
    let delivery = next_within(&mut big, LIMIT)
        .await
        .expect("the largest payload arrives");
    assert_eq!(delivery.payload.len(), 1_024);
    assert!(
        next_within(&mut big, Duration::from_millis(200))
            .await
            .is_none(),
        "nothing of the refused publishes was sent"
    );

    // Subscriptions are checked too.
    assert_eq!(
        subscriber
            .subscribe_group("jobs", "g2", 0)
            .await
            .unwrap_err(),
        NodeError::PubSub(PubSubError::ZeroInFlight)
    );
    assert!(matches!(
        subscriber.subscribe("").await,
        Err(NodeError::PubSub(PubSubError::InvalidTopic { .. }))
    ));
    drop(big);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_group_queue_refuses_the_publish_until_completions_make_room() {
    let config = PubSubConfig {
        group_queue_capacity: 2,
        ..PubSubConfig::new()
    };
    let nodes = cluster_of(2, &config).await;
    let (publisher, subscriber) = (&nodes[0], &nodes[1]);
    let refused = |reason| PublishAck::Rejected { reason };
    // One instance that does not complete: one message in flight, two queued, then full.
    let mut busy = subscriber.subscribe_group("jobs", "g", 1).await.unwrap();
    assert!(registries_hold(&[publisher], "jobs", 1).await);
    let three = (0..3u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert!(
        publisher
            .publish("jobs", three)
            .await
            .unwrap()
            .is_accepted()
    );
    assert_eq!(
        publisher
            .publish_one("jobs", 3u32.to_be_bytes())
            .await
            .unwrap(),
        refused(PublishRejection::QueueFull)
    );
    let first = next_within(&mut busy, LIMIT)
        .await
        .expect("the first message");
    assert_eq!(number(&first), 0);
    assert!(
        next_within(&mut busy, Duration::from_millis(200))
            .await
            .is_none(),
        "an instance that has not completed takes nothing more"
    );
    subscriber.complete(&first).await.unwrap();
    let second = next_within(&mut busy, LIMIT)
        .await
        .expect("a completion lets the queue flow");
    assert_eq!(number(&second), 1);
    let room = eventually(LIMIT, || async {
        publisher
            .publish_one("jobs", 4u32.to_be_bytes())
            .await
            .unwrap()
            .is_accepted()
    })
    .await;
    assert!(room, "the queue has room again");
    let rejected = eventually(LIMIT, || async {
        publisher.metrics().topic("jobs").rejected == 1
    })
    .await;
    assert!(rejected, "the refused publish is counted");

    drop(busy);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_subscription_stream_unsubscribes_it_on_every_node() {
    let nodes = cluster_of(3, &PubSubConfig::new()).await;
    let mut events = nodes[0].events();
    let stream = nodes[1].subscribe("news").await.unwrap();
    let subscriber = stream.subscriber().clone();
    let all: Vec<&Cluster> = nodes.iter().collect();
    assert!(registries_hold(&all, "news", 1).await);
    assert!(
        nodes[0]
            .publish_one("news", b"hi".to_vec())
            .await
            .unwrap()
            .is_accepted()
    );

    drop(stream);
    assert!(
        registries_hold(&all, "news", 0).await,
        "every registry loses the subscription"
    );
    assert_eq!(
        nodes[0]
            .publish_one("news", b"again".to_vec())
            .await
            .unwrap(),
        PublishAck::Rejected {
            reason: PublishRejection::NoSubscribers
        }
    );
    let seen = pub_sub_events(&mut events, Duration::from_millis(200)).await;
    assert!(
        seen.iter().any(|e| matches!(
            e,
            PubSubEvent::Unsubscribed { subscriber: s, .. } if *s == subscriber
        )),
        "reported as Unsubscribed: {seen:?}"
    );

    // The explicit way waits for the node and does the same.
    let stream = nodes[2].subscribe_group("jobs", "g", 1).await.unwrap();
    assert!(registries_hold(&all, "jobs", 1).await);
    nodes[2].unsubscribe(stream).await.unwrap();
    assert!(registries_hold(&all, "jobs", 0).await);
    assert_eq!(
        nodes[0].publish_one("jobs", b"x".to_vec()).await.unwrap(),
        PublishAck::Rejected {
            reason: PublishRejection::NoSubscribers
        }
    );
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_subscriber_that_falls_behind_misses_messages_with_a_report() {
    let publisher = node("p", &[], PubSubConfig::new()).await;
    let slow = Cluster::builder()
        .name("slow")
        .seed(publisher.address())
        .cluster_name("pubsub-test")
        .subscription_buffer(2)
        .start()
        .await
        .unwrap();
    let mut events = slow.events();
    let mut stream = slow.subscribe("news").await.unwrap();
    assert!(registries_hold(&[&publisher], "news", 1).await);
    let five = (0..5u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert!(publisher.publish("news", five).await.unwrap().is_accepted());
    let reported = eventually(LIMIT, || async { stream.dropped() == 3 }).await;
    assert!(reported, "three of five did not fit a buffer of two");
    assert_eq!(stream.queued(), 2);
    let kept = [
        number(&next_within(&mut stream, LIMIT).await.unwrap()),
        number(&next_within(&mut stream, LIMIT).await.unwrap()),
    ];
    assert_eq!(kept, [0, 1], "the buffer keeps the oldest");
    let seen = pub_sub_events(&mut events, Duration::from_millis(200)).await;
    let dropped: Vec<u64> = seen
        .iter()
        .filter_map(|e| match e {
            PubSubEvent::DeliveryDropped { message_id, .. } => Some(*message_id),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, [3, 4, 5], "each drop is reported");
    // With room again, messages arrive again.
    assert!(
        publisher
            .publish_one("news", 9u32.to_be_bytes())
            .await
            .unwrap()
            .is_accepted()
    );
    assert_eq!(number(&next_within(&mut stream, LIMIT).await.unwrap()), 9);
    drop(stream);
    shutdown_all(vec![slow, publisher]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_larger_than_a_frame_arrives_whole_in_several_batches() {
    let nodes = cluster_of(2, &PubSubConfig::new()).await;
    let mut stream = nodes[1].subscribe("files").await.unwrap();
    assert!(registries_hold(&[&nodes[0]], "files", 1).await);
    // Six payloads of 200 KiB: 1.2 MB, more than one 1 MiB frame holds.
    let payloads: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 200 * 1024]).collect();
    assert!(
        nodes[0]
            .publish("files", payloads)
            .await
            .unwrap()
            .is_accepted()
    );
    for i in 0..6u8 {
        let delivery = next_within(&mut stream, LIMIT)
            .await
            .expect("every payload arrives");
        assert_eq!(delivery.payload.len(), 200 * 1024);
        assert!(delivery.payload.iter().all(|b| *b == i), "in order");
    }
    let metrics = nodes[0].metrics().transport;
    assert_eq!(metrics.oversized_frames, 0);
    assert_eq!(metrics.decode_errors, 0);
    drop(stream);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_shuts_down_ends_its_streams_and_leaves_the_registries() {
    let nodes = cluster_of(2, &PubSubConfig::new()).await;
    let mut stream = nodes[1].subscribe("news").await.unwrap();
    assert!(registries_hold(&[&nodes[0]], "news", 1).await);
    let mut nodes = nodes;
    let leaving = nodes.pop().unwrap();
    leaving.shutdown().await.unwrap();
    let ended = tokio::time::timeout(LIMIT, stream.next()).await;
    assert!(matches!(ended, Ok(None)), "the stream ends");
    assert!(registries_hold(&[&nodes[0]], "news", 0).await);
    assert_eq!(
        nodes[0].publish_one("news", b"x".to_vec()).await.unwrap(),
        PublishAck::Rejected {
            reason: PublishRejection::NoSubscribers
        }
    );
    shutdown_all(nodes).await;
}

use std::sync::Arc;

use chorus_core::node::LocalDelivery;
use chorus_core::pubsub::{PubSub, PubSubConfig, PubSubError, SubscriberId};
use chorus_core::topology::MemberId;
use tokio::sync::mpsc;

use super::{LocalSink, LocalSubscribers, Offered, SinkCounters, TokioPubSub, lock};
use crate::Delivery;

fn running(pub_sub: &TokioPubSub) -> bool {
    lock(&pub_sub.shared).is_started()
}

#[test]
fn starting_twice_and_stopping_a_stopped_component_are_refused() {
    let mut pub_sub = TokioPubSub::new(PubSubConfig::new());
    assert_eq!(pub_sub.stop(), Err(PubSubError::NotStarted));
    pub_sub.start().unwrap();
    assert!(running(&pub_sub));
    assert_eq!(pub_sub.start(), Err(PubSubError::AlreadyStarted));
    pub_sub.stop().unwrap();
    assert!(!running(&pub_sub));
    pub_sub.start().unwrap();
    assert_eq!(
        lock(&pub_sub.shared).switch(),
        (true, 2),
        "each start is told apart, so that the loop sees a stop and a start in between"
    );
}

#[test]
fn batches_that_do_not_fit_a_frame_refuse_to_start_with_the_settings_to_change() {
    let config = PubSubConfig {
        max_payload_bytes: 2 << 20,
        ..PubSubConfig::new()
    };
    let mut pub_sub = TokioPubSub::new(config.clone());
    let Err(PubSubError::Driver { reason }) = pub_sub.start() else {
        panic!("refused");
    };
    assert!(reason.contains("max_frame_bytes"), "{reason}");
    assert!(!running(&pub_sub));
    let mut fits = TokioPubSub::new(config).with_max_frame_bytes(4 << 20);
    fits.start().unwrap();
}

#[test]
fn a_zero_delivery_timeout_refuses_to_start() {
    let config = PubSubConfig {
        delivery_timeout_ms: 0,
        ..PubSubConfig::new()
    };
    let mut pub_sub = TokioPubSub::new(config);
    assert!(matches!(pub_sub.start(), Err(PubSubError::Driver { .. })));
}

struct Stream {
    receiver: mpsc::UnboundedReceiver<Delivery>,
    counters: Arc<SinkCounters>,
}

fn stream(local: &mut LocalSubscribers, subscriber: &str, topic: &str) -> Stream {
    let (sender, receiver) = mpsc::unbounded_channel();
    let counters = Arc::new(SinkCounters::default());
    local.insert(
        SubscriberId::new(subscriber),
        topic,
        LocalSink::new(sender, Arc::clone(&counters)),
    );
    Stream { receiver, counters }
}

fn delivery(subscriber: &str, message_id: u64, group: Option<&str>) -> LocalDelivery {
    LocalDelivery {
        subscriber: SubscriberId::new(subscriber),
        topic: "news".into(),
        publisher: MemberId::new("p", 1),
        message_id,
        payload: Arc::from(vec![message_id as u8]),
        group: group.map(str::to_string),
    }
}

fn received(stream: &mut Stream) -> Vec<u64> {
    let mut ids = Vec::new();
    while let Ok(d) = stream.receiver.try_recv() {
        stream.counters.take_queued();
        ids.push(d.message_id);
    }
    ids
}

#[test]
fn a_full_broadcast_buffer_drops_the_delivery_and_counts_it() {
    let mut local = LocalSubscribers::new(2);
    let mut news = stream(&mut local, "s1", "news");
    let offered: Vec<Offered> = (1..=3)
        .map(|id| local.offer(delivery("s1", id, None)))
        .collect();
    assert_eq!(
        offered,
        [Offered::Queued, Offered::Queued, Offered::Dropped]
    );
    assert_eq!(news.counters.dropped(), 1);
    assert_eq!(
        received(&mut news),
        [1, 2],
        "the buffer keeps what it had room for"
    );
    assert_eq!(local.offer(delivery("s1", 4, None)), Offered::Queued);
    assert_eq!(received(&mut news), [4]);
}

#[test]
fn group_deliveries_are_never_dropped_whatever_the_buffer() {
    let mut local = LocalSubscribers::new(1);
    let mut jobs = stream(&mut local, "w", "jobs");
    for id in 1..=3 {
        assert_eq!(local.offer(delivery("w", id, Some("g"))), Offered::Queued);
    }
    assert_eq!(received(&mut jobs), [1, 2, 3]);
    assert_eq!(jobs.counters.dropped(), 0);
}

#[test]
fn a_dropped_or_unknown_stream_is_closed_and_taken_out() {
    let mut local = LocalSubscribers::new(8);
    let gone = stream(&mut local, "s1", "news");
    let _kept = stream(&mut local, "s2", "news");
    drop(gone.receiver);
    assert_eq!(local.offer(delivery("s1", 1, None)), Offered::Closed);
    assert_eq!(local.offer(delivery("nobody", 1, None)), Offered::Closed);
    assert_eq!(
        local.take_closed(),
        [("news".to_string(), SubscriberId::new("s1"))]
    );
    assert!(local.take_closed().is_empty(), "taken out once");
    assert_eq!(local.offer(delivery("s2", 1, None)), Offered::Queued);
}

#[test]
fn stopping_ends_every_stream() {
    let mut pub_sub = TokioPubSub::new(PubSubConfig::new());
    pub_sub.start().unwrap();
    let mut news = stream(&mut lock(&pub_sub.shared), "s1", "news");
    pub_sub.stop().unwrap();
    assert!(matches!(
        news.receiver.try_recv(),
        Err(mpsc::error::TryRecvError::Disconnected)
    ));
    assert_eq!(news.counters.queued(), 0);
}

use std::sync::Arc;

use chorus_core::pubsub::{
    PubSub, PubSubBroker, PubSubConfig, PubSubError, PubSubEvent, PublishAck, SubscriberId,
};
use chorus_core::topology::MemberId;
use tokio::sync::mpsc;

use super::{LocalSink, PubSubState, SinkCounters, TokioPubSub};
use crate::Delivery;

fn member() -> MemberId {
    MemberId::new("p", 1)
}

/// A started state of one node whose registry knows its own subscribers.
fn state(buffer: usize) -> PubSubState {
    let mut state = PubSubState::new(PubSubBroker::new(member(), PubSubConfig::new()), buffer);
    state.start().unwrap();
    state
}

struct Local {
    receiver: mpsc::UnboundedReceiver<Delivery>,
    counters: Arc<SinkCounters>,
    subscriber: SubscriberId,
}

fn subscribe(state: &mut PubSubState, topic: &str, group: Option<&str>, limit: u32) -> Local {
    let (sender, receiver) = mpsc::unbounded_channel();
    let counters = Arc::new(SinkCounters::default());
    let subscriber = state
        .subscribe(
            topic,
            group,
            limit,
            LocalSink::new(sender, Arc::clone(&counters)),
        )
        .unwrap();
    let work = state.take_work();
    assert!(work.subscriptions.is_some(), "the new value is handed out");
    state.sync_registry(std::iter::empty());
    let _ = state.take_work();
    Local {
        receiver,
        counters,
        subscriber,
    }
}

fn received(local: &mut Local) -> Vec<u64> {
    let mut ids = Vec::new();
    while let Ok(delivery) = local.receiver.try_recv() {
        local.counters.take_queued();
        ids.push(delivery.message_id);
    }
    ids
}

#[test]
fn starting_twice_and_stopping_a_stopped_component_are_refused() {
    let mut pub_sub = TokioPubSub::new(member(), PubSubConfig::new());
    assert_eq!(pub_sub.stop(), Err(PubSubError::NotStarted));
    pub_sub.start().unwrap();
    assert!(pub_sub.is_running());
    assert_eq!(pub_sub.start(), Err(PubSubError::AlreadyStarted));
    pub_sub.stop().unwrap();
    assert!(!pub_sub.is_running());
    pub_sub.start().unwrap();
}

#[test]
fn batches_that_do_not_fit_a_frame_refuse_to_start_with_the_settings_to_change() {
    let config = PubSubConfig {
        max_payload_bytes: 2 << 20,
        ..PubSubConfig::new()
    };
    let mut pub_sub = TokioPubSub::new(member(), config);
    let Err(PubSubError::Driver { reason }) = pub_sub.start() else {
        panic!("refused");
    };
    assert!(reason.contains("max_frame_bytes"), "{reason}");
    assert!(!pub_sub.is_running());
    let mut fits = TokioPubSub::new(
        member(),
        PubSubConfig {
            max_payload_bytes: 2 << 20,
            ..PubSubConfig::new()
        },
    )
    .with_max_frame_bytes(4 << 20);
    fits.start().unwrap();
}

#[test]
fn a_zero_delivery_timeout_refuses_to_start() {
    let config = PubSubConfig {
        delivery_timeout_ms: 0,
        ..PubSubConfig::new()
    };
    let mut pub_sub = TokioPubSub::new(member(), config);
    assert!(matches!(pub_sub.start(), Err(PubSubError::Driver { .. })));
}

#[test]
fn a_full_broadcast_buffer_drops_the_delivery_counts_it_and_reports_it() {
    let mut state = state(2);
    let mut local = subscribe(&mut state, "news", None, 1);
    let ack = state.publish("news", vec![vec![1], vec![2], vec![3]]);
    assert!(ack.is_accepted(), "{ack:?}");
    let work = state.take_work();
    let dropped: Vec<&PubSubEvent> = work
        .events
        .iter()
        .filter(|e| matches!(e, PubSubEvent::DeliveryDropped { .. }))
        .collect();
    assert_eq!(
        dropped,
        [&PubSubEvent::DeliveryDropped {
            topic: "news".into(),
            subscriber: local.subscriber.clone(),
            publisher: member(),
            message_id: 3,
        }]
    );
    assert_eq!(local.counters.dropped(), 1);
    assert_eq!(
        received(&mut local),
        [1, 2],
        "the buffer keeps what it had room for"
    );
    // Room again: the next message gets in.
    assert!(state.publish("news", vec![vec![4]]).is_accepted());
    let _ = state.take_work();
    assert_eq!(received(&mut local), [4]);
}

#[test]
fn group_deliveries_are_never_dropped_whatever_the_buffer() {
    let mut state = state(1);
    let mut local = subscribe(&mut state, "jobs", Some("g"), 3);
    assert!(
        state
            .publish("jobs", vec![vec![1], vec![2], vec![3]])
            .is_accepted()
    );
    let work = state.take_work();
    assert!(
        !work
            .events
            .iter()
            .any(|e| matches!(e, PubSubEvent::DeliveryDropped { .. }))
    );
    assert_eq!(received(&mut local), [1, 2, 3]);
    assert_eq!(local.counters.dropped(), 0);
}

#[test]
fn a_dropped_stream_is_unsubscribed_at_its_next_delivery_and_its_message_requeued() {
    let mut state = state(8);
    let first = subscribe(&mut state, "jobs", Some("g"), 1);
    let mut second = subscribe(&mut state, "jobs", Some("g"), 1);
    drop(first.receiver);
    // s1 comes first in round-robin order: the message finds its stream gone.
    assert!(state.publish("jobs", vec![vec![1]]).is_accepted());
    let work = state.take_work();
    assert!(
        work.subscriptions.is_some(),
        "the subscription leaves gossip"
    );
    state.sync_registry(std::iter::empty());
    let work = state.take_work();
    assert!(work.events.iter().any(|e| matches!(
        e,
        PubSubEvent::Requeued { subscriber, .. } if *subscriber == first.subscriber
    )));
    assert_eq!(received(&mut second), [1], "the other instance gets it");
}

#[test]
fn sweeping_unsubscribes_dropped_streams() {
    let mut state = state(8);
    let local = subscribe(&mut state, "news", None, 1);
    drop(local.receiver);
    state.sweep();
    assert!(state.take_work().subscriptions.is_some());
    state.sync_registry(std::iter::empty());
    let _ = state.take_work();
    assert_eq!(
        state.publish("news", vec![vec![1]]),
        PublishAck::Rejected {
            reason: chorus_core::pubsub::PublishRejection::NoSubscribers
        }
    );
}

#[test]
fn stopping_ends_every_stream_and_refuses_publishes() {
    let mut state = state(8);
    let mut local = subscribe(&mut state, "news", None, 1);
    state.stop().unwrap();
    assert!(state.take_work().subscriptions.is_some());
    assert!(matches!(
        local.receiver.try_recv(),
        Err(mpsc::error::TryRecvError::Disconnected)
    ));
    assert_eq!(
        state.publish("news", vec![vec![1]]),
        PublishAck::Rejected {
            reason: chorus_core::pubsub::PublishRejection::NotStarted
        }
    );
    let (sender, _receiver) = mpsc::unbounded_channel();
    let sink = LocalSink::new(sender, Arc::new(SinkCounters::default()));
    assert_eq!(
        state.subscribe("news", None, 1, sink),
        Err(PubSubError::NotStarted)
    );
}

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{EventStream, Subscription};

fn recorder(stream: &EventStream<u32>) -> (Subscription<u32>, Arc<spin::Mutex<Vec<u32>>>) {
    let seen = Arc::new(spin::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let sub = stream.subscribe(move |e| sink.lock().push(*e));
    (sub, seen)
}

#[test]
fn every_subscriber_receives_every_event_in_order() {
    let stream = EventStream::new();
    let (_a, seen_a) = recorder(&stream);
    let (_b, seen_b) = recorder(&stream);
    stream.publish(1);
    stream.publish(2);
    assert_eq!(*seen_a.lock(), vec![1, 2]);
    assert_eq!(*seen_b.lock(), vec![1, 2]);
}

#[test]
fn dropping_the_handle_unsubscribes() {
    let stream = EventStream::new();
    let (sub, seen) = recorder(&stream);
    stream.publish(1);
    drop(sub);
    stream.publish(2);
    assert_eq!(*seen.lock(), vec![1]);
    assert_eq!(stream.subscriber_count(), 0);
}

#[test]
fn explicit_unsubscribe_stops_delivery_and_reports_it() {
    let stream = EventStream::new();
    let (sub, seen) = recorder(&stream);
    assert!(sub.unsubscribe());
    stream.publish(7);
    assert!(seen.lock().is_empty());
}

#[test]
fn unsubscribe_after_the_stream_is_gone_returns_false() {
    let stream = EventStream::<u32>::new();
    let (sub, _) = recorder(&stream);
    drop(stream);
    assert!(!sub.unsubscribe());
}

#[test]
fn detached_subscription_keeps_receiving() {
    let stream = EventStream::new();
    let (sub, seen) = recorder(&stream);
    sub.detach();
    stream.publish(3);
    assert_eq!(*seen.lock(), vec![3]);
    assert_eq!(stream.subscriber_count(), 1);
}

#[test]
fn subscriber_may_publish_from_its_callback() {
    let stream = EventStream::new();
    let inner = stream.clone();
    let _echo = stream.subscribe(move |e: &u32| {
        if *e < 3 {
            inner.publish(e + 1);
        }
    });
    let (_rec, seen) = recorder(&stream);
    stream.publish(0);
    // Nested publishes are delivered depth-first: 0 triggers 1 triggers 2 triggers 3.
    assert_eq!(*seen.lock(), vec![3, 2, 1, 0]);
}

#[test]
fn subscriber_may_unsubscribe_itself_from_its_callback() {
    let stream = EventStream::new();
    let slot: Arc<spin::Mutex<Option<Subscription<u32>>>> = Arc::new(spin::Mutex::new(None));
    let calls = Arc::new(AtomicUsize::new(0));
    let (slot_in, calls_in) = (Arc::clone(&slot), Arc::clone(&calls));
    let sub = stream.subscribe(move |_| {
        calls_in.fetch_add(1, Ordering::SeqCst);
        let own = slot_in.lock().take();
        if let Some(own) = own {
            assert!(own.unsubscribe());
        }
    });
    *slot.lock() = Some(sub);
    stream.publish(1);
    stream.publish(2);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(stream.subscriber_count(), 0);
}

#[test]
fn subscriber_may_subscribe_another_from_its_callback() {
    let stream = EventStream::new();
    let inner = stream.clone();
    let late: Arc<spin::Mutex<Vec<Subscription<u32>>>> = Arc::new(spin::Mutex::new(Vec::new()));
    let late_in = Arc::clone(&late);
    let _s = stream.subscribe(move |_| {
        let sub = inner.subscribe(|_| {});
        late_in.lock().push(sub);
    });
    stream.publish(1);
    assert_eq!(stream.subscriber_count(), 2);
}

#[test]
fn replay_hands_the_last_n_events_to_a_new_subscriber() {
    let stream = EventStream::with_replay(2);
    for e in 1..=4 {
        stream.publish(e);
    }
    let (_sub, seen) = recorder(&stream);
    stream.publish(5);
    assert_eq!(*seen.lock(), vec![3, 4, 5]);
}

#[test]
fn zero_replay_keeps_nothing() {
    let stream = EventStream::with_replay(0);
    stream.publish(1);
    let (_sub, seen) = recorder(&stream);
    assert!(seen.lock().is_empty());
    assert_eq!(stream.replay_capacity(), 0);
}

extern crate std;

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::{EventClass, EventStream, Subscription};

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

#[test]
fn replayed_events_reach_a_new_subscriber_before_a_live_one_from_another_thread() {
    let stream = EventStream::with_replay(3);
    for e in 1..=3 {
        stream.publish(e);
    }
    let seen = Arc::new(spin::Mutex::new(Vec::new()));
    let (sink, live) = (Arc::clone(&seen), stream.clone());
    let _sub = stream.subscribe(move |e: &u32| {
        sink.lock().push(*e);
        if *e == 1 {
            // While the replay is under way, another thread publishes and finishes
            // publishing before the replay goes on.
            let live = live.clone();
            std::thread::spawn(move || live.publish(100))
                .join()
                .unwrap();
        }
    });
    assert_eq!(*seen.lock(), vec![1, 2, 3, 100]);
}

#[test]
fn an_event_a_subscriber_publishes_during_its_replay_comes_after_the_replay() {
    let stream = EventStream::with_replay(2);
    stream.publish(1);
    stream.publish(2);
    let seen = Arc::new(spin::Mutex::new(Vec::new()));
    let (sink, live) = (Arc::clone(&seen), stream.clone());
    let _sub = stream.subscribe(move |e: &u32| {
        sink.lock().push(*e);
        if *e == 1 {
            live.publish(10);
        }
    });
    assert_eq!(*seen.lock(), vec![1, 2, 10]);
}

#[test]
fn subscribers_joining_during_concurrent_publishes_see_every_event_once_in_order() {
    const SUBSCRIBERS: usize = 48;
    let stream = EventStream::with_replay(16);
    let subscribed = AtomicBool::new(false);
    let (subscribers, published) = std::thread::scope(|scope| {
        let publisher = stream.clone();
        let subscribed = &subscribed;
        // Publishes until every subscription is made, so that each one races live events.
        let publishing = scope.spawn(move || {
            let mut next = 0u32;
            while !subscribed.load(Ordering::SeqCst) || next < 100 {
                publisher.publish(next);
                next += 1;
            }
            next
        });
        let mut subscribers = Vec::new();
        while subscribers.len() < SUBSCRIBERS {
            subscribers.push(recorder(&stream));
            for _ in 0..20 {
                std::thread::yield_now();
            }
        }
        subscribed.store(true, Ordering::SeqCst);
        (subscribers, publishing.join().unwrap())
    });
    for (_sub, seen) in &subscribers {
        let seen = seen.lock();
        // Replay then live, with nothing lost, repeated or reordered in between.
        assert!(
            seen.windows(2).all(|w| w[1] == w[0] + 1),
            "gap or reordering: {seen:?}"
        );
        assert_eq!(seen.last(), Some(&(published - 1)));
    }
}

#[test]
fn events_published_during_a_hold_are_delivered_in_order_when_it_goes() {
    let stream = EventStream::new();
    let (_sub, seen) = recorder(&stream);
    let hold = stream.hold();
    stream.publish(1);
    stream.publish(2);
    assert!(seen.lock().is_empty(), "nothing runs while a hold is alive");
    drop(hold);
    assert_eq!(*seen.lock(), vec![1, 2]);
    stream.publish(3);
    assert_eq!(*seen.lock(), vec![1, 2, 3]);
}

#[test]
fn the_last_of_several_holds_delivers() {
    let stream = EventStream::new();
    let (_sub, seen) = recorder(&stream);
    let outer = stream.hold();
    let inner = stream.hold();
    stream.publish(1);
    drop(inner);
    assert!(seen.lock().is_empty());
    drop(outer);
    assert_eq!(*seen.lock(), vec![1]);
}

#[test]
fn a_subscriber_may_take_the_lock_held_while_its_event_was_published() {
    // The pattern the ClusterExtension relies on: hold, lock, publish, unlock, release.
    let stream = EventStream::new();
    let guarded = Arc::new(spin::Mutex::new(0u32));
    let observed = Arc::new(spin::Mutex::new(Vec::new()));
    let (lock_in, observed_in) = (Arc::clone(&guarded), Arc::clone(&observed));
    let _sub = stream.subscribe(move |e: &u32| {
        // A plain `lock` here would spin for ever if the publisher still held it.
        let value = lock_in.try_lock().map(|v| *v);
        observed_in.lock().push((*e, value));
    });
    let hold = stream.hold();
    {
        let mut value = guarded.lock();
        *value = 7;
        stream.publish(1);
    }
    drop(hold);
    assert_eq!(*observed.lock(), vec![(1, Some(7))]);
}

#[test]
fn a_publish_from_another_thread_during_a_hold_waits_for_the_hold() {
    let stream = EventStream::new();
    let (_sub, seen) = recorder(&stream);
    let hold = stream.hold();
    let other = stream.clone();
    std::thread::spawn(move || other.publish(5)).join().unwrap();
    assert!(seen.lock().is_empty());
    drop(hold);
    assert_eq!(*seen.lock(), vec![5]);
}

#[test]
fn a_subscription_made_during_a_hold_gets_its_replay_then_the_held_events() {
    let stream = EventStream::with_replay(4);
    stream.publish(1);
    stream.publish(2);
    let (_old, old_seen) = recorder(&stream);
    let hold = stream.hold();
    stream.publish(3);
    let (_new, new_seen) = recorder(&stream);
    stream.publish(4);
    assert!(
        new_seen.lock().is_empty(),
        "the replay waits for the hold too"
    );
    drop(hold);
    assert_eq!(*new_seen.lock(), vec![1, 2, 3, 4]);
    assert_eq!(*old_seen.lock(), vec![1, 2, 3, 4]);
}

#[test]
fn events_subscribers_publish_while_held_events_are_delivered_come_after_them() {
    let stream = EventStream::new();
    let inner = stream.clone();
    let _echo = stream.subscribe(move |e: &u32| {
        if *e < 10 {
            inner.publish(e + 10);
        }
    });
    let (_rec, seen) = recorder(&stream);
    let hold = stream.hold();
    stream.publish(1);
    stream.publish(2);
    drop(hold);
    // Held events go out in publish order; what their subscribers publish queues behind.
    assert_eq!(*seen.lock(), vec![1, 2, 11, 12]);
}

#[test]
fn an_unsubscribed_subscriber_gets_no_held_event() {
    let stream = EventStream::new();
    let (sub, seen) = recorder(&stream);
    let hold = stream.hold();
    stream.publish(1);
    assert!(sub.unsubscribe());
    drop(hold);
    assert!(seen.lock().is_empty());
}

/// Events below 100 stand for lifecycle and membership, the others for pub/sub traffic.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "an EventStream classifier takes its event by reference"
)]
fn below_100_is_lasting(event: &u32) -> EventClass {
    if *event < 100 {
        EventClass::Lasting
    } else {
        EventClass::Transient
    }
}

#[test]
fn a_hundred_thousand_transient_events_do_not_evict_the_lasting_ones() {
    let stream = EventStream::with_replay_by_class(256, 256, below_100_is_lasting);
    for e in 1..=3 {
        stream.publish(e);
    }
    for e in 1_000..101_000 {
        stream.publish(e);
    }
    stream.publish(4);
    let (_sub, seen) = recorder(&stream);
    stream.publish(5);
    let expected: Vec<u32> = [1, 2, 3]
        .into_iter()
        .chain(100_744..101_000)
        .chain([4, 5])
        .collect();
    assert_eq!(*seen.lock(), expected);
}

#[test]
fn the_replay_merges_both_classes_in_publish_order() {
    let stream = EventStream::with_replay_by_class(2, 2, below_100_is_lasting);
    for e in [1, 101, 102, 2, 103, 3, 104] {
        stream.publish(e);
    }
    let (_sub, seen) = recorder(&stream);
    stream.publish(105);
    // Each ring keeps its own last two: 2 and 3, 103 and 104; then the live event.
    assert_eq!(*seen.lock(), vec![2, 103, 3, 104, 105]);
}

#[test]
fn a_full_lasting_ring_evicts_only_its_oldest_lasting_event() {
    let stream = EventStream::with_replay_by_class(2, 8, below_100_is_lasting);
    for e in [101, 1, 102, 2, 3] {
        stream.publish(e);
    }
    let (_sub, seen) = recorder(&stream);
    assert_eq!(*seen.lock(), vec![101, 102, 2, 3]);
}

#[test]
fn a_class_with_no_capacity_is_not_replayed_but_still_delivered_live() {
    let stream = EventStream::with_replay_by_class(4, 0, below_100_is_lasting);
    for e in [1, 101, 2] {
        stream.publish(e);
    }
    let (_sub, seen) = recorder(&stream);
    stream.publish(102);
    assert_eq!(*seen.lock(), vec![1, 2, 102]);
    assert_eq!(stream.replay_capacity(), 4);
    assert_eq!(stream.replay_capacity_of(EventClass::Lasting), 4);
    assert_eq!(stream.replay_capacity_of(EventClass::Transient), 0);
}

#[test]
fn with_replay_keeps_every_event_in_one_ring() {
    let stream = EventStream::<u32>::with_replay(3);
    assert_eq!(stream.replay_capacity_of(EventClass::Lasting), 3);
    assert_eq!(stream.replay_capacity_of(EventClass::Transient), 0);
    assert_eq!(stream.replay_capacity(), 3);
}

#[test]
fn a_subscription_made_during_a_hold_gets_both_classes_then_the_held_events() {
    let stream = EventStream::with_replay_by_class(4, 1, below_100_is_lasting);
    for e in [1, 101, 102] {
        stream.publish(e);
    }
    let hold = stream.hold();
    stream.publish(2);
    let (_sub, seen) = recorder(&stream);
    stream.publish(103);
    assert!(seen.lock().is_empty());
    drop(hold);
    // 2 was held when the subscription was made: it comes live, after the replay.
    assert_eq!(*seen.lock(), vec![1, 102, 2, 103]);
}

/// What a subscriber of a stream of `0..published` (every tenth event lasting, rings of
/// `lasting` and `transient`) sees when its first live event is `first_live`.
fn replay_then_live(published: u32, first_live: u32, lasting: usize, transient: usize) -> Vec<u32> {
    let kept = |is_lasting: bool, capacity: usize| {
        let of_class: Vec<u32> = (0..first_live)
            .filter(|e| (e % 10 == 0) == is_lasting)
            .collect();
        of_class[of_class.len().saturating_sub(capacity)..].to_vec()
    };
    let mut seen = kept(true, lasting);
    seen.extend(kept(false, transient));
    seen.sort_unstable();
    seen.extend(first_live..published);
    seen
}

#[test]
fn subscribers_joining_during_concurrent_publishes_get_both_rings_then_every_live_event_once() {
    const SUBSCRIBERS: usize = 48;
    const LASTING: usize = 8;
    const TRANSIENT: usize = 4;
    #[allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "an EventStream classifier takes its event by reference"
    )]
    fn tenth_is_lasting(event: &u32) -> EventClass {
        if event % 10 == 0 {
            EventClass::Lasting
        } else {
            EventClass::Transient
        }
    }
    let stream = EventStream::with_replay_by_class(LASTING, TRANSIENT, tenth_is_lasting);
    let subscribed = AtomicBool::new(false);
    let (subscribers, published) = std::thread::scope(|scope| {
        let publisher = stream.clone();
        let subscribed = &subscribed;
        let publishing = scope.spawn(move || {
            let mut next = 0u32;
            while !subscribed.load(Ordering::SeqCst) || next < 100 {
                publisher.publish(next);
                next += 1;
            }
            next
        });
        let mut subscribers = Vec::new();
        while subscribers.len() < SUBSCRIBERS {
            subscribers.push(recorder(&stream));
            for _ in 0..20 {
                std::thread::yield_now();
            }
        }
        subscribed.store(true, Ordering::SeqCst);
        (subscribers, publishing.join().unwrap())
    });
    for (_sub, seen) in &subscribers {
        let seen = seen.lock();
        // The live events form the contiguous tail; the first of them is at most a few
        // events past where that tail starts (replayed events may run up to it).
        let tail_start = seen
            .windows(2)
            .rposition(|w| w[1] != w[0] + 1)
            .map_or(0, |gap| gap + 1);
        let from = seen.get(tail_start).copied().unwrap_or(published);
        let matches = (from..=published.min(from + 16))
            .any(|first_live| *seen == replay_then_live(published, first_live, LASTING, TRANSIENT));
        assert!(
            matches,
            "not both rings then every live event once: {seen:?}"
        );
    }
}

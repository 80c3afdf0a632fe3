//! Rules of load-balanced groups, the registry and the batching producer, with proptest
//! properties over random operation sequences.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::{
    BatchingProducer, LoadBalancedGroup, LocalSubscription, MessageOutcome, ProducerConfig,
    ProducerError, PublishAck, PublishRejection, RetryPolicy, SubscriberId, SubscriptionRegistry,
};
use crate::topology::MemberId;

fn m(i: usize) -> MemberId {
    MemberId::new(&alloc::format!("m{i}"), 1)
}

fn s(i: usize) -> SubscriberId {
    SubscriberId::new(&alloc::format!("s{i}"))
}

#[test]
fn a_group_message_goes_to_the_next_idle_instance_round_robin() {
    let mut g = LoadBalancedGroup::new(10);
    g.add_instance(m(0), s(0), 1);
    g.add_instance(m(1), s(1), 1);
    g.add_instance(m(2), s(2), 1);
    let first = g.offer(1).unwrap().unwrap();
    let second = g.offer(2).unwrap().unwrap();
    assert_eq!((first.member, second.member), (m(0), m(1)));
    // m(0) completes; the cursor is at m(2), which is idle: it gets the next one.
    g.complete(&m(0), &s(0), 1).unwrap();
    assert_eq!(g.offer(3).unwrap().unwrap().member, m(2));
    // Only m(0) is idle now.
    assert_eq!(g.offer(4).unwrap().unwrap().member, m(0));
}

#[test]
fn when_every_instance_is_busy_messages_queue_in_order_and_a_full_queue_refuses() {
    let mut g = LoadBalancedGroup::new(2);
    g.add_instance(m(0), s(0), 1);
    assert!(g.offer(1).unwrap().is_some());
    assert_eq!(g.offer(2), Ok(None));
    assert_eq!(g.offer(3), Ok(None));
    assert_eq!(g.offer(4), Err(4), "queue of 2 is full");
    assert_eq!(g.queued().collect::<Vec<_>>(), [2, 3]);
    let next = g.complete(&m(0), &s(0), 1).unwrap();
    assert_eq!(next[0].message_id, 2, "handed out in order");
    assert_eq!(g.free_capacity(), 1);
}

#[test]
fn the_in_flight_limit_allows_several_messages_per_instance() {
    let mut g = LoadBalancedGroup::new(0);
    g.add_instance(m(0), s(0), 3);
    for id in 1..=3 {
        assert!(g.offer(id).unwrap().is_some());
    }
    assert_eq!(g.offer(4), Err(4));
    assert_eq!(g.in_flight(&m(0), &s(0)), [1, 2, 3]);
}

#[test]
fn a_lost_instance_puts_its_unfinished_messages_back_at_the_front_in_order() {
    let mut g = LoadBalancedGroup::new(10);
    g.add_instance(m(0), s(0), 2);
    g.add_instance(m(1), s(1), 1);
    g.offer(1).unwrap(); // m0
    g.offer(2).unwrap(); // m1
    g.offer(3).unwrap(); // m0
    g.offer(4).unwrap(); // queued
    let handed = g.remove_instance(&m(0), &s(0));
    assert!(handed.is_empty(), "m1 is busy");
    assert_eq!(g.queued().collect::<Vec<_>>(), [1, 3, 4]);
    let next = g.complete(&m(1), &s(1), 2).unwrap();
    assert_eq!(next[0].message_id, 1);
    assert!(g.complete(&m(1), &s(1), 2).is_err(), "completed twice");
}

#[test]
fn a_new_instance_takes_queued_messages_at_once() {
    let mut g = LoadBalancedGroup::new(10);
    assert_eq!(g.offer(1), Ok(None), "no instance yet: queued");
    let handed = g.add_instance(m(0), s(0), 1);
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].message_id, 1);
}

/// One operation on a group in the property below.
#[derive(Debug, Clone)]
enum Op {
    Add(usize, u32),
    Remove(usize),
    Publish(u8),
    Complete(usize, usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        (0..5usize, 1..3u32).prop_map(|(i, l)| Op::Add(i, l)),
        (0..5usize).prop_map(Op::Remove),
        (1..4u8).prop_map(Op::Publish),
        (0..5usize, 0..4usize).prop_map(|(i, k)| Op::Complete(i, k)),
    ];
    proptest::collection::vec(op, 1..120)
}

proptest! {
    /// In a group each message is at any time in exactly one place — the queue, or one
    /// instance (never a busy one) — queue order follows publish order except for requeued
    /// messages at the front, and nothing is lost or completed twice.
    #[test]
    fn group_messages_are_never_lost_duplicated_or_handed_to_a_busy_instance(ops in ops()) {
        let mut g = LoadBalancedGroup::new(8);
        let mut limits: BTreeMap<usize, u32> = BTreeMap::new();
        let mut next_id = 1u64;
        let mut accepted: BTreeSet<u64> = BTreeSet::new();
        let mut completed: BTreeSet<u64> = BTreeSet::new();
        let mut held_before: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Add(i, limit) => {
                    limits.insert(i, limit);
                    g.add_instance(m(i), s(i), limit);
                }
                Op::Remove(i) => {
                    limits.remove(&i);
                    g.remove_instance(&m(i), &s(i));
                }
                Op::Publish(n) => {
                    let room = g.free_capacity();
                    for _ in 0..n {
                        let id = next_id;
                        next_id += 1;
                        match g.offer(id) {
                            Ok(_) => { accepted.insert(id); }
                            Err(refused) => {
                                prop_assert_eq!(refused, id);
                                prop_assert!(room < usize::from(n), "refused although there was room");
                            }
                        }
                    }
                }
                Op::Complete(i, k) => {
                    if let Some(&id) = g.in_flight(&m(i), &s(i)).get(k) {
                        prop_assert!(completed.insert(id), "completed twice");
                        g.complete(&m(i), &s(i), id).unwrap();
                    }
                }
            }
            // Invariants after every step.
            let mut seen: BTreeSet<u64> = BTreeSet::new();
            for (i, limit) in &limits {
                let held = g.in_flight(&m(*i), &s(*i));
                let before = held_before.get(i).cloned().unwrap_or_default();
                let got_new = held.iter().any(|id| !before.contains(id));
                // A lowered limit may leave an instance above it until it completes, but
                // no new message goes to an instance at its limit.
                prop_assert!(!got_new || held.len() <= *limit as usize, "a busy instance got a message");
                for id in held {
                    prop_assert!(seen.insert(*id), "message {} at two places", id);
                }
            }
            held_before = limits.keys().map(|i| (*i, g.in_flight(&m(*i), &s(*i)).to_vec())).collect();
            let queued: Vec<u64> = g.queued().collect();
            for id in &queued {
                prop_assert!(seen.insert(*id), "message {} queued and in flight", id);
            }
            if !queued.is_empty() {
                for (i, limit) in &limits {
                    prop_assert!(g.in_flight(&m(*i), &s(*i)).len() >= *limit as usize,
                        "an idle instance while messages wait");
                }
            }
            for id in &seen {
                prop_assert!(!completed.contains(id), "a completed message came back");
            }
            let accounted: BTreeSet<u64> = seen.union(&completed).copied().collect();
            prop_assert_eq!(&accounted, &accepted, "a message was lost");
        }
    }
}

#[test]
fn the_registry_is_derived_from_the_members_lists_and_diffs_tell_what_changed() {
    let sub = |topic: &str, who: usize, group: Option<&str>| LocalSubscription {
        topic: topic.into(),
        subscriber: s(who),
        group: group.map(Into::into),
        max_in_flight: 1,
    };
    let a = vec![sub("orders", 0, None), sub("orders", 1, Some("workers"))];
    let b = vec![sub("orders", 2, Some("workers"))];
    let (ma, mb) = (m(0), m(1));
    let before = SubscriptionRegistry::from_members([(&ma, a.as_slice()), (&mb, b.as_slice())]);
    assert_eq!(before.subscribers("orders").count(), 3);
    let after = SubscriptionRegistry::from_members([(&ma, a.as_slice())]);
    let change = before.diff(&after);
    assert_eq!(change.removed.len(), 1);
    assert_eq!(change.removed[0].member, mb);
    assert!(change.added.is_empty());
    let encoded = LocalSubscription::encode_all(&a);
    assert_eq!(LocalSubscription::decode_all(&encoded), Some(a));
    assert_eq!(LocalSubscription::decode_all(&[0xff, 0xff]), None);
}

fn producer(retry: RetryPolicy) -> BatchingProducer {
    BatchingProducer::new(ProducerConfig {
        batch_size: 3,
        linger_ms: 10,
        queue_capacity: 6,
        publish_timeout_ms: 1_000,
        max_in_flight_batches: 1,
        retry,
    })
    .unwrap()
}

fn accepted() -> PublishAck {
    PublishAck::Accepted {
        message_ids: vec![],
    }
}

fn rejected() -> PublishAck {
    PublishAck::Rejected {
        reason: PublishRejection::NoSubscribers,
    }
}

#[test]
fn a_producer_flushes_by_size_or_by_linger() {
    let mut p = producer(RetryPolicy::FailBatchAndContinue);
    for i in 0..4u8 {
        p.produce(vec![i], 0).unwrap();
    }
    let batches = p.poll(0);
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].payloads,
        [vec![0], vec![1], vec![2]],
        "full batch at once"
    );
    p.on_ack(batches[0].id, &accepted(), 1);
    assert!(p.poll(5).is_empty(), "one message lingers");
    assert_eq!(p.next_poll_at(), Some(10));
    assert_eq!(p.poll(10)[0].payloads, [vec![3]]);
}

#[test]
fn a_producer_queue_is_bounded_and_in_flight_batches_are_limited() {
    let mut p = producer(RetryPolicy::FailBatchAndContinue);
    for i in 0..6u8 {
        p.produce(vec![i], 0).unwrap();
    }
    assert_eq!(p.produce(vec![9], 0), Err(ProducerError::Full));
    assert_eq!(p.poll(0).len(), 1, "one batch in flight at most");
    assert_eq!(p.in_flight(), 1);
    assert!(p.poll(0).is_empty());
}

#[test]
fn a_queued_message_can_be_cancelled_but_not_one_in_flight() {
    let mut p = producer(RetryPolicy::FailBatchAndContinue);
    let first = p.produce(vec![1], 0).unwrap();
    let sent = p.poll(100);
    assert_eq!(sent.len(), 1);
    let second = p.produce(vec![2], 100).unwrap();
    assert!(!p.cancel(first));
    assert!(p.cancel(second));
    assert_eq!(p.take_outcomes(), [(second, MessageOutcome::Cancelled)]);
}

#[test]
fn retry_immediately_resends_the_same_batch_first_then_gives_up() {
    let mut p = producer(RetryPolicy::RetryImmediately { max_attempts: 2 });
    let h = p.produce(vec![1], 0).unwrap();
    p.produce(vec![2], 0).unwrap();
    let first = p.poll(10);
    p.produce(vec![3], 10).unwrap();
    p.on_ack(first[0].id, &rejected(), 11);
    let again = p.poll(11);
    assert_eq!(
        again[0].payloads, first[0].payloads,
        "the same batch, before newer messages"
    );
    p.on_ack(again[0].id, &rejected(), 12);
    let outcomes = p.take_outcomes();
    assert!(outcomes.contains(&(
        h,
        MessageOutcome::Failed {
            reason: PublishRejection::NoSubscribers
        }
    )));
    assert_eq!(p.poll(20)[0].payloads, [vec![3]], "then it goes on");
}

#[test]
fn retry_after_waits_for_the_delay() {
    let mut p = producer(RetryPolicy::RetryAfter {
        delay_ms: 50,
        max_attempts: 3,
    });
    p.produce(vec![1], 0).unwrap();
    let first = p.poll(10);
    p.on_ack(first[0].id, &rejected(), 10);
    assert!(p.poll(59).is_empty());
    assert_eq!(p.poll(60).len(), 1);
}

#[test]
fn fail_batch_and_stop_fails_everything_after_a_rejection() {
    let mut p = producer(RetryPolicy::FailBatchAndStop);
    p.produce(vec![1], 0).unwrap();
    let batch = p.poll(10);
    let waiting = p.produce(vec![2], 10).unwrap();
    p.on_ack(batch[0].id, &rejected(), 11);
    assert!(p.is_stopped());
    assert!(
        p.take_outcomes()
            .contains(&(waiting, MessageOutcome::Stopped))
    );
    assert_eq!(p.produce(vec![3], 12), Err(ProducerError::Stopped));
}

#[test]
fn unanswered_batches_and_old_messages_time_out() {
    let mut p = producer(RetryPolicy::FailBatchAndContinue);
    let sent = p.produce(vec![1], 0).unwrap();
    p.poll(10);
    let waiting = p.produce(vec![2], 10).unwrap();
    p.poll(1_010);
    let outcomes = p.take_outcomes();
    let timeout = MessageOutcome::Failed {
        reason: PublishRejection::Timeout,
    };
    assert!(outcomes.contains(&(sent, timeout)), "{outcomes:?}");
    p.poll(1_010);
    assert!(p.take_outcomes().is_empty() || p.in_flight() == 1);
    let _ = waiting;
}

#[test]
fn producer_configuration_rules_are_enforced() {
    let bad = ProducerConfig {
        batch_size: 0,
        ..ProducerConfig::new()
    };
    assert_eq!(
        BatchingProducer::new(bad).unwrap_err(),
        ProducerError::InvalidConfig
    );
    let bad = ProducerConfig {
        queue_capacity: 1,
        batch_size: 5,
        ..ProducerConfig::new()
    };
    assert!(BatchingProducer::new(bad).is_err());
    let bad = ProducerConfig {
        retry: RetryPolicy::RetryImmediately { max_attempts: 0 },
        ..ProducerConfig::new()
    };
    assert!(BatchingProducer::new(bad).is_err());
}

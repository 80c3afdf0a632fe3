//! Rules of load-balanced groups, the registry and the batching producer, with proptest
//! properties over random operation sequences.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
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

#[test]
fn timed_out_messages_go_back_to_the_front_in_order_and_to_the_instances_after_their_holder() {
    let mut g = LoadBalancedGroup::new(10);
    g.add_instance(m(0), s(0), 2);
    g.add_instance(m(1), s(1), 1);
    g.add_instance(m(2), s(2), 1);
    for id in 1..=5 {
        g.offer(id).unwrap(); // 1 → m0, 2 → m1, 3 → m2, 4 → m0, 5 queued
    }
    assert_eq!(g.complete(&m(2), &s(2), 3).unwrap()[0].message_id, 5);
    assert!(g.complete(&m(1), &s(1), 2).unwrap().is_empty());
    // Both of m0's messages time out, named in any order (99 it does not hold).
    let handed = g.requeue(&m(0), &s(0), &[4, 99, 1]);
    let handed: Vec<(u64, MemberId)> = handed
        .into_iter()
        .map(|a| (a.message_id, a.member))
        .collect();
    // In the order m0 got them; the first to the idle instance after m0, the next — m2
    // being busy — back round to m0.
    assert_eq!(handed, [(1, m(1)), (4, m(0))]);
    assert_eq!(g.queue_len(), 0);
    assert!(g.requeue(&m(9), &s(9), &[1]).is_empty(), "unknown instance");
    assert!(g.requeue(&m(2), &s(2), &[1]).is_empty(), "not held there");
    assert_eq!(g.in_flight(&m(1), &s(1)), [1]);
}

#[test]
fn a_new_limit_keeps_the_instances_messages_and_round_robin_survives_instance_changes() {
    let mut g = LoadBalancedGroup::new(10);
    g.add_instance(m(1), s(1), 1);
    g.add_instance(m(3), s(3), 1);
    assert_eq!(g.offer(1).unwrap().unwrap().member, m(1));
    // An instance sorted after the last one served is next, even at the end of the list.
    g.add_instance(m(2), s(2), 1);
    assert_eq!(g.offer(2).unwrap().unwrap().member, m(2));
    // The last one served leaves: the next after it is still next.
    g.complete(&m(2), &s(2), 2).unwrap();
    g.remove_instance(&m(2), &s(2));
    assert_eq!(g.offer(3).unwrap().unwrap().member, m(3));
    // A higher limit keeps what the instance holds and lets it take more.
    assert!(g.add_instance(m(1), s(1), 2).is_empty());
    assert_eq!(g.in_flight(&m(1), &s(1)), [1]);
    assert_eq!(g.offer(4).unwrap().unwrap().member, m(1));
    assert_eq!(g.in_flight(&m(1), &s(1)), [1, 4]);
}

/// One operation on a group in the property below.
#[derive(Debug, Clone)]
enum Op {
    /// Adds instance i, or sets its limit.
    Add(usize, u32),
    Remove(usize),
    Publish(u8),
    /// Instance i completes the k-th message it holds.
    Complete(usize, usize),
    /// The messages instance i holds from the k-th on time out.
    TimeOut(usize, usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        (0..5usize, 1..3u32).prop_map(|(i, l)| Op::Add(i, l)),
        (0..5usize).prop_map(Op::Remove),
        (1..4u8).prop_map(Op::Publish),
        (0..5usize, 0..4usize).prop_map(|(i, k)| Op::Complete(i, k)),
        (0..5usize, 0..3usize).prop_map(|(i, k)| Op::TimeOut(i, k)),
    ];
    proptest::collection::vec(op, 1..120)
}

/// What the group should do, stated plainly: instances by index (the sort order of
/// `m(i)`/`s(i)`), each with its limit and the messages it holds in the order it got them.
#[derive(Debug, Default)]
struct GroupModel {
    instances: BTreeMap<usize, (u32, Vec<u64>)>,
    /// The instance that got the last message.
    last: Option<usize>,
    queue: VecDeque<u64>,
}

impl GroupModel {
    /// Round robin: the first idle instance after the last one served, wrapping around.
    fn next_idle(&self) -> Option<usize> {
        let idle = |(i, (limit, held)): (&usize, &(u32, Vec<u64>))| {
            (held.len() < *limit as usize).then_some(*i)
        };
        let after = self.last.map_or(0, |l| l + 1);
        self.instances
            .range(after..)
            .find_map(idle)
            .or_else(|| self.instances.range(..after).find_map(idle))
    }

    fn give(&mut self, message: u64, instance: usize) {
        if let Some((_, held)) = self.instances.get_mut(&instance) {
            held.push(message);
        }
        self.last = Some(instance);
    }

    /// Hands queued messages out, front first, as long as an instance is idle.
    fn dispatch(&mut self) -> Vec<(u64, usize)> {
        let mut handed = Vec::new();
        while let Some(&front) = self.queue.front() {
            let Some(i) = self.next_idle() else { break };
            self.queue.pop_front();
            self.give(front, i);
            handed.push((front, i));
        }
        handed
    }
}

fn handed(assignments: &[super::GroupAssignment]) -> Vec<(u64, usize)> {
    assignments
        .iter()
        .map(|a| {
            let i = (0..5).find(|i| m(*i) == a.member).unwrap_or(usize::MAX);
            assert_eq!(a.subscriber, s(i));
            (a.message_id, i)
        })
        .collect()
}

proptest! {
    /// In a group each message is at any time in exactly one place — the queue, or one
    /// instance — and nothing is lost or completed twice; moreover every message handed
    /// out, at publish or later, goes to exactly the instance and in exactly the order that
    /// the rules give: the first idle instance after the last one served (never a busy
    /// one), queued messages in FIFO order, messages taken back from an instance (it left,
    /// or its delivery timed out) at the front in the order it got them.
    #[test]
    fn group_messages_follow_fifo_and_round_robin_and_are_never_lost_or_duplicated(ops in ops()) {
        const CAPACITY: usize = 8;
        let mut g = LoadBalancedGroup::new(CAPACITY);
        let mut model = GroupModel::default();
        let mut next_id = 1u64;
        let mut accepted: BTreeSet<u64> = BTreeSet::new();
        let mut completed: BTreeSet<u64> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Add(i, limit) => {
                    let assignments = g.add_instance(m(i), s(i), limit);
                    model.instances.entry(i).or_insert((limit, Vec::new())).0 = limit;
                    prop_assert_eq!(handed(&assignments), model.dispatch());
                }
                Op::Remove(i) => {
                    let assignments = g.remove_instance(&m(i), &s(i));
                    if let Some((_, held)) = model.instances.remove(&i) {
                        for id in held.into_iter().rev() {
                            model.queue.push_front(id);
                        }
                    }
                    prop_assert_eq!(handed(&assignments), model.dispatch());
                }
                Op::Publish(n) => {
                    for _ in 0..n {
                        let id = next_id;
                        next_id += 1;
                        let offered = g.offer(id);
                        let target = if model.queue.is_empty() { model.next_idle() } else { None };
                        if let Some(i) = target {
                            model.give(id, i);
                            prop_assert_eq!(offered.map(|a| a.map(|a| handed(&[a]))), Ok(Some(vec![(id, i)])));
                            accepted.insert(id);
                        } else if model.queue.len() < CAPACITY {
                            model.queue.push_back(id);
                            prop_assert_eq!(offered, Ok(None));
                            accepted.insert(id);
                        } else {
                            prop_assert_eq!(offered, Err(id), "refused only when full");
                        }
                    }
                }
                Op::Complete(i, k) => {
                    let Some(id) = model.instances.get(&i).and_then(|(_, h)| h.get(k)).copied() else {
                        prop_assert!(g.complete(&m(i), &s(i), next_id + 1).is_err());
                        continue;
                    };
                    prop_assert!(completed.insert(id), "completed twice");
                    if let Some((_, held)) = model.instances.get_mut(&i) {
                        held.retain(|h| *h != id);
                    }
                    let assignments = g.complete(&m(i), &s(i), id).unwrap();
                    prop_assert_eq!(handed(&assignments), model.dispatch());
                    prop_assert!(g.complete(&m(i), &s(i), id).is_err(), "completed twice");
                }
                Op::TimeOut(i, k) => {
                    let ids: Vec<u64> = model
                        .instances
                        .get(&i)
                        .map(|(_, h)| h.iter().skip(k).copied().collect())
                        .unwrap_or_default();
                    // Named in reverse: the group keeps the order the instance got them in.
                    let named: Vec<u64> = ids.iter().rev().copied().collect();
                    let assignments = g.requeue(&m(i), &s(i), &named);
                    if !ids.is_empty() {
                        if let Some((_, held)) = model.instances.get_mut(&i) {
                            held.retain(|h| !ids.contains(h));
                        }
                        for id in ids.iter().rev() {
                            model.queue.push_front(*id);
                        }
                        model.last = Some(i);
                    }
                    prop_assert_eq!(handed(&assignments), model.dispatch());
                }
            }
            // The group's state is the model's after every step.
            let queued: Vec<u64> = g.queued().collect();
            prop_assert_eq!(&queued, &model.queue.iter().copied().collect::<Vec<_>>(), "queue order");
            prop_assert_eq!(g.instances(), model.instances.len());
            let mut seen: BTreeSet<u64> = queued.iter().copied().collect();
            for (i, (_, held)) in &model.instances {
                prop_assert_eq!(g.in_flight(&m(*i), &s(*i)), held.as_slice());
                for id in held {
                    prop_assert!(seen.insert(*id), "message {} at two places", id);
                }
            }
            prop_assert_eq!(seen.len(), queued.len() + model.instances.values().map(|(_, h)| h.len()).sum::<usize>());
            if !queued.is_empty() {
                prop_assert!(model.next_idle().is_none(), "an idle instance while messages wait");
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

#[test]
fn in_a_registry_diff_a_new_limit_is_an_update_and_a_new_group_a_removal_and_an_addition() {
    let sub = |group: Option<&str>, limit: u32| LocalSubscription {
        topic: "jobs".into(),
        subscriber: s(0),
        group: group.map(Into::into),
        max_in_flight: limit,
    };
    let member = m(0);
    let registry = |l: &LocalSubscription| {
        SubscriptionRegistry::from_members([(&member, core::slice::from_ref(l))])
    };
    let before = registry(&sub(Some("g"), 1));
    let change = before.diff(&registry(&sub(Some("g"), 4)));
    assert!(change.added.is_empty() && change.removed.is_empty());
    assert_eq!(change.updated.len(), 1);
    assert_eq!(change.updated[0].max_in_flight, 4, "the new value");
    let change = before.diff(&registry(&sub(Some("h"), 1)));
    assert!(change.updated.is_empty());
    assert_eq!(change.removed[0].group.as_deref(), Some("g"));
    assert_eq!(change.added[0].group.as_deref(), Some("h"));
    assert_eq!(
        before.diff(&before.clone()),
        super::RegistryChange::default()
    );
    // A list naming a subscriber twice yields one subscription.
    let twice = [sub(Some("g"), 1), sub(Some("g"), 2)];
    let r = SubscriptionRegistry::from_members([(&member, twice.as_slice())]);
    assert_eq!(r.subscribers("jobs").count(), 1);
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

const TIMEOUT: MessageOutcome = MessageOutcome::Failed {
    reason: PublishRejection::Timeout,
};

#[test]
fn unanswered_batches_and_old_messages_time_out() {
    let mut p = producer(RetryPolicy::FailBatchAndContinue);
    let sent = p.produce(vec![1], 0).unwrap();
    assert_eq!(p.poll(10).len(), 1);
    // One batch in flight at most: this one waits in the queue.
    let waiting = p.produce(vec![2], 10).unwrap();
    let later = p.produce(vec![3], 500).unwrap();
    assert!(p.poll(1_009).is_empty());
    assert!(p.take_outcomes().is_empty(), "nothing is due before 1,010");
    // The batch was sent at 10 and `waiting` produced at 10: both are 1,000 ms old.
    let batches = p.poll(1_010);
    assert_eq!(
        p.take_outcomes(),
        [(sent, TIMEOUT), (waiting, TIMEOUT)],
        "exactly those two, the batch in flight first"
    );
    // The slot is free again: the younger message goes out.
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].payloads, [vec![3]]);
    p.on_ack(batches[0].id, &accepted(), 1_011);
    assert_eq!(p.take_outcomes(), [(later, MessageOutcome::Published)]);
    assert_eq!((p.queued(), p.in_flight()), (0, 0));
    assert_eq!(p.next_poll_at(), None);
}

#[test]
fn a_message_waiting_for_a_retry_times_out_by_the_time_it_was_produced() {
    let mut p = producer(RetryPolicy::RetryAfter {
        delay_ms: 600,
        max_attempts: 5,
    });
    let old = p.produce(vec![1], 0).unwrap();
    let first = p.poll(10);
    p.on_ack(first[0].id, &rejected(), 20);
    let again = p.poll(620);
    assert_eq!(again.len(), 1, "retried after the delay");
    p.on_ack(again[0].id, &rejected(), 630);
    let young = p.produce(vec![2], 700).unwrap();
    // The next retry would be at 1,230, but the message was produced at 0.
    assert_eq!(p.next_poll_at(), Some(1_000));
    assert!(p.poll(999).is_empty(), "young waits behind the retry");
    assert!(p.take_outcomes().is_empty());
    let batches = p.poll(1_000);
    assert_eq!(p.take_outcomes(), [(old, TIMEOUT)]);
    // With the retry gone, the young message (it lingered) goes.
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].payloads, [vec![2]]);
    p.on_ack(batches[0].id, &accepted(), 1_001);
    assert_eq!(p.take_outcomes(), [(young, MessageOutcome::Published)]);
}

#[test]
fn a_message_waiting_for_a_retry_can_be_cancelled() {
    let mut p = producer(RetryPolicy::RetryAfter {
        delay_ms: 50,
        max_attempts: 3,
    });
    let a = p.produce(vec![1], 0).unwrap();
    let b = p.produce(vec![2], 0).unwrap();
    let first = p.poll(10);
    assert_eq!(first[0].payloads.len(), 2);
    p.on_ack(first[0].id, &rejected(), 10);
    assert!(p.cancel(b));
    assert!(!p.cancel(b), "only once");
    assert_eq!(p.take_outcomes(), [(b, MessageOutcome::Cancelled)]);
    assert_eq!(p.queued(), 1);
    let again = p.poll(60);
    assert_eq!(again[0].payloads, [vec![1]], "the retry goes without it");
    // A batch whose every message is cancelled is not sent at all.
    p.on_ack(again[0].id, &rejected(), 60);
    assert!(p.cancel(a));
    assert_eq!(p.queued(), 0);
    assert!(p.poll(200).is_empty());
    assert_eq!(p.next_poll_at(), None);
}

#[test]
fn next_poll_at_is_the_earliest_send_or_timeout() {
    let mut p = producer(RetryPolicy::FailBatchAndContinue);
    assert_eq!(p.next_poll_at(), None);
    p.produce(vec![1], 0).unwrap();
    assert_eq!(p.next_poll_at(), Some(10), "its linger deadline");
    let sent = p.poll(10);
    p.produce(vec![2], 20).unwrap();
    // The slot is taken: no send is due, but the batch in flight times out at 1,010.
    assert_eq!(p.next_poll_at(), Some(1_010));
    p.on_ack(sent[0].id, &accepted(), 30);
    assert_eq!(
        p.next_poll_at(),
        Some(30),
        "linger of the message produced at 20"
    );
    for i in 0..3u8 {
        p.produce(vec![i], 25).unwrap();
    }
    assert_eq!(p.next_poll_at(), Some(20), "a full batch may go at once");
    p.stop();
    assert_eq!(p.next_poll_at(), None);
}

#[test]
fn with_two_batches_in_flight_retries_go_first_in_produced_order_but_a_later_batch_may_pass() {
    let mut p = BatchingProducer::new(ProducerConfig {
        batch_size: 2,
        linger_ms: 10,
        queue_capacity: 10,
        publish_timeout_ms: 1_000,
        max_in_flight_batches: 2,
        retry: RetryPolicy::RetryAfter {
            delay_ms: 5,
            max_attempts: 3,
        },
    })
    .unwrap();
    let handles: Vec<_> = (1..=8u8).map(|i| p.produce(vec![i], 0).unwrap()).collect();
    let sent = p.poll(0);
    assert_eq!(sent.len(), 2, "two batches in flight");
    assert_eq!(sent[0].payloads, [vec![1], vec![2]]);
    assert_eq!(sent[1].payloads, [vec![3], vec![4]]);
    // Both are rejected, the later one first: retried in the order produced.
    p.on_ack(sent[1].id, &rejected(), 1);
    p.on_ack(sent[0].id, &rejected(), 2);
    assert!(p.poll(6).is_empty(), "no new batch while retries wait");
    let retried = p.poll(7);
    assert_eq!(retried.len(), 2);
    assert_eq!(retried[0].payloads, [vec![1], vec![2]]);
    assert_eq!(retried[1].payloads, [vec![3], vec![4]]);
    // The first retry is rejected again, the second accepted: messages 3 and 4 are
    // published before 1 and 2 — the order not kept with more than one batch in flight.
    p.on_ack(retried[1].id, &accepted(), 8);
    p.on_ack(retried[0].id, &rejected(), 8);
    let third = p.poll(13);
    assert_eq!(
        third[0].payloads,
        [vec![1], vec![2]],
        "the retry before messages 5..8"
    );
    assert_eq!(third[1].payloads, [vec![5], vec![6]]);
    for b in &third {
        p.on_ack(b.id, &accepted(), 14);
    }
    let published: Vec<_> = p
        .take_outcomes()
        .into_iter()
        .filter(|(_, o)| *o == MessageOutcome::Published)
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        published,
        [
            handles[2], handles[3], handles[0], handles[1], handles[4], handles[5]
        ]
    );
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

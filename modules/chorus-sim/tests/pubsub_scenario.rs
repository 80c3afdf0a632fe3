//! Pub/sub in the simulator: 20 nodes, broadcast subscribers and a load-balanced group
//! spread across them, three publishing nodes, and a member with a group instance crashing
//! in the middle. Every message is accounted for from what the nodes observably did —
//! deliveries, completions and requeues the publishers report, and their queues at the
//! end — never from guesses about timing.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

use std::collections::{BTreeMap, BTreeSet};

use chorus_core::pubsub::{PubSubConfig, PubSubEvent, PublishAck, PublishRejection};
use chorus_core::topology::MemberId;
use chorus_sim::{SimConfig, Simulator};

const NODES: usize = 20;
const AUDITORS: [usize; 5] = [0, 4, 8, 12, 16];
const PUBLISHERS: [usize; 3] = [2, 7, 13];
const CRASHED: usize = 5;

/// What the publisher of one job observed about it.
#[derive(Debug, Default)]
struct JobFacts {
    /// Subscribers it was handed to (deliveries at live nodes), in order.
    delivered_to: Vec<String>,
    /// The instance whose completion the publisher accepted.
    completed_by: Vec<String>,
    /// Instances it was taken back from.
    requeued_from: Vec<String>,
}

#[test]
fn every_message_is_delivered_queued_or_rejected_with_a_reason_through_a_crash() {
    let mut sim = Simulator::new(SimConfig::new(NODES).with_pubsub(PubSubConfig::new())).unwrap();
    sim.run_until_true(60_000, 5, Simulator::topology_agreed)
        .expect("converged");
    let workers: Vec<usize> = (1..NODES).step_by(2).collect();
    for &node in &AUDITORS {
        sim.subscribe(node, "events", &format!("audit-{node}"), None, 1)
            .unwrap();
    }
    for &node in &workers {
        sim.subscribe(node, "jobs", &format!("worker-{node}"), Some("workers"), 1)
            .unwrap();
    }
    let known = |s: &Simulator| {
        s.live().all(|i| {
            let r = s.broker(i).unwrap().registry();
            r.subscribers("events").count() == AUDITORS.len()
                && r.subscribers("jobs").count() == workers.len()
        })
    };
    sim.run_until_true(10_000, 5, known)
        .expect("every node knows every subscription");

    // Publishing: every 50 ms each publisher sends 2 jobs and 1 event, for 6 s; a node
    // holding a group instance crashes after 2 s.
    let publisher_ids: BTreeMap<usize, MemberId> = PUBLISHERS
        .iter()
        .map(|p| (*p, sim.id_of(*p).unwrap()))
        .collect();
    let crashed_member = sim.id_of(CRASHED).unwrap();
    let crashed_worker = format!("worker-{CRASHED}");
    let mut accepted: BTreeMap<(&str, MemberId), Vec<u64>> = BTreeMap::new();
    let mut rejected: BTreeMap<PublishRejection, usize> = BTreeMap::new();
    let start = sim.now();
    for step in 0..120u64 {
        if step == 40 {
            sim.crash(CRASHED).unwrap();
        }
        for &p in &PUBLISHERS {
            for (topic, count) in [("jobs", 2usize), ("events", 1)] {
                let payloads = (0..count).map(|i| vec![step as u8, i as u8]).collect();
                match sim.publish(p, topic, payloads).unwrap() {
                    PublishAck::Accepted { message_ids } => accepted
                        .entry((topic, publisher_ids[&p].clone()))
                        .or_default()
                        .extend(message_ids),
                    PublishAck::Rejected { reason } => *rejected.entry(reason).or_default() += 1,
                }
            }
        }
        sim.run_until(start + (step + 1) * 50);
    }
    // Let detection, requeues and timeouts run their course.
    sim.run_until(sim.now() + 10_000);

    let deliveries = sim.observations().deliveries();
    let events = sim.observations().pubsub_events();
    let accepted_ids: BTreeSet<(&str, &MemberId, u64)> = accepted
        .iter()
        .flat_map(|((t, p), ids)| ids.iter().map(move |id| (*t, p, *id)))
        .collect();

    // Nothing was delivered that no publisher accepted.
    for d in deliveries {
        assert!(
            accepted_ids.contains(&(d.topic.as_str(), &d.publisher, d.message_id)),
            "delivery of a message never accepted: {d:?}"
        );
    }

    // Broadcast: every auditor (all alive throughout) got every accepted event exactly
    // once, and nobody else got any.
    let mut per_event: BTreeMap<(&MemberId, u64), BTreeMap<usize, usize>> = BTreeMap::new();
    for d in deliveries.iter().filter(|d| d.topic == "events") {
        assert!(AUDITORS.contains(&d.node), "event delivered to {d:?}");
        *per_event
            .entry((&d.publisher, d.message_id))
            .or_default()
            .entry(d.node)
            .or_default() += 1;
    }
    let every_auditor_once: BTreeMap<usize, usize> = AUDITORS.iter().map(|a| (*a, 1)).collect();
    let mut total_events = 0;
    for (publisher, ids) in accepted
        .iter()
        .filter(|((t, _), _)| *t == "events")
        .map(|((_, p), ids)| (p, ids))
    {
        for id in ids {
            total_events += 1;
            assert_eq!(
                per_event.get(&(publisher, *id)),
                Some(&every_auditor_once),
                "event {publisher}/{id}"
            );
        }
    }

    // Group: gather what each publisher observed about each of its jobs.
    let node_of: BTreeMap<&MemberId, usize> = publisher_ids.iter().map(|(i, m)| (m, *i)).collect();
    let mut jobs: BTreeMap<(usize, u64), JobFacts> = BTreeMap::new();
    for d in deliveries.iter().filter(|d| d.topic == "jobs") {
        let publisher = node_of[&d.publisher];
        jobs.entry((publisher, d.message_id))
            .or_default()
            .delivered_to
            .push(d.subscriber.to_string());
    }
    // Completions the instances' nodes sent; the publishers' counters below show that
    // each was taken.
    for c in sim.observations().completions() {
        assert_eq!(c.topic, "jobs");
        jobs.entry((node_of[&c.publisher], c.message_id))
            .or_default()
            .completed_by
            .push(c.subscriber.to_string());
    }
    for (node, event) in events {
        if !PUBLISHERS.contains(node) {
            continue;
        }
        if let PubSubEvent::Requeued {
            topic,
            member,
            subscriber,
            message_id,
            ..
        } = event
            && topic == "jobs"
        {
            assert_eq!(
                (member, subscriber.as_str()),
                (&crashed_member, crashed_worker.as_str()),
                "only the crashed instance loses jobs"
            );
            jobs.entry((*node, *message_id))
                .or_default()
                .requeued_from
                .push(subscriber.to_string());
        }
    }
    for (&p, publisher) in &publisher_ids {
        let sent = sim
            .observations()
            .completions()
            .iter()
            .filter(|c| c.publisher == *publisher)
            .count() as u64;
        assert_eq!(
            sim.broker(p).unwrap().metrics("jobs").completed,
            sent,
            "{publisher} took every completion sent to it"
        );
    }

    // Each accepted job is in exactly one of these, by what was observed.
    let mut done_by_live = 0;
    let mut re_handed = 0;
    let mut done_by_crashed_before_crash = 0;
    let mut still_queued = 0;
    let mut total_jobs = 0;
    for (publisher_index, publisher) in &publisher_ids {
        let group = sim
            .broker(*publisher_index)
            .and_then(|b| b.group("jobs", "workers"));
        let queued: BTreeSet<u64> = group.map(|g| g.queued().collect()).unwrap_or_default();
        let ids = accepted
            .get(&("jobs", publisher.clone()))
            .cloned()
            .unwrap_or_default();
        let empty = JobFacts::default();
        for id in ids {
            total_jobs += 1;
            let facts = jobs.get(&(*publisher_index, id)).unwrap_or(&empty);
            let live: Vec<&String> = facts
                .delivered_to
                .iter()
                .filter(|s| **s != crashed_worker)
                .collect();
            let at_crashed = facts.delivered_to.len() - live.len();
            assert!(
                facts.completed_by.len() <= 1,
                "job {publisher}/{id} completed twice: {facts:?}"
            );
            assert!(
                live.len() <= 1,
                "job {publisher}/{id} handed to two live instances: {facts:?}"
            );
            match (facts.completed_by.first(), live.first()) {
                // Completed by the live instance it was handed to; if the crashed instance
                // had it first, the publisher took it back from it (a requeue) before.
                (Some(by), Some(to)) => {
                    assert_eq!(by, *to, "job {publisher}/{id}: {facts:?}");
                    if at_crashed > 0 || !facts.requeued_from.is_empty() {
                        assert!(
                            !facts.requeued_from.is_empty(),
                            "job {publisher}/{id} re-handed without a requeue: {facts:?}"
                        );
                        re_handed += 1;
                    }
                    done_by_live += 1;
                }
                // Completed by the crashed instance, which it was handed to and never taken
                // back from: its completion reached the publisher, so it ran before the
                // crash.
                (Some(by), None) => {
                    assert_eq!(*by, crashed_worker, "job {publisher}/{id}: {facts:?}");
                    assert!(
                        at_crashed > 0 && facts.requeued_from.is_empty(),
                        "{facts:?}"
                    );
                    done_by_crashed_before_crash += 1;
                }
                // Not completed: it must still wait in its publisher's queue, not be held by
                // anyone (it went to no live instance, and any hold of the crashed one ended
                // in a requeue).
                (None, None) => {
                    assert!(
                        queued.contains(&id),
                        "job {publisher}/{id} neither completed nor queued: {facts:?}"
                    );
                    assert!(
                        at_crashed == 0 || !facts.requeued_from.is_empty(),
                        "job {publisher}/{id} still held by the crashed instance: {facts:?}"
                    );
                    still_queued += 1;
                }
                (None, Some(to)) => {
                    panic!("job {publisher}/{id} handed to {to} and never completed: {facts:?}")
                }
            }
        }
        // What the publisher still holds is queued, and no instance holds anything.
        if let Some(g) = group {
            for &w in &workers {
                let member = sim.id_of(w).unwrap();
                let worker = chorus_core::pubsub::SubscriberId::new(&format!("worker-{w}"));
                assert!(
                    g.in_flight(&member, &worker).is_empty(),
                    "{publisher}: worker-{w} still holds {:?}",
                    g.in_flight(&member, &worker)
                );
            }
        }
    }
    let requeues: usize = jobs.values().map(|f| f.requeued_from.len()).sum();
    println!(
        "{total_jobs} jobs accepted: {done_by_live} completed by a live instance \
         ({re_handed} of them taken back from the crashed one first), \
         {done_by_crashed_before_crash} completed by the crashed one before it crashed, \
         {still_queued} still queued; {requeues} requeues observed; \
         {total_events} events × {} auditors; rejected publishes: {rejected:?}",
        AUDITORS.len()
    );
    assert!(total_jobs > 500 && total_events > 300);
    assert_eq!(
        done_by_live + done_by_crashed_before_crash + still_queued,
        total_jobs
    );
    assert!(re_handed > 0, "the crash hit jobs in flight");
    assert!(
        done_by_crashed_before_crash > 0,
        "the crashed instance worked before"
    );
    // Each rejection has a reason (the map's keys) — with ten instances and a 1,024-message
    // queue, nothing needs rejecting here.
    assert!(rejected.is_empty(), "{rejected:?}");
}

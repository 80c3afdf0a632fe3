//! Pub/sub across failures, in the simulator: every node runs the same
//! `chorus_core::node::Node` the Tokio driver runs. A partition that heals (the smaller
//! side rejoining under new incarnations), a subscriber node that crashes, a publisher
//! that crashes. Each scenario states what a user may rely on and what is lost, and
//! checks exactly that from what the nodes observably did — deliveries, completions,
//! requeues, failed deliveries, the publishers' queues — never from guesses about timing.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

use std::collections::{BTreeMap, BTreeSet};

use chorus_core::pubsub::{PubSubConfig, PubSubEvent, PublishAck, PublishRejection, SubscriberId};
use chorus_core::topology::MemberId;
use chorus_sim::{Completion, Delivery, SimConfig, Simulator};

const NEWS: &str = "news";
const JOBS: &str = "jobs";

/// A message, named as its publisher named it: (publishing member, message id).
type Key = (MemberId, u64);

fn bcast(node: usize) -> String {
    format!("bcast-{node}")
}

fn worker(node: usize) -> String {
    format!("worker-{node}")
}

/// Where a scenario's subscribers live: broadcast subscribers of `news` and instances
/// of one load-balanced group of `jobs`.
struct Layout {
    broadcast: Vec<usize>,
    workers: Vec<usize>,
    group: &'static str,
    limit: u32,
}

/// One subscription as a registry lists it: (topic, member, subscriber, group).
type Listed = (String, MemberId, String, Option<String>);

impl Layout {
    /// What every live node's registry must list: each subscriber of a live node under
    /// that node's current member id, and nothing else.
    fn expected(&self, sim: &Simulator) -> BTreeSet<Listed> {
        let broadcast = self
            .broadcast
            .iter()
            .filter(|n| sim.is_alive(**n))
            .map(|&n| (NEWS.to_string(), sim.id_of(n).unwrap(), bcast(n), None));
        let workers = self.workers.iter().filter(|n| sim.is_alive(**n)).map(|&n| {
            (
                JOBS.to_string(),
                sim.id_of(n).unwrap(),
                worker(n),
                Some(self.group.to_string()),
            )
        });
        broadcast.chain(workers).collect()
    }

    /// Whether every live node lists exactly [`expected`](Self::expected), and its group
    /// of `jobs` has exactly one instance per live worker (no stale identity).
    fn registry_complete(&self, sim: &Simulator) -> bool {
        let expected = self.expected(sim);
        let live_workers = self.workers.iter().filter(|n| sim.is_alive(**n)).count();
        sim.live().all(|i| {
            let broker = sim.broker(i).unwrap();
            let registry = broker.registry();
            let listed: BTreeSet<Listed> = [NEWS, JOBS]
                .iter()
                .flat_map(|t| registry.subscribers(t))
                .map(|s| {
                    (
                        s.topic.clone(),
                        s.member.clone(),
                        s.subscriber.to_string(),
                        s.group.clone(),
                    )
                })
                .collect();
            listed == expected
                && broker
                    .group(JOBS, self.group)
                    .is_some_and(|g| g.instances() == live_workers)
        })
    }

    /// Whether no live publisher of `publishers` has a `jobs` message queued or held by a
    /// live worker.
    fn groups_idle(&self, sim: &Simulator, publishers: &[usize]) -> bool {
        publishers.iter().filter(|p| sim.is_alive(**p)).all(|&p| {
            sim.broker(p)
                .unwrap()
                .group(JOBS, self.group)
                .is_none_or(|g| {
                    g.queue_len() == 0
                        && self.workers.iter().all(|&w| {
                            g.in_flight(&sim.id_of(w).unwrap(), &SubscriberId::new(&worker(w)))
                                .is_empty()
                        })
                })
        })
    }

    /// Converges `config`'s cluster, subscribes, and waits until every node lists every
    /// subscriber.
    fn start(&self, config: SimConfig) -> Simulator {
        let mut sim = Simulator::new(config).unwrap();
        sim.run_until_true(60_000, 5, Simulator::topology_agreed)
            .expect("the cluster converges");
        for &n in &self.broadcast {
            sim.subscribe(n, NEWS, &bcast(n), None, 1).unwrap();
        }
        for &n in &self.workers {
            sim.subscribe(n, JOBS, &worker(n), Some(self.group), self.limit)
                .unwrap();
        }
        sim.run_until_true(10_000, 5, |s| self.registry_complete(s))
            .expect("every node lists every subscriber");
        sim
    }
}

/// An accepted message.
#[derive(Debug, Clone)]
struct Published {
    topic: &'static str,
    node: usize,
    key: Key,
    at: u64,
}

/// Every publish of a scenario and its answer.
#[derive(Debug, Default)]
struct Ledger {
    accepted: Vec<Published>,
    rejected: BTreeMap<PublishRejection, usize>,
}

impl Ledger {
    /// Publishes `count` messages on `topic` from `node`; returns their ids (none when
    /// rejected).
    fn publish(
        &mut self,
        sim: &mut Simulator,
        node: usize,
        topic: &'static str,
        count: usize,
    ) -> Vec<u64> {
        let publisher = sim.id_of(node).unwrap();
        let at = sim.now();
        let payloads = (0..count)
            .map(|i| format!("{topic}/{node}/{at}/{i}").into_bytes())
            .collect();
        match sim.publish(node, topic, payloads).unwrap() {
            PublishAck::Accepted { message_ids } => {
                for &id in &message_ids {
                    self.accepted.push(Published {
                        topic,
                        node,
                        key: (publisher.clone(), id),
                        at,
                    });
                }
                message_ids
            }
            PublishAck::Rejected { reason } => {
                *self.rejected.entry(reason).or_default() += 1;
                Vec::new()
            }
        }
    }

    fn of(&self, topic: &str) -> impl Iterator<Item = &Published> {
        self.accepted.iter().filter(move |p| p.topic == topic)
    }

    fn keys(&self, topic: &str) -> BTreeSet<Key> {
        self.of(topic).map(|p| p.key.clone()).collect()
    }
}

/// The deliveries of `topic`, per message.
fn deliveries_of<'a>(sim: &'a Simulator, topic: &str) -> BTreeMap<Key, Vec<&'a Delivery>> {
    let mut per: BTreeMap<Key, Vec<&Delivery>> = BTreeMap::new();
    for d in sim
        .observations()
        .deliveries()
        .iter()
        .filter(|d| d.topic == topic)
    {
        per.entry((d.publisher.clone(), d.message_id))
            .or_default()
            .push(d);
    }
    per
}

/// The completions (of `jobs`), per message.
fn completions_of(sim: &Simulator) -> BTreeMap<Key, Vec<&Completion>> {
    let mut per: BTreeMap<Key, Vec<&Completion>> = BTreeMap::new();
    for c in sim.observations().completions() {
        assert_eq!(c.topic, JOBS, "a completion outside the group topic: {c:?}");
        per.entry((c.publisher.clone(), c.message_id))
            .or_default()
            .push(c);
    }
    per
}

/// How many times each (node, subscriber) got a message.
fn receivers(deliveries: Option<&Vec<&Delivery>>) -> BTreeMap<(usize, String), usize> {
    let mut seen = BTreeMap::new();
    for d in deliveries.into_iter().flatten() {
        *seen.entry((d.node, d.subscriber.to_string())).or_default() += 1;
    }
    seen
}

/// `(node, bcast(node))` once each, for `nodes`.
fn once_each(nodes: impl IntoIterator<Item = usize>) -> BTreeMap<(usize, String), usize> {
    nodes.into_iter().map(|n| ((n, bcast(n)), 1)).collect()
}

/// After a partition heals and the smaller side rejoins under new incarnations, each
/// node's broker lists every subscriber again under its member's current id — the rejoined
/// nodes rewrote their subscriptions into their new gossip state, and every node dropped the
/// old identities — and then, publishing from nodes of both former sides, every broadcast
/// subscriber gets every message exactly once and every group message is handed to
/// exactly one live instance and completed exactly once; nothing stays queued or in
/// flight, nothing fails or is requeued.
#[test]
fn after_a_partition_heals_and_the_minority_rejoins_every_live_subscriber_gets_every_broadcast_and_each_group_message_one_live_instance()
 {
    const NODES: usize = 15;
    // Nodes 0..10 (with the seed) against 10..15: a third of the cluster cut off.
    const SPLIT: usize = 10;
    let side = |i: usize| usize::from(i >= SPLIT);
    let layout = Layout {
        broadcast: vec![1, 5, 11, 13],
        workers: vec![2, 6, 8, 10, 12, 14],
        group: "workers",
        limit: 1,
    };
    let publishers = [0, 4, 9, 11, 14];
    let config = SimConfig::new(NODES)
        .with_seed(12)
        .with_pubsub(PubSubConfig::new());
    let mut sim = layout.start(config);

    sim.partition(side);
    let before: Vec<MemberId> = (0..NODES).map(|i| sim.id_of(i).unwrap()).collect();
    let cut = sim.now();
    let split_seen = sim
        .run_until_true(30_000, 10, |s| {
            (0..NODES).all(|i| {
                let node = s.node(i).unwrap();
                (0..NODES)
                    .filter(|j| side(*j) != side(i))
                    .all(|j| node.is_blocked(&before[j]))
            })
        })
        .expect("each side blocks the other");
    // Each side's registry dropped the other side's subscribers with their members.
    for i in 0..NODES {
        let registry = sim.broker(i).unwrap().registry();
        for s in registry.all() {
            let owner: usize = s.member.name()[1..].parse().unwrap();
            assert_eq!(side(owner), side(i), "n{i} still lists {s:?}");
        }
    }
    sim.run_until(sim.now() + 2_000);

    sim.heal();
    let healed = sim.now();
    // When one topology is agreed, and when every registry lists every subscriber under
    // its current id: both must hold.
    let (mut agreed, mut relisted) = (None, None);
    sim.run_until_true(60_000, 5, |s| {
        if agreed.is_none() && s.topology_agreed() {
            agreed = Some(s.now());
        }
        if relisted.is_none() && layout.registry_complete(s) {
            relisted = Some(s.now());
        }
        agreed.is_some() && relisted.is_some()
    });
    let agreed = agreed.expect("one topology after the heal");
    let relisted = relisted.unwrap_or_else(|| {
        let expected = layout.expected(&sim);
        let wrong: Vec<String> = sim
            .live()
            .filter_map(|i| {
                let listed: BTreeSet<String> = sim
                    .broker(i)
                    .unwrap()
                    .registry()
                    .all()
                    .map(|s| format!("{}@{}", s.subscriber, s.member))
                    .collect();
                let want: BTreeSet<String> = expected
                    .iter()
                    .map(|(_, m, s, _)| format!("{s}@{m}"))
                    .collect();
                (listed != want).then(|| format!("n{i} lists {listed:?}"))
            })
            .collect();
        panic!("registries after the heal, expected {expected:?}: {wrong:?}")
    });
    // The smaller side came back under new incarnations; the larger kept its identities.
    for i in 0..NODES {
        let incarnation = sim.id_of(i).unwrap().incarnation();
        if side(i) == 1 {
            assert!(incarnation > 1, "n{i} did not rejoin");
        } else {
            assert_eq!(incarnation, 1, "n{i} rejoined");
        }
    }

    // Publish from both former sides: every 50 ms each publisher sends 2 jobs and 1 news,
    // for 2 s.
    let events_before = sim.observations().pubsub_events().len();
    let mut ledger = Ledger::default();
    let start = sim.now();
    for step in 0..40u64 {
        for &p in &publishers {
            ledger.publish(&mut sim, p, JOBS, 2);
            ledger.publish(&mut sim, p, NEWS, 1);
        }
        sim.run_until(start + (step + 1) * 50);
    }
    let jobs = ledger.keys(JOBS);
    let settled = sim.run_until_true(20_000, 10, |s| {
        layout.groups_idle(s, &publishers) && s.observations().completions().len() >= jobs.len()
    });
    assert!(ledger.rejected.is_empty(), "{:?}", ledger.rejected);

    // Broadcast: every subscriber exactly once, nobody else.
    let news = deliveries_of(&sim, NEWS);
    let everyone = once_each(layout.broadcast.iter().copied());
    for p in ledger.of(NEWS) {
        assert_eq!(
            receivers(news.get(&p.key)),
            everyone,
            "news {:?} from n{}",
            p.key,
            p.node
        );
    }
    assert_eq!(news.len(), ledger.of(NEWS).count(), "unpublished news");

    // Group: one live instance each, which completed it once.
    let handed = deliveries_of(&sim, JOBS);
    let completed = completions_of(&sim);
    let mut per_worker: BTreeMap<usize, usize> = BTreeMap::new();
    for key in &jobs {
        let to = handed.get(key).map(Vec::as_slice).unwrap_or_default();
        let by = completed.get(key).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(to.len(), 1, "job {key:?} handed to {to:?}");
        assert_eq!(by.len(), 1, "job {key:?} completed by {by:?}");
        let (d, c) = (to[0], by[0]);
        assert!(
            layout.workers.contains(&d.node)
                && d.subscriber.as_str() == worker(d.node)
                && sim.is_alive(d.node),
            "job {key:?} handed to {d:?}"
        );
        assert_eq!(
            (c.node, &c.subscriber),
            (d.node, &d.subscriber),
            "job {key:?}"
        );
        *per_worker.entry(d.node).or_default() += 1;
    }
    assert_eq!(handed.len(), jobs.len(), "unpublished jobs delivered");
    assert!(settled.is_some(), "jobs still queued or in flight");
    for (&p, publisher) in publishers.iter().map(|p| (p, sim.id_of(*p).unwrap())) {
        let sent = sim
            .observations()
            .completions()
            .iter()
            .filter(|c| c.publisher == publisher)
            .count() as u64;
        assert_eq!(
            sim.broker(p).unwrap().metrics(JOBS).completed,
            sent,
            "n{p} took every completion"
        );
    }
    // Instances of both former sides took work.
    assert_eq!(
        per_worker.keys().copied().collect::<Vec<_>>(),
        layout.workers,
        "{per_worker:?}"
    );
    let failures: Vec<&(usize, PubSubEvent)> = sim.observations().pubsub_events()[events_before..]
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                PubSubEvent::Requeued { .. }
                    | PubSubEvent::DeliveryFailed { .. }
                    | PubSubEvent::Unroutable { .. }
                    | PubSubEvent::GroupWithoutInstances { .. }
                    | PubSubEvent::SubscriberRemoved { .. }
            )
        })
        .collect();
    assert!(failures.is_empty(), "after the heal: {failures:?}");

    println!(
        "partition {SPLIT}/{}: split seen after {} ms, heal agreed after {} ms, registries \
         relisted after {} ms ({} rejoins); {} news × {} subscribers exactly once, {} jobs \
         each to one live instance {per_worker:?}, settled {} ms after the last publish",
        NODES - SPLIT,
        split_seen - cut,
        agreed - healed,
        relisted - healed,
        sim.observations().rejoins(),
        ledger.of(NEWS).count(),
        layout.broadcast.len(),
        jobs.len(),
        settled.unwrap() - (start + 40 * 50),
    );
}

/// A node holding a broadcast subscriber and a group instance crashes while three nodes
/// publish. It loses only what it held: every other subscriber gets every broadcast
/// message exactly once; the crashed subscriber got only messages that reached it before
/// the crash, each one it missed while its publisher still listed it is reported
/// `DeliveryFailed` there, and once every survivor blocked it nothing is sent to it. Every
/// accepted group message is completed exactly once — by a live instance, or by the
/// crashed one before the crash (and then never requeued) — and only the crashed
/// instance's messages are requeued (`Requeued` names it), each then completed by one live
/// instance. Nothing is left queued or in flight.
#[test]
fn a_crashed_subscriber_node_loses_only_what_it_held_and_its_group_messages_go_to_another_instance()
{
    const NODES: usize = 16;
    const CRASHED: usize = 5;
    let layout = Layout {
        broadcast: vec![1, CRASHED, 9, 13],
        workers: vec![2, CRASHED, 7, 10, 14],
        group: "workers",
        limit: 2,
    };
    let publishers = [0, 8, 12];
    let mut config = SimConfig::new(NODES)
        .with_seed(5)
        .with_pubsub(PubSubConfig::new());
    // Long enough that the crashed instance holds messages when it goes.
    config.processing_ms = 100;
    let mut sim = layout.start(config);

    let crashed_id = sim.id_of(CRASHED).unwrap();
    let crashed_bcast = SubscriberId::new(&bcast(CRASHED));
    let crashed_worker = worker(CRASHED);
    let mut ledger = Ledger::default();
    // News whose publisher listed the crashed subscriber when it published (so sent it).
    let mut targeted: BTreeSet<Key> = BTreeSet::new();
    let start = sim.now();
    let mut crashed_at = None;
    let mut blocked_at = None;
    let mut step = 0u64;
    // Every 50 ms each publisher sends 2 jobs and 1 news; the node crashes after 1 s, and
    // publishing goes on for 1.5 s after every survivor blocked it.
    while blocked_at.is_none_or(|at| sim.now() < at + 1_500) {
        assert!(step < 400, "the crash is never detected");
        if step == 20 {
            sim.crash(CRASHED).unwrap();
            crashed_at = Some(sim.now());
        }
        if crashed_at.is_some() && blocked_at.is_none() && sim.all_blocked(&crashed_id) {
            blocked_at = Some(sim.now());
        }
        for &p in &publishers {
            ledger.publish(&mut sim, p, JOBS, 2);
            let lists_it = sim
                .broker(p)
                .unwrap()
                .registry()
                .get(NEWS, &crashed_id, &crashed_bcast)
                .is_some();
            for id in ledger.publish(&mut sim, p, NEWS, 1) {
                if lists_it {
                    targeted.insert((sim.id_of(p).unwrap(), id));
                }
            }
        }
        step += 1;
        sim.run_until(start + step * 50);
    }
    let (crashed_at, blocked_at) = (crashed_at.unwrap(), blocked_at.unwrap());
    // Past the delivery timeout, so that every batch to the crashed node is answered.
    let answered = sim.now() + PubSubConfig::new().delivery_timeout_ms + 500;
    sim.run_until(answered);
    let jobs = ledger.keys(JOBS);
    let settled = sim.run_until_true(20_000, 10, |s| {
        layout.groups_idle(s, &publishers) && s.observations().completions().len() >= jobs.len()
    });
    assert!(ledger.rejected.is_empty(), "{:?}", ledger.rejected);
    assert!(
        layout.registry_complete(&sim),
        "survivors list exactly the live subscribers"
    );

    // Broadcast.
    let news = deliveries_of(&sim, NEWS);
    let remaining = once_each(layout.broadcast.iter().copied().filter(|n| *n != CRASHED));
    let mut reached_crashed: BTreeSet<Key> = BTreeSet::new();
    let mut after_block = 0;
    for p in ledger.of(NEWS) {
        let mut got = receivers(news.get(&p.key));
        if let Some(count) = got.remove(&(CRASHED, bcast(CRASHED))) {
            assert_eq!(count, 1, "news {:?} twice at the crashed node", p.key);
            reached_crashed.insert(p.key.clone());
        }
        assert_eq!(got, remaining, "news {:?} from n{}", p.key, p.node);
        if p.at >= blocked_at {
            after_block += 1;
            assert!(
                !targeted.contains(&p.key),
                "news {:?} sent to the crashed node after every survivor blocked it",
                p.key
            );
        }
    }
    for d in news.values().flatten().filter(|d| d.node == CRASHED) {
        assert!(d.at < crashed_at, "delivered at the crashed node: {d:?}");
    }
    assert!(
        reached_crashed.is_subset(&targeted),
        "the crashed node got news not sent to it"
    );
    // What the crashed subscriber missed while listed, its publishers reported.
    let reported: BTreeSet<Key> = sim
        .observations()
        .pubsub_events()
        .iter()
        .filter_map(|(node, e)| match e {
            PubSubEvent::DeliveryFailed {
                topic,
                subscriber,
                message_id,
                ..
            } => {
                assert!(
                    publishers.contains(node),
                    "n{node} published nothing: {e:?}"
                );
                if topic == NEWS {
                    assert_eq!(subscriber, &crashed_bcast, "n{node}: {e:?}");
                    Some((sim.id_of(*node).unwrap(), *message_id))
                } else {
                    assert_eq!(subscriber.as_str(), crashed_worker, "n{node}: {e:?}");
                    None
                }
            }
            _ => None,
        })
        .collect();
    let missed: BTreeSet<Key> = targeted.difference(&reached_crashed).cloned().collect();
    assert_eq!(
        reported, missed,
        "failures reported == news sent to the crashed node that it did not get"
    );
    assert!(after_block > 0 && !missed.is_empty());

    // Group.
    let handed = deliveries_of(&sim, JOBS);
    let completed = completions_of(&sim);
    let mut requeued: BTreeMap<Key, usize> = BTreeMap::new();
    for (node, e) in sim.observations().pubsub_events() {
        if let PubSubEvent::Requeued {
            topic,
            member,
            subscriber,
            message_id,
            ..
        } = e
        {
            assert!(publishers.contains(node), "n{node} requeued {e:?}");
            assert_eq!(topic, JOBS);
            assert_eq!(
                (member, subscriber.as_str()),
                (&crashed_id, crashed_worker.as_str()),
                "only the crashed instance's messages are requeued"
            );
            *requeued
                .entry((sim.id_of(*node).unwrap(), *message_id))
                .or_default() += 1;
        }
    }
    let mut done_by_live = 0;
    let mut done_by_crashed = 0;
    let mut taken_back: BTreeSet<Key> = BTreeSet::new();
    for key in &jobs {
        let to = handed.get(key).map(Vec::as_slice).unwrap_or_default();
        let by = completed.get(key).map(Vec::as_slice).unwrap_or_default();
        let live: Vec<&&Delivery> = to.iter().filter(|d| d.node != CRASHED).collect();
        let at_crashed = to.len() - live.len();
        let times_requeued = requeued.get(key).copied().unwrap_or(0);
        assert_eq!(
            by.len(),
            1,
            "job {key:?} completed by {by:?}, handed to {to:?}"
        );
        assert!(
            at_crashed <= 1,
            "job {key:?} handed twice to the crashed node"
        );
        if by[0].node == CRASHED {
            // Done before the crash, its completion taken: never taken back, never resent.
            assert!(by[0].at < crashed_at);
            assert!(
                times_requeued == 0 && live.is_empty() && at_crashed == 1,
                "job {key:?}: {to:?}, requeued {times_requeued}"
            );
            done_by_crashed += 1;
        } else {
            assert_eq!(live.len(), 1, "job {key:?} handed to {to:?}");
            let (d, c) = (live[0], by[0]);
            assert!(layout.workers.contains(&d.node) && d.subscriber.as_str() == worker(d.node));
            assert_eq!(
                (c.node, &c.subscriber),
                (d.node, &d.subscriber),
                "job {key:?}"
            );
            // Delivered at the crashed instance before the crash: then taken back from it.
            // (A job sent to it after the crash is lost on the wire and taken back too.)
            assert!(
                times_requeued >= at_crashed,
                "job {key:?}: {at_crashed} at the crashed node, requeued {times_requeued}"
            );
            if times_requeued > 0 {
                taken_back.insert(key.clone());
            }
            done_by_live += 1;
        }
    }
    assert_eq!(done_by_live + done_by_crashed, jobs.len());
    assert_eq!(
        requeued.keys().cloned().collect::<BTreeSet<Key>>(),
        taken_back,
        "every requeued job was completed by a live instance"
    );
    let requeue_events: usize = requeued.values().sum();
    assert!(settled.is_some(), "jobs still queued or in flight");
    for &p in &publishers {
        let publisher = sim.id_of(p).unwrap();
        let sent = sim
            .observations()
            .completions()
            .iter()
            .filter(|c| c.publisher == publisher)
            .count() as u64;
        assert_eq!(sim.broker(p).unwrap().metrics(JOBS).completed, sent);
    }
    assert!(!taken_back.is_empty() && done_by_crashed > 0);

    println!(
        "crash of a subscriber node: every survivor blocked it {} ms after the crash; \
         {} news to 3 remaining subscribers exactly once ({after_block} after the block), \
         the crashed one got {} and missed {} (each reported DeliveryFailed); {} jobs: \
         {done_by_live} completed by live instances ({} of them requeued from the crashed \
         one, {requeue_events} requeue events), {done_by_crashed} by the crashed one before \
         it crashed; idle {} ms after the last delivery timeout",
        blocked_at - crashed_at,
        ledger.of(NEWS).count(),
        reached_crashed.len(),
        missed.len(),
        jobs.len(),
        taken_back.len(),
        settled.unwrap() - answered,
    );
}

/// A publisher of a slow group (2 instances, 1 message each in flight, 200 ms of
/// processing) crashes with messages waiting in its group's queue. Group state lives at the
/// publishing node, so what is lost is exactly its group messages that no instance got:
/// those still queued at the publisher at the crash are gone (nobody else holds them,
/// nothing requeues them — at most once for them). Those in flight — handed to an instance
/// whose completion had not reached the publisher — are finished by the instance that holds
/// them (even if its batch was still on the wire at the crash), and nothing sends them
/// again. Its broadcast messages were already sent to each subscriber's member and arrive
/// independently of the publisher (here: all of them, also those on the wire at the
/// crash). Messages of another publisher, published before and after the crash, are all
/// completed and delivered; no delivery fails and nothing is requeued anywhere.
#[test]
fn a_crashed_publisher_loses_its_queued_and_in_flight_group_messages_and_nothing_else() {
    const NODES: usize = 14;
    const PUBLISHER: usize = 3;
    const OTHER: usize = 9;
    let layout = Layout {
        broadcast: vec![1, 6, 12],
        workers: vec![5, 11],
        group: "slow",
        limit: 1,
    };
    let mut config = SimConfig::new(NODES)
        .with_seed(3)
        .with_pubsub(PubSubConfig::new());
    config.processing_ms = 200;
    let mut sim = layout.start(config);
    let publisher_id = sim.id_of(PUBLISHER).unwrap();
    let other_id = sim.id_of(OTHER).unwrap();
    let instances: Vec<(MemberId, SubscriberId)> = layout
        .workers
        .iter()
        .map(|w| (sim.id_of(*w).unwrap(), SubscriberId::new(&worker(*w))))
        .collect();

    let mut ledger = Ledger::default();
    let start = sim.now();
    // Every 100 ms the publisher sends 4 jobs and 1 news (the group finishes 10 jobs a
    // second); every 250 ms the other one sends 1 job and 1 news. The publisher crashes
    // right after its publish at 1 s.
    let mut snapshot = None;
    let mut detected = None;
    for step in 0..100u64 {
        if step % 2 == 0 && step <= 20 {
            ledger.publish(&mut sim, PUBLISHER, JOBS, 4);
            ledger.publish(&mut sim, PUBLISHER, NEWS, 1);
        }
        if step % 5 == 0 {
            ledger.publish(&mut sim, OTHER, JOBS, 1);
            ledger.publish(&mut sim, OTHER, NEWS, 1);
        }
        if detected.is_none() && snapshot.is_some() && sim.all_blocked(&publisher_id) {
            detected = Some(sim.now());
        }
        if step == 20 {
            let broker = sim.broker(PUBLISHER).unwrap();
            let group = broker.group(JOBS, layout.group).unwrap();
            let queued: BTreeSet<u64> = group.queued().collect();
            let in_flight: BTreeSet<u64> = instances
                .iter()
                .flat_map(|(m, s)| group.in_flight(m, s).iter().copied())
                .collect();
            snapshot = Some((sim.now(), queued, in_flight, broker.metrics(JOBS).completed));
            sim.crash(PUBLISHER).unwrap();
        }
        sim.run_until(start + (step + 1) * 50);
    }
    let (crashed_at, queued, in_flight, taken) = snapshot.unwrap();
    let detected = detected.expect("every survivor blocks the publisher");
    let settled = sim.run_until_true(20_000, 10, |s| layout.groups_idle(s, &[OTHER]));
    sim.run_until(sim.now() + 1_000);
    assert!(ledger.rejected.is_empty(), "{:?}", ledger.rejected);

    let of = |publisher: &MemberId, topic: &str| -> BTreeSet<u64> {
        ledger
            .of(topic)
            .filter(|p| p.key.0 == *publisher)
            .map(|p| p.key.1)
            .collect()
    };
    let handed = deliveries_of(&sim, JOBS);
    let completed = completions_of(&sim);
    let handed_ids = |publisher: &MemberId| -> BTreeSet<u64> {
        handed
            .keys()
            .filter(|(p, _)| p == publisher)
            .map(|(_, id)| *id)
            .collect()
    };

    // The crashed publisher's jobs: accepted = taken ⊔ in flight ⊔ queued at the crash.
    let accepted = of(&publisher_id, JOBS);
    assert!(queued.is_disjoint(&in_flight));
    assert!(queued.is_subset(&accepted) && in_flight.is_subset(&accepted));
    assert_eq!(
        taken as usize + in_flight.len() + queued.len(),
        accepted.len(),
        "every accepted job was completed, in flight or queued at the publisher"
    );
    // Lost: accepted and never handed to any instance — exactly the queue at the crash.
    let delivered = handed_ids(&publisher_id);
    let lost: BTreeSet<u64> = accepted.difference(&delivered).copied().collect();
    assert_eq!(lost, queued, "lost == queued at the crash");
    assert!(!lost.is_empty() && !in_flight.is_empty());
    // Each delivered job went to one instance, which finished it; those it finished after
    // the crash (their completion never reached the publisher) were in flight there.
    let mut finished_after = BTreeSet::new();
    let mut handed_after = 0;
    for id in &delivered {
        let key = (publisher_id.clone(), *id);
        let to = &handed[&key];
        let by = completed.get(&key).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(to.len(), 1, "job {key:?} handed to {to:?}");
        assert_eq!(by.len(), 1, "job {key:?} completed by {by:?}");
        assert_eq!(
            (by[0].node, &by[0].subscriber),
            (to[0].node, &to[0].subscriber)
        );
        if to[0].at >= crashed_at {
            assert!(in_flight.contains(id), "job {key:?} handed after the crash");
            handed_after += 1;
        }
        if by[0].at >= crashed_at {
            finished_after.insert(*id);
        }
    }
    // A completion sent just before the crash may still have been on the wire: then the
    // job finished before the crash is in flight at the publisher all the same.
    assert!(
        finished_after.is_subset(&in_flight),
        "{finished_after:?} ⊄ {in_flight:?}"
    );
    let finished_before_not_taken = in_flight.difference(&finished_after).count();
    assert!(completed.keys().filter(|(p, _)| *p == publisher_id).count() == delivered.len());

    // Its news: every subscriber got every one, those on the wire at the crash included.
    let news = deliveries_of(&sim, NEWS);
    let everyone = once_each(layout.broadcast.iter().copied());
    let mut news_after_crash = 0;
    for p in ledger.of(NEWS) {
        assert_eq!(receivers(news.get(&p.key)), everyone, "news {:?}", p.key);
        if p.key.0 == publisher_id {
            news_after_crash += news[&p.key].iter().filter(|d| d.at >= crashed_at).count();
        }
    }
    assert!(news_after_crash > 0, "no news was on the wire at the crash");

    // The other publisher: every job completed once by one instance, the later ones too.
    let others = of(&other_id, JOBS);
    let mut others_after = 0;
    for p in ledger.of(JOBS).filter(|p| p.key.0 == other_id) {
        let to = handed.get(&p.key).map(Vec::as_slice).unwrap_or_default();
        let by = completed.get(&p.key).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            (to.len(), by.len()),
            (1, 1),
            "job {:?}: {to:?} {by:?}",
            p.key
        );
        assert_eq!(
            (by[0].node, &by[0].subscriber),
            (to[0].node, &to[0].subscriber)
        );
        if p.at > crashed_at {
            others_after += 1;
        }
    }
    assert_eq!(handed_ids(&other_id), others);
    assert!(
        settled.is_some(),
        "the other publisher's jobs still queued or in flight"
    );
    assert_eq!(
        sim.broker(OTHER).unwrap().metrics(JOBS).completed,
        others.len() as u64
    );
    assert!(others_after > 0);
    let failures: Vec<&(usize, PubSubEvent)> = sim
        .observations()
        .pubsub_events()
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                PubSubEvent::Requeued { .. } | PubSubEvent::DeliveryFailed { .. }
            )
        })
        .collect();
    assert!(failures.is_empty(), "{failures:?}");

    println!(
        "crash of a publisher: {} jobs accepted there — {taken} completed and taken before the \
         crash, {} in flight (finished by their instances: {handed_after} handed after the \
         crash, {finished_before_not_taken} finished before it, the rest after; nothing \
         resends them), {} queued and lost; {news_after_crash} of its news deliveries arrived after the crash; \
         the other publisher's {} jobs all completed ({others_after} published after the \
         crash); blocked by all {} ms after the crash",
        accepted.len(),
        in_flight.len(),
        lost.len(),
        others.len(),
        detected - crashed_at,
    );
}

//! Pub/sub hot paths: planning a publish (and taking the members' acknowledgements) for
//! 100 broadcast subscribers on 10 members, and for a group of 10 instances through its
//! queue until every message is completed; and the batching producer's throughput. Every
//! iteration leaves the broker as it found it (nothing pending, nothing queued), so the
//! figures are steady state.
//! Run: `cargo bench -p chorus-core --bench pubsub`.

use std::hint::black_box;

use chorus_core::pubsub::{
    BatchingProducer, DeliveryAck, DeliveryBatch, DeliveryStatus, GroupCompletion,
    LocalSubscription, ProducerConfig, PubSub, PubSubBroker, PubSubConfig, PubSubMessage,
    PubSubOutput, PublishAck, SubscriberId, SubscriberStatus,
};
use chorus_core::topology::MemberId;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A publishing broker whose registry holds `per_member` subscribers on each of 10
/// members, broadcast or in one group whose instances take one message at a time.
fn broker(per_member: usize, group: Option<&str>) -> PubSubBroker {
    let me = MemberId::new("publisher", 1);
    let mut broker = PubSubBroker::new(me.clone(), PubSubConfig::new());
    broker.start().unwrap_or_default();
    let members: Vec<(MemberId, Vec<u8>)> = (0..10)
        .map(|m| {
            let subs: Vec<LocalSubscription> = (0..per_member)
                .map(|s| LocalSubscription {
                    topic: "bench".into(),
                    subscriber: SubscriberId::new(&format!("s{m}-{s}")),
                    group: group.map(Into::into),
                    max_in_flight: 1,
                })
                .collect();
            (
                MemberId::new(&format!("m{m}"), 1),
                LocalSubscription::encode_all(&subs),
            )
        })
        .collect();
    broker.sync_registry(members.iter().map(|(m, v)| (m, Some(v.as_slice()))), 0);
    broker.drain_outputs();
    broker
}

/// What the member a batch went to answers: every delivery delivered.
fn ack_of(to: MemberId, batch: &DeliveryBatch) -> DeliveryAck {
    let statuses = batch
        .messages
        .iter()
        .flat_map(|m| {
            m.subscribers.iter().map(move |s| SubscriberStatus {
                subscriber: s.clone(),
                message_id: m.message_id,
                status: DeliveryStatus::Delivered,
            })
        })
        .collect();
    DeliveryAck {
        batch_id: batch.batch_id,
        from: to,
        statuses,
    }
}

/// Publishes `payloads` and plays every member: acknowledges each batch and, for group
/// messages, completes each one, until the broker sends nothing more. Returns the batches.
fn publish_and_settle(broker: &mut PubSubBroker, payloads: Vec<Vec<u8>>) -> usize {
    let ack = broker.publish("bench", payloads, 0);
    let mut frames = 0;
    let mut outputs = broker.drain_outputs();
    while !outputs.is_empty() {
        let mut completions = Vec::new();
        for output in outputs {
            let PubSubOutput::Send {
                to,
                message: PubSubMessage::Batch(batch),
            } = output
            else {
                continue;
            };
            frames += 1;
            let reply = ack_of(to.clone(), &batch);
            broker.handle(&to, PubSubMessage::Ack(reply), 0);
            for m in batch.messages {
                if let (Some(group), Some(subscriber)) = (m.group, m.subscribers.first()) {
                    completions.push(GroupCompletion {
                        from: to.clone(),
                        topic: batch.topic.clone(),
                        group,
                        subscriber: subscriber.clone(),
                        message_ids: vec![m.message_id],
                    });
                }
            }
        }
        // The instances finish: each completion hands the next queued message out.
        for done in completions {
            let from = done.from.clone();
            broker.handle(&from, PubSubMessage::Completed(done), 0);
        }
        outputs = broker.drain_outputs();
    }
    black_box(ack.is_accepted());
    frames
}

fn planning(c: &mut Criterion) {
    let mut group = c.benchmark_group("pubsub/plan_publish");
    for (name, per_member, grouping) in [
        ("broadcast_100_on_10", 10, None),
        ("group_of_10", 1, Some("workers")),
    ] {
        let mut broker = broker(per_member, grouping);
        for batch in [1usize, 100] {
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(BenchmarkId::new(name, batch), &batch, |b, batch| {
                b.iter_batched(
                    || (0..*batch).map(|i| vec![i as u8; 64]).collect::<Vec<_>>(),
                    |payloads| black_box(publish_and_settle(&mut broker, payloads)),
                    BatchSize::SmallInput,
                );
            });
            // Steady state: the iterations left nothing behind.
            assert_eq!(broker.pending_batches(), 0, "{name}: batches left pending");
            if let Some(g) = grouping.and_then(|g| broker.group("bench", g)) {
                assert_eq!(g.queue_len(), 0, "{name}: messages left queued");
            }
        }
    }
    group.finish();
}

fn producer(c: &mut Criterion) {
    let mut group = c.benchmark_group("pubsub/batching_producer");
    let messages = 10_000u64;
    group.throughput(Throughput::Elements(messages));
    group.bench_function("produce_poll_ack_10k", |b| {
        b.iter(|| {
            let mut producer = BatchingProducer::new(ProducerConfig {
                max_in_flight_batches: 4,
                ..ProducerConfig::new()
            })
            .unwrap_or_else(|_| unreachable!("valid configuration"));
            let mut now = 0;
            for i in 0..messages {
                if producer.produce(vec![i as u8; 32], now).is_err() {
                    break;
                }
                if i % 100 == 99 {
                    now += 1;
                    for batch in producer.poll(now) {
                        let ack = PublishAck::Accepted {
                            message_ids: Vec::new(),
                        };
                        producer.on_ack(batch.id, &ack, now);
                    }
                }
            }
            black_box(producer.take_outcomes().len())
        });
    });
    group.finish();
}

criterion_group!(benches, planning, producer);
criterion_main!(benches);

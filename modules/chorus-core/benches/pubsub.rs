//! Pub/sub hot paths: planning a publish (and taking the members' acknowledgements) for
//! 100 broadcast subscribers on 10 members and for a group of 10 instances, and the
//! batching producer's throughput.
//! Run: `cargo bench -p chorus-core --bench pubsub`.

use std::hint::black_box;

use chorus_core::pubsub::{
    BatchingProducer, DeliveryAck, DeliveryStatus, LocalSubscription, ProducerConfig, PubSub,
    PubSubBroker, PubSubConfig, PubSubMessage, PubSubOutput, PublishAck, SubscriberId,
    SubscriberStatus,
};
use chorus_core::topology::MemberId;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A publishing broker whose registry holds `per_member` subscribers on each of 10
/// members, broadcast or in one group.
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
                    max_in_flight: 1_000_000,
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
                    |payloads| {
                        let ack = broker.publish("bench", payloads, 0);
                        // Each target member acknowledges its batch, as it would.
                        let mut frames = 0;
                        for output in broker.drain_outputs() {
                            if let PubSubOutput::Send {
                                to,
                                message: PubSubMessage::Batch(batch),
                            } = output
                            {
                                frames += 1;
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
                                let reply = DeliveryAck {
                                    batch_id: batch.batch_id,
                                    from: to,
                                    statuses,
                                };
                                broker.handle(&reply.from.clone(), PubSubMessage::Ack(reply), 0);
                            }
                        }
                        broker.drain_outputs();
                        black_box((ack.is_accepted(), frames))
                    },
                    BatchSize::SmallInput,
                );
            });
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

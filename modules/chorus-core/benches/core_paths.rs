//! Frame encoding/decoding, the topology hash and `EventStream` publishing.
//! Run: `cargo bench -p chorus-core --bench core_paths`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{DigestEntry, GossipDelta, GossipDigest, GossipMessage, GossipRequest};
use chorus_core::topology::{ClusterTopology, Member, MemberId};
use chorus_core::wire::{DEFAULT_MAX_FRAME_BYTES, Frame};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn request(members: usize) -> Frame {
    let entries = (0..members)
        .map(|m| DigestEntry {
            member: MemberId::new(&format!("node-{m}"), 1_763_800_000_000 + m as u64),
            heartbeat: 10_000 + m as u64,
            watermark: 7,
        })
        .collect();
    Frame::Gossip(GossipMessage::Request(GossipRequest {
        id: 42,
        from: MemberId::new("node-0", 1_763_800_000_000),
        digest: GossipDigest {
            entries,
            complete: true,
            view: None,
        },
        delta: GossipDelta::default(),
    }))
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("wire/request");
    for members in [20, 1_000] {
        let frame = request(members);
        let bytes = frame.encode();
        println!(
            "request with a digest of {members} members: {} bytes",
            bytes.len()
        );
        group.bench_with_input(BenchmarkId::new("encode", members), &frame, |b, f| {
            b.iter(|| black_box(f.encode().len()));
        });
        group.bench_with_input(BenchmarkId::new("decode", members), &bytes, |b, bytes| {
            b.iter(|| black_box(Frame::decode(bytes, DEFAULT_MAX_FRAME_BYTES).is_ok()));
        });
    }
    group.finish();
}

fn topology_hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("topology/hash");
    for members in [20, 1_000] {
        let ids: Vec<MemberId> = (0..members)
            .rev()
            .map(|m| MemberId::new(&format!("node-{m}"), 1))
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(members), &ids, |b, ids| {
            b.iter(|| black_box(ClusterTopology::hash_of(ids.iter())));
        });
        let list: Vec<Member> = ids.iter().map(|id| Member::new(id.clone(), "a")).collect();
        group.bench_with_input(
            BenchmarkId::new("new_topology", members),
            &list,
            |b, list| {
                b.iter(|| black_box(ClusterTopology::new(list.clone()).hash()));
            },
        );
    }
    group.finish();
}

fn event_stream(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_stream/publish");
    for subscribers in [1, 10] {
        let stream = EventStream::<u64>::new();
        let sum = Arc::new(AtomicU64::new(0));
        let subs: Vec<_> = (0..subscribers)
            .map(|_| {
                let sum = Arc::clone(&sum);
                stream.subscribe(move |e| {
                    sum.fetch_add(*e, Ordering::Relaxed);
                })
            })
            .collect();
        group.bench_function(BenchmarkId::from_parameter(subscribers), |b| {
            b.iter(|| stream.publish(black_box(1)));
        });
        drop(subs);
    }
    group.finish();
}

criterion_group!(benches, frames, topology_hash, event_stream);
criterion_main!(benches);

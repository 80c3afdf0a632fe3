//! Hot paths of the gossip state store: merging a delta, building a delta and a digest,
//! for clusters of 100 and 1,000 members. Run: `cargo bench -p chorus-core --bench gossip`.

use std::hint::black_box;

use chorus_core::gossip::{DeltaLimits, GossipConfig, GossipDigest, GossipStateStore};
use chorus_core::topology::MemberId;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const SIZES: [usize; 2] = [100, 1_000];
const KEYS_PER_MEMBER: usize = 4;

fn everyone(_: &MemberId) -> bool {
    true
}

/// A store that knows `members` members with a few keys each, as a node of such a cluster.
fn populated(members: usize) -> GossipStateStore {
    let mut store = GossipStateStore::new(MemberId::new("bench", 1));
    for m in 0..members {
        let mut other =
            GossipStateStore::new(MemberId::new(&format!("node-{m}"), 1_763_800_000_000));
        for k in 0..KEYS_PER_MEMBER {
            other.set(&format!("key-{k}"), &[m as u8; 24], 0);
        }
        other.bump_heartbeat();
        let delta = other.delta_for(&store.digest(usize::MAX, 0, everyone), wide(), everyone);
        store.merge_delta(&delta, 0, everyone);
    }
    store
}

fn wide() -> DeltaLimits {
    DeltaLimits {
        max_entries: usize::MAX,
        max_bytes: usize::MAX,
    }
}

fn merge(c: &mut Criterion) {
    let mut group = c.benchmark_group("gossip/merge_full_delta");
    for members in SIZES {
        let source = populated(members);
        let empty = GossipStateStore::new(MemberId::new("fresh", 1));
        let delta = source.delta_for(&empty.digest(usize::MAX, 0, everyone), wide(), everyone);
        group.bench_with_input(BenchmarkId::from_parameter(members), &delta, |b, delta| {
            b.iter_batched(
                || empty.clone(),
                |mut target| black_box(target.merge_delta(delta, 1, everyone).len()),
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn delta(c: &mut Criterion) {
    let limits = GossipConfig::new().limits();
    let mut group = c.benchmark_group("gossip/delta_for");
    for members in SIZES {
        let store = populated(members);
        // A peer that lacks one write of each member: the steady-state case.
        let mut digest = store.digest(usize::MAX, 0, everyone);
        for entry in &mut digest.entries {
            entry.watermark = entry.watermark.saturating_sub(1);
        }
        group.bench_with_input(BenchmarkId::new("steady", members), &digest, |b, d| {
            b.iter(|| black_box(store.delta_for(d, limits, everyone).entry_count()));
        });
        let unknown = GossipDigest {
            entries: Vec::new(),
            complete: true,
            view: None,
        };
        group.bench_with_input(BenchmarkId::new("join", members), &unknown, |b, d| {
            b.iter(|| black_box(store.delta_for(d, limits, everyone).entry_count()));
        });
    }
    group.finish();
}

fn digest(c: &mut Criterion) {
    let mut group = c.benchmark_group("gossip/digest");
    for members in SIZES {
        let store = populated(members);
        group.bench_function(BenchmarkId::new("build", members), |b| {
            b.iter(|| black_box(store.digest(60 * 1024, 0, everyone).entries.len()));
        });
        let theirs = store.digest(usize::MAX, 0, everyone);
        let mut other = populated(members);
        other.bump_heartbeat();
        group.bench_function(BenchmarkId::new("reply", members), |b| {
            b.iter(|| {
                black_box(
                    other
                        .digest_reply(&theirs, 15 * 1024, everyone)
                        .entries
                        .len(),
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, merge, delta, digest);
criterion_main!(benches);

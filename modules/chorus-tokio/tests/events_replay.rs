//! Lifecycle and membership events survive traffic, over real TCP on 127.0.0.1: after
//! 100,000 published messages a new `Cluster::events` stream still replays `Startup` and
//! the latest `TopologyUpdated`, and a reader that never read while its buffer filled with
//! gossip traffic still gets the `TopologyUpdated` of a peer leaving. Every wait is
//! bounded; every node is stopped.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventClass;
use chorus_core::topology::MemberId;
use chorus_tokio::{Cluster, ClusterEvents};
use futures_util::StreamExt;

/// The longest any single wait may take.
const LIMIT: Duration = Duration::from_secs(15);
/// The longest the whole publishing may take.
const PUBLISH_LIMIT: Duration = Duration::from_secs(120);

#[path = "../src/test_support.rs"]
mod test_support;
use test_support::eventually;

async fn node(name: &str, seeds: &[String], event_buffer: usize) -> Cluster {
    Cluster::builder()
        .name(name)
        .bind("127.0.0.1:0")
        .seeds(seeds.iter().cloned())
        .cluster_name("events-replay-test")
        .event_buffer(event_buffer)
        .start()
        .await
        .expect("node starts")
}

/// Two nodes, `a` and `b`, that see each other.
async fn pair(event_buffer: usize) -> (Cluster, Cluster) {
    let a = node("a", &[], event_buffer).await;
    let b = node("b", &[a.address()], event_buffer).await;
    let joined = eventually(LIMIT, || async {
        a.members().len() == 2 && b.members().len() == 2
    })
    .await;
    assert!(joined, "a and b see each other");
    (a, b)
}

/// Every event `events` yields until it stays quiet for `quiet`, within `limit` in all.
async fn read_until_quiet(
    events: &mut ClusterEvents,
    quiet: Duration,
    limit: Duration,
) -> Vec<ClusterEvent> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = Vec::new();
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(quiet, events.next()).await {
            Ok(Some(event)) => seen.push(event),
            Ok(None) | Err(_) => break,
        }
    }
    seen
}

fn holds_both(event: &ClusterEvent, a: &MemberId, b: &MemberId) -> bool {
    matches!(event, ClusterEvent::TopologyUpdated(t) if t.contains(a) && t.contains(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_events_stream_replays_startup_and_topology_after_100_000_published_messages() {
    const BATCHES: u32 = 100;
    const PER_BATCH: u32 = 1_000;
    let (a, b) = pair(1_024).await;
    let (a_id, b_id) = (a.member_id().await.unwrap(), b.member_id().await.unwrap());

    let mut news = b.subscribe("news").await.unwrap();
    let known = eventually(LIMIT, || async {
        matches!(a.subscriptions("news").await, Ok(found) if found.len() == 1)
    })
    .await;
    assert!(known, "a learnt b's subscription");
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    let reader = tokio::spawn(async move {
        while news.next().await.is_some() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });

    let publishing = tokio::time::timeout(PUBLISH_LIMIT, async {
        for batch in 0..BATCHES {
            let payloads = (0..PER_BATCH)
                .map(|i| (batch * PER_BATCH + i).to_be_bytes().to_vec())
                .collect();
            let ack = a.publish("news", payloads).await.unwrap();
            assert!(ack.is_accepted(), "batch {batch}: {ack:?}");
        }
    })
    .await;
    assert!(publishing.is_ok(), "100,000 messages published in time");
    // Gossip traffic on top: every write is a `GossipUpdated` here, more than one replay
    // ring holds, whatever the broker reports per message.
    for i in 0..300 {
        a.set(&format!("load/{i}"), b"x").await.unwrap();
    }
    let total = u64::from(BATCHES * PER_BATCH);
    let mut last = u64::MAX;
    let settled = eventually(LIMIT, || {
        let now = received.load(Ordering::Relaxed);
        let quiet = now == last || now == total;
        last = now;
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            quiet
        }
    })
    .await;
    println!(
        "b received {} of {total} messages (at most once; settled: {settled})",
        received.load(Ordering::Relaxed)
    );
    assert!(
        received.load(Ordering::Relaxed) > 0,
        "b's subscriber read messages"
    );

    let mut late = a.events();
    // The replay is in the buffer at once; live events may follow, hence a short bound.
    let seen = read_until_quiet(
        &mut late,
        Duration::from_millis(300),
        Duration::from_secs(3),
    )
    .await;
    let startup = seen
        .iter()
        .any(|e| matches!(e, ClusterEvent::Startup { member } if *member == a_id));
    let topology = seen.iter().any(|e| holds_both(e, &a_id, &b_id));
    let transient = seen
        .iter()
        .filter(|e| e.class() == EventClass::Transient)
        .count();
    println!(
        "the late stream read {} events, {transient} transient, {} dropped",
        seen.len(),
        late.dropped()
    );
    // The replay's transient ring was full, so traffic did press on the lasting events.
    assert!(transient >= 256, "a full transient ring: {transient}");
    assert!(
        startup && topology,
        "Startup ({startup}) and a TopologyUpdated with a and b ({topology}) in the replay: {:?}",
        seen.iter()
            .filter(|e| e.class() == EventClass::Lasting)
            .collect::<Vec<_>>()
    );

    reader.abort();
    let _ = a.shutdown().await;
    let _ = b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_whose_buffer_filled_with_gossip_traffic_still_gets_a_peer_leaving() {
    let (a, b) = pair(64).await;
    let b_id = b.member_id().await.unwrap();
    let mut slow = a.events();
    // Nobody reads `slow` meanwhile: its 64 places fill with `GossipUpdated`.
    for i in 0..300 {
        a.set(&format!("load/{i}"), b"x").await.unwrap();
    }
    let full = eventually(LIMIT, || async { slow.dropped() > 0 }).await;
    assert!(full, "the buffer overflowed: {slow:?}");

    b.shutdown().await.expect("b leaves gracefully");
    let left = eventually(LIMIT, || async { a.topology().blocked().contains(&b_id) }).await;
    assert!(left, "a saw b leave");

    let seen = read_until_quiet(&mut slow, Duration::from_millis(500), LIMIT).await;
    // Blocked, not merely absent: the first topology of `a`, alone, lacks `b` too.
    let gone = seen.iter().any(|e| {
        matches!(e, ClusterEvent::TopologyUpdated(t) if t.blocked().contains(&b_id) && !t.contains(&b_id))
    });
    println!(
        "the slow reader read {} events, {} dropped",
        seen.len(),
        slow.dropped()
    );
    assert!(
        gone,
        "the TopologyUpdated that blocks b got into the full buffer: {:?}",
        seen.iter()
            .filter(|e| e.class() == EventClass::Lasting)
            .collect::<Vec<_>>()
    );
    let _ = a.shutdown().await;
}

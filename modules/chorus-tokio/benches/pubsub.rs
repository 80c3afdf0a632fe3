//! Pub/sub figures of chorus on loopback TCP, nodes in this process, default
//! configuration: what a user gets from `Cluster::publish` and a `SubscriptionStream`.
//!
//! ```sh
//! cargo bench -p chorus-tokio --bench pubsub -- --messages 200000
//! cargo bench -p chorus-tokio --bench pubsub -- --mode latency --seconds 5
//! ```
//!
//! Modes (default: all): `broadcast-16` and `broadcast-256` (1 publisher → 1 subscriber
//! node, 16 B / 256 B payloads), `fan-out-4` (1 → 4 subscriber nodes, 16 B), `group-4` (a
//! load-balanced group of 4 worker nodes, each completing every delivery), `latency` (1 → 1,
//! paced at `--rate` messages/s, one message per publish; one-way latency from the actual
//! send and from the intended send time, which corrects for coordinated omission).
//!
//! Every mode prints one JSON line: messages accepted by `publish`, messages that arrived
//! (per subscriber, summed), duplicates, delivered messages/s (arrivals over the time from
//! the first publish to the last arrival), and the resident memory of the whole process.
//! Arrivals are counted at the application's end of the stream, so a message dropped
//! anywhere on the way counts as not arrived.
// A measurement program: indexes are bounded by what it created, and each mode reads best
// as one function.
#![allow(clippy::indexing_slicing, clippy::too_many_lines)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chorus_core::pubsub::PublishAck;
use chorus_tokio::{Cluster, NodeError, SubscriptionStream};
use clap::{Parser, ValueEnum};
use futures_util::StreamExt;

/// Which figure to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Broadcast16,
    Broadcast256,
    FanOut4,
    Group4,
    Latency,
    All,
}

/// chorus pub/sub figures.
#[derive(Debug, Parser)]
#[command(name = "pubsub")]
struct Args {
    /// What to measure.
    #[arg(long, value_enum, default_value = "all")]
    mode: Mode,
    /// Messages published in a throughput mode.
    #[arg(long, default_value_t = 200_000)]
    messages: usize,
    /// Payloads per `publish` call in a throughput mode.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Messages per second in the latency mode.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Seconds of paced publishing in the latency mode.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// How long arrivals may pause before a run counts as finished.
const QUIET: Duration = Duration::from_secs(2);

/// How long a cluster may take to form and learn its subscriptions.
const SETTLE: Duration = Duration::from_secs(10);

async fn node(seed: Option<String>) -> Result<Cluster, String> {
    let mut builder = Cluster::builder().bind("127.0.0.1:0");
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    builder.start().await.map_err(|e| e.to_string())
}

/// A publisher and `subscribers` nodes, all seeing each other.
async fn cluster(subscribers: usize) -> Result<(Cluster, Vec<Cluster>), String> {
    let publisher = node(None).await?;
    let mut others = Vec::new();
    for _ in 0..subscribers {
        others.push(node(Some(publisher.address())).await?);
    }
    let all = subscribers + 1;
    let start = Instant::now();
    while publisher.members().len() != all || others.iter().any(|n| n.members().len() != all) {
        if start.elapsed() > SETTLE {
            return Err("the cluster did not form".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((publisher, others))
}

/// Waits until the publisher's registry lists `count` subscriptions of `topic`.
async fn known(publisher: &Cluster, topic: &str, count: usize) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let found = publisher
            .subscriptions(topic)
            .await
            .map_err(|e| e.to_string())?;
        if found.len() == count {
            return Ok(());
        }
        if start.elapsed() > SETTLE {
            return Err(format!("the publisher knows {} subscribers", found.len()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// What the subscribers of one run counted.
#[derive(Debug, Default)]
struct Counted {
    arrived: AtomicU64,
    duplicates: AtomicU64,
    /// Nanoseconds since the run's start of the latest arrival.
    last_ns: AtomicU64,
}

/// Reads `stream` until it is quiet for `QUIET` (or `expected` arrived), completing group
/// deliveries, counting arrivals and duplicates.
fn count(
    mut stream: SubscriptionStream,
    counted: Arc<Counted>,
    start: Instant,
    expected: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen: HashSet<u64> = HashSet::new();
        let mut mine = 0u64;
        loop {
            let next = tokio::time::timeout(QUIET, stream.next()).await;
            let Ok(Some(delivery)) = next else {
                return;
            };
            if !seen.insert(delivery.message_id) {
                counted.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            counted.arrived.fetch_add(1, Ordering::Relaxed);
            counted
                .last_ns
                .fetch_max(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            if delivery.group.is_some() {
                let _ = delivery.complete().await;
            }
            mine += 1;
            if mine == expected {
                // Everything this subscriber could get is here.
                return;
            }
        }
    })
}

/// Publishes `messages` payloads of `size` bytes in batches of `batch`; returns how many
/// were accepted and how many publishes were rejected.
async fn publish_all(
    publisher: &Cluster,
    topic: &str,
    messages: usize,
    size: usize,
    batch: usize,
) -> Result<(u64, u64), NodeError> {
    let mut accepted = 0u64;
    let mut rejected = 0u64;
    let mut left = messages;
    while left > 0 {
        let n = left.min(batch.max(1));
        left -= n;
        let payloads = vec![vec![7u8; size]; n];
        match publisher.publish(topic, payloads).await? {
            PublishAck::Accepted { message_ids } => accepted += message_ids.len() as u64,
            PublishAck::Rejected { .. } => rejected += 1,
        }
    }
    Ok((accepted, rejected))
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn shutdown(nodes: Vec<Cluster>) {
    for node in nodes {
        let _ = node.shutdown().await;
    }
}

/// Broadcast (or a group when `group` is set) from one publisher to `subscribers` nodes.
async fn throughput(
    name: &str,
    subscribers: usize,
    size: usize,
    group: bool,
    args: &Args,
) -> Result<String, String> {
    let (publisher, others) = cluster(subscribers).await?;
    let topic = "bench";
    let mut streams = Vec::new();
    for other in &others {
        let stream = if group {
            other.subscribe_group(topic, "workers", 1).await
        } else {
            other.subscribe(topic).await
        };
        streams.push(stream.map_err(|e| e.to_string())?);
    }
    known(&publisher, topic, subscribers).await?;
    let counted = Arc::new(Counted::default());
    let start = Instant::now();
    // A broadcast subscriber can get every message; a group instance some of them.
    let per_subscriber = if group {
        u64::MAX
    } else {
        args.messages as u64
    };
    let readers: Vec<_> = streams
        .into_iter()
        .map(|s| count(s, Arc::clone(&counted), start, per_subscriber))
        .collect();
    let (accepted, rejected) = publish_all(&publisher, topic, args.messages, size, args.batch)
        .await
        .map_err(|e| e.to_string())?;
    let published_s = start.elapsed().as_secs_f64();
    for reader in readers {
        let _ = reader.await;
    }
    let arrived = counted.arrived.load(Ordering::Relaxed);
    let duplicates = counted.duplicates.load(Ordering::Relaxed);
    let last_s = counted.last_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let expected = if group {
        accepted
    } else {
        accepted * subscribers as u64
    };
    let rss = rss_kib();
    let mut all = vec![publisher];
    all.extend(others);
    shutdown(all).await;
    Ok(serde_json::json!({
        "mode": name,
        "payload_bytes": size,
        "subscriber_nodes": subscribers,
        "published": args.messages,
        "batch": args.batch,
        "accepted": accepted,
        "rejected_publishes": rejected,
        "expected_arrivals": expected,
        "arrived": arrived,
        "arrived_pct": if expected == 0 { 0.0 } else { 100.0 * arrived as f64 / expected as f64 },
        "duplicates": duplicates,
        "publish_s": published_s,
        "delivered_msgs_per_s": if last_s > 0.0 { arrived as f64 / last_s } else { 0.0 },
        "process_rss_kib": rss,
    })
    .to_string())
}

/// The value at quantile `q` of sorted `values`.
fn quantile(values: &[u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let at = ((values.len() - 1) as f64 * q).round() as usize;
    values[at.min(values.len() - 1)]
}

/// One message per publish, paced; latency measured in the subscriber task.
async fn latency(args: &Args) -> Result<String, String> {
    let (publisher, others) = cluster(1).await?;
    let topic = "latency";
    let mut stream = others[0]
        .subscribe(topic)
        .await
        .map_err(|e| e.to_string())?;
    known(&publisher, topic, 1).await?;
    let epoch = Instant::now();
    let total = args.rate.saturating_mul(args.seconds);
    let reader = tokio::spawn(async move {
        let mut from_send = Vec::new();
        let mut from_intent = Vec::new();
        loop {
            let Ok(Some(d)) = tokio::time::timeout(QUIET, stream.next()).await else {
                break;
            };
            let now = epoch.elapsed().as_nanos() as u64;
            let field = |i: usize| {
                d.payload
                    .get(i * 8..i * 8 + 8)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u64::from_le_bytes)
            };
            let (intended, sent) = (field(0), field(1));
            from_send.push(now.saturating_sub(sent) / 1_000);
            from_intent.push(now.saturating_sub(intended) / 1_000);
            if from_send.len() as u64 == total {
                break;
            }
        }
        (from_send, from_intent)
    });
    let period_ns = 1_000_000_000 / args.rate.max(1);
    let mut accepted = 0u64;
    for i in 0..total {
        let intended = i * period_ns;
        let now = epoch.elapsed().as_nanos() as u64;
        if now < intended {
            tokio::time::sleep(Duration::from_nanos(intended - now)).await;
        }
        let sent = epoch.elapsed().as_nanos() as u64;
        let mut payload = intended.to_le_bytes().to_vec();
        payload.extend_from_slice(&sent.to_le_bytes());
        if let PublishAck::Accepted { .. } = publisher
            .publish(topic, vec![payload])
            .await
            .map_err(|e| e.to_string())?
        {
            accepted += 1;
        }
    }
    let (mut from_send, mut from_intent) = reader.await.map_err(|e| e.to_string())?;
    from_send.sort_unstable();
    from_intent.sort_unstable();
    let rss = rss_kib();
    let mut all = vec![publisher];
    all.extend(others);
    shutdown(all).await;
    Ok(serde_json::json!({
        "mode": "latency",
        "rate": args.rate,
        "accepted": accepted,
        "arrived": from_send.len(),
        "p50_us": quantile(&from_send, 0.5),
        "p99_us": quantile(&from_send, 0.99),
        "p999_us": quantile(&from_send, 0.999),
        "co_corrected_p50_us": quantile(&from_intent, 0.5),
        "co_corrected_p99_us": quantile(&from_intent, 0.99),
        "co_corrected_p999_us": quantile(&from_intent, 0.999),
        "process_rss_kib": rss,
    })
    .to_string())
}

async fn run(args: &Args) -> Result<(), String> {
    let all = args.mode == Mode::All;
    if all || args.mode == Mode::Broadcast16 {
        println!("{}", throughput("broadcast-16", 1, 16, false, args).await?);
    }
    if all || args.mode == Mode::Broadcast256 {
        println!(
            "{}",
            throughput("broadcast-256", 1, 256, false, args).await?
        );
    }
    if all || args.mode == Mode::FanOut4 {
        println!("{}", throughput("fan-out-4", 4, 16, false, args).await?);
    }
    if all || args.mode == Mode::Group4 {
        println!("{}", throughput("group-4", 4, 16, true, args).await?);
    }
    if all || args.mode == Mode::Latency {
        println!("{}", latency(args).await?);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

//! N nodes in this process.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::Subscription;
use chorus_core::topology::MemberId;
use chorus_tokio::Cluster;

use super::{Figures, STEP_LIMIT, rss_kib};

const KEY: &str = "bench.key";

/// When each node saw something, by node index.
type Seen = Arc<Mutex<Vec<Option<Instant>>>>;

async fn wait(what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > STEP_LIMIT {
            return Err(format!("{what} took more than {STEP_LIMIT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

fn latest(seen: &Seen, from: Instant) -> Option<f64> {
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    let mut last = from;
    for at in seen.iter() {
        last = last.max((*at)?);
    }
    Some(last.duration_since(from).as_secs_f64() * 1000.0)
}

/// Records, per node, the first time `event` matches.
fn watch(
    nodes: &[Cluster],
    matches: impl Fn(&ClusterEvent) -> bool + Send + Sync + Clone + 'static,
) -> (Seen, Vec<Subscription<ClusterEvent>>) {
    let seen: Seen = Arc::new(Mutex::new(vec![None; nodes.len()]));
    let subs = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let (seen, matches) = (Arc::clone(&seen), matches.clone());
            node.event_stream().subscribe(move |e| {
                if matches(e) {
                    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(slot) = seen.get_mut(i)
                        && slot.is_none()
                    {
                        *slot = Some(Instant::now());
                    }
                }
            })
        })
        .collect();
    (seen, subs)
}

pub(crate) async fn run(n: usize, run: usize, idle_secs: u64) -> Result<Figures, String> {
    let cluster = format!("bench-in-{n}-{run}");
    let start = Instant::now();
    let first = Cluster::builder()
        .name("n0")
        .cluster_name(cluster.clone())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let seed = first.address();
    let mut nodes = vec![first];
    for i in 1..n {
        nodes.push(
            Cluster::builder()
                .name(format!("n{i}"))
                .cluster_name(cluster.clone())
                .seed(seed.clone())
                .start()
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let ids: Vec<MemberId> = {
        let mut ids = Vec::new();
        for node in &nodes {
            ids.push(node.member_id().await.map_err(|e| e.to_string())?);
        }
        ids
    };
    // Any node removed other than the two we stop on purpose is a false positive.
    let expected_gone: Arc<Mutex<HashSet<MemberId>>> = Arc::default();
    let false_positives = Arc::new(Mutex::new(0usize));
    let _fp_subs: Vec<_> = nodes
        .iter()
        .map(|node| {
            let (gone, fp) = (Arc::clone(&expected_gone), Arc::clone(&false_positives));
            node.event_stream().subscribe(move |e| {
                if let ClusterEvent::TopologyUpdated(t) = e {
                    let gone = gone.lock().unwrap_or_else(PoisonError::into_inner);
                    let unexpected = t.left().iter().filter(|m| !gone.contains(m.id())).count();
                    *fp.lock().unwrap_or_else(PoisonError::into_inner) += unexpected;
                }
            })
        })
        .collect();

    wait("join", || nodes.iter().all(|c| c.members().len() == n)).await?;
    let join_ms = start.elapsed().as_secs_f64() * 1000.0;
    let mut agreed = false;
    let deadline = Instant::now() + STEP_LIMIT;
    while !agreed && Instant::now() < deadline {
        agreed = true;
        for node in &nodes {
            if node.topology_consensus().await.ok().flatten() != Some(node.topology().hash()) {
                agreed = false;
                break;
            }
        }
        if !agreed {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    if !agreed {
        return Err("topology consensus not reached".into());
    }
    let consensus_ms = start.elapsed().as_secs_f64() * 1000.0;

    // A key written on node 0.
    let owner = ids[0].clone();
    let (key_seen, key_subs) = watch(
        &nodes,
        move |e| matches!(e, ClusterEvent::GossipUpdated { member, key, .. } if *member == owner && key == KEY),
    );
    let t0 = Instant::now();
    nodes[0].set(KEY, b"v").await.map_err(|e| e.to_string())?;
    // The writer's own update counts as seen at once.
    if let Some(slot) = key_seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(0)
    {
        slot.get_or_insert(t0);
    }
    wait("key dissemination", || latest(&key_seen, t0).is_some()).await?;
    let key_ms = latest(&key_seen, t0).unwrap_or_default();
    drop(key_subs);

    // Idle traffic and memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let total = |nodes: &[Cluster]| {
        nodes.iter().fold((0u64, 0u64), |(o, i), c| {
            let m = c.metrics().transport;
            (o + m.bytes_out, i + m.bytes_in)
        })
    };
    let (out0, in0) = total(&nodes);
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let (out1, in1) = total(&nodes);
    let secs = window.elapsed().as_secs_f64();
    let per_node = |bytes: u64| bytes as f64 / secs / n as f64;
    let rss_kib_per_node = rss_kib("self").unwrap_or_default() as f64 / n as f64;

    // A crash: the last node stops without a word.
    let victim = nodes.pop().ok_or("no node to crash")?;
    let victim_id = ids[n - 1].clone();
    expected_gone
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(victim_id.clone());
    let gone = victim_id.clone();
    let (crash_seen, crash_subs) = watch(
        &nodes,
        move |e| matches!(e, ClusterEvent::TopologyUpdated(t) if t.blocked().contains(&gone)),
    );
    let t0 = Instant::now();
    victim.abort();
    wait("crash detection", || latest(&crash_seen, t0).is_some()).await?;
    let crash_ms = latest(&crash_seen, t0).unwrap_or_default();
    drop(crash_subs);

    // A graceful leave of the (new) last node.
    let leaver = nodes.pop().ok_or("no node to leave")?;
    let leaver_id = ids[n - 2].clone();
    expected_gone
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(leaver_id.clone());
    let gone = leaver_id.clone();
    let (leave_seen, leave_subs) = watch(
        &nodes,
        move |e| matches!(e, ClusterEvent::TopologyUpdated(t) if !t.contains(&gone)),
    );
    let t0 = Instant::now();
    leaver.shutdown().await.map_err(|e| e.to_string())?;
    wait("leave", || latest(&leave_seen, t0).is_some()).await?;
    let leave_ms = latest(&leave_seen, t0).unwrap_or_default();
    drop(leave_subs);

    // Counted before the remaining nodes shut down on purpose.
    let false_positives = *false_positives
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    for node in nodes {
        let _ = node.shutdown().await;
    }
    Ok(Figures {
        mode: "in-process",
        nodes: n,
        run,
        join_ms,
        consensus_ms,
        key_ms,
        crash_ms,
        false_positives,
        leave_ms,
        idle_out_bps: per_node(out1 - out0),
        idle_in_bps: per_node(in1 - in0),
        rss_kib_per_node,
    })
}

//! One node of a multi-process run: prints timestamped events and counters as JSON lines,
//! takes `set KEY VALUE` and `leave` on stdin.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chorus_core::cluster::ClusterEvent;
use chorus_tokio::Cluster;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::rss_kib;

/// Microseconds since the Unix epoch: children and parent share the machine's clock.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn line(event: &ClusterEvent) -> Option<serde_json::Value> {
    let t = now_us();
    Some(match event {
        ClusterEvent::TopologyUpdated(topology) => json!({
            "t": t, "event": "topology",
            "members": topology.members().iter().map(|m| m.id().to_string()).collect::<Vec<_>>(),
            "left": topology.left().iter().map(|m| m.id().to_string()).collect::<Vec<_>>(),
            "hash": topology.hash(),
        }),
        ClusterEvent::GossipUpdated { member, key, .. } if key.starts_with("bench.") => {
            json!({ "t": t, "event": "key", "member": member.to_string(), "key": key })
        }
        ClusterEvent::ConsensusReached { check, value } if check == "topology" => {
            let hash = <[u8; 8]>::try_from(value.as_slice()).map_or(0, u64::from_le_bytes);
            json!({ "t": t, "event": "consensus", "hash": hash })
        }
        _ => return None,
    })
}

pub(crate) async fn run(name: &str, cluster_name: &str, seed: Option<String>) -> ExitCode {
    let mut builder = Cluster::builder().name(name).cluster_name(cluster_name);
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    let cluster = match builder.start().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let id = cluster
        .member_id()
        .await
        .map_or_else(|_| name.to_string(), |id| id.to_string());
    println!(
        "{}",
        json!({ "t": now_us(), "event": "started", "address": cluster.address(), "id": id })
    );
    let mut events = cluster.events();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(event) => if let Some(l) = line(&event) { println!("{l}") },
                None => break,
            },
            _ = tick.tick() => {
                let m = cluster.metrics().transport;
                println!("{}", json!({
                    "t": now_us(), "event": "metrics", "bytes_out": m.bytes_out,
                    "bytes_in": m.bytes_in, "rss_kib": rss_kib("self").unwrap_or_default(),
                }));
            }
            command = stdin.next_line() => match command {
                Ok(Some(command)) => {
                    let mut words = command.split_whitespace();
                    match (words.next(), words.next(), words.next()) {
                        (Some("set"), Some(key), Some(value)) => {
                            let _ = cluster.set(key, value.as_bytes()).await;
                        }
                        (Some("leave"), _, _) => break,
                        _ => eprintln!("{name}: unknown command {command:?}"),
                    }
                }
                _ => break,
            },
        }
    }
    let result = cluster.shutdown().await;
    println!(
        "{}",
        json!({ "t": now_us(), "event": "left", "ok": result.is_ok() })
    );
    ExitCode::SUCCESS
}

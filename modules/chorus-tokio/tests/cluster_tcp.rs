//! Nodes over real TCP on 127.0.0.1, in one process: join and consensus, key
//! dissemination, crash detection, graceful leave, foreign clusters, restarts, bind
//! failures. Every wait is bounded; every node is stopped.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus_core::cluster::{ClusterError, ClusterEvent};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipConfig;
use chorus_core::provider::ProviderError;
use chorus_core::topology::MemberId;
use chorus_core::wire::HandshakeRefusal;
use chorus_tokio::Cluster;

/// Polls `check` every 25 ms until it holds or `limit` passes; returns whether it held.
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn node(name: &str, seeds: &[String]) -> Cluster {
    node_with(name, seeds, GossipConfig::new()).await
}

async fn node_with(name: &str, seeds: &[String], config: GossipConfig) -> Cluster {
    Cluster::builder()
        .name(name)
        .seeds(seeds.iter().cloned())
        .gossip_config(config)
        .start()
        .await
        .expect("node starts")
}

async fn cluster_of(n: usize) -> Vec<Cluster> {
    let first = node("n0", &[]).await;
    let seed = vec![first.address()];
    let mut nodes = vec![first];
    for i in 1..n {
        nodes.push(node(&format!("n{i}"), &seed).await);
    }
    let all_joined = eventually(Duration::from_secs(10), || async {
        nodes.iter().all(|c| c.members().len() == n)
    })
    .await;
    assert!(all_joined, "all {n} nodes see each other");
    nodes
}

async fn shutdown_all(nodes: Vec<Cluster>) {
    for node in nodes {
        let _ = node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_join_and_reach_topology_consensus() {
    let nodes = cluster_of(5).await;
    let agreed = eventually(Duration::from_secs(10), || async {
        let hash = nodes[0].topology().hash();
        for node in &nodes {
            if node.topology_consensus().await.ok().flatten() != Some(hash) {
                return false;
            }
        }
        true
    })
    .await;
    assert!(agreed, "every node agrees on the same topology hash");
    let m = nodes[0].metrics().unwrap();
    assert_eq!(m.members, 5);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_on_one_node_reaches_every_node() {
    let nodes = cluster_of(4).await;
    let owner = nodes[2].member_id().await.unwrap();
    nodes[2].set("app.color", b"green").await.unwrap();
    let everywhere = eventually(Duration::from_secs(5), || async {
        for node in &nodes {
            if node
                .get(&owner, "app.color")
                .await
                .ok()
                .flatten()
                .as_deref()
                != Some(&b"green"[..])
            {
                return false;
            }
        }
        true
    })
    .await;
    assert!(everywhere);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_node_is_blocked_by_every_survivor() {
    let mut nodes = cluster_of(4).await;
    let crashed = nodes.pop().unwrap();
    let crashed_id = crashed.member_id().await.unwrap();
    crashed.abort();
    let blocked = eventually(Duration::from_secs(15), || async {
        nodes.iter().all(|n| {
            let t = n.topology();
            t.members().len() == 3 && t.blocked().contains(&crashed_id)
        })
    })
    .await;
    assert!(blocked, "every survivor blocked the crashed node");
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_leave_is_seen_without_waiting_for_expiration() {
    // With a one-minute expiration, only the leave itself can explain a quick update.
    let mut config = GossipConfig::new();
    config.heartbeat_expiration_ms = 60_000;
    config.request_timeout_ms = 1_000;
    let first = node_with("l0", &[], config).await;
    let seed = vec![first.address()];
    let mut nodes = vec![first];
    for i in 1..4 {
        nodes.push(node_with(&format!("l{i}"), &seed, config).await);
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            nodes.iter().all(|c| c.members().len() == 4)
        })
        .await
    );
    let leaver = nodes.pop().unwrap();
    let leaver_id = leaver.member_id().await.unwrap();
    leaver
        .shutdown()
        .await
        .expect("every peer acknowledged the leave");
    let removed = eventually(Duration::from_secs(10), || async {
        nodes.iter().all(|n| {
            let t = n.topology();
            !t.contains(&leaver_id) && t.blocked().contains(&leaver_id)
        })
    })
    .await;
    assert!(
        removed,
        "the others removed the leaver long before its expiration"
    );
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_cluster_is_refused_on_both_sides_and_never_joins() {
    let ours_events = EventStream::with_replay(64);
    let ours = Cluster::builder()
        .name("ours")
        .cluster_name("blue")
        .event_stream(ours_events.clone())
        .start()
        .await
        .unwrap();
    let theirs_events = EventStream::with_replay(64);
    let theirs = Cluster::builder()
        .name("theirs")
        .cluster_name("red")
        .seed(ours.address())
        .event_stream(theirs_events.clone())
        .start()
        .await
        .unwrap();
    let seen = |events: &EventStream<ClusterEvent>| {
        let found = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&found);
        let sub = events.subscribe(move |e| {
            if let ClusterEvent::HandshakeFailed {
                reason,
                refused_by_peer,
                ..
            } = e
            {
                sink.lock()
                    .unwrap()
                    .push((reason.clone(), *refused_by_peer));
            }
        });
        (sub, found)
    };
    let (_a, ours_saw) = seen(&ours_events);
    let (_b, theirs_saw) = seen(&theirs_events);
    let both = eventually(Duration::from_secs(5), || async {
        !ours_saw.lock().unwrap().is_empty() && !theirs_saw.lock().unwrap().is_empty()
    })
    .await;
    assert!(both, "both sides report the refusal");
    let expected = HandshakeRefusal::WrongCluster {
        expected: "blue".into(),
        got: "red".into(),
    };
    assert!(
        ours_saw
            .lock()
            .unwrap()
            .contains(&(expected.clone(), false))
    );
    assert!(theirs_saw.lock().unwrap().contains(&(expected, true)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ours.members().len(), 1);
    assert_eq!(theirs.members().len(), 1);
    assert!(ours.transport_metrics().refusals >= 1);
    shutdown_all(vec![ours, theirs]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_rejoins_as_a_new_incarnation() {
    let mut nodes = cluster_of(3).await;
    let old = nodes.pop().unwrap();
    let old_id = old.member_id().await.unwrap();
    let address = old.address();
    old.abort();
    // Like a crashed process, an aborted node releases its port a moment later.
    let mut restarted = None;
    for _ in 0..100 {
        let attempt = Cluster::builder()
            .name(old_id.name())
            .bind(address.clone())
            .seed(nodes[0].address())
            .incarnation(old_id.incarnation() + 1)
            .start()
            .await;
        match attempt {
            Ok(node) => {
                restarted = Some(node);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let restarted = restarted.expect("the port is free again within 2 s");
    let new_id = restarted.member_id().await.unwrap();
    assert_eq!(
        new_id,
        MemberId::new(old_id.name(), old_id.incarnation() + 1)
    );
    nodes.push(restarted);
    let rejoined = eventually(Duration::from_secs(10), || async {
        nodes.iter().all(|n| {
            let t = n.topology();
            t.members().len() == 3 && t.contains(&new_id) && !t.contains(&old_id)
        })
    })
    .await;
    assert!(
        rejoined,
        "the new incarnation replaced the old one everywhere"
    );
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_an_address_in_use_fails_startup_with_the_reason() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let events = EventStream::with_replay(16);
    let failures = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&failures);
    let _sub = events.subscribe(move |e| {
        if let ClusterEvent::StartupFailed { reason } = e {
            sink.lock().unwrap().push(reason.clone());
        }
    });
    let result = Cluster::builder()
        .name("late")
        .bind(taken.clone())
        .event_stream(events)
        .start()
        .await;
    let Err(ClusterError::Provider(ProviderError::Bind { address, reason })) = result else {
        panic!("expected a bind failure, got {result:?}");
    };
    assert_eq!(address, taken);
    assert_eq!(reason, "address in use");
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].to_string().contains("address in use"),
        "{}",
        failures[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_graceful_shutdown_the_address_can_be_bound_again_at_once() {
    let node = node("solo", &[]).await;
    let address = node.address();
    node.shutdown().await.unwrap();
    std::net::TcpListener::bind(&address).expect("the listener was released");
}

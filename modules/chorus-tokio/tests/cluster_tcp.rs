//! Nodes over real TCP on 127.0.0.1, in one process: join and consensus, key
//! dissemination, crash detection, graceful leave (acknowledged or timed out), foreign
//! clusters, restarts and reconnection, dropped nodes, bind failures, counters, absurd
//! settings. Every wait is bounded; every node is stopped.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chorus_core::cluster::{ClusterError, ClusterEvent};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipConfig;
use chorus_core::provider::ProviderError;
use chorus_core::topology::MemberId;
use chorus_core::wire::HandshakeRefusal;
use chorus_tokio::transport::TransportConfig;
use chorus_tokio::{Cluster, NodeError};

#[path = "../src/test_support.rs"]
mod test_support;
use test_support::eventually;

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
    let m = nodes[0].metrics();
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
    assert!(ours.metrics().transport.refusals >= 1);
    shutdown_all(vec![ours, theirs]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_rejoins_as_a_new_incarnation() {
    let mut nodes = cluster_of(3).await;
    let old = nodes.pop().unwrap();
    let old_id = old.member_id().await.unwrap();
    let address = old.address();
    let before: Vec<_> = nodes.iter().map(|n| n.metrics().transport).collect();
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
    // The survivors' connections to the old process broke; they dialled the new one.
    let reconnected = eventually(Duration::from_secs(5), || async {
        nodes
            .iter()
            .zip(&before)
            .all(|(n, before)| n.metrics().transport.connects > before.connects)
    })
    .await;
    assert!(reconnected, "every survivor connected to the new process");
    assert!(
        nodes
            .iter()
            .zip(&before)
            .any(|(n, before)| n.metrics().transport.disconnects > before.disconnects),
        "the broken connections were noticed"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leave_a_peer_cannot_acknowledge_times_out_and_names_that_peer() {
    // With a one-minute expiration nobody notices the crash below during the test.
    let mut config = GossipConfig::new();
    config.heartbeat_expiration_ms = 60_000;
    config.request_timeout_ms = 300;
    let first = node_with("t0", &[], config).await;
    let seed = vec![first.address()];
    let crashed = node_with("t1", &seed, config).await;
    let leaver = Cluster::builder()
        .name("t2")
        .seeds(seed.clone())
        .gossip_config(config)
        .leave_timeout(Duration::from_millis(1_500))
        .start()
        .await
        .unwrap();
    let nodes = [&first, &crashed, &leaver];
    assert!(
        eventually(Duration::from_secs(10), || async {
            nodes.iter().all(|c| c.members().len() == 3)
        })
        .await
    );
    let crashed_id = crashed.member_id().await.unwrap();
    let leaver_id = leaver.member_id().await.unwrap();
    crashed.abort();
    let started = Instant::now();
    let result = leaver.shutdown().await;
    let took = started.elapsed();
    let Err(NodeError::LeaveTimedOut {
        waited_ms,
        unacknowledged,
    }) = result
    else {
        panic!("expected a leave timeout, got {result:?}");
    };
    assert_eq!(waited_ms, 1_500);
    assert_eq!(unacknowledged, vec![crashed_id.clone()]);
    assert!(
        took >= Duration::from_millis(1_400),
        "it kept trying until the leave timeout, not one request timeout: {took:?}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    let message = NodeError::LeaveTimedOut {
        waited_ms,
        unacknowledged,
    }
    .to_string();
    assert!(message.contains(&crashed_id.to_string()), "{message}");
    // The peer that did acknowledge blocked the leaver at once.
    let t = first.topology();
    assert!(t.blocked().contains(&leaver_id) && !t.contains(&leaver_id));
    shutdown_all(vec![first]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_without_shutdown_stops_its_tasks_and_frees_its_port() {
    let mut nodes = cluster_of(3).await;
    let dropped = nodes.pop().unwrap();
    let dropped_id = dropped.member_id().await.unwrap();
    let address = dropped.address();
    let clone = dropped.clone();
    drop(dropped);
    // A clone is the same node: it still runs while a handle is left.
    assert_eq!(clone.member_id().await.unwrap(), dropped_id);
    assert!(
        std::net::TcpListener::bind(&address).is_err(),
        "still listening"
    );
    drop(clone);
    let freed = eventually(Duration::from_secs(2), || async {
        std::net::TcpListener::bind(&address).is_ok()
    })
    .await;
    assert!(freed, "the port can be bound again");
    let blocked = eventually(Duration::from_secs(15), || async {
        nodes.iter().all(|n| {
            let t = n.topology();
            t.members().len() == 2 && t.blocked().contains(&dropped_id)
        })
    })
    .await;
    assert!(blocked, "the others blocked the dropped node");
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_counters_move_and_two_nodes_agree_on_them() {
    let a = node("ca", &[]).await;
    let b = node("cb", &[a.address()]).await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            a.members().len() == 2 && b.members().len() == 2
        })
        .await
    );
    // A few rounds of traffic both ways.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (ma, mb) = (a.metrics().transport, b.metrics().transport);
    for m in [&ma, &mb] {
        assert!(m.connects >= 1 && m.accepts >= 1, "{m:?}");
        assert!(m.frames_out > 4 && m.frames_in > 4, "{m:?}");
        assert!(m.bytes_out > 100 && m.bytes_in > 100, "{m:?}");
        assert_eq!(m.decode_errors, 0);
    }
    // What one sent is what the other read, but for what is in flight at the snapshot.
    let close = |out: u64, read: u64, slack: u64| out.abs_diff(read) <= slack.max(out / 10);
    assert!(close(ma.frames_out, mb.frames_in, 4), "{ma:?} vs {mb:?}");
    assert!(close(mb.frames_out, ma.frames_in, 4), "{ma:?} vs {mb:?}");
    assert!(close(ma.bytes_out, mb.bytes_in, 2_048), "{ma:?} vs {mb:?}");
    assert!(close(mb.bytes_out, ma.bytes_in, 2_048), "{ma:?} vs {mb:?}");
    assert_eq!(ma.connects, mb.accepts);
    assert_eq!(mb.connects, ma.accepts);
    shutdown_all(vec![b, a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unnamed_node_is_named_after_the_port_it_bound() {
    let node = Cluster::builder().start().await.unwrap();
    let id = node.member_id().await.unwrap();
    assert_eq!(id.name(), format!("node-{}", node.local_address().port()));
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advertised_host_is_what_peers_dial() {
    let a = Cluster::builder()
        .name("adv")
        .bind("127.0.0.1:0")
        .advertise("localhost")
        .start()
        .await
        .unwrap();
    assert_eq!(
        a.address(),
        format!("localhost:{}", a.local_address().port())
    );
    let b = node("dialer", &[a.address()]).await;
    let joined = eventually(Duration::from_secs(10), || async {
        a.members().len() == 2 && b.members().len() == 2
    })
    .await;
    assert!(joined);
    assert!(b.members().iter().any(|m| m.address() == a.address()));
    shutdown_all(vec![b, a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_settings_do_not_panic_a_node() {
    let gossip = GossipConfig {
        gossip_interval_ms: u64::MAX,
        heartbeat_interval_ms: u64::MAX,
        heartbeat_expiration_ms: u64::MAX,
        request_timeout_ms: u64::MAX - 1,
        blocked_retention_ms: u64::MAX,
        fan_out: usize::MAX,
        push_fan_out: usize::MAX,
        broadcast_max_peers: usize::MAX,
        max_entries_per_message: usize::MAX,
        seed_probe_rounds: u32::MAX,
        ..GossipConfig::new()
    };
    gossip.validate().expect("absurd, yet valid");
    let mut transport = TransportConfig::new();
    transport.connect_timeout = Duration::MAX;
    transport.handshake_timeout = Duration::MAX;
    transport.reconnect_backoff_min = Duration::MAX;
    transport.reconnect_backoff_max = Duration::MAX;
    transport.idle_timeout = Duration::MAX;
    transport.write_timeout = Duration::MAX;
    let start = |seeds: Vec<String>, name: &str| {
        Cluster::builder()
            .name(name)
            .seeds(seeds)
            .gossip_config(gossip)
            .transport_config(transport.clone())
            .leave_timeout(Duration::MAX)
            .event_buffer(usize::MAX)
            .start()
    };
    let a = start(Vec::new(), "a").await.unwrap();
    let b = start(vec![a.address()], "b").await.unwrap();
    let _events = (a.events(), b.events());
    assert!(
        eventually(Duration::from_secs(10), || async {
            a.members().len() == 2 && b.members().len() == 2
        })
        .await,
        "they join on the first round and the announcement"
    );
    b.set("app.k", b"v").await.unwrap();
    let owner = b.member_id().await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            a.get(&owner, "app.k").await.ok().flatten().is_some()
        })
        .await
    );
    for node in [&a, &b] {
        node.member_id().await.expect("the gossip loop still runs");
    }
    tokio::time::timeout(Duration::from_secs(5), b.shutdown())
        .await
        .expect("a acknowledges at once")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), a.shutdown())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_or_a_seed_that_could_never_join_fails_the_start_with_the_reason() {
    for (name, seed, expected) in [
        ("a#1", "127.0.0.1:7000", "'#'"),
        ("with space", "127.0.0.1:7000", "' '"),
        ("ok", "not-an-address", "no port"),
        ("ok", "127.0.0.1:99999", "1 to 65535"),
    ] {
        let started = Cluster::builder()
            .name(name)
            .bind("127.0.0.1:0")
            .seed(seed)
            .start()
            .await;
        let Err(error) = started else {
            panic!("{name:?} / {seed:?} started");
        };
        let message = error.to_string();
        assert!(message.contains(expected), "{name:?} / {seed:?}: {message}");
    }
    let long = "n".repeat(70_000);
    let Err(error) = Cluster::builder().name(long).start().await else {
        panic!("a 70 KB name started");
    };
    assert!(error.to_string().contains("at most 128"), "{error}");
}

//! The admin endpoint of real nodes over real HTTP (`ureq`): `/metrics` in the Prometheus
//! text format, `/members`, `/health` (503 while the node leaves), `/topics`, `/info`; a
//! taken admin address fails the start and starts nothing; the endpoint stops with its
//! node (shutdown, abort, or the last handle dropped). Every wait is bounded; every node
//! is stopped.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus_core::cluster::{ClusterError, ClusterEvent};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipConfig;
use chorus_core::provider::ProviderError;
use chorus_tokio::{Cluster, NodeError};
use serde_json::Value;

#[path = "../src/test_support.rs"]
mod test_support;
use test_support::eventually;

const LIMIT: Duration = Duration::from_secs(10);

/// A GET with a real HTTP client: the status and the body.
async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let url = format!("http://{address}{path}");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut response = agent.get(&url).call().expect("the endpoint answers");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().expect("a text body");
        (status, body)
    })
    .await
    .unwrap()
}

async fn get_json(address: SocketAddr, path: &str) -> (u16, Value) {
    let (status, body) = get(address, path).await;
    (status, serde_json::from_str(&body).expect("a JSON body"))
}

/// The value of the unlabelled sample `name` in a Prometheus text body.
fn sample(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn node(name: &str, seeds: &[String]) -> Cluster {
    Cluster::builder()
        .name(name)
        .seeds(seeds.iter().cloned())
        .admin_addr("127.0.0.1:0")
        .start()
        .await
        .expect("node starts")
}

async fn pair() -> (Cluster, Cluster) {
    let a = node("a", &[]).await;
    let b = node("b", &[a.address()]).await;
    let joined = eventually(LIMIT, || async {
        a.members().len() == 2 && b.members().len() == 2
    })
    .await;
    assert!(joined, "a and b see each other");
    (a, b)
}

/// Whether nothing listens at `address` any more.
fn closed(address: SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_serve_their_metrics_members_health_and_topics_over_http() {
    let (a, b) = pair().await;
    let admin = a.admin_address().expect("a serves its admin endpoint");
    assert_ne!(admin.port(), 0, "the port the system chose");
    assert!(admin.ip().is_loopback());

    // /metrics: the member count, and byte counters that move between two scrapes.
    let (status, first) = get(admin, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(sample(&first, "chorus_members"), Some(2), "{first}");
    assert!(first.contains("# TYPE chorus_bytes_sent_total counter"));
    let sent = sample(&first, "chorus_bytes_sent_total{kind=\"gossip\"}").unwrap();
    let received = sample(&first, "chorus_bytes_received_total{kind=\"gossip\"}").unwrap();
    assert!(sent > 0 && received > 0, "they gossiped to join");
    let last = &Mutex::new(String::new());
    let moved = eventually(LIMIT, || async move {
        let text = get(admin, "/metrics").await.1;
        let moved = sample(&text, "chorus_bytes_sent_total{kind=\"gossip\"}").unwrap() > sent
            && sample(&text, "chorus_bytes_received_total{kind=\"gossip\"}").unwrap() > received
            && sample(&text, "chorus_gossip_rounds_total").unwrap() > 0;
        *last.lock().unwrap() = text;
        moved
    })
    .await;
    assert!(
        moved,
        "gossip keeps the counters moving: {}",
        last.lock().unwrap()
    );

    // /members: exactly the topology, both nodes, as Cluster::members says.
    let (status, members) = get_json(admin, "/members").await;
    assert_eq!(status, 200);
    let listed: BTreeSet<String> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["status"], "alive");
            assert!(m["address"].as_str().unwrap().starts_with("127.0.0.1:"));
            format!("{}#{}", m["name"].as_str().unwrap(), m["incarnation"])
        })
        .collect();
    let expected: BTreeSet<String> = a.members().iter().map(|m| m.id().to_string()).collect();
    assert_eq!(listed, expected);
    let selves: Vec<&Value> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["self"] == true)
        .collect();
    assert_eq!(selves.len(), 1);
    assert_eq!(selves[0]["name"], "a");

    // /health: running and in the topology.
    let (status, health) = get_json(admin, "/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");

    // /topics: b's subscription, as a's registry learnt it through gossip.
    let mut news = b.subscribe("news").await.unwrap();
    let topics = &Mutex::new(Value::Null);
    let listed = eventually(LIMIT, || async move {
        let body = get_json(admin, "/topics").await.1;
        let listed = body["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["topic"] == "news" && t["broadcast"][0]["member"] == "b");
        *topics.lock().unwrap() = body;
        listed
    })
    .await;
    assert!(
        listed,
        "a lists b's subscription: {}",
        topics.lock().unwrap()
    );

    // A delivery shows in the publisher's pub/sub counters and latency histogram.
    assert!(a.publish_one("news", "hello").await.unwrap().is_accepted());
    tokio::time::timeout(LIMIT, futures_util::StreamExt::next(&mut news))
        .await
        .expect("b receives it")
        .expect("the stream is open");
    let counted = eventually(LIMIT, || async {
        let text = get(admin, "/metrics").await.1;
        text.contains("chorus_pubsub_delivered_total{topic=\"news\"} 1\n")
            && text.contains("chorus_pubsub_delivery_latency_seconds_count{topic=\"news\"} 1\n")
    })
    .await;
    assert!(counted, "the delivery is counted once acknowledged");
    assert_eq!(a.metrics().topic("news").delivered, 1);

    // /info: the same figures as JSON.
    let (status, info) = get_json(admin, "/info").await;
    assert_eq!(status, 200);
    assert_eq!(info["cluster"]["members"], 2);
    assert_eq!(info["topics"]["news"]["delivered"], 1);
    assert_eq!(info["admin_address"], admin.to_string());

    let b_admin = b.admin_address().unwrap();
    drop(news);
    b.shutdown().await.unwrap();
    a.shutdown().await.unwrap();
    assert!(
        closed(admin) && closed(b_admin),
        "shutdown closes the endpoints"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_503_while_the_node_leaves_and_abort_closes_the_endpoint() {
    // a keeps b as a member long after b is gone, so its leave waits for b's
    // acknowledgement until the leave timeout.
    let patient = GossipConfig {
        heartbeat_expiration_ms: 30_000,
        ..GossipConfig::new()
    };
    let a = Cluster::builder()
        .name("a")
        .gossip_config(patient)
        .leave_timeout(Duration::from_secs(3))
        .admin_addr("127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let b = node("b", &[a.address()]).await;
    assert!(eventually(LIMIT, || async { a.members().len() == 2 }).await);
    let (admin, b_admin) = (a.admin_address().unwrap(), b.admin_address().unwrap());
    assert_eq!(get(admin, "/health").await.0, 200);

    b.abort();
    assert!(
        eventually(LIMIT, || async { closed(b_admin) }).await,
        "abort closes the endpoint"
    );
    let leaving = tokio::spawn(a.shutdown());
    let last = &Mutex::new(Value::Null);
    let unavailable = eventually(Duration::from_secs(2), || async move {
        let (status, body) = get_json(admin, "/health").await;
        *last.lock().unwrap() = body;
        status == 503
    })
    .await;
    let health = last.lock().unwrap().clone();
    assert!(unavailable, "a leaving node is not ready: {health}");
    assert_eq!(health["status"], "unavailable");
    assert_eq!(health["running"], false);
    let left = tokio::time::timeout(LIMIT, leaving).await.unwrap().unwrap();
    assert!(
        matches!(left, Err(NodeError::LeaveTimedOut { .. })),
        "b never acknowledged: {left:?}"
    );
    assert!(closed(admin), "the endpoint stopped with the node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_admin_address_fails_the_start_and_starts_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = free.local_addr().unwrap();
    drop(free);
    let events = EventStream::with_replay(16);
    let started = Cluster::builder()
        .name("a")
        .bind(bind.to_string())
        .admin_addr(address.clone())
        .event_stream(events.clone())
        .start()
        .await;
    let Err(error) = started else {
        panic!("the start must fail");
    };
    assert!(
        matches!(&error, ClusterError::Provider(ProviderError::Bind { address: a, .. }) if *a == address),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(&address) && text.contains("admin endpoint"),
        "{text}"
    );
    let failed = Arc::new(Mutex::new(false));
    let seen = Arc::clone(&failed);
    let _subscription = events.subscribe(move |event: &ClusterEvent| {
        if matches!(event, ClusterEvent::StartupFailed { .. }) {
            *seen.lock().unwrap() = true;
        }
    });
    assert!(*failed.lock().unwrap(), "StartupFailed was published");
    assert!(
        std::net::TcpListener::bind(bind).is_ok(),
        "the node's own address was never bound"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_stops_the_endpoint() {
    let a = node("a", &[]).await;
    let admin = a.admin_address().unwrap();
    assert_eq!(get(admin, "/health").await.0, 200);
    let clone = a.clone();
    drop(a);
    assert_eq!(
        get(admin, "/health").await.0,
        200,
        "a clone keeps the node and its endpoint"
    );
    drop(clone);
    assert!(
        eventually(LIMIT, || async { closed(admin) }).await,
        "the endpoint does not outlive the node"
    );
}

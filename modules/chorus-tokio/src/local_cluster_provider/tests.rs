use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, Gossiper};
use chorus_core::provider::{ClusterProvider, ProviderError};
use chorus_core::topology::MemberId;

use super::advertised_address;
use crate::seed_resolver::TableLookup;
use crate::test_support::eventually;
use crate::transport::TransportConfig;
use crate::{Cluster, LocalClusterProvider, LocalClusterProviderConfig, TokioGossiper};

fn bound(address: &str) -> SocketAddr {
    address.parse().unwrap()
}

#[test]
fn without_an_advertised_address_the_bound_one_is_announced() {
    assert_eq!(
        advertised_address(bound("127.0.0.1:7000"), None),
        Ok("127.0.0.1:7000".to_string())
    );
}

#[test]
fn a_wildcard_bind_needs_an_advertised_address() {
    for wildcard in ["0.0.0.0:7000", "[::]:7000"] {
        let Err(ProviderError::Config { reason }) = advertised_address(bound(wildcard), None)
        else {
            panic!("{wildcard} must be refused");
        };
        assert!(reason.contains("advertise"), "{reason}");
    }
    assert_eq!(
        advertised_address(bound("0.0.0.0:7000"), Some("10.0.0.5:7000")),
        Ok("10.0.0.5:7000".to_string())
    );
}

#[test]
fn a_host_alone_takes_the_bound_port() {
    let at = bound("0.0.0.0:7001");
    assert_eq!(
        advertised_address(at, Some("10.0.0.5")),
        Ok("10.0.0.5:7001".to_string())
    );
    assert_eq!(
        advertised_address(at, Some("db1.example")),
        Ok("db1.example:7001".to_string())
    );
    assert_eq!(
        advertised_address(at, Some("fd00::5")),
        Ok("[fd00::5]:7001".to_string())
    );
}

#[test]
fn a_malformed_advertised_address_is_refused() {
    for bad in ["", ":7000", "host:", "host:0", "host:70000", "host:port"] {
        assert!(
            matches!(
                advertised_address(bound("0.0.0.0:7000"), Some(bad)),
                Err(ProviderError::Config { .. })
            ),
            "{bad:?} must be refused"
        );
    }
}

/// A node driven by a provider whose seed names resolve through `lookup`, sharing one
/// event stream with its gossiper as a `Cluster` does.
struct LookupNode {
    gossiper: TokioGossiper,
    provider: LocalClusterProvider,
    member: MemberId,
}

impl LookupNode {
    fn start(name: &str, seeds: &[&str], lookup: Arc<TableLookup>) -> Self {
        let events = EventStream::<ClusterEvent>::new();
        let mut gossiper = TokioGossiper::new(GossipConfig::new(), events.clone());
        let member = MemberId::new(name, 1);
        let mut provider = LocalClusterProvider::new(
            LocalClusterProviderConfig {
                bind: "127.0.0.1:0".into(),
                advertise: None,
                seeds: seeds.iter().map(ToString::to_string).collect(),
                cluster_name: "chorus".into(),
                member: member.clone(),
                kinds: Vec::new(),
                gossip: GossipConfig::new(),
                transport: TransportConfig::new(),
                rng_seed: 7,
            },
            gossiper.handle(),
            events,
        )
        .with_seed_lookup(lookup);
        gossiper.start().unwrap();
        provider.start().unwrap();
        Self {
            gossiper,
            provider,
            member,
        }
    }

    fn stop(mut self) {
        self.provider.stop().unwrap();
        self.gossiper.stop().unwrap();
    }
}

async fn sees(node: &Cluster, member: &MemberId) -> bool {
    eventually(Duration::from_secs(8), || async {
        node.members().iter().any(|m| m.id() == member)
    })
    .await
}

/// An address on 127.0.0.1 where nothing listens.
fn down_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_name_with_a_down_address_joins_through_the_live_one() {
    let live = Cluster::builder().name("live").start().await.unwrap();
    let lookup = Arc::new(TableLookup::default());
    lookup.answer(
        "seeds.test:7000",
        Ok(vec![down_address(), live.local_address()]),
    );
    let node = LookupNode::start("n", &["seeds.test:7000"], lookup);
    assert!(
        sees(&live, &node.member).await,
        "joined through the live address"
    );
    node.stop();
    let _ = live.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_address_of_a_seed_name_is_contacted() {
    // Two nodes that know nothing of each other: only a node that contacts both of the
    // name's addresses brings them into one cluster.
    let a = Cluster::builder().name("a").start().await.unwrap();
    let b = Cluster::builder().name("b").start().await.unwrap();
    let lookup = Arc::new(TableLookup::default());
    lookup.answer(
        "seeds.test:7000",
        Ok(vec![a.local_address(), b.local_address()]),
    );
    let node = LookupNode::start("n", &["seeds.test:7000"], lookup);
    assert!(
        eventually(Duration::from_secs(10), || async {
            a.members().len() == 3 && b.members().len() == 3
        })
        .await,
        "a sees {:?}, b sees {:?}",
        a.members(),
        b.members()
    );
    node.stop();
    let _ = a.shutdown().await;
    let _ = b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_name_that_resolves_later_is_joined_then() {
    let live = Cluster::builder().name("live").start().await.unwrap();
    let lookup = Arc::new(TableLookup::default());
    lookup.answer("late.test:7000", Err("name not known"));
    let node = LookupNode::start("n", &["late.test:7000"], lookup.clone());
    // Alone, and looking the name up again.
    assert!(
        eventually(Duration::from_secs(3), || async {
            lookup.lookups.load(Ordering::SeqCst) >= 2
        })
        .await
    );
    assert!(!live.members().iter().any(|m| *m.id() == node.member));
    lookup.answer("late.test:7000", Ok(vec![live.local_address()]));
    assert!(
        sees(&live, &node.member).await,
        "joined once the name resolved"
    );
    node.stop();
    let _ = live.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_works_as_a_seed() {
    let first = Cluster::builder().name("first").start().await.unwrap();
    let port = first.local_address().port();
    let second = Cluster::builder()
        .name("second")
        .seed(format!("localhost:{port}"))
        .start()
        .await
        .unwrap();
    let id = second.member_id().await.unwrap();
    assert!(sees(&first, &id).await, "joined through localhost:{port}");
    let _ = second.shutdown().await;
    let _ = first.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_that_never_resolves_does_not_keep_the_node_from_joining_another() {
    let first = Cluster::builder().name("first").start().await.unwrap();
    let second = Cluster::builder()
        .name("second")
        .seeds(["no-such-host.invalid:7000".to_string(), first.address()])
        .start()
        .await
        .unwrap();
    let id = second.member_id().await.unwrap();
    assert!(sees(&first, &id).await);
    let _ = second.shutdown().await;
    let _ = first.shutdown().await;
}

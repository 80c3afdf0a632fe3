use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, Gossiper, GossiperError};
use chorus_core::provider::ClusterProvider;
use chorus_core::topology::MemberId;

use crate::test_support::eventually;
use crate::transport::TransportConfig;
use crate::{
    Cluster, GossipHandle, LocalClusterProvider, LocalClusterProviderConfig, TokioGossiper,
};

fn gossiper() -> TokioGossiper {
    TokioGossiper::new(GossipConfig::new(), EventStream::new())
}

fn provider(gossip: GossipHandle) -> LocalClusterProvider {
    LocalClusterProvider::new(
        LocalClusterProviderConfig {
            bind: "127.0.0.1:0".into(),
            advertise: None,
            seeds: Vec::new(),
            cluster_name: "chorus".into(),
            member: MemberId::new("g", 1),
            kinds: Vec::new(),
            gossip: GossipConfig::new(),
            transport: TransportConfig::new(),
            rng_seed: 7,
        },
        gossip,
        EventStream::<ClusterEvent>::new(),
    )
}

async fn serves(handle: &GossipHandle) -> bool {
    let answer = tokio::time::timeout(Duration::from_secs(1), handle.member_id()).await;
    matches!(answer, Ok(Ok(_)))
}

#[tokio::test]
async fn starting_twice_is_already_started() {
    let mut gossiper = gossiper();
    gossiper.start().unwrap();
    assert_eq!(gossiper.start(), Err(GossiperError::AlreadyStarted));
    assert!(gossiper.is_running());
    gossiper.stop().unwrap();
}

#[tokio::test]
async fn stopping_before_starting_or_twice_is_not_started() {
    let mut gossiper = gossiper();
    assert_eq!(gossiper.stop(), Err(GossiperError::NotStarted));
    gossiper.start().unwrap();
    gossiper.stop().unwrap();
    assert_eq!(gossiper.stop(), Err(GossiperError::NotStarted));
    assert!(!gossiper.is_running());
}

#[test]
fn starting_outside_a_runtime_says_so() {
    let mut gossiper = gossiper();
    assert!(matches!(
        gossiper.start(),
        Err(GossiperError::Driver { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_gossiper_started_again_resumes_its_node() {
    let mut gossiper = gossiper();
    let handle = gossiper.handle();
    let mut provider = provider(handle.clone());
    gossiper.start().unwrap();
    provider.start().unwrap();
    assert!(serves(&handle).await);
    let me = handle.member_id().await.unwrap();
    handle.set("app.k", b"v").await.unwrap();
    let address = handle.transport().await.unwrap().advertised_address();

    gossiper.stop().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || async {
            handle.member_id().await == Err(GossiperError::NotStarted)
        })
        .await,
        "a stopped loop does not answer"
    );
    gossiper.start().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || serves(&handle)).await,
        "the restarted loop serves without a new attach"
    );
    assert_eq!(handle.member_id().await.unwrap(), me);
    assert_eq!(
        handle.get(&me, "app.k").await.unwrap().as_deref(),
        Some(&b"v"[..])
    );

    // It still gossips over the same transport: a node joining through it meets it.
    let peer = Cluster::builder()
        .name("peer")
        .seed(address)
        .start()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            peer.members().iter().any(|m| *m.id() == me)
        })
        .await
    );
    let _ = peer.shutdown().await;
    provider.stop().unwrap();
    gossiper.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_provider_stopped_a_restarted_gossiper_takes_the_new_node() {
    let mut gossiper = gossiper();
    let handle = gossiper.handle();
    let mut provider = provider(handle.clone());
    gossiper.start().unwrap();
    provider.start().unwrap();
    assert!(serves(&handle).await);
    let first = handle.transport().await.unwrap();

    // The order ClusterCore stops and starts in.
    provider.stop().unwrap();
    gossiper.stop().unwrap();
    gossiper.start().unwrap();
    provider.start().unwrap();
    let fresh = eventually(Duration::from_secs(2), || async {
        handle
            .transport()
            .await
            .is_ok_and(|t| !t.is_closed() && t.local_address() != first.local_address())
    })
    .await;
    assert!(fresh, "the loop serves the node of the second start");
    provider.stop().unwrap();
    gossiper.stop().unwrap();
}

//! Two nodes on 127.0.0.1 form a cluster; one subscribes to a topic, the other publishes
//! three messages on it, and the subscriber receives them in publish order.
//!
//! ```text
//! cargo run -p chorus-tokio --example two_nodes_broadcast
//! ```
//!
//! It ends by itself within a few seconds, and exits non-zero if a step does not happen.

use std::error::Error;
use std::time::Duration;

use chorus_tokio::Cluster;
use futures_util::StreamExt;

/// The whole run may take this long; past it the example fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tokio::time::timeout(LIMIT, run())
        .await
        .map_err(|_| format!("not done within {} s", LIMIT.as_secs()))?
}

async fn run() -> Result<(), Box<dyn Error>> {
    // Port 0: the system picks a free port. `address()` is what another node dials.
    let alice = Cluster::builder()
        .name("alice")
        .cluster_name("example")
        .start()
        .await?;
    let bob = Cluster::builder()
        .name("bob")
        .cluster_name("example")
        .seed(alice.address())
        .start()
        .await?;
    println!("alice at {}, bob at {}", alice.address(), bob.address());

    // Gossip brings the two together within a few rounds (250 ms each by default).
    wait_until(|| async { alice.members().len() == 2 && bob.members().len() == 2 }).await;
    println!("both nodes see 2 members");

    // Bob subscribes; alice can publish to him once his subscription reached her
    // through gossip (a publish before that is rejected with `NoSubscribers`).
    let mut news = bob.subscribe("news").await?;
    wait_until(|| async {
        alice
            .subscriptions("news")
            .await
            .is_ok_and(|subscriptions| subscriptions.len() == 1)
    })
    .await;

    for i in 1..=3 {
        let ack = alice.publish_one("news", format!("update {i}")).await?;
        if !ack.is_accepted() {
            return Err(format!("publish {i} refused: {ack:?}").into());
        }
    }
    for i in 1..=3 {
        let delivery = news.next().await.ok_or("bob's stream ended")?;
        let text = String::from_utf8_lossy(&delivery.payload);
        println!("bob received {text:?} from {}", delivery.publisher);
        if text != format!("update {i}") {
            return Err(format!("expected update {i}, received {text:?}").into());
        }
    }

    // A graceful leave: alice blocks bob at once instead of waiting for his heartbeat
    // to expire.
    bob.shutdown().await?;
    alice.shutdown().await?;
    println!("done");
    Ok(())
}

/// Polls `check` every 20 ms until it holds (the caller's timeout bounds the wait).
async fn wait_until<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    while !check().await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

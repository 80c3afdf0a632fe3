//! `demo`: three nodes in one process on free loopback ports.

mod pub_sub;

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chorus_core::topology::MemberId;
use chorus_tokio::Cluster;

/// How long any step may take before the demo gives up.
pub(super) const STEP_LIMIT: Duration = Duration::from_secs(15);

const KEY: &str = "demo.greeting";

pub(super) async fn wait_for<F, Fut>(what: &str, mut done: F) -> Result<Duration, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < STEP_LIMIT {
        if done().await {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!(
        "{what} did not happen within {} s",
        STEP_LIMIT.as_secs()
    ))
}

/// Whether every node's topology consensus holds, on its own topology.
async fn agree(nodes: &[&Cluster]) -> bool {
    for node in nodes {
        if node.topology_consensus().await.ok().flatten() != Some(node.topology().hash()) {
            return false;
        }
    }
    true
}

async fn table(nodes: &[(&str, &Cluster)], owner: Option<&MemberId>) {
    println!(
        "  {:<6} {:<22} {:<8} {:<32} {:<10} {}",
        "node", "address", "members", "blocked", "consensus", KEY
    );
    for (name, node) in nodes {
        let topology = node.topology();
        let blocked: Vec<String> = topology.blocked().iter().map(ToString::to_string).collect();
        let consensus = match node.topology_consensus().await {
            Ok(Some(hash)) if hash == topology.hash() => "yes",
            _ => "no",
        };
        let value = match owner {
            Some(owner) => node.get(owner, KEY).await.ok().flatten().map_or_else(
                || "-".to_string(),
                |v| String::from_utf8_lossy(&v).into_owned(),
            ),
            None => "-".to_string(),
        };
        println!(
            "  {:<6} {:<22} {:<8} {:<32} {:<10} {}",
            name,
            node.address(),
            topology.members().len(),
            if blocked.is_empty() {
                "-".to_string()
            } else {
                blocked.join(",")
            },
            consensus,
            value
        );
    }
}

async fn start(name: &str, seeds: &[String]) -> Result<Cluster, String> {
    Cluster::builder()
        .name(name)
        .bind("127.0.0.1:0")
        .seeds(seeds.iter().cloned())
        .cluster_name("demo")
        .start()
        .await
        .map_err(|e| format!("node {name} failed to start: {e}"))
}

pub(crate) async fn run() -> ExitCode {
    match steps().await {
        Ok(()) => {
            println!("demo finished");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn steps() -> Result<(), String> {
    println!("1. three nodes join through node a");
    let a = start("a", &[]).await?;
    let seed = vec![a.address()];
    let b = start("b", &seed).await?;
    let c = start("c", &seed).await?;
    let took = wait_for("all three seeing each other", || async {
        [&a, &b, &c].iter().all(|n| n.members().len() == 3)
    })
    .await?;
    println!("   joined in {} ms", took.as_millis());
    let took = wait_for("agreement on the topology", || async {
        agree(&[&a, &b, &c]).await
    })
    .await?;
    println!("   topology consensus {} ms later", took.as_millis());
    table(&[("a", &a), ("b", &b), ("c", &c)], None).await;

    println!("2. a sets {KEY}; gossip carries it to b and c");
    let owner = a.member_id().await.map_err(|e| e.to_string())?;
    a.set(KEY, b"hello from a")
        .await
        .map_err(|e| e.to_string())?;
    let took = wait_for("the key reaching b and c", || async {
        for node in [&b, &c] {
            if node.get(&owner, KEY).await.ok().flatten().is_none() {
                return false;
            }
        }
        true
    })
    .await?;
    println!("   seen everywhere in {} ms", took.as_millis());
    table(&[("a", &a), ("b", &b), ("c", &c)], Some(&owner)).await;

    pub_sub::step(&[("a", &a), ("b", &b), ("c", &c)]).await?;

    println!("4. c stops abruptly (no goodbye); a and b block it when its heartbeat expires");
    let c_id = c.member_id().await.map_err(|e| e.to_string())?;
    c.abort();
    let took = wait_for("a and b blocking c", || async {
        [&a, &b]
            .iter()
            .all(|n| n.topology().blocked().contains(&c_id) && n.members().len() == 2)
    })
    .await?;
    println!("   blocked after {} ms", took.as_millis());
    // Each survivor blocks c on its own clock: they agree on the new topology a moment
    // later, once each has seen the other's.
    let took = wait_for("agreement on the topology without c", || async {
        agree(&[&a, &b]).await
    })
    .await?;
    println!("   topology consensus {} ms later", took.as_millis());
    table(&[("a", &a), ("b", &b)], Some(&owner)).await;

    println!("5. b leaves gracefully; a sees it leave at once");
    let b_id = b.member_id().await.map_err(|e| e.to_string())?;
    let left_at = Instant::now();
    b.shutdown().await.map_err(|e| format!("b's leave: {e}"))?;
    wait_for("a seeing b leave", || async {
        !a.topology().contains(&b_id)
    })
    .await?;
    println!("   left after {} ms", left_at.elapsed().as_millis());
    table(&[("a", &a)], Some(&owner)).await;

    a.shutdown()
        .await
        .map_err(|e| format!("a's shutdown: {e}"))?;
    Ok(())
}

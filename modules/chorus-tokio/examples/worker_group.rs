//! A load-balanced group of workers answering requests: a requester node publishes jobs
//! on `jobs`; two worker nodes subscribe to it as instances of the group `squarers`, so
//! each job goes to exactly one of them (the next idle one, round robin); each worker
//! answers by publishing its result on the reply topic `results`, to which the requester
//! subscribes, and then completes the job, which makes it free for the next one.
//!
//! chorus has no request/reply call yet: a reply is a message on a topic the requester
//! listens to, carrying what identifies the request (here the job's number).
//!
//! ```text
//! cargo run -p chorus-tokio --example worker_group
//! ```
//!
//! It ends by itself within a few seconds, and exits non-zero if a job is not answered
//! exactly once or a worker did no work.

use std::collections::BTreeMap;
use std::error::Error;
use std::time::Duration;

use chorus_tokio::{Cluster, Delivery, NodeError, SubscriptionStream};
use futures_util::StreamExt;

/// The whole run may take this long; past it the example fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

const JOBS: u64 = 6;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tokio::time::timeout(LIMIT, run())
        .await
        .map_err(|_| format!("not done within {} s", LIMIT.as_secs()))?
}

async fn node(name: &str, seed: Option<String>) -> Result<Cluster, NodeError> {
    let builder = Cluster::builder().name(name).cluster_name("example");
    let builder = match seed {
        Some(seed) => builder.seed(seed),
        None => builder,
    };
    Ok(builder.start().await?)
}

async fn run() -> Result<(), Box<dyn Error>> {
    let requester = node("requester", None).await?;
    let workers = [
        node("worker-1", Some(requester.address())).await?,
        node("worker-2", Some(requester.address())).await?,
    ];
    wait_until(|| async {
        requester.members().len() == 3 && workers.iter().all(|w| w.members().len() == 3)
    })
    .await;

    // The requester listens for answers before it asks anything.
    let mut results = requester.subscribe("results").await?;
    let mut tasks = Vec::new();
    for worker in &workers {
        // One instance per worker node, holding one job at a time.
        let jobs = worker.subscribe_group("jobs", "squarers", 1).await?;
        tasks.push(tokio::spawn(serve(worker.clone(), jobs)));
    }
    // Publishing works once the subscriptions reached the publishers through gossip.
    wait_until(|| async {
        requester
            .subscriptions("jobs")
            .await
            .is_ok_and(|s| s.len() == 2)
    })
    .await;
    for worker in &workers {
        wait_until(|| async {
            worker
                .subscriptions("results")
                .await
                .is_ok_and(|s| s.len() == 1)
        })
        .await;
    }

    let jobs: Vec<Vec<u8>> = (1..=JOBS).map(|n| n.to_string().into_bytes()).collect();
    let ack = requester.publish("jobs", jobs).await?;
    if !ack.is_accepted() {
        return Err(format!("jobs refused: {ack:?}").into());
    }

    // job → (result, worker)
    let mut answers: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    while answers.len() < JOBS as usize {
        let reply = results.next().await.ok_or("the results stream ended")?;
        let text = String::from_utf8_lossy(&reply.payload).into_owned();
        let mut fields = text.split(' ');
        let (Some(job), Some(square)) = (fields.next(), fields.next()) else {
            return Err(format!("malformed reply {text:?}").into());
        };
        let (job, square): (u64, u64) = (job.parse()?, square.parse()?);
        println!(
            "job {job}: {square}, answered by {}",
            reply.publisher.name()
        );
        if square != job * job {
            return Err(format!("job {job} answered {square}").into());
        }
        let by = reply.publisher.name().to_string();
        if answers.insert(job, (square, by)).is_some() {
            return Err(format!("job {job} answered twice").into());
        }
    }
    for worker in &workers {
        let name = worker.member_id().await?.name().to_string();
        let done = answers.values().filter(|(_, by)| *by == name).count();
        println!("{name} answered {done} jobs");
        if done == 0 {
            return Err(format!("{name} got no job: the group did not balance").into());
        }
    }

    for worker in workers {
        worker.shutdown().await?;
    }
    // Each worker's stream ended with its node.
    for task in tasks {
        task.await?;
    }
    requester.shutdown().await?;
    println!("done");
    Ok(())
}

/// A worker: squares each job it is handed, answers on `results`, then completes the
/// job. Ends when the node shuts down (the stream ends, or a call finds the node gone).
async fn serve(node: Cluster, mut jobs: SubscriptionStream) {
    while let Some(job) = jobs.next().await {
        if let Err(e) = answer(&node, &job).await {
            eprintln!("worker stops: {e}");
            return;
        }
        // Completing frees this instance for the group's next job.
        if let Err(e) = job.complete().await {
            eprintln!("worker stops: {e}");
            return;
        }
    }
}

async fn answer(node: &Cluster, job: &Delivery) -> Result<(), NodeError> {
    let text = String::from_utf8_lossy(&job.payload);
    let Ok(n) = text.parse::<u64>() else {
        eprintln!("job {text:?} is not a number: skipped");
        return Ok(());
    };
    let ack = node
        .publish_one("results", format!("{n} {}", n * n))
        .await?;
    if !ack.is_accepted() {
        eprintln!("answer to job {n} refused: {ack:?}");
    }
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

//! Step 3 of the demo: a broadcast subscriber and an instance of one group on every node;
//! b publishes three orders at once. Every broadcast subscriber gets all three, and each
//! order goes to exactly one instance of the group.

use std::time::{Duration, Instant};

use chorus_core::pubsub::PublishAck;
use chorus_tokio::{Cluster, Delivery, SubscriptionStream};
use futures_util::StreamExt;

use super::{STEP_LIMIT, wait_for};

/// The topic: a broadcast subscriber and a group instance per node.
const TOPIC: &str = "demo.orders";
const GROUP: &str = "billing";
const ORDERS: [&str; 3] = ["order-1", "order-2", "order-3"];

/// What one subscriber received, for the table.
struct Received {
    node: &'static str,
    kind: String,
    got: Vec<Delivery>,
}

pub(super) async fn step(nodes: &[(&'static str, &Cluster)]) -> Result<(), String> {
    println!(
        "3. pub/sub on {TOPIC}: a broadcast subscriber and a {GROUP:?} group instance on each node; b publishes three orders"
    );
    let mut broadcast: Vec<(&'static str, SubscriptionStream)> = Vec::new();
    let mut group: Vec<(&'static str, SubscriptionStream)> = Vec::new();
    for (name, node) in nodes {
        let stream = node.subscribe(TOPIC).await.map_err(|e| e.to_string())?;
        broadcast.push((name, stream));
        let stream = node
            .subscribe_group(TOPIC, GROUP, 1)
            .await
            .map_err(|e| e.to_string())?;
        group.push((name, stream));
    }
    let subscribers = 2 * nodes.len();
    let took = wait_for("every node knowing every subscription", || async {
        for (_, node) in nodes {
            match node.subscriptions(TOPIC).await {
                Ok(found) if found.len() == subscribers => {}
                _ => return false,
            }
        }
        true
    })
    .await?;
    println!(
        "   {subscribers} subscriptions known everywhere in {} ms",
        took.as_millis()
    );
    let (_, publisher) = nodes.get(1).ok_or("no node b to publish from")?;
    let published_at = Instant::now();
    let ack = publisher
        .publish(
            TOPIC,
            ORDERS.iter().map(|o| o.as_bytes().to_vec()).collect(),
        )
        .await
        .map_err(|e| e.to_string())?;
    let PublishAck::Accepted { .. } = ack else {
        return Err(format!("the publish was refused: {ack:?}"));
    };
    let deadline = published_at + STEP_LIMIT;
    let mut received = Vec::new();
    for (node, mut stream) in broadcast {
        let got = collect(&mut stream, ORDERS.len(), deadline).await;
        if got.len() < ORDERS.len() {
            return Err(format!(
                "the broadcast subscriber on {node} got {} of {} orders within {} s",
                got.len(),
                ORDERS.len(),
                STEP_LIMIT.as_secs()
            ));
        }
        received.push(Received {
            node,
            kind: "broadcast".to_string(),
            got,
        });
    }
    received.extend(take_group(&mut group, deadline).await?);
    println!("   delivered in {} ms", published_at.elapsed().as_millis());
    print(&mut received);
    // Dropping the streams unsubscribes them.
    drop(group);
    Ok(())
}

/// Up to `want` deliveries of `stream`, until `deadline`.
async fn collect(stream: &mut SubscriptionStream, want: usize, deadline: Instant) -> Vec<Delivery> {
    let mut got = Vec::new();
    while got.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(delivery)) => got.push(delivery),
            _ => break,
        }
    }
    got
}

/// What the group's instances get until every order was handed out; each instance
/// completes what it gets, so that its slot is free for the next order.
async fn take_group(
    group: &mut [(&'static str, SubscriptionStream)],
    deadline: Instant,
) -> Result<Vec<Received>, String> {
    let mut rows: Vec<Received> = group
        .iter()
        .map(|(node, _)| Received {
            node,
            kind: format!("group {GROUP}"),
            got: Vec::new(),
        })
        .collect();
    let mut handed = 0;
    while handed < ORDERS.len() && Instant::now() < deadline {
        for ((_, stream), row) in group.iter_mut().zip(rows.iter_mut()) {
            if let Ok(Some(delivery)) =
                tokio::time::timeout(Duration::from_millis(5), stream.next()).await
            {
                delivery
                    .clone()
                    .complete()
                    .await
                    .map_err(|e| e.to_string())?;
                row.got.push(delivery);
                handed += 1;
            }
        }
    }
    if handed < ORDERS.len() {
        return Err(format!(
            "the {GROUP} group got {handed} of {} orders within {} s",
            ORDERS.len(),
            STEP_LIMIT.as_secs()
        ));
    }
    Ok(rows)
}

fn print(received: &mut [Received]) {
    received.sort_by(|x, y| (x.node, &x.kind).cmp(&(y.node, &y.kind)));
    println!("  {:<6} {:<16} received", "node", "subscriber");
    for row in received.iter() {
        let got: Vec<String> = row
            .got
            .iter()
            .map(|d| String::from_utf8_lossy(&d.payload).into_owned())
            .collect();
        println!(
            "  {:<6} {:<16} {}",
            row.node,
            row.kind,
            if got.is_empty() {
                "-".to_string()
            } else {
                got.join(", ")
            }
        );
    }
}

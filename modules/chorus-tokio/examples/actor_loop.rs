//! Embedding chorus in an actor loop, with no actor framework: an actor owns its state
//! and a mailbox, and one `tokio::select!` loop reacts to three sources — the node's
//! events (`TopologyUpdated`: who is in the cluster), the messages of a topic it
//! subscribes to, and its own mailbox. Nothing else touches its state, so it needs no lock.
//!
//! Here a second node joins, sends the actor three messages and leaves; the actor sees
//! the member join, counts the messages and sees the member leave.
//!
//! ```text
//! cargo run -p chorus-tokio --example actor_loop
//! ```
//!
//! It ends by itself within a few seconds, and exits non-zero if the actor does not see
//! all of it.

use std::error::Error;
use std::time::Duration;

use chorus_tokio::core::cluster::ClusterEvent;
use chorus_tokio::core::topology::MemberId;
use chorus_tokio::{Cluster, ClusterEvents, SubscriptionStream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

/// The whole run may take this long; past it the example fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// What the actor is asked through its mailbox.
enum Command {
    /// Reply with what the actor has seen so far.
    Report(oneshot::Sender<Seen>),
    /// Stop the loop.
    Stop,
}

/// The actor's state.
#[derive(Debug, Clone, Default)]
struct Seen {
    /// Members in the last topology, this node included.
    members: usize,
    /// Other members that joined, then left, by name.
    joined: Vec<String>,
    left: Vec<String>,
    /// Messages received on the topic.
    messages: Vec<String>,
}

struct Actor {
    /// This node: its first topology has it join, which is no news to the actor.
    me: MemberId,
    events: ClusterEvents,
    inbox: SubscriptionStream,
    mailbox: mpsc::Receiver<Command>,
    seen: Seen,
}

impl Actor {
    async fn run(mut self) {
        loop {
            tokio::select! {
                Some(event) = self.events.next() => self.on_event(&event),
                Some(message) = self.inbox.next() => {
                    let text = String::from_utf8_lossy(&message.payload).into_owned();
                    println!("actor: message {text:?} from {}", message.publisher.name());
                    self.seen.messages.push(text);
                }
                command = self.mailbox.recv() => match command {
                    Some(Command::Report(reply)) => {
                        let _ = reply.send(self.seen.clone());
                    }
                    // Stopped, or every handle to the mailbox is gone.
                    Some(Command::Stop) | None => return,
                },
            }
        }
    }

    fn on_event(&mut self, event: &ClusterEvent) {
        // The other events (pub/sub, gossip, lifecycle) are not this actor's business.
        if let ClusterEvent::TopologyUpdated(topology) = event {
            self.seen.members = topology.members().len();
            for member in topology.joined().iter().filter(|m| *m.id() != self.me) {
                println!("actor: {} joined", member.id());
                self.seen.joined.push(member.id().name().to_string());
            }
            for member in topology.left() {
                println!("actor: {} left", member.id());
                self.seen.left.push(member.id().name().to_string());
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tokio::time::timeout(LIMIT, run())
        .await
        .map_err(|_| format!("not done within {} s", LIMIT.as_secs()))?
}

async fn run() -> Result<(), Box<dyn Error>> {
    let home = Cluster::builder()
        .name("home")
        .cluster_name("example")
        .start()
        .await?;
    let (mailbox, commands) = mpsc::channel(16);
    let actor = Actor {
        me: home.member_id().await?,
        events: home.events(),
        inbox: home.subscribe("chat").await?,
        mailbox: commands,
        seen: Seen::default(),
    };
    let actor = tokio::spawn(actor.run());

    let visitor = Cluster::builder()
        .name("visitor")
        .cluster_name("example")
        .seed(home.address())
        .start()
        .await?;
    // The visitor can publish once the actor's subscription reached it through gossip.
    wait_until(|| async {
        visitor
            .subscriptions("chat")
            .await
            .is_ok_and(|s| s.len() == 1)
    })
    .await;
    for text in ["hello", "how are you", "bye"] {
        let ack = visitor.publish_one("chat", text).await?;
        if !ack.is_accepted() {
            return Err(format!("publish {text:?} refused: {ack:?}").into());
        }
    }
    wait_for(&mailbox, |seen| {
        seen.members == 2 && seen.messages.len() == 3
    })
    .await?;

    // A graceful leave: the actor's node removes the visitor at once.
    visitor.shutdown().await?;
    let seen = wait_for(&mailbox, |seen| seen.members == 1).await?;
    println!("actor saw: {seen:?}");
    if seen.joined != ["visitor"] || seen.left != ["visitor"] {
        return Err(format!("expected the visitor to join and leave once: {seen:?}").into());
    }
    if seen.messages != ["hello", "how are you", "bye"] {
        return Err(format!("expected the three messages in order: {seen:?}").into());
    }

    mailbox.send(Command::Stop).await?;
    actor.await?;
    home.shutdown().await?;
    println!("done");
    Ok(())
}

/// Asks the actor what it has seen, every 20 ms, until `done` holds.
async fn wait_for(
    mailbox: &mpsc::Sender<Command>,
    done: impl Fn(&Seen) -> bool,
) -> Result<Seen, Box<dyn Error>> {
    loop {
        let (reply, answer) = oneshot::channel();
        mailbox
            .send(Command::Report(reply))
            .await
            .map_err(|_| "the actor stopped")?;
        let seen = answer.await?;
        if done(&seen) {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

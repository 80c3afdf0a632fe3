//! The task that owns the node (`chorus_core::node::Node`): sockets in, timers, commands
//! from the application, and the leave wait. Every protocol rule is the node's.

mod pub_sub;

use std::collections::BTreeMap;
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, GossipNode, GossiperError};
use chorus_core::node::{Node, NodeOutput};
use chorus_core::pubsub::PubSubError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::NodeError;
use crate::gossip_command::{GossipCommand, Reply};
use crate::node_snapshot::{Heard, NodeSnapshot};
use crate::tokio_pub_sub::PubSubLink;
use crate::transport::{InboundFrame, InboundMessage, TokioTcpTransport};

/// About thirty years: "never" for a timer.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3_600);

/// What the provider handed over, kept across a stop and a start of the gossiper.
pub(super) struct Attached {
    node: Node,
    transport: TokioTcpTransport,
    inbound: mpsc::Receiver<InboundMessage>,
    /// The node's clock: `now` is the time since it was attached.
    clock: Instant,
    /// The start of pub/sub the node follows (see `LocalSubscribers::switch`).
    pub_sub_generation: u64,
    /// Broadcast deliveries dropped at a full subscriber buffer, per topic (topics with
    /// a local subscriber only).
    dropped: BTreeMap<String, u64>,
}

/// Runs the node until cancelled, then hands it back for a later start.
///
/// The node is the one the previous run of the loop (`previous`, after a stop) left, if
/// its transport is still open; otherwise the loop waits for the provider to attach one.
pub(super) async fn run(
    previous: Option<JoinHandle<Option<Attached>>>,
    mut commands: mpsc::Receiver<GossipCommand>,
    events: EventStream<ClusterEvent>,
    cancel: CancellationToken,
    config: GossipConfig,
    pub_sub: Option<PubSubLink>,
    snapshot: NodeSnapshot,
) -> Option<Attached> {
    let resumed = match previous {
        // A stopped loop ends as soon as it sees its cancellation.
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    let attached = match resumed.filter(|a| !a.transport.is_closed()) {
        Some(attached) => attached,
        None => wait_for_attach(&mut commands, &cancel, pub_sub.as_ref()).await?,
    };
    let span = tracing::info_span!(
        "node",
        name = attached.node.member_id().name(),
        incarnation = attached.node.member_id().incarnation()
    );
    let mut running = Running {
        attached,
        events,
        leave_waiters: Vec::new(),
        pub_sub,
        snapshot,
        snapshot_due: true,
    };
    async {
        running.follow_pub_sub();
        running.flush();
        running.publish_snapshot(commands.len());
        running.serve(&mut commands, &cancel, config).await;
    }
    .instrument(span)
    .await;
    Some(running.attached)
}

/// Composes the node the provider created with the broker pub/sub runs, if any.
fn attach(
    gossip: GossipNode,
    transport: TokioTcpTransport,
    inbound: mpsc::Receiver<InboundMessage>,
    pub_sub: Option<&PubSubLink>,
) -> Attached {
    let mut node = Node::new(gossip);
    if let Some(link) = pub_sub
        && let Err(e) = node.run_pub_sub(link.config.clone(), link.max_frame_bytes)
    {
        // `TokioPubSub::start` checked the same settings: not reached.
        tracing::error!(error = %e, "pub/sub settings refused: the node runs without pub/sub");
    }
    Attached {
        node,
        transport,
        inbound,
        clock: Instant::now(),
        pub_sub_generation: 0,
        dropped: BTreeMap::new(),
    }
}

async fn wait_for_attach(
    commands: &mut mpsc::Receiver<GossipCommand>,
    cancel: &CancellationToken,
    pub_sub: Option<&PubSubLink>,
) -> Option<Attached> {
    loop {
        let command = tokio::select! {
            () = cancel.cancelled() => return None,
            command = commands.recv() => command,
        };
        match command? {
            GossipCommand::Attach {
                node,
                transport,
                inbound,
            } => return Some(attach(*node, transport, inbound, pub_sub)),
            other => refuse(other),
        }
    }
}

/// Answers a command that came before any node was attached.
fn refuse(command: GossipCommand) {
    match command {
        GossipCommand::Set { reply, .. } => {
            let _ = reply.send(Err(GossiperError::NotStarted));
        }
        GossipCommand::Subscribe { reply, .. } => {
            let _ = reply.send(Err(PubSubError::NotStarted));
        }
        GossipCommand::Leave { reply, .. } => {
            let _ = reply.send(Err(NodeError::Gossip(GossiperError::NotStarted)));
        }
        // Dropping the reply channel tells the caller the loop is not serving.
        _ => {}
    }
}

/// A caller of `leave` waiting for the acknowledgements, until its deadline.
struct LeaveWaiter {
    deadline: Instant,
    waited: Duration,
    reply: Reply<Result<(), NodeError>>,
}

/// What woke the loop up.
enum Wake {
    Cancelled,
    Tick,
    Poll,
    LeaveDeadline,
    Inbound(Option<InboundMessage>),
    Command(Option<GossipCommand>),
}

struct Running {
    attached: Attached,
    events: EventStream<ClusterEvent>,
    leave_waiters: Vec<LeaveWaiter>,
    /// The pub/sub component whose broker the node runs, if the gossiper was given one.
    pub_sub: Option<PubSubLink>,
    /// What the loop publishes about the node for `Cluster::metrics` and the admin
    /// endpoint.
    snapshot: NodeSnapshot,
    /// Whether something the snapshot shows changed outside a round (subscriptions, a
    /// new node, pub/sub started or stopped).
    snapshot_due: bool,
}

impl Running {
    fn now(&self) -> u64 {
        self.attached.clock.elapsed().as_millis() as u64
    }

    /// When the node's deferred work (a topology refresh after joins) falls due.
    fn poll_at(&self) -> Option<Instant> {
        let node = &self.attached.node;
        let wake = node.next_wake_at();
        (wake < node.next_round_at())
            .then(|| self.attached.clock.checked_add(Duration::from_millis(wake)))
            .flatten()
    }

    async fn serve(
        &mut self,
        commands: &mut mpsc::Receiver<GossipCommand>,
        cancel: &CancellationToken,
        config: GossipConfig,
    ) {
        let period = Duration::from_millis(config.gossip_interval_ms);
        let mut next_tick = Instant::now();
        loop {
            let leave_deadline = self.leave_waiters.iter().map(|w| w.deadline).min();
            let poll_at = self.poll_at().filter(|at| *at < next_tick);
            let wake = tokio::select! {
                () = cancel.cancelled() => Wake::Cancelled,
                () = tokio::time::sleep_until(next_tick) => Wake::Tick,
                () = sleep_until_some(poll_at) => Wake::Poll,
                () = sleep_until_some(leave_deadline) => Wake::LeaveDeadline,
                message = self.attached.inbound.recv() => Wake::Inbound(message),
                command = commands.recv() => Wake::Command(command),
            };
            self.follow_pub_sub();
            let round = matches!(wake, Wake::Tick);
            match wake {
                Wake::Cancelled | Wake::Inbound(None) | Wake::Command(None) => return,
                Wake::Tick => {
                    let now = self.now();
                    self.attached.node.tick(now);
                    self.sweep_closed_streams();
                    // A tick at a time, as a delaying interval would; a period too long to
                    // represent never comes.
                    let at = Instant::now();
                    next_tick = at.checked_add(period).unwrap_or(at + FAR_FUTURE);
                }
                Wake::Poll => {
                    let now = self.now();
                    self.attached.node.poll(now);
                }
                // The waiters whose deadline passed are answered below.
                Wake::LeaveDeadline => {}
                Wake::Inbound(Some(m)) => {
                    let now = self.now();
                    let node = &mut self.attached.node;
                    match m.message {
                        InboundFrame::Gossip(message) => {
                            node.handle_gossip(&m.from, Some(&m.member), message, now);
                        }
                        InboundFrame::PubSub(message) => {
                            node.handle_pub_sub(&m.member, message, now);
                        }
                    }
                }
                Wake::Command(Some(command)) => self.apply(command),
            }
            self.flush();
            self.answer_leave_waiters();
            if round || self.snapshot_due {
                self.publish_snapshot(commands.len());
            }
        }
    }

    /// Publishes the node's figures for the readers that do not wait for the loop: its
    /// counters, its queues, and when each member of its topology last gave a sign of
    /// life (its heartbeat rose).
    fn publish_snapshot(&mut self, command_queue: usize) {
        self.snapshot_due = false;
        let node = &self.attached.node;
        let mut topics = node
            .pub_sub()
            .map(chorus_core::pubsub::PubSubBroker::all_metrics)
            .unwrap_or_default();
        for (topic, dropped) in &self.attached.dropped {
            topics.entry(topic.clone()).or_default().dropped = *dropped;
        }
        let at = Instant::now();
        self.snapshot.update(|data| {
            data.member = Some(node.member_id().clone());
            data.gossip = node.gossip_metrics();
            data.topics = topics;
            data.pending_batches = node
                .pub_sub()
                .map_or(0, chorus_core::pubsub::PubSubBroker::pending_batches);
            data.inbound_queue = self.attached.inbound.len();
            data.command_queue = command_queue;
            let topology = node.topology();
            let store = node.gossip().store();
            for member in topology.members() {
                let heartbeat = store.heartbeat(member.id()).unwrap_or(0);
                let heard = data
                    .heard
                    .entry(member.id().clone())
                    .or_insert(Heard { heartbeat, at });
                if heartbeat > heard.heartbeat {
                    *heard = Heard { heartbeat, at };
                }
            }
            data.heard.retain(|member, _| topology.contains(member));
        });
    }

    /// Answers the callers of `leave`: every one once every peer acknowledged, and each
    /// one whose deadline passed with the peers that did not.
    fn answer_leave_waiters(&mut self) {
        if self.leave_waiters.is_empty() {
            return;
        }
        if self.attached.node.leave_acknowledged() {
            for waiter in self.leave_waiters.drain(..) {
                let _ = waiter.reply.send(Ok(()));
            }
            return;
        }
        let now = Instant::now();
        let (late, waiting): (Vec<_>, Vec<_>) = self
            .leave_waiters
            .drain(..)
            .partition(|w| w.deadline <= now);
        self.leave_waiters = waiting;
        if late.is_empty() {
            return;
        }
        let unacknowledged = self.attached.node.leave_unacknowledged();
        tracing::warn!(
            unacknowledged = ?unacknowledged,
            "leave timed out: these peers did not acknowledge it and will block this node after their heartbeat expiration"
        );
        for waiter in late {
            let _ = waiter.reply.send(Err(NodeError::LeaveTimedOut {
                waited_ms: waiter.waited.as_millis() as u64,
                unacknowledged: unacknowledged.clone(),
            }));
        }
    }

    fn apply(&mut self, command: GossipCommand) {
        let now = self.now();
        let node = &mut self.attached.node;
        match command {
            GossipCommand::Attach {
                node,
                transport,
                inbound,
            } => {
                // The provider started again while the loop kept running: serve its new
                // node; the old transport is the provider's to close, and closed already.
                self.attached.transport.close();
                self.attached = attach(*node, transport, inbound, self.pub_sub.as_ref());
                self.follow_pub_sub();
                self.snapshot_due = true;
            }
            GossipCommand::Set { key, value, reply } => {
                let _ = reply.send(node.set(&key, &value, now));
            }
            GossipCommand::Get { member, key, reply } => {
                let _ = reply.send(node.get(&member, &key).map(|v| v.value().to_vec()));
            }
            GossipCommand::Member { reply } => {
                let _ = reply.send(node.member_id().clone());
            }
            GossipCommand::RegisterConsensus { check, reply } => {
                let _ = reply.send(node.register_consensus(check, now));
            }
            GossipCommand::RemoveConsensus { handle, reply } => {
                let _ = reply.send(node.remove_consensus(handle));
            }
            GossipCommand::Consensus { handle, reply } => {
                let _ = reply.send(node.consensus(handle).map(<[u8]>::to_vec));
            }
            GossipCommand::TopologyConsensus { reply } => {
                let _ = reply.send(node.topology_consensus());
            }
            GossipCommand::Transport { reply } => {
                let _ = reply.send(self.attached.transport.clone());
            }
            GossipCommand::SetSeeds { seeds } => node.set_seeds(seeds),
            command @ (GossipCommand::Subscribe { .. }
            | GossipCommand::Unsubscribe { .. }
            | GossipCommand::Publish { .. }
            | GossipCommand::Complete { .. }
            | GossipCommand::Subscriptions { .. }
            | GossipCommand::AllSubscriptions { .. }) => self.apply_pub_sub(command),
            GossipCommand::Leave { timeout, reply } => {
                if !node.has_left()
                    && let Err(e) = node.leave(now)
                {
                    let _ = reply.send(Err(NodeError::Gossip(e)));
                    return;
                }
                let start = Instant::now();
                self.leave_waiters.push(LeaveWaiter {
                    deadline: start.checked_add(timeout).unwrap_or(start + FAR_FUTURE),
                    waited: timeout,
                    reply,
                });
            }
        }
    }

    /// Carries out what the node asked for: frames to the transport, events to the
    /// stream, deliveries to the local streams — until the node has nothing more to say
    /// (a stream found closed unsubscribes, which the node answers in turn).
    fn flush(&mut self) {
        loop {
            let outputs = self.attached.node.drain_outputs();
            if outputs.is_empty() {
                return;
            }
            let mut closed = Vec::new();
            for output in outputs {
                match output {
                    NodeOutput::Send { to, frame } => {
                        // Counted by the transport; gossip repairs a lost gossip frame, and
                        // the broker times out a lost pub/sub one.
                        if let Err(e) = self.attached.transport.send(&to, &frame) {
                            tracing::debug!(peer = %to, error = %e, "frame not sent");
                        }
                    }
                    NodeOutput::Event(event) => {
                        trace_event(&event);
                        if let ClusterEvent::Rejoined { member, .. } = &event {
                            self.attached.transport.set_member(member.clone());
                        }
                        self.events.publish(event);
                    }
                    NodeOutput::Deliver(delivery) => {
                        if let Some(gone) = self.deliver(delivery) {
                            closed.push(gone);
                        }
                    }
                    // Outputs a later core may add are not for this driver yet.
                    _ => {}
                }
            }
            let now = self.now();
            for (topic, subscriber) in closed {
                // A group message it held goes back to its group.
                let _ = self.attached.node.unsubscribe(&topic, &subscriber, now);
            }
        }
    }
}

/// Logs what an event says about the node's health.
fn trace_event(event: &ClusterEvent) {
    match event {
        ClusterEvent::Rejoined { previous, member } => {
            tracing::warn!(%previous, %member, "rejoined under a new incarnation after being blocked");
        }
        ClusterEvent::BlockedByPeer { peer, peer_members } => {
            tracing::warn!(%peer, peer_members, "a peer blocked this node");
        }
        ClusterEvent::TopologyUpdated(topology) => {
            for blocked in topology.blocked() {
                tracing::info!(member = %blocked, "member blocked");
            }
            tracing::debug!(
                members = topology.members().len(),
                joined = topology.joined().len(),
                left = topology.left().len(),
                "topology updated"
            );
        }
        ClusterEvent::HandshakeFailed {
            address,
            reason,
            refused_by_peer,
        } => {
            tracing::warn!(peer = %address, %reason, refused_by_peer, "handshake failed");
        }
        ClusterEvent::ForgedSender {
            address,
            member,
            claimed,
        } => {
            tracing::warn!(peer = %address, %member, %claimed, "gossip message with a forged sender dropped");
        }
        ClusterEvent::PubSub(event) => tracing::debug!(?event, "pub/sub"),
        _ => tracing::trace!(?event, "event"),
    }
}

/// Completes at `deadline`; never without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

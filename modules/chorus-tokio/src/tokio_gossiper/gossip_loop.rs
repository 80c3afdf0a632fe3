//! The task that owns the gossip node, and drives the pub/sub broker beside it.

mod pub_sub;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, GossipNode, GossipOutput, GossiperError, reserved_keys};
use chorus_core::pubsub::PubSubError;
use chorus_core::wire::Frame;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::NodeError;
use crate::gossip_command::{GossipCommand, Reply};
use crate::tokio_pub_sub::PubSubState;
use crate::transport::{InboundFrame, InboundMessage, TokioTcpTransport};

/// About thirty years: "never" for a timer.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3_600);

/// What the provider handed over, kept across a stop and a start of the gossiper.
pub(super) struct Attached {
    node: GossipNode,
    transport: TokioTcpTransport,
    inbound: mpsc::Receiver<InboundMessage>,
    /// The node's clock: `now` is the time since it was attached.
    clock: Instant,
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
    pub_sub: Option<Arc<Mutex<PubSubState>>>,
) -> Option<Attached> {
    let resumed = match previous {
        // A stopped loop ends as soon as it sees its cancellation.
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    let attached = match resumed.filter(|a| !a.transport.is_closed()) {
        Some(attached) => attached,
        None => wait_for_attach(&mut commands, &cancel).await?,
    };
    let mut running = Running {
        attached,
        events,
        leave_waiters: Vec::new(),
        pub_sub,
    };
    running.pub_sub_member_changed();
    running.flush();
    running.sync_registry();
    running.serve(&mut commands, &cancel, config).await;
    Some(running.attached)
}

async fn wait_for_attach(
    commands: &mut mpsc::Receiver<GossipCommand>,
    cancel: &CancellationToken,
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
            } => {
                return Some(Attached {
                    node: *node,
                    transport,
                    inbound,
                    clock: Instant::now(),
                });
            }
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
    /// The broker this loop drives, if the gossiper was given one.
    pub_sub: Option<Arc<Mutex<PubSubState>>>,
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
            match wake {
                Wake::Cancelled | Wake::Inbound(None) | Wake::Command(None) => return,
                Wake::Tick => {
                    let now = self.now();
                    self.attached.node.tick(now);
                    self.tick_pub_sub();
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
                Wake::Inbound(Some(m)) => match m.message {
                    InboundFrame::Gossip(message) => {
                        let now = self.now();
                        self.attached.node.handle(&m.from, message, now);
                    }
                    InboundFrame::PubSub(message) => self.handle_pub_sub(&m.member, message),
                },
                Wake::Command(Some(command)) => self.apply(command),
            }
            self.flush();
            self.answer_leave_waiters();
        }
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
                self.attached = Attached {
                    node: *node,
                    transport,
                    inbound,
                    clock: Instant::now(),
                };
                self.pub_sub_member_changed();
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
            GossipCommand::Topology { reply } => {
                let _ = reply.send(node.topology().clone());
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
            GossipCommand::Metrics { reply } => {
                let _ = reply.send(node.metrics());
            }
            GossipCommand::Transport { reply } => {
                let _ = reply.send(self.attached.transport.clone());
            }
            command @ (GossipCommand::Subscribe { .. }
            | GossipCommand::Unsubscribe { .. }
            | GossipCommand::Publish { .. }
            | GossipCommand::Complete { .. }
            | GossipCommand::Subscriptions { .. }
            | GossipCommand::TopicMetrics { .. }) => self.apply_pub_sub(command),
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

    /// Sends what the node asked to send and publishes what it produced; gives the broker
    /// the registry again after a new topology or new subscriptions, until nothing is
    /// left (the broker's own writes of the local subscriptions come back as updates).
    fn flush(&mut self) {
        loop {
            let outputs = self.attached.node.drain_outputs();
            if outputs.is_empty() {
                return;
            }
            let mut registry_changed = false;
            let mut rejoined = false;
            for output in outputs {
                match output {
                    GossipOutput::Send { to, message } => {
                        // A full or closed queue is counted by the transport; gossip
                        // repairs the loss.
                        let _ = self.attached.transport.send(&to, &Frame::Gossip(message));
                    }
                    GossipOutput::Event(event) => {
                        match &event {
                            ClusterEvent::Rejoined { member, .. } => {
                                self.attached.transport.set_member(member.clone());
                                rejoined = true;
                            }
                            ClusterEvent::TopologyUpdated(_) => registry_changed = true,
                            ClusterEvent::GossipUpdated { key, .. }
                                if key == reserved_keys::SUBSCRIPTIONS =>
                            {
                                registry_changed = true;
                            }
                            _ => {}
                        }
                        self.events.publish(event);
                    }
                }
            }
            if rejoined {
                self.pub_sub_member_changed();
            }
            if registry_changed {
                self.sync_registry();
            }
        }
    }
}

/// Completes at `deadline`; never without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

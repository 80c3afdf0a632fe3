//! The task that owns the gossip node.

use std::time::{Duration, Instant};

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, GossipNode, GossipOutput, GossiperError};
use chorus_core::wire::Frame;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::gossip_command::{GossipCommand, Reply};
use crate::transport::{InboundMessage, TokioTcpTransport};

/// Waits for the provider to attach a node, then runs it until cancelled.
pub(super) async fn run(
    mut commands: mpsc::Receiver<GossipCommand>,
    events: EventStream<ClusterEvent>,
    cancel: CancellationToken,
    config: GossipConfig,
) {
    let attached = loop {
        let command = tokio::select! {
            () = cancel.cancelled() => return,
            command = commands.recv() => command,
        };
        match command {
            Some(GossipCommand::Attach {
                node,
                transport,
                inbound,
            }) => break (node, transport, inbound),
            Some(other) => refuse(other),
            None => return,
        }
    };
    let (node, transport, inbound) = attached;
    let mut running = Running {
        node: *node,
        transport,
        events,
        clock: Instant::now(),
        leave_waiters: Vec::new(),
    };
    running.flush();
    running.serve(commands, inbound, cancel, config).await;
}

/// Answers a command that came before any node was attached.
fn refuse(command: GossipCommand) {
    match command {
        GossipCommand::Set { reply, .. } => {
            let _ = reply.send(Err(GossiperError::NotStarted));
        }
        GossipCommand::Leave { reply } => {
            let _ = reply.send(Err(GossiperError::NotStarted));
        }
        // Dropping the reply channel tells the caller the loop is not serving.
        _ => {}
    }
}

struct Running {
    node: GossipNode,
    transport: TokioTcpTransport,
    events: EventStream<ClusterEvent>,
    clock: Instant,
    leave_waiters: Vec<Reply<Result<(), GossiperError>>>,
}

impl Running {
    fn now(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    async fn serve(
        &mut self,
        mut commands: mpsc::Receiver<GossipCommand>,
        mut inbound: mpsc::Receiver<InboundMessage>,
        cancel: CancellationToken,
        config: GossipConfig,
    ) {
        let mut interval = tokio::time::interval(Duration::from_millis(config.gossip_interval_ms));
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = interval.tick() => {
                    let now = self.now();
                    self.node.tick(now);
                }
                message = inbound.recv() => match message {
                    Some(m) => {
                        let now = self.now();
                        self.node.handle(&m.from, m.message, now);
                    }
                    None => return,
                },
                command = commands.recv() => match command {
                    Some(command) => self.apply(command),
                    None => return,
                },
            }
            self.flush();
            if self.node.leave_acknowledged() {
                for waiter in self.leave_waiters.drain(..) {
                    let _ = waiter.send(Ok(()));
                }
            }
        }
    }

    fn apply(&mut self, command: GossipCommand) {
        let now = self.now();
        let node = &mut self.node;
        match command {
            GossipCommand::Attach { .. } => {}
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
                let _ = reply.send(self.transport.clone());
            }
            GossipCommand::Leave { reply } => {
                if node.has_left() {
                    self.leave_waiters.push(reply);
                } else {
                    match node.leave(now) {
                        Ok(()) => self.leave_waiters.push(reply),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    }
                }
            }
        }
    }

    /// Sends what the node asked to send and publishes what it produced.
    fn flush(&mut self) {
        for output in self.node.drain_outputs() {
            match output {
                GossipOutput::Send { to, message } => {
                    // A full or closed queue is counted by the transport; gossip repairs
                    // the loss.
                    let _ = self.transport.send(&to, &Frame::Gossip(message));
                }
                GossipOutput::Event(event) => {
                    if let ClusterEvent::Rejoined { member, .. } = &event {
                        self.transport.set_member(member.clone());
                    }
                    self.events.publish(event);
                }
            }
        }
    }
}

//! The loop's pub/sub step: the broker beside the gossip node, fed and drained by the
//! same task, so that the registry, the topology and the transport are always seen
//! together.

use std::sync::Arc;

use chorus_core::cluster::ClusterEvent;
use chorus_core::gossip::{GossipKeyValue, reserved_keys};
use chorus_core::pubsub::{PubSubError, PublishAck, PublishRejection};
use chorus_core::wire::Frame;

use super::Running;
use crate::gossip_command::GossipCommand;
use crate::tokio_pub_sub::{PubSubState, PubSubWork, lock};

impl Running {
    /// Runs `step` on the pub/sub state and carries out what it produced; `None` when the
    /// gossiper has no pub/sub.
    fn pub_sub<R>(&mut self, step: impl FnOnce(&mut PubSubState) -> R) -> Option<R> {
        let shared = Arc::clone(self.pub_sub.as_ref()?);
        let (result, work) = {
            let mut state = lock(&shared);
            let result = step(&mut state);
            (result, state.take_work())
        };
        self.carry_out(work);
        Some(result)
    }

    /// Writes the local subscriptions into gossip, sends the frames to the members'
    /// addresses in the current topology, and publishes the events — after the state was
    /// unlocked.
    fn carry_out(&mut self, work: PubSubWork) {
        let now = self.now();
        if let Some(value) = work.subscriptions {
            // A node that left writes nothing more: its subscriptions leave with it.
            let _ = self
                .attached
                .node
                .set_reserved(reserved_keys::SUBSCRIPTIONS, &value, now);
        }
        for (to, message) in work.sends {
            let address = self
                .attached
                .node
                .topology()
                .member(&to)
                .map(|m| m.address().to_string());
            // A member no longer in the topology, a full queue or an oversized frame: the
            // frame is lost (the transport counts the last two) and the broker reports
            // the batch as timed out, as after any loss.
            if let Some(address) = address {
                let _ = self
                    .attached
                    .transport
                    .send(&address, &Frame::PubSub(message));
            }
        }
        for event in work.events {
            self.events.publish(ClusterEvent::PubSub(event));
        }
    }

    /// The broker takes the node's identity (after an attach or a rejoin) and writes the
    /// local subscriptions into its new gossip state.
    pub(super) fn pub_sub_member_changed(&mut self) {
        let member = self.attached.node.member_id().clone();
        let _ = self.pub_sub(|state| state.set_member(member));
    }

    /// Gives the broker the members of the current topology with their subscriptions.
    pub(super) fn sync_registry(&mut self) {
        let Some(shared) = self.pub_sub.as_ref().map(Arc::clone) else {
            return;
        };
        let work = {
            let mut state = lock(&shared);
            let node = &self.attached.node;
            state.sync_registry(node.topology().members().iter().map(|m| {
                let value = node
                    .get(m.id(), reserved_keys::SUBSCRIPTIONS)
                    .map(GossipKeyValue::value);
                (m.id(), value)
            }));
            state.take_work()
        };
        self.carry_out(work);
    }

    /// Timeouts, and subscribers whose stream was dropped while no command could say so.
    pub(super) fn tick_pub_sub(&mut self) {
        let _ = self.pub_sub(|state| {
            state.sweep();
            state.tick();
        });
    }

    pub(super) fn handle_pub_sub(
        &mut self,
        from: &chorus_core::topology::MemberId,
        message: chorus_core::pubsub::PubSubMessage,
    ) {
        let _ = self.pub_sub(|state| state.handle(from, message));
    }

    /// Serves a pub/sub command (other commands are not for it).
    pub(super) fn apply_pub_sub(&mut self, command: GossipCommand) {
        match command {
            GossipCommand::Subscribe {
                topic,
                group,
                max_in_flight,
                sink,
                reply,
            } => {
                let answer = self
                    .pub_sub(|state| state.subscribe(&topic, group.as_deref(), max_in_flight, sink))
                    .unwrap_or(Err(PubSubError::NotStarted));
                let _ = reply.send(answer);
            }
            GossipCommand::Unsubscribe {
                topic,
                subscriber,
                reply,
            } => {
                let answer = self
                    .pub_sub(|state| state.unsubscribe(&topic, &subscriber))
                    .unwrap_or(Err(PubSubError::NotStarted));
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            GossipCommand::Publish {
                topic,
                payloads,
                reply,
            } => {
                let ack = self
                    .pub_sub(|state| state.publish(&topic, payloads))
                    .unwrap_or(PublishAck::Rejected {
                        reason: PublishRejection::NotStarted,
                    });
                let _ = reply.send(ack);
            }
            GossipCommand::Complete {
                publisher,
                topic,
                group,
                subscriber,
                message_id,
                reply,
            } => {
                let answer = self
                    .pub_sub(|state| {
                        state.complete(&publisher, &topic, &group, &subscriber, message_id)
                    })
                    .unwrap_or(Err(PubSubError::NotStarted));
                let _ = reply.send(answer);
            }
            GossipCommand::Subscriptions { topic, reply } => {
                let found = self
                    .pub_sub(|state| state.subscriptions(&topic))
                    .unwrap_or_default();
                let _ = reply.send(found);
            }
            GossipCommand::TopicMetrics { topic, reply } => {
                let metrics = self
                    .pub_sub(|state| state.metrics(&topic))
                    .unwrap_or_default();
                let _ = reply.send(metrics);
            }
            _ => {}
        }
    }
}

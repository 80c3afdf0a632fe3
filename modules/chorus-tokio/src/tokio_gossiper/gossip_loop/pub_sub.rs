//! The loop's pub/sub step: commands to the node's broker, and the node's deliveries
//! into the local streams. The node decides everything else.

use chorus_core::cluster::ClusterEvent;
use chorus_core::node::LocalDelivery;
use chorus_core::pubsub::{PubSubError, PubSubEvent, PublishAck, PublishRejection, SubscriberId};

use super::Running;
use crate::gossip_command::GossipCommand;
use crate::tokio_pub_sub::{Offered, lock};

impl Running {
    /// Makes the node's broker follow the pub/sub component: stopped when it was stopped
    /// (the local subscriptions end), started again when it was started.
    pub(super) fn follow_pub_sub(&mut self) {
        let Some(link) = self.pub_sub.as_ref() else {
            return;
        };
        let (started, generation) = lock(&link.shared).switch();
        let node = &mut self.attached.node;
        // A node attached since the last start runs its broker as the component says.
        let fresh = self.attached.pub_sub_generation == 0;
        let restarted = generation != self.attached.pub_sub_generation && !fresh;
        if node.pub_sub_running() == started && !restarted {
            self.attached.pub_sub_generation = generation;
            return;
        }
        self.attached.pub_sub_generation = generation;
        let now = self.now();
        let node = &mut self.attached.node;
        if node.pub_sub_running() {
            let _ = node.stop_pub_sub(now);
        }
        if started && let Err(e) = node.start_pub_sub() {
            tracing::error!(error = %e, "pub/sub did not start");
        }
        self.snapshot_due = true;
    }

    /// Hands a delivery to its local stream; returns the subscriber when its stream is
    /// gone (it must be unsubscribed).
    pub(super) fn deliver(&mut self, delivery: LocalDelivery) -> Option<(String, SubscriberId)> {
        let link = self.pub_sub.as_ref()?;
        let (topic, subscriber, publisher, message_id) = (
            delivery.topic.clone(),
            delivery.subscriber.clone(),
            delivery.publisher.clone(),
            delivery.message_id,
        );
        let offered = lock(&link.shared).offer(delivery);
        match offered {
            Offered::Queued => None,
            Offered::Dropped => {
                *self.attached.dropped.entry(topic.clone()).or_default() += 1;
                tracing::debug!(%topic, %subscriber, %publisher, message_id, "subscriber buffer full: broadcast delivery dropped");
                self.events
                    .publish(ClusterEvent::PubSub(PubSubEvent::DeliveryDropped {
                        topic,
                        subscriber,
                        publisher,
                        message_id,
                    }));
                None
            }
            Offered::Closed => Some((topic, subscriber)),
        }
    }

    /// Unsubscribes the subscribers whose stream was dropped while no command could say
    /// so.
    pub(super) fn sweep_closed_streams(&mut self) {
        let Some(link) = self.pub_sub.as_ref() else {
            return;
        };
        let closed = lock(&link.shared).take_closed();
        let now = self.now();
        for (topic, subscriber) in closed {
            let _ = self.attached.node.unsubscribe(&topic, &subscriber, now);
        }
    }

    /// Serves a pub/sub command (other commands are not for it).
    pub(super) fn apply_pub_sub(&mut self, command: GossipCommand) {
        let now = self.now();
        let serving = self.pub_sub.is_some();
        let node = &mut self.attached.node;
        match command {
            GossipCommand::Subscribe {
                topic,
                group,
                max_in_flight,
                sink,
                reply,
            } => {
                let answer = match self.pub_sub.as_ref() {
                    Some(link) => {
                        let made = node.subscribe(&topic, group.as_deref(), max_in_flight, now);
                        if let Ok(subscriber) = &made {
                            lock(&link.shared).insert(subscriber.clone(), &topic, sink);
                            self.snapshot_due = true;
                        }
                        made
                    }
                    None => Err(PubSubError::NotStarted),
                };
                let _ = reply.send(answer);
            }
            GossipCommand::Unsubscribe {
                topic,
                subscriber,
                reply,
            } => {
                let answer = if serving {
                    if let Some(link) = self.pub_sub.as_ref() {
                        lock(&link.shared).remove(&subscriber);
                    }
                    self.snapshot_due = true;
                    node.unsubscribe(&topic, &subscriber, now)
                } else {
                    Err(PubSubError::NotStarted)
                };
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            GossipCommand::Publish {
                topic,
                payloads,
                reply,
            } => {
                let ack = if serving {
                    node.publish(&topic, payloads, now)
                } else {
                    PublishAck::Rejected {
                        reason: PublishRejection::NotStarted,
                    }
                };
                if let PublishAck::Rejected { reason } = &ack {
                    tracing::debug!(%topic, ?reason, "publish rejected");
                }
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
                let answer =
                    node.complete(&publisher, &topic, &group, &subscriber, message_id, now);
                let _ = reply.send(answer);
            }
            GossipCommand::Subscriptions { topic, reply } => {
                let _ = reply.send(node.subscriptions(&topic));
            }
            GossipCommand::AllSubscriptions { reply } => {
                let all = node
                    .pub_sub()
                    .map(|b| b.registry().all().cloned().collect())
                    .unwrap_or_default();
                let _ = reply.send(all);
            }
            _ => {}
        }
    }
}

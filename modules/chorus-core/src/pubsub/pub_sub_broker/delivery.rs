//! Sending batches, receiving them, acknowledgements, completions and timeouts.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{PendingBatch, PubSubBroker};
use crate::pubsub::{
    BatchMessage, DeliveryAck, DeliveryBatch, DeliveryStatus, GroupCompletion, PubSubError,
    PubSubEvent, PubSubMessage, PubSubOutput, RemovalReason, SubscriberId, SubscriberStatus,
    Subscription,
};
use crate::topology::MemberId;

impl PubSubBroker {
    /// Sends one batch per member (delivering locally for this node) and remembers each
    /// until it is acknowledged.
    pub(super) fn send_batches(
        &mut self,
        topic: &str,
        batches: BTreeMap<MemberId, Vec<BatchMessage>>,
        now: u64,
    ) {
        for (member, messages) in batches {
            if messages.is_empty() {
                continue;
            }
            let batch_id = self.next_batch_id;
            self.next_batch_id += 1;
            let deliveries = messages
                .iter()
                .flat_map(|m| {
                    m.subscribers
                        .iter()
                        .map(|s| (s.clone(), m.message_id, m.group.clone()))
                })
                .collect();
            self.pending.insert(
                batch_id,
                PendingBatch {
                    topic: String::from(topic),
                    sent_at: now,
                    deliveries,
                    member: member.clone(),
                },
            );
            let batch = DeliveryBatch {
                batch_id,
                from: self.me.clone(),
                topic: String::from(topic),
                messages,
            };
            if member == self.me {
                let ack = self.receive_batch(batch);
                self.receive_ack(&ack, now);
            } else {
                self.outputs.push(PubSubOutput::Send {
                    to: member,
                    message: PubSubMessage::Batch(batch),
                });
            }
        }
    }

    /// Handles a message from another node.
    pub fn handle(&mut self, message: PubSubMessage, now: u64) {
        match message {
            PubSubMessage::Batch(batch) => {
                let to = batch.from.clone();
                let ack = self.receive_batch(batch);
                self.outputs.push(PubSubOutput::Send {
                    to,
                    message: PubSubMessage::Ack(ack),
                });
            }
            PubSubMessage::Ack(ack) => self.receive_ack(&ack, now),
            PubSubMessage::Completed(done) => self.receive_completion(&done, now),
        }
    }

    /// Hands a batch's messages to the local subscribers it names.
    fn receive_batch(&mut self, batch: DeliveryBatch) -> DeliveryAck {
        let mut statuses = Vec::new();
        let mut received = 0;
        for message in batch.messages {
            let payload: Arc<[u8]> = Arc::from(message.payload);
            for subscriber in message.subscribers {
                let here = self
                    .local
                    .get(&(batch.topic.clone(), subscriber.clone()))
                    .is_some_and(|s| s.group == message.group);
                let status = if here && self.started {
                    received += 1;
                    self.outputs.push(PubSubOutput::Deliver {
                        subscriber: subscriber.clone(),
                        topic: batch.topic.clone(),
                        publisher: batch.from.clone(),
                        message_id: message.message_id,
                        payload: Arc::clone(&payload),
                        group: message.group.clone(),
                    });
                    DeliveryStatus::Delivered
                } else {
                    DeliveryStatus::Unreachable
                };
                statuses.push(SubscriberStatus {
                    subscriber,
                    message_id: message.message_id,
                    status,
                });
            }
        }
        self.topic_metrics(&batch.topic).received += received;
        DeliveryAck {
            batch_id: batch.batch_id,
            from: self.me.clone(),
            statuses,
        }
    }

    /// Records what the receiving member did; unreachable subscribers leave the registry.
    fn receive_ack(&mut self, ack: &DeliveryAck, now: u64) {
        let Some(batch) = self.pending.remove(&ack.batch_id) else {
            return;
        };
        let delivered = ack
            .statuses
            .iter()
            .filter(|s| s.status == DeliveryStatus::Delivered)
            .count() as u64;
        self.topic_metrics(&batch.topic).delivered += delivered;
        for status in &ack.statuses {
            match status.status {
                DeliveryStatus::Delivered => {
                    self.emit(PubSubEvent::Delivered {
                        topic: batch.topic.clone(),
                        subscriber: status.subscriber.clone(),
                        message_id: status.message_id,
                    });
                }
                other => {
                    // Rare: only failures need to know which group the delivery was for.
                    let group = batch
                        .deliveries
                        .iter()
                        .find(|(s, m, _)| *s == status.subscriber && *m == status.message_id)
                        .and_then(|(_, _, g)| g.clone());
                    self.topic_metrics(&batch.topic).failed += 1;
                    self.emit(PubSubEvent::DeliveryFailed {
                        topic: batch.topic.clone(),
                        subscriber: status.subscriber.clone(),
                        message_id: status.message_id,
                        status: other,
                    });
                    self.forget_unreachable(&batch, &status.subscriber, group.as_ref(), now);
                }
            }
        }
    }

    /// Removes a subscriber its member no longer has: from the registry and, for a
    /// group instance, from its group (its unfinished messages are queued again).
    fn forget_unreachable(
        &mut self,
        batch: &PendingBatch,
        subscriber: &SubscriberId,
        group: Option<&String>,
        now: u64,
    ) {
        let found: Option<Subscription> = self
            .registry
            .subscribers(&batch.topic)
            .find(|s| {
                s.member == batch.member && s.subscriber == *subscriber && s.group.as_ref() == group
            })
            .cloned();
        if let Some(subscription) = found {
            self.registry.remove(&subscription);
            self.drop_subscriber(&subscription, RemovalReason::Unreachable, now);
        }
    }

    /// A group instance finished messages: hand it (or others) the next ones.
    fn receive_completion(&mut self, done: &GroupCompletion, now: u64) {
        let key = (done.topic.clone(), done.group.clone());
        let mut assignments = Vec::new();
        for message_id in &done.message_ids {
            let Some(group) = self.groups.get_mut(&key) else {
                return;
            };
            if let Ok(next) = group.complete(&done.from, &done.subscriber, *message_id) {
                self.payloads.remove(message_id);
                assignments.extend(next);
                self.topic_metrics(&done.topic).completed += 1;
            }
        }
        self.send_assignments(&done.topic, &done.group, assignments, now);
        self.report_queue(&done.topic, &done.group);
    }

    /// A local group instance finished `message_id` published by `publisher`: tells the
    /// publisher, which may hand it the next message.
    pub fn complete(
        &mut self,
        publisher: &MemberId,
        topic: &str,
        group: &str,
        subscriber: &SubscriberId,
        message_id: u64,
        now: u64,
    ) -> Result<(), PubSubError> {
        let member_of_group = self
            .local
            .get(&(String::from(topic), subscriber.clone()))
            .is_some_and(|s| s.group.as_deref() == Some(group));
        if !member_of_group {
            return Err(PubSubError::NotSubscribed {
                topic: String::from(topic),
            });
        }
        let done = GroupCompletion {
            from: self.me.clone(),
            topic: String::from(topic),
            group: String::from(group),
            subscriber: subscriber.clone(),
            message_ids: alloc::vec![message_id],
        };
        if *publisher == self.me {
            self.receive_completion(&done, now);
        } else {
            self.outputs.push(PubSubOutput::Send {
                to: publisher.clone(),
                message: PubSubMessage::Completed(done),
            });
        }
        Ok(())
    }

    /// Reports batches not acknowledged within `delivery_timeout_ms` as `Timeout`. Their
    /// group messages free their instance's slot without being queued again: delivery is
    /// at most once, and the message may have arrived.
    pub fn tick(&mut self, now: u64) {
        let timeout = self.config.delivery_timeout_ms;
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, b)| now.saturating_sub(b.sent_at) >= timeout)
            .map(|(id, _)| *id)
            .collect();
        for batch_id in expired {
            let Some(batch) = self.pending.remove(&batch_id) else {
                continue;
            };
            for (subscriber, message_id, group) in &batch.deliveries {
                self.topic_metrics(&batch.topic).failed += 1;
                self.emit(PubSubEvent::DeliveryFailed {
                    topic: batch.topic.clone(),
                    subscriber: subscriber.clone(),
                    message_id: *message_id,
                    status: DeliveryStatus::Timeout,
                });
                if let Some(group) = group {
                    let done = GroupCompletion {
                        from: batch.member.clone(),
                        topic: batch.topic.clone(),
                        group: group.clone(),
                        subscriber: subscriber.clone(),
                        message_ids: alloc::vec![*message_id],
                    };
                    self.receive_completion(&done, now);
                }
            }
        }
    }
}

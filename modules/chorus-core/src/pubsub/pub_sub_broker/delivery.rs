//! Sending batches, receiving them, acknowledgements, completions and timeouts.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Delivery, PendingBatch, PubSubBroker};
use crate::gossip::encoded_size;
use crate::pubsub::{
    BatchMessage, DeliveryAck, DeliveryBatch, DeliveryStatus, GroupCompletion, LocalDelivery,
    PubSubError, PubSubEvent, PubSubMessage, PubSubOutput, RemovalReason, RequeueReason,
    SubscriberId, SubscriberStatus, Subscription,
};
use crate::topology::MemberId;

impl PubSubBroker {
    /// Sends one batch per member — several when its messages exceed `max_batch_bytes` —
    /// delivering locally for this node, and remembers each until it is acknowledged.
    pub(super) fn send_batches(
        &mut self,
        topic: &str,
        batches: BTreeMap<MemberId, Vec<BatchMessage>>,
        now: u64,
    ) {
        let limit = self.config.max_batch_bytes;
        let parts = batches.into_iter().flat_map(|(member, messages)| {
            split_by_size(messages, limit)
                .into_iter()
                .map(move |part| (member.clone(), part))
        });
        for (member, messages) in parts {
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

    /// Handles a message that came from member `from` — the member the connection belongs
    /// to, as the transport's handshake established it. A message whose declared sender
    /// (its `from` field) is another member is dropped: a peer cannot speak for another.
    pub fn handle(&mut self, from: &MemberId, message: PubSubMessage, now: u64) {
        if message.sender() != from {
            return;
        }
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

    /// Hands a batch's messages to the local subscribers it names. A batch for an invalid
    /// topic (as `publish` checks it) is answered `Unreachable` throughout, and counters are
    /// kept only for topics that had a local subscriber, so a peer cannot make this node
    /// keep state for topics of its choosing.
    fn receive_batch(&mut self, batch: DeliveryBatch) -> DeliveryAck {
        let accepting = self.started && self.validate_topic(&batch.topic).is_ok();
        let mut statuses = Vec::new();
        let mut received = 0;
        for message in batch.messages {
            let payload: Arc<[u8]> = Arc::from(message.payload);
            for subscriber in message.subscribers {
                let here = accepting
                    && self
                        .local
                        .get(&(batch.topic.clone(), subscriber.clone()))
                        .is_some_and(|s| s.group == message.group);
                let status = if here {
                    received += 1;
                    self.outputs.push(PubSubOutput::Deliver(LocalDelivery {
                        subscriber: subscriber.clone(),
                        topic: batch.topic.clone(),
                        publisher: batch.from.clone(),
                        message_id: message.message_id,
                        payload: Arc::clone(&payload),
                        group: message.group.clone(),
                    }));
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
        if received > 0 {
            self.topic_metrics(&batch.topic).received += received;
        }
        DeliveryAck {
            batch_id: batch.batch_id,
            from: self.me.clone(),
            statuses,
        }
    }

    /// Records what the receiving member did; unreachable subscribers leave the registry.
    /// Only the member the batch went to can acknowledge it (another member's ack is
    /// ignored and the batch still waits); statuses for deliveries the batch did not hold
    /// are ignored, and a delivery the ack does not answer counts as timed out.
    fn receive_ack(&mut self, ack: &DeliveryAck, now: u64) {
        let from_target = self
            .pending
            .get(&ack.batch_id)
            .is_some_and(|b| b.member == ack.from);
        if !from_target {
            return;
        }
        let Some(batch) = self.pending.remove(&ack.batch_id) else {
            return;
        };
        let statuses = match_statuses(&batch.deliveries, &ack.statuses);
        let mut delivered = 0;
        let mut timed_out = Vec::new();
        for ((subscriber, message_id, group), status) in batch.deliveries.iter().zip(statuses) {
            match status {
                DeliveryStatus::Delivered => delivered += 1,
                DeliveryStatus::Unreachable => {
                    self.topic_metrics(&batch.topic).failed += 1;
                    self.emit(PubSubEvent::DeliveryFailed {
                        topic: batch.topic.clone(),
                        subscriber: subscriber.clone(),
                        message_id: *message_id,
                        status,
                    });
                    self.forget_unreachable(&batch, subscriber, group.as_ref(), now);
                }
                DeliveryStatus::Timeout => {
                    timed_out.push((subscriber.clone(), *message_id, group.clone()));
                }
            }
        }
        if delivered > 0 {
            let metrics = self.topic_metrics(&batch.topic);
            metrics.delivered += delivered;
            metrics
                .latency
                .record(now.saturating_sub(batch.sent_at), delivered);
        }
        self.fail_timed_out(&batch.topic, &batch.member, timed_out, now);
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
            .get(&batch.topic, &batch.member, subscriber)
            .filter(|s| s.group.as_ref() == group)
            .cloned();
        let Some(subscription) = found else {
            return;
        };
        self.registry.remove(&subscription);
        self.emit(PubSubEvent::SubscriberRemoved {
            topic: subscription.topic.clone(),
            member: subscription.member.clone(),
            subscriber: subscription.subscriber.clone(),
            reason: RemovalReason::Unreachable,
        });
        self.remove_instance(&subscription, now);
        if let Some(group) = &subscription.group {
            self.settle_group(&subscription.topic, group);
        }
    }

    /// Deliveries to `member` that got no answer: reported `Timeout`; group messages go
    /// back to the front of their group's queue (at least once: they may have arrived).
    fn fail_timed_out(
        &mut self,
        topic: &str,
        member: &MemberId,
        timed_out: Vec<Delivery>,
        now: u64,
    ) {
        self.fail_deliveries(
            topic,
            member,
            timed_out,
            DeliveryStatus::Timeout,
            RequeueReason::DeliveryTimeout,
            now,
        );
    }

    /// Deliveries to `member` that failed with `status`: reported; group messages go back
    /// to the front of their group's queue and on to the next idle instance.
    fn fail_deliveries(
        &mut self,
        topic: &str,
        member: &MemberId,
        timed_out: Vec<Delivery>,
        status: DeliveryStatus,
        reason: RequeueReason,
        now: u64,
    ) {
        if timed_out.is_empty() {
            return;
        }
        self.topic_metrics(topic).failed += timed_out.len() as u64;
        // Per instance, in the order of the batch.
        let mut per_instance: BTreeMap<(String, SubscriberId), Vec<u64>> = BTreeMap::new();
        for (subscriber, message_id, group) in timed_out {
            self.emit(PubSubEvent::DeliveryFailed {
                topic: String::from(topic),
                subscriber: subscriber.clone(),
                message_id,
                status,
            });
            if let Some(group) = group {
                per_instance
                    .entry((group, subscriber))
                    .or_default()
                    .push(message_id);
            }
        }
        for ((group, subscriber), message_ids) in per_instance {
            let key = (String::from(topic), group);
            let Some(g) = self.groups.get_mut(&key) else {
                continue;
            };
            // Those it still holds: a message requeued when the instance left is not
            // requeued twice.
            let held: Vec<u64> = g
                .in_flight(member, &subscriber)
                .iter()
                .copied()
                .filter(|m| message_ids.contains(m))
                .collect();
            let assignments = g.requeue(member, &subscriber, &held);
            let group = key.1;
            self.report_requeued(topic, &group, member, &subscriber, &held, reason);
            if !held.is_empty() {
                self.send_assignments(topic, &group, assignments, now);
            }
        }
    }

    /// A group instance finished messages: hand it (or others) the next ones. Only a
    /// message that instance — of the sending member — holds is freed; others are ignored.
    fn receive_completion(&mut self, done: &GroupCompletion, now: u64) {
        let key = (done.topic.clone(), done.group.clone());
        let Some(group) = self.groups.get_mut(&key) else {
            return;
        };
        let mut assignments = Vec::new();
        let mut completed = Vec::new();
        for &message_id in &done.message_ids {
            if let Ok(next) = group.complete(&done.from, &done.subscriber, message_id) {
                completed.push(message_id);
                assignments.extend(next);
            }
        }
        if completed.is_empty() {
            return;
        }
        self.topic_metrics(&done.topic).completed += completed.len() as u64;
        for message_id in completed {
            self.release_payload(message_id);
        }
        self.send_assignments(&done.topic, &done.group, assignments, now);
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

    /// The driver could not send `message` to `to`: it knows no address for the member.
    /// Reported as `Unroutable`; a batch's deliveries fail at once as `Unreachable` and
    /// its group messages go back to the front of their queue (the instance's member is
    /// leaving the registry). An acknowledgement or a completion that cannot be sent is
    /// only reported: its publisher times the batch out, or requeues the message when the
    /// instance leaves its registry.
    pub fn send_failed(&mut self, to: &MemberId, message: PubSubMessage, now: u64) {
        let topic = match &message {
            PubSubMessage::Batch(batch) => batch.topic.clone(),
            PubSubMessage::Ack(ack) => self
                .pending
                .get(&ack.batch_id)
                .map(|b| b.topic.clone())
                .unwrap_or_default(),
            PubSubMessage::Completed(done) => done.topic.clone(),
        };
        self.emit(PubSubEvent::Unroutable {
            member: to.clone(),
            topic,
        });
        let PubSubMessage::Batch(batch) = message else {
            return;
        };
        let Some(pending) = self.pending.remove(&batch.batch_id) else {
            return;
        };
        self.fail_deliveries(
            &pending.topic,
            &pending.member,
            pending.deliveries,
            DeliveryStatus::Unreachable,
            RequeueReason::InstanceGone,
            now,
        );
    }

    /// Reports batches not acknowledged within `delivery_timeout_ms` as `Timeout`. Their
    /// group messages go back to the front of their group's queue and on to the next idle
    /// instance after the one that did not answer: for this case delivery is at least once
    /// (the message may have arrived), so that no group message is lost.
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
            self.fail_timed_out(&batch.topic, &batch.member, batch.deliveries, now);
        }
    }
}

/// `messages` in order, cut into parts whose encoded size stays within `limit` bytes (a
/// message larger on its own is a part alone).
fn split_by_size(messages: Vec<BatchMessage>, limit: usize) -> Vec<Vec<BatchMessage>> {
    let mut parts: Vec<Vec<BatchMessage>> = Vec::new();
    let mut current: Vec<BatchMessage> = Vec::new();
    let mut current_bytes = 0usize;
    for message in messages {
        let bytes = encoded_len(&message);
        if !current.is_empty() && current_bytes.saturating_add(bytes) > limit {
            parts.push(core::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes = current_bytes.saturating_add(bytes);
        current.push(message);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Bytes of `message` in postcard encoding.
fn encoded_len(message: &BatchMessage) -> usize {
    let subscribers: usize = message
        .subscribers
        .iter()
        .map(|s| encoded_size::bytes(s.as_str().len()))
        .sum();
    encoded_size::varint(message.message_id)
        + encoded_size::bytes(message.payload.len())
        + encoded_size::varint(message.subscribers.len() as u64)
        + subscribers
        + 1
        + message
            .group
            .as_ref()
            .map_or(0, |g| encoded_size::bytes(g.len()))
}

/// The status of each of `deliveries` in an acknowledgement: in the same order when the
/// ack lists them as the batch did (an honest receiver does), else looked up; a delivery
/// the ack does not answer is `Timeout`, and statuses for others are ignored.
fn match_statuses(deliveries: &[Delivery], statuses: &[SubscriberStatus]) -> Vec<DeliveryStatus> {
    let in_order = deliveries.len() == statuses.len()
        && deliveries
            .iter()
            .zip(statuses)
            .all(|((s, m, _), st)| *m == st.message_id && *s == st.subscriber);
    if in_order {
        return statuses.iter().map(|s| s.status).collect();
    }
    let mut by_delivery: BTreeMap<(&SubscriberId, u64), DeliveryStatus> = BTreeMap::new();
    for st in statuses {
        by_delivery
            .entry((&st.subscriber, st.message_id))
            .or_insert(st.status);
    }
    deliveries
        .iter()
        .map(|(s, m, _)| {
            by_delivery
                .get(&(s, *m))
                .copied()
                .unwrap_or(DeliveryStatus::Timeout)
        })
        .collect()
}

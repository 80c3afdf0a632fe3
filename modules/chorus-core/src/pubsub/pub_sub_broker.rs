mod delivery;
mod registry_sync;
#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::{
    GroupAssignment, LoadBalancedGroup, LocalSubscription, PubSub, PubSubConfig, PubSubError,
    PubSubEvent, PubSubOutput, PublishAck, PublishRejection, SubscriberId, SubscriptionRegistry,
    TopicMetrics,
};
use crate::gossip::reserved_keys;
use crate::topology::MemberId;

type FnvMap<K, V> = hashbrown::HashMap<K, V, fnv::FnvBuildHasher>;

/// One delivery of a batch: (subscriber, message, group).
type Delivery = (SubscriberId, u64, Option<String>);

/// A delivery batch waiting for its acknowledgement.
#[derive(Debug, Clone)]
struct PendingBatch {
    topic: String,
    sent_at: u64,
    /// Every delivery in the batch, in the order the batch lists them.
    deliveries: Vec<Delivery>,
    /// The member the batch went to: only it may acknowledge it.
    member: MemberId,
}

/// The payload of a group message and how many groups still hold it (queued or in
/// flight): one message of a topic with several groups is in each of them.
#[derive(Debug, Clone)]
struct HeldPayload {
    payload: Arc<[u8]>,
    groups: usize,
}

/// The publish/subscribe broker of one node, as a sans-IO state machine
/// (`docs/protocol.md`, pub/sub).
///
/// - Local subscriptions are gossiped: [`subscribe`](Self::subscribe) returns the value the
///   driver writes under `chorus.subscriptions`; [`sync_registry`](Self::sync_registry)
///   takes the members of the topology with their values and derives the cluster-wide
///   registry (subscriptions of members that left disappear with an event).
/// - [`publish`](Self::publish) plans delivery: one `DeliveryBatch` per target member,
///   every broadcast subscriber and exactly one instance of each group per message; group
///   messages that find every instance busy wait in the group's bounded queue.
/// - The driver sends what [`drain_outputs`](Self::drain_outputs) returns, hands received
///   `PubSubMessage`s to [`handle`](Self::handle) with the member the connection belongs
///   to, calls [`tick`](Self::tick) for timeouts and [`complete`](Self::complete) when a
///   local group instance is done.
/// - Peers are not trusted: a message whose declared sender is not the connection's member
///   is dropped, only the member a batch went to can acknowledge it, only the instance
///   holding a group message can complete it, and batches for invalid topics are refused
///   before anything is allocated for them.
pub struct PubSubBroker {
    config: PubSubConfig,
    me: MemberId,
    started: bool,
    local: BTreeMap<(String, SubscriberId), LocalSubscription>,
    registry: SubscriptionRegistry,
    groups: BTreeMap<(String, String), LoadBalancedGroup>,
    /// Payloads of group messages not yet completed (queued or in flight).
    payloads: FnvMap<u64, HeldPayload>,
    /// The latest message published here on each retained topic.
    retained: BTreeMap<String, (u64, Arc<[u8]>)>,
    next_message_id: u64,
    next_batch_id: u64,
    pending: BTreeMap<u64, PendingBatch>,
    metrics: BTreeMap<String, TopicMetrics>,
    outputs: Vec<PubSubOutput>,
}

impl PubSubBroker {
    /// A stopped broker of member `me`.
    pub fn new(me: MemberId, config: PubSubConfig) -> Self {
        Self {
            config,
            me,
            started: false,
            local: BTreeMap::new(),
            registry: SubscriptionRegistry::new(),
            groups: BTreeMap::new(),
            payloads: FnvMap::default(),
            retained: BTreeMap::new(),
            next_message_id: 1,
            next_batch_id: 1,
            pending: BTreeMap::new(),
            metrics: BTreeMap::new(),
            outputs: Vec::new(),
        }
    }

    /// This node.
    pub fn member(&self) -> &MemberId {
        &self.me
    }

    /// The settings.
    pub fn config(&self) -> &PubSubConfig {
        &self.config
    }

    /// Whether the broker runs.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The cluster-wide registry as last synced.
    pub fn registry(&self) -> &SubscriptionRegistry {
        &self.registry
    }

    /// The group `group` of `topic`, if it has instances or messages.
    pub fn group(&self, topic: &str, group: &str) -> Option<&LoadBalancedGroup> {
        self.groups.get(&(String::from(topic), String::from(group)))
    }

    /// The counters of `topic`, with the depth of its group queues (`queued`) as it is
    /// now.
    pub fn metrics(&self, topic: &str) -> TopicMetrics {
        let mut metrics = self.metrics.get(topic).copied().unwrap_or_default();
        metrics.queued = self
            .groups
            .range((String::from(topic), String::new())..)
            .take_while(|((t, _), _)| t == topic)
            .map(|(_, group)| group.queue_len() as u64)
            .sum();
        metrics
    }

    /// The counters of every topic with local activity, sorted by topic, with the depth
    /// of its group queues (`queued`) as it is now.
    pub fn all_metrics(&self) -> BTreeMap<String, TopicMetrics> {
        let mut all = self.metrics.clone();
        for ((topic, _), group) in &self.groups {
            // Only local publishes fill a queue: topics peers merely subscribe to add
            // nothing here.
            let queued = group.queue_len() as u64;
            if queued > 0 {
                all.entry(topic.clone()).or_default().queued += queued;
            }
        }
        all
    }

    /// Delivery batches waiting for their acknowledgement.
    pub fn pending_batches(&self) -> usize {
        self.pending.len()
    }

    /// Takes what the broker asked for since the last call, in order.
    pub fn drain_outputs(&mut self) -> Vec<PubSubOutput> {
        core::mem::take(&mut self.outputs)
    }

    fn emit(&mut self, event: PubSubEvent) {
        self.outputs.push(PubSubOutput::Event(event));
    }

    fn topic_metrics(&mut self, topic: &str) -> &mut TopicMetrics {
        self.metrics.entry(String::from(topic)).or_default()
    }

    /// Checks a topic name.
    pub fn validate_topic(&self, topic: &str) -> Result<(), PubSubError> {
        let valid = !topic.is_empty()
            && topic.len() <= self.config.max_topic_bytes
            && !topic.chars().any(char::is_control)
            && !reserved_keys::is_reserved(topic);
        if valid {
            Ok(())
        } else {
            Err(PubSubError::InvalidTopic {
                topic: String::from(topic),
            })
        }
    }

    /// This node's own subscriptions, sorted by topic and subscriber.
    pub fn local_subscriptions(&self) -> impl Iterator<Item = &LocalSubscription> {
        self.local.values()
    }

    /// The gossip value of this node's subscriptions (`chorus.subscriptions`).
    pub fn local_subscriptions_value(&self) -> Vec<u8> {
        let all: Vec<LocalSubscription> = self.local.values().cloned().collect();
        LocalSubscription::encode_all(&all)
    }

    /// Subscribes local `subscriber` to `topic` (in `group` with `max_in_flight` group
    /// messages at once, or as a broadcast subscriber). Returns the new gossip value to
    /// write under `chorus.subscriptions`; the registry follows at the next
    /// [`sync_registry`](Self::sync_registry). Subscribing again with another limit updates
    /// the instance's limit in place (its unfinished messages stay with it); with another
    /// group, it leaves the old group and joins the new one.
    pub fn subscribe(
        &mut self,
        topic: &str,
        subscriber: &SubscriberId,
        group: Option<&str>,
        max_in_flight: u32,
    ) -> Result<Vec<u8>, PubSubError> {
        self.validate_topic(topic)?;
        if subscriber.as_str().is_empty() {
            return Err(PubSubError::InvalidSubscriber);
        }
        if group.is_some() && max_in_flight == 0 {
            return Err(PubSubError::ZeroInFlight);
        }
        if group.is_some() && max_in_flight > self.config.max_in_flight {
            return Err(PubSubError::InFlightTooLarge {
                asked: max_in_flight,
                max: self.config.max_in_flight,
            });
        }
        self.local.insert(
            (String::from(topic), subscriber.clone()),
            LocalSubscription {
                topic: String::from(topic),
                subscriber: subscriber.clone(),
                group: group.map(String::from),
                max_in_flight: max_in_flight.max(1),
            },
        );
        Ok(self.local_subscriptions_value())
    }

    /// Unsubscribes local `subscriber` from `topic`; returns the new gossip value. The
    /// next [`sync_registry`](Self::sync_registry) reports `Unsubscribed` and puts a group
    /// instance's unfinished messages back in its group's queue.
    pub fn unsubscribe(
        &mut self,
        topic: &str,
        subscriber: &SubscriberId,
    ) -> Result<Vec<u8>, PubSubError> {
        self.local
            .remove(&(String::from(topic), subscriber.clone()))
            .ok_or_else(|| PubSubError::NotSubscribed {
                topic: String::from(topic),
            })?;
        Ok(self.local_subscriptions_value())
    }

    /// Publishes `payloads` on `topic`. Accepted: every message was sent to its
    /// subscribers' members (one batch per member) or queued in a group. Rejected:
    /// nothing was sent or queued.
    pub fn publish(&mut self, topic: &str, payloads: Vec<Vec<u8>>, now: u64) -> PublishAck {
        let rejection = if !self.started {
            Some(PublishRejection::NotStarted)
        } else if self.validate_topic(topic).is_err() {
            Some(PublishRejection::InvalidTopic)
        } else if payloads
            .iter()
            .any(|p| p.len() > self.config.max_payload_bytes)
        {
            Some(PublishRejection::PayloadTooLarge)
        } else if !self.registry.has_topic(topic) {
            Some(PublishRejection::NoSubscribers)
        } else if self.groups_lack_room(topic, payloads.len()) {
            Some(PublishRejection::QueueFull)
        } else {
            None
        };
        if let Some(reason) = rejection {
            self.topic_metrics(topic).rejected += 1;
            return PublishAck::Rejected { reason };
        }
        // Every broadcast subscriber, grouped by member: planned once per publish.
        let mut broadcast: BTreeMap<MemberId, Vec<SubscriberId>> = BTreeMap::new();
        for s in self
            .registry
            .subscribers(topic)
            .filter(|s| s.group.is_none())
        {
            broadcast
                .entry(s.member.clone())
                .or_default()
                .push(s.subscriber.clone());
        }
        let group_names: BTreeSet<String> = self
            .registry
            .subscribers(topic)
            .filter_map(|s| s.group.clone())
            .collect();
        let mut batches: BTreeMap<MemberId, Vec<super::BatchMessage>> = BTreeMap::new();
        let mut message_ids = Vec::with_capacity(payloads.len());
        for payload in payloads {
            let message_id = self.next_message_id;
            self.next_message_id += 1;
            message_ids.push(message_id);
            let payload: Arc<[u8]> = Arc::from(payload);
            for (member, subscribers) in &broadcast {
                batches
                    .entry(member.clone())
                    .or_default()
                    .push(super::BatchMessage {
                        message_id,
                        payload: payload.to_vec(),
                        subscribers: subscribers.clone(),
                        group: None,
                    });
            }
            // Exactly one instance of each group (or the group's queue).
            for group in &group_names {
                let key = (String::from(topic), group.clone());
                let offered = self.groups.get_mut(&key).map(|g| g.offer(message_id));
                match offered {
                    Some(Ok(Some(assignment))) => {
                        self.hold_payload(message_id, &payload);
                        batches.entry(assignment.member.clone()).or_default().push(
                            super::BatchMessage {
                                message_id,
                                payload: payload.to_vec(),
                                subscribers: alloc::vec![assignment.subscriber],
                                group: Some(group.clone()),
                            },
                        );
                    }
                    Some(Ok(None)) => self.hold_payload(message_id, &payload),
                    // Room was checked for the whole publish before anything was planned.
                    Some(Err(_)) | None => {}
                }
            }
            if self.config.retained_topics.iter().any(|t| t == topic) {
                self.retained
                    .insert(String::from(topic), (message_id, Arc::clone(&payload)));
            }
        }
        self.send_batches(topic, batches, now);
        self.topic_metrics(topic).published += message_ids.len() as u64;
        PublishAck::Accepted { message_ids }
    }

    fn groups_lack_room(&self, topic: &str, messages: usize) -> bool {
        self.registry
            .subscribers(topic)
            .filter_map(|s| s.group.as_ref())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .any(|group| {
                self.groups
                    .get(&(String::from(topic), group.clone()))
                    .is_none_or(|g| g.free_capacity() < messages)
            })
    }

    /// Sends group messages handed to instances, one batch per member.
    fn send_assignments(
        &mut self,
        topic: &str,
        group: &str,
        assignments: Vec<GroupAssignment>,
        now: u64,
    ) {
        let mut batches: BTreeMap<MemberId, Vec<super::BatchMessage>> = BTreeMap::new();
        for a in assignments {
            let Some(held) = self.payloads.get(&a.message_id) else {
                continue;
            };
            batches
                .entry(a.member)
                .or_default()
                .push(super::BatchMessage {
                    message_id: a.message_id,
                    payload: held.payload.to_vec(),
                    subscribers: alloc::vec![a.subscriber],
                    group: Some(String::from(group)),
                });
        }
        self.send_batches(topic, batches, now);
    }
}

impl PubSub for PubSubBroker {
    fn start(&mut self) -> Result<(), PubSubError> {
        if self.started {
            return Err(PubSubError::AlreadyStarted);
        }
        self.started = true;
        Ok(())
    }

    fn stop(&mut self) -> Result<(), PubSubError> {
        if !self.started {
            return Err(PubSubError::NotStarted);
        }
        self.started = false;
        Ok(())
    }
}

impl fmt::Debug for PubSubBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSubBroker")
            .field("member", &self.me)
            .field("started", &self.started)
            .field("local", &self.local.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

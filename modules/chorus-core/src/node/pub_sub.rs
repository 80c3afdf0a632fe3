//! The node's pub/sub API: the broker's calls, with the rules the node adds — subscriber
//! ids, the local subscriptions written into gossip, one clock.

use alloc::format;
use alloc::vec::Vec;

use super::Node;
use crate::gossip::{GossiperError, reserved_keys};
use crate::pubsub::{
    PubSub, PubSubBroker, PubSubConfig, PubSubConfigError, PubSubError, PublishAck,
    PublishRejection, SubscriberId, Subscription, TopicMetrics,
};
use crate::topology::MemberId;

impl Node {
    /// The same node running a pub/sub broker with `config` (started), for a transport
    /// whose frames hold at most `max_frame_bytes`.
    pub fn with_pub_sub(
        mut self,
        config: PubSubConfig,
        max_frame_bytes: usize,
    ) -> Result<Self, PubSubConfigError> {
        self.run_pub_sub(config, max_frame_bytes)?;
        Ok(self)
    }

    /// Runs a pub/sub broker with `config` (started) from now on, for a transport whose
    /// frames hold at most `max_frame_bytes`; a node refused the settings keeps running
    /// without pub/sub. A broker the node ran before is replaced.
    pub fn run_pub_sub(
        &mut self,
        config: PubSubConfig,
        max_frame_bytes: usize,
    ) -> Result<(), PubSubConfigError> {
        config.validate(max_frame_bytes)?;
        let mut broker = PubSubBroker::new(self.member_id().clone(), config);
        // A new broker is stopped; starting it cannot fail.
        let _ = broker.start();
        self.pub_sub = Some(broker);
        Ok(())
    }

    /// The broker, to read (registry, groups, counters), if the node runs pub/sub.
    pub fn pub_sub(&self) -> Option<&PubSubBroker> {
        self.pub_sub.as_ref()
    }

    /// Whether pub/sub runs: the node has a broker and it is started.
    pub fn pub_sub_running(&self) -> bool {
        self.pub_sub.as_ref().is_some_and(PubSubBroker::is_started)
    }

    fn broker(&mut self) -> Result<&mut PubSubBroker, PubSubError> {
        self.pub_sub
            .as_mut()
            .filter(|b| b.is_started())
            .ok_or(PubSubError::NotStarted)
    }

    /// Starts pub/sub again after [`stop_pub_sub`](Self::stop_pub_sub).
    pub fn start_pub_sub(&mut self) -> Result<(), PubSubError> {
        self.pub_sub
            .as_mut()
            .ok_or(PubSubError::NotStarted)?
            .start()
    }

    /// Stops pub/sub: every local subscription ends (the subscriptions leave the gossip
    /// value), publishes are refused with `NotStarted`, and batches that arrive are
    /// answered `Unreachable`.
    pub fn stop_pub_sub(&mut self, now: u64) -> Result<(), PubSubError> {
        let broker = self.broker()?;
        broker.stop()?;
        let local: Vec<(alloc::string::String, SubscriberId)> = broker
            .local_subscriptions()
            .map(|s| (s.topic.clone(), s.subscriber.clone()))
            .collect();
        for (topic, subscriber) in local {
            let _ = broker.unsubscribe(&topic, &subscriber);
        }
        self.write_subscriptions(now);
        self.settle(now);
        Ok(())
    }

    /// Subscribes a new local subscriber to `topic` — an instance of `group` holding at
    /// most `max_in_flight` messages of a publisher at once, or a broadcast subscriber —
    /// and gossips the node's subscriptions at once. Returns the subscriber's id, unique
    /// on this node.
    pub fn subscribe(
        &mut self,
        topic: &str,
        group: Option<&str>,
        max_in_flight: u32,
        now: u64,
    ) -> Result<SubscriberId, PubSubError> {
        let subscriber = SubscriberId::new(&format!("s{}", self.next_subscriber));
        self.subscribe_as(topic, &subscriber, group, max_in_flight, now)?;
        self.next_subscriber += 1;
        Ok(subscriber)
    }

    /// Subscribes local `subscriber`, named by the caller (subscribing it again with
    /// another limit or group updates it). Prefer [`subscribe`](Self::subscribe), which
    /// picks an id no other local subscriber has.
    pub fn subscribe_as(
        &mut self,
        topic: &str,
        subscriber: &SubscriberId,
        group: Option<&str>,
        max_in_flight: u32,
        now: u64,
    ) -> Result<(), PubSubError> {
        if self.gossip.has_left() {
            return Err(PubSubError::Left);
        }
        let broker = self.broker()?;
        let before = broker
            .local_subscriptions()
            .find(|s| s.topic == topic && s.subscriber == *subscriber)
            .cloned();
        let value = broker.subscribe(topic, subscriber, group, max_in_flight)?;
        match self
            .gossip
            .set_reserved(reserved_keys::SUBSCRIPTIONS, &value, now)
        {
            Ok(_) => {
                self.settle(now);
                Ok(())
            }
            Err(e) => {
                // Undone: a subscription the cluster cannot learn would never get a message.
                if let Some(broker) = self.pub_sub.as_mut() {
                    match before {
                        Some(s) => {
                            let _ = broker.subscribe(
                                &s.topic,
                                &s.subscriber,
                                s.group.as_deref(),
                                s.max_in_flight,
                            );
                        }
                        None => {
                            let _ = broker.unsubscribe(topic, subscriber);
                        }
                    }
                }
                Err(match e {
                    GossiperError::WriteTooLarge { bytes, max, .. } => {
                        PubSubError::SubscriptionsTooLarge { bytes, max }
                    }
                    GossiperError::Left => PubSubError::Left,
                    other => PubSubError::Driver {
                        reason: format!("gossiping the subscriptions failed: {other}"),
                    },
                })
            }
        }
    }

    /// Unsubscribes local `subscriber` from `topic` and gossips the change; a group
    /// instance's unfinished messages go to other instances.
    pub fn unsubscribe(
        &mut self,
        topic: &str,
        subscriber: &SubscriberId,
        now: u64,
    ) -> Result<(), PubSubError> {
        let broker = self.pub_sub.as_mut().ok_or(PubSubError::NotStarted)?;
        broker.unsubscribe(topic, subscriber)?;
        self.write_subscriptions(now);
        self.settle(now);
        Ok(())
    }

    /// Publishes `payloads` on `topic` (see [`PubSubBroker::publish`]).
    pub fn publish(&mut self, topic: &str, payloads: Vec<Vec<u8>>, now: u64) -> PublishAck {
        let Some(broker) = self.pub_sub.as_mut() else {
            return PublishAck::Rejected {
                reason: PublishRejection::NotStarted,
            };
        };
        let ack = broker.publish(topic, payloads, now);
        self.settle(now);
        ack
    }

    /// A local group instance finished `message_id` published by `publisher`.
    pub fn complete(
        &mut self,
        publisher: &MemberId,
        topic: &str,
        group: &str,
        subscriber: &SubscriberId,
        message_id: u64,
        now: u64,
    ) -> Result<(), PubSubError> {
        let result = self
            .broker()?
            .complete(publisher, topic, group, subscriber, message_id, now);
        self.settle(now);
        result
    }

    /// The subscriptions of `topic` in this node's registry, sorted by member and
    /// subscriber.
    pub fn subscriptions(&self, topic: &str) -> Vec<Subscription> {
        self.pub_sub
            .as_ref()
            .map(|b| b.registry().subscribers(topic).cloned().collect())
            .unwrap_or_default()
    }

    /// This node's pub/sub counters of `topic`.
    pub fn topic_metrics(&self, topic: &str) -> TopicMetrics {
        self.pub_sub
            .as_ref()
            .map(|b| b.metrics(topic))
            .unwrap_or_default()
    }

    /// Writes the local subscriptions into gossip. A node that left writes nothing more:
    /// its subscriptions leave with it.
    fn write_subscriptions(&mut self, now: u64) {
        let Some(broker) = self.pub_sub.as_ref() else {
            return;
        };
        let value = broker.local_subscriptions_value();
        // Shrinking the list always fits; a node that left writes nothing more.
        let _ = self
            .gossip
            .set_reserved(reserved_keys::SUBSCRIPTIONS, &value, now);
    }

    /// The node rejoined as `member`: the broker takes the identity, and the local
    /// subscriptions are written into the new gossip state.
    pub(super) fn take_identity(&mut self, member: MemberId, now: u64) {
        let Some(broker) = self.pub_sub.as_mut() else {
            return;
        };
        broker.set_member(member, now);
        if broker.local_subscriptions().next().is_some() {
            self.write_subscriptions(now);
        }
    }
}

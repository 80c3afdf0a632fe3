use std::collections::BTreeMap;

use bytes::Bytes;
use chorus_core::pubsub::{
    PubSub, PubSubBroker, PubSubError, PubSubEvent, PubSubMessage, PubSubOutput, PublishAck,
    SubscriberId, Subscription, TopicMetrics,
};
use chorus_core::topology::MemberId;
use tokio::time::Instant;

use super::local_sink::{LocalSink, Offered};
use crate::Delivery;

/// What a step of the broker asks the driver to do once the state is unlocked: frames to
/// send, events to publish, and the new gossip value of the local subscriptions.
#[derive(Debug, Default)]
pub(crate) struct PubSubWork {
    /// Frames for members (the driver finds their addresses in its topology).
    pub(crate) sends: Vec<(MemberId, PubSubMessage)>,
    /// Events for the `EventStream`.
    pub(crate) events: Vec<PubSubEvent>,
    /// The value to write under `chorus.subscriptions`, when the local subscriptions
    /// changed.
    pub(crate) subscriptions: Option<Vec<u8>>,
}

/// A node's pub/sub as its driver holds it: the core's broker, the buffers of the local
/// subscribers, and the clock the broker runs on.
///
/// Shared by [`TokioPubSub`](crate::TokioPubSub), which starts and stops it, and the gossip
/// loop, which feeds it frames, registry changes and time. Every step drains the broker's
/// outputs at once: deliveries go into the local buffers under the lock (a channel send,
/// no user code), and the rest comes back as [`PubSubWork`] for the caller to carry out
/// after unlocking.
#[derive(Debug)]
pub(crate) struct PubSubState {
    broker: PubSubBroker,
    clock: Instant,
    sinks: BTreeMap<SubscriberId, LocalSink>,
    next_subscriber: u64,
    buffer: usize,
    /// The local subscriptions changed since their value was last handed out.
    changed: bool,
}

impl PubSubState {
    pub(crate) fn new(broker: PubSubBroker, buffer: usize) -> Self {
        Self {
            broker,
            clock: Instant::now(),
            sinks: BTreeMap::new(),
            next_subscriber: 1,
            buffer,
            changed: false,
        }
    }

    /// Milliseconds since the state was created: the broker's clock.
    fn now(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    /// Buffers of subscriptions made from now on hold `deliveries`.
    pub(crate) fn set_buffer(&mut self, deliveries: usize) {
        self.buffer = deliveries;
    }

    pub(crate) fn is_started(&self) -> bool {
        self.broker.is_started()
    }

    pub(crate) fn start(&mut self) -> Result<(), PubSubError> {
        self.broker.start()
    }

    /// Stops the broker and ends every local subscription: the streams end, and the
    /// subscriptions leave the gossip value the next time the loop writes it.
    pub(crate) fn stop(&mut self) -> Result<(), PubSubError> {
        self.broker.stop()?;
        for (subscriber, sink) in std::mem::take(&mut self.sinks) {
            let _ = self.broker.unsubscribe(sink.topic(), &subscriber);
        }
        self.changed = true;
        Ok(())
    }

    /// The node has this identity now (attached, or rejoined): its gossip state is new,
    /// so the local subscriptions are written again if there are any.
    pub(crate) fn set_member(&mut self, member: MemberId) {
        self.broker.set_member(member);
        self.changed |= !self.sinks.is_empty();
    }

    /// Subscribes a new local subscriber that `sink` feeds; returns its id.
    pub(crate) fn subscribe(
        &mut self,
        topic: &str,
        group: Option<&str>,
        max_in_flight: u32,
        sink: LocalSink,
    ) -> Result<SubscriberId, PubSubError> {
        if !self.broker.is_started() {
            return Err(PubSubError::NotStarted);
        }
        let subscriber = SubscriberId::new(&format!("s{}", self.next_subscriber));
        self.broker
            .subscribe(topic, &subscriber, group, max_in_flight)?;
        self.next_subscriber += 1;
        self.sinks
            .insert(subscriber.clone(), sink.for_topic(topic, self.buffer));
        self.changed = true;
        Ok(subscriber)
    }

    pub(crate) fn unsubscribe(
        &mut self,
        topic: &str,
        subscriber: &SubscriberId,
    ) -> Result<(), PubSubError> {
        let result = self.broker.unsubscribe(topic, subscriber).map(|_| ());
        if self.sinks.remove(subscriber).is_some() || result.is_ok() {
            self.changed = true;
        }
        result
    }

    /// Unsubscribes the subscribers whose stream was dropped.
    pub(crate) fn sweep(&mut self) {
        let closed: Vec<SubscriberId> = self
            .sinks
            .iter()
            .filter(|(_, sink)| sink.is_closed())
            .map(|(subscriber, _)| subscriber.clone())
            .collect();
        for subscriber in closed {
            if let Some(sink) = self.sinks.remove(&subscriber) {
                let _ = self.broker.unsubscribe(sink.topic(), &subscriber);
                self.changed = true;
            }
        }
    }

    pub(crate) fn publish(&mut self, topic: &str, payloads: Vec<Vec<u8>>) -> PublishAck {
        let now = self.now();
        self.broker.publish(topic, payloads, now)
    }

    pub(crate) fn complete(
        &mut self,
        publisher: &MemberId,
        topic: &str,
        group: &str,
        subscriber: &SubscriberId,
        message_id: u64,
    ) -> Result<(), PubSubError> {
        let now = self.now();
        self.broker
            .complete(publisher, topic, group, subscriber, message_id, now)
    }

    pub(crate) fn handle(&mut self, from: &MemberId, message: PubSubMessage) {
        let now = self.now();
        self.broker.handle(from, message, now);
    }

    pub(crate) fn tick(&mut self) {
        let now = self.now();
        self.broker.tick(now);
    }

    pub(crate) fn sync_registry<'a>(
        &mut self,
        members: impl IntoIterator<Item = (&'a MemberId, Option<&'a [u8]>)>,
    ) {
        let now = self.now();
        self.broker.sync_registry(members, now);
    }

    pub(crate) fn subscriptions(&self, topic: &str) -> Vec<Subscription> {
        self.broker.registry().subscribers(topic).cloned().collect()
    }

    pub(crate) fn metrics(&self, topic: &str) -> TopicMetrics {
        self.broker.metrics(topic)
    }

    /// Takes what the broker produced: deliveries go into the local buffers (a
    /// subscriber whose stream is gone is unsubscribed), the rest is returned.
    pub(crate) fn take_work(&mut self) -> PubSubWork {
        let mut work = PubSubWork::default();
        let mut closed = Vec::new();
        for output in self.broker.drain_outputs() {
            match output {
                PubSubOutput::Send { to, message } => work.sends.push((to, message)),
                PubSubOutput::Event(event) => work.events.push(event),
                PubSubOutput::Deliver {
                    subscriber,
                    topic,
                    publisher,
                    message_id,
                    payload,
                    group,
                } => {
                    let Some(sink) = self.sinks.get(&subscriber) else {
                        closed.push((topic, subscriber));
                        continue;
                    };
                    let delivery = Delivery::new(
                        topic.clone(),
                        Bytes::from_owner(payload),
                        publisher.clone(),
                        message_id,
                        group,
                        subscriber.clone(),
                    );
                    match sink.offer(delivery) {
                        Offered::Queued => {}
                        Offered::Dropped => work.events.push(PubSubEvent::DeliveryDropped {
                            topic,
                            subscriber,
                            publisher,
                            message_id,
                        }),
                        Offered::Closed => closed.push((topic, subscriber)),
                    }
                }
            }
        }
        for (topic, subscriber) in closed {
            // A group message it held goes back to its group when the registry follows.
            let _ = self.unsubscribe(&topic, &subscriber);
        }
        if std::mem::take(&mut self.changed) {
            work.subscriptions = Some(self.broker.local_subscriptions_value());
        }
        work
    }
}

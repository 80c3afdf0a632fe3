use std::collections::BTreeMap;

use bytes::Bytes;
use chorus_core::node::LocalDelivery;
use chorus_core::pubsub::SubscriberId;

use super::local_sink::{LocalSink, Offered};
use crate::Delivery;

/// What the [`TokioPubSub`](crate::TokioPubSub) component and the gossip loop share:
/// whether pub/sub runs (and how often it was started, so that a stop and a start between
/// two turns of the loop are both seen), and the buffers of the local subscribers — the
/// channels to the application, which are the driver's, not the node's.
#[derive(Debug)]
pub(crate) struct LocalSubscribers {
    started: bool,
    /// Bumped at every start.
    generation: u64,
    sinks: BTreeMap<SubscriberId, LocalSink>,
    /// Deliveries a new subscription's buffer holds.
    buffer: usize,
}

impl LocalSubscribers {
    pub(crate) fn new(buffer: usize) -> Self {
        Self {
            started: false,
            generation: 0,
            sinks: BTreeMap::new(),
            buffer,
        }
    }

    pub(crate) fn set_buffer(&mut self, deliveries: usize) {
        self.buffer = deliveries;
    }

    pub(crate) fn is_started(&self) -> bool {
        self.started
    }

    /// Whether pub/sub runs, and the start it runs since.
    pub(crate) fn switch(&self) -> (bool, u64) {
        (self.started, self.generation)
    }

    pub(crate) fn start(&mut self) {
        self.started = true;
        self.generation += 1;
    }

    /// Stops: every local stream ends at once.
    pub(crate) fn stop(&mut self) {
        self.started = false;
        self.sinks.clear();
    }

    /// Feeds `subscriber`'s stream through `sink` from now on.
    pub(crate) fn insert(&mut self, subscriber: SubscriberId, topic: &str, sink: LocalSink) {
        let sink = sink.for_topic(topic, self.buffer);
        self.sinks.insert(subscriber, sink);
    }

    pub(crate) fn remove(&mut self, subscriber: &SubscriberId) -> bool {
        self.sinks.remove(subscriber).is_some()
    }

    /// Hands `delivery` to its subscriber's stream.
    pub(crate) fn offer(&self, delivery: LocalDelivery) -> Offered {
        let Some(sink) = self.sinks.get(&delivery.subscriber) else {
            return Offered::Closed;
        };
        sink.offer(Delivery::new(
            delivery.topic,
            Bytes::from_owner(delivery.payload),
            delivery.publisher,
            delivery.message_id,
            delivery.group,
            delivery.subscriber,
        ))
    }

    /// Takes out the subscribers whose stream was dropped, with their topics.
    pub(crate) fn take_closed(&mut self) -> Vec<(String, SubscriberId)> {
        let closed: Vec<SubscriberId> = self
            .sinks
            .iter()
            .filter(|(_, sink)| sink.is_closed())
            .map(|(subscriber, _)| subscriber.clone())
            .collect();
        closed
            .into_iter()
            .filter_map(|subscriber| {
                let sink = self.sinks.remove(&subscriber)?;
                Some((sink.topic().to_string(), subscriber))
            })
            .collect()
    }
}

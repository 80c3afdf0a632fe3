use std::sync::Arc;

use tokio::sync::mpsc;

use super::sink_counters::SinkCounters;
use crate::Delivery;

/// What became of a delivery offered to a local subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offered {
    /// It waits in the subscriber's buffer.
    Queued,
    /// The buffer held `capacity` broadcast deliveries already: dropped and counted.
    Dropped,
    /// The stream is gone: the subscriber must be unsubscribed.
    Closed,
}

/// The driver's end of one local subscriber's buffer.
///
/// Broadcast deliveries are bounded by `capacity`: beyond it they are dropped and counted
/// (broadcast is at most once; the driver reports each drop as
/// `PubSubEvent::DeliveryDropped`). Group deliveries are never dropped — an instance
/// holds at most its in-flight limit per publishing node until it completes them, which
/// bounds them — so they always enter the buffer.
#[derive(Debug)]
pub(crate) struct LocalSink {
    sender: mpsc::UnboundedSender<Delivery>,
    counters: Arc<SinkCounters>,
    topic: String,
    capacity: usize,
}

impl LocalSink {
    /// A sink feeding the stream behind `sender` and `counters`; the topic and capacity
    /// come with the subscription ([`for_topic`](Self::for_topic)).
    pub(crate) fn new(
        sender: mpsc::UnboundedSender<Delivery>,
        counters: Arc<SinkCounters>,
    ) -> Self {
        Self {
            sender,
            counters,
            topic: String::new(),
            capacity: 1,
        }
    }

    #[must_use]
    pub(crate) fn for_topic(mut self, topic: &str, capacity: usize) -> Self {
        self.topic = topic.to_string();
        self.capacity = capacity.max(1);
        self
    }

    /// The topic subscribed to.
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    pub(crate) fn offer(&self, delivery: Delivery) -> Offered {
        if self.sender.is_closed() {
            return Offered::Closed;
        }
        if delivery.group.is_none() && self.counters.queued() >= self.capacity {
            self.counters.add_dropped();
            return Offered::Dropped;
        }
        // Counted before sending, so that the stream never takes one it was not given.
        self.counters.add_queued();
        if self.sender.send(delivery).is_err() {
            self.counters.take_queued();
            return Offered::Closed;
        }
        Offered::Queued
    }

    /// Whether the stream was dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

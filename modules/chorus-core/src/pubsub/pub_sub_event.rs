use alloc::string::String;

use super::{DeliveryStatus, PublishRejection, RemovalReason, SubscriberId};
use crate::topology::MemberId;

/// Everything pub/sub does, observable on the `EventStream` (as `ClusterEvent::PubSub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubSubEvent {
    /// The registry has its first subscriber for the topic.
    TopicCreated {
        /// The topic.
        topic: String,
    },
    /// A subscriber joined the registry.
    Subscribed {
        /// The topic.
        topic: String,
        /// Its member.
        member: MemberId,
        /// The subscriber.
        subscriber: SubscriberId,
        /// Its group, if any.
        group: Option<String>,
    },
    /// A subscriber left the registry.
    SubscriberRemoved {
        /// The topic.
        topic: String,
        /// Its member.
        member: MemberId,
        /// The subscriber.
        subscriber: SubscriberId,
        /// Why.
        reason: RemovalReason,
    },
    /// Messages were accepted for publishing.
    PublishAccepted {
        /// The topic.
        topic: String,
        /// How many.
        messages: usize,
    },
    /// A publish was refused.
    PublishRejected {
        /// The topic.
        topic: String,
        /// Why.
        reason: PublishRejection,
    },
    /// A subscriber's member acknowledged a delivery.
    Delivered {
        /// The topic.
        topic: String,
        /// The subscriber.
        subscriber: SubscriberId,
        /// The message.
        message_id: u64,
    },
    /// A delivery failed.
    DeliveryFailed {
        /// The topic.
        topic: String,
        /// The subscriber.
        subscriber: SubscriberId,
        /// The message.
        message_id: u64,
        /// `Unreachable` or `Timeout`.
        status: DeliveryStatus,
    },
    /// A load-balanced group's queue changed length.
    GroupQueueLength {
        /// The topic.
        topic: String,
        /// The group.
        group: String,
        /// Messages waiting.
        length: usize,
    },
}

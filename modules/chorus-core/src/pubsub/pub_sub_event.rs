use alloc::string::String;

use super::{DeliveryStatus, FrameRefusal, RemovalReason, RequeueReason, SubscriberId};
use crate::topology::MemberId;

/// What changes in pub/sub — subscriptions, groups, failures — observable on the
/// `EventStream` (as `ClusterEvent::PubSub`).
///
/// Steps every message takes when all goes well (accepted, delivered, completed, a
/// group's queue length) are not events: they are counted in
/// [`TopicMetrics`](super::TopicMetrics) and traced by the drivers, so that message
/// traffic never crowds membership events out of a subscriber's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PubSubEvent {
    /// The registry has its first subscriber for the topic (once per topic and sync, however
    /// many subscribers arrive at once).
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
    /// A subscriber's member unsubscribed it: its subscription list no longer names it.
    Unsubscribed {
        /// The topic.
        topic: String,
        /// Its member.
        member: MemberId,
        /// The subscriber.
        subscriber: SubscriberId,
        /// Its group, if any.
        group: Option<String>,
    },
    /// A subscriber left the registry without unsubscribing: its member is gone, or a
    /// delivery found it unreachable.
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
    /// A group message this node published went back to the front of its group's queue,
    /// to be handed to another instance: it may be processed twice (at least once).
    Requeued {
        /// The topic.
        topic: String,
        /// The group.
        group: String,
        /// The member of the instance that held it.
        member: MemberId,
        /// The instance that held it.
        subscriber: SubscriberId,
        /// The message.
        message_id: u64,
        /// Why.
        reason: RequeueReason,
    },
    /// A group lost its last instance while messages wait in its queue. They stay queued
    /// (at most `group_queue_capacity`) and go to the first instance that subscribes to the
    /// group again; messages published meanwhile are not for the group, which has no
    /// subscriber.
    GroupWithoutInstances {
        /// The topic.
        topic: String,
        /// The group.
        group: String,
        /// Messages waiting.
        queued: usize,
    },
    /// A message reached this node for a local broadcast subscriber that could not take
    /// it — its buffer was full — and was not handed to it. Reported by the driver, which
    /// owns the subscriber's buffer: broadcast delivery is at most once, and the publisher
    /// counted the message delivered to this node.
    DeliveryDropped {
        /// The topic.
        topic: String,
        /// The subscriber that missed it.
        subscriber: SubscriberId,
        /// The publishing node.
        publisher: MemberId,
        /// The message.
        message_id: u64,
    },
    /// A frame for `member` could not be sent: the node knows no address for it (it is
    /// not, or no longer, in the topology). Deliveries it carried are reported
    /// `DeliveryFailed { Unreachable }` and their group messages requeued.
    Unroutable {
        /// The member the frame was for.
        member: MemberId,
        /// The topic of the frame.
        topic: String,
    },
    /// A pub/sub frame from `from` was refused before the broker saw it (see
    /// `Node::handle_pub_sub`): nothing of it was delivered, and a batch is not
    /// acknowledged.
    FrameRefused {
        /// The member the connection authenticated as.
        from: MemberId,
        /// Why.
        reason: FrameRefusal,
    },
    /// A remote member's gossiped subscription list broke this node's limits
    /// (`max_subscriptions_per_member`, `max_in_flight`, valid topics): only `kept`
    /// subscriptions of `declared` were taken, `in_flight_lowered` of them with their
    /// in-flight limit brought down to `max_in_flight`.
    SubscriptionsLimited {
        /// The member.
        member: MemberId,
        /// Subscriptions its list declared.
        declared: usize,
        /// Subscriptions taken into the registry.
        kept: usize,
        /// Of those, group instances whose declared in-flight limit was lowered.
        in_flight_lowered: usize,
    },
}

use alloc::string::String;
use core::fmt;

/// Why pub/sub could not start, stop, subscribe or complete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PubSubError {
    /// `start` was called while it runs already.
    AlreadyStarted,
    /// It does not run.
    NotStarted,
    /// The delivery driver failed.
    Driver {
        /// What failed.
        reason: String,
    },
    /// The topic name is empty, too long or contains control characters.
    InvalidTopic {
        /// The refused name.
        topic: String,
    },
    /// A subscriber name must not be empty.
    InvalidSubscriber,
    /// A group instance needs an in-flight limit of at least 1.
    ZeroInFlight,
    /// The subscriber is not subscribed to that topic.
    NotSubscribed {
        /// The topic.
        topic: String,
    },
    /// The message is not in flight at that instance (completed twice, or unknown).
    NotInFlight {
        /// The message.
        message_id: u64,
    },
    /// The node's subscription list would not fit one gossip write (`max_write_bytes`):
    /// the subscription was not made.
    SubscriptionsTooLarge {
        /// Bytes the list would take.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The node left the cluster: it subscribes no more.
    Left,
    /// A group instance asked for an in-flight limit over `PubSubConfig::max_in_flight`.
    InFlightTooLarge {
        /// The limit asked for.
        asked: u32,
        /// The largest allowed.
        max: u32,
    },
}

impl fmt::Display for PubSubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("pub/sub is already started"),
            Self::NotStarted => f.write_str("pub/sub is not started"),
            Self::Driver { reason } => write!(f, "pub/sub driver failed: {reason}"),
            Self::InvalidTopic { topic } => write!(
                f,
                "invalid topic {topic:?}: it must be non-empty, short, without control characters"
            ),
            Self::InvalidSubscriber => f.write_str("a subscriber name must not be empty"),
            Self::ZeroInFlight => {
                f.write_str("a group instance needs an in-flight limit of at least 1")
            }
            Self::NotSubscribed { topic } => write!(f, "not subscribed to {topic:?}"),
            Self::NotInFlight { message_id } => {
                write!(f, "message {message_id} is not in flight at that instance")
            }
            Self::SubscriptionsTooLarge { bytes, max } => write!(
                f,
                "the node's subscriptions would take {bytes} bytes, over one gossip write ({max}): unsubscribe others first or raise GossipConfig::max_write_bytes"
            ),
            Self::Left => f.write_str("the node left the cluster: it subscribes no more"),
            Self::InFlightTooLarge { asked, max } => write!(
                f,
                "an in-flight limit of {asked} is over max_in_flight ({max}): ask for less or raise PubSubConfig::max_in_flight"
            ),
        }
    }
}

impl core::error::Error for PubSubError {}

use alloc::string::String;

use super::SubscriberId;
use crate::topology::MemberId;

/// One entry of the cluster-wide registry: a subscriber of a topic on a member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subscription {
    /// The topic.
    pub topic: String,
    /// The member the subscriber lives on.
    pub member: MemberId,
    /// The subscriber.
    pub subscriber: SubscriberId,
    /// Its load-balanced group, if any.
    pub group: Option<String>,
    /// Its in-flight limit for group messages.
    pub max_in_flight: u32,
}

use super::SubscriberId;
use crate::topology::MemberId;

/// A group message handed to one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAssignment {
    /// The message.
    pub message_id: u64,
    /// The instance's member.
    pub member: MemberId,
    /// The instance.
    pub subscriber: SubscriberId,
}

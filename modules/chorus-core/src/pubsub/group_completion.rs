use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::SubscriberId;
use crate::topology::MemberId;

/// A group instance finished messages: its publisher may hand it the next ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCompletion {
    /// The instance's member.
    pub from: MemberId,
    /// The topic.
    pub topic: String,
    /// The group.
    pub group: String,
    /// The instance.
    pub subscriber: SubscriberId,
    /// The messages finished.
    pub message_ids: Vec<u64>,
}

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::SubscriberId;

/// One message in a delivery batch, with the local subscribers to hand it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMessage {
    /// The id the publishing node gave it.
    pub message_id: u64,
    /// The payload.
    pub payload: Vec<u8>,
    /// The subscribers on the receiving member that get it.
    pub subscribers: Vec<SubscriberId>,
    /// The group, when it is a load-balanced group message (one subscriber).
    pub group: Option<String>,
}

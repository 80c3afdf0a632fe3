use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// One key of a member's state as it travels in a delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaEntry {
    /// The key.
    pub key: String,
    /// The owner's sequence number of this write.
    pub seq: u64,
    /// The value bytes.
    pub value: Vec<u8>,
}

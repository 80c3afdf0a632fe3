use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::topology::MemberId;

/// The first frame on every connection, in both directions: who is speaking, for which
/// cluster, in which protocol version, and where it listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    /// The cluster the sender belongs to.
    pub cluster: String,
    /// The protocol version the sender speaks.
    pub protocol_version: u8,
    /// The sender.
    pub member: MemberId,
    /// The address the sender listens on.
    pub address: String,
}

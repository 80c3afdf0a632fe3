use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Serialize};

/// Why a connection was refused at the handshake; sent to the peer before closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeRefusal {
    /// The peer belongs to another cluster.
    WrongCluster {
        /// The cluster of the refusing node.
        expected: String,
        /// The cluster the peer announced.
        got: String,
    },
    /// The peer speaks another protocol version.
    WrongVersion {
        /// The version of the refusing node.
        expected: u8,
        /// The version the peer announced.
        got: u8,
    },
    /// The first frame was not a handshake.
    NoHandshake,
}

impl fmt::Display for HandshakeRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongCluster { expected, got } => {
                write!(
                    f,
                    "cluster mismatch: this node is in {expected:?}, the peer in {got:?}"
                )
            }
            Self::WrongVersion { expected, got } => write!(
                f,
                "protocol version mismatch: this node speaks {expected}, the peer {got}"
            ),
            Self::NoHandshake => f.write_str("the first frame was not a handshake"),
        }
    }
}

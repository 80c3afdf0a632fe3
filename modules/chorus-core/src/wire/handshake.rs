#[cfg(test)]
mod tests;

use alloc::string::String;

use serde::{Deserialize, Serialize};

use super::{Frame, HandshakeRefusal, PROTOCOL_VERSION, WireError};
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

impl Handshake {
    /// Whether a node of cluster `expected_cluster` speaking [`PROTOCOL_VERSION`] may talk
    /// with the sender of this handshake; if not, the reason to send back before closing.
    ///
    /// The version is checked first: a peer in another version may not mean the same by
    /// the other fields.
    pub fn check(&self, expected_cluster: &str) -> Result<(), HandshakeRefusal> {
        if self.protocol_version != PROTOCOL_VERSION {
            return Err(HandshakeRefusal::WrongVersion {
                expected: PROTOCOL_VERSION,
                got: self.protocol_version,
            });
        }
        if self.cluster != expected_cluster {
            return Err(HandshakeRefusal::WrongCluster {
                expected: String::from(expected_cluster),
                got: self.cluster.clone(),
            });
        }
        Ok(())
    }

    /// The handshake a connection opened with — `first` is its first frame, as decoded —
    /// if a node of cluster `expected_cluster` accepts it, or the reason it is refused.
    ///
    /// A frame in another protocol version (its first byte says so) is refused as
    /// [`HandshakeRefusal::WrongVersion`]; any other first frame, or bytes that are no
    /// frame at all, as [`HandshakeRefusal::NoHandshake`].
    pub fn from_first_frame(
        first: Result<Frame, WireError>,
        expected_cluster: &str,
    ) -> Result<Self, HandshakeRefusal> {
        match first {
            Ok(Frame::Handshake(theirs)) => theirs.check(expected_cluster).map(|()| theirs),
            Err(WireError::UnsupportedVersion { got, .. }) => Err(HandshakeRefusal::WrongVersion {
                expected: PROTOCOL_VERSION,
                got,
            }),
            Ok(_) | Err(_) => Err(HandshakeRefusal::NoHandshake),
        }
    }
}

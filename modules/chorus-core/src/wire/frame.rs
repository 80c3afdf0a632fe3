use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::frame_input::FrameInput;
use super::{Handshake, HandshakeRefusal, PROTOCOL_VERSION, WireError};
use crate::gossip::GossipMessage;
use crate::pubsub::PubSubMessage;

/// Everything chorus nodes say to each other.
///
/// New variants are added at the end only; a change of the meaning or layout of an
/// existing variant raises [`PROTOCOL_VERSION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// Opens a connection.
    Handshake(Handshake),
    /// Accepts a connection: the acceptor's own handshake.
    HandshakeAccepted(Handshake),
    /// Refuses a connection; the refusing side closes it.
    HandshakeRefused(HandshakeRefusal),
    /// A gossip message.
    Gossip(GossipMessage),
    /// A pub/sub delivery message.
    PubSub(PubSubMessage),
}

impl Frame {
    /// The frame as bytes: the protocol version, then postcard.
    pub fn encode(&self) -> Vec<u8> {
        // postcard writes a `u8` as one raw byte, so the pair is exactly the version byte
        // followed by the frame. Serializing plain data into a vector cannot fail.
        postcard::to_allocvec(&(PROTOCOL_VERSION, self)).unwrap_or_default()
    }

    /// Reads a frame from untrusted bytes: the size limit first, then the version, then
    /// the content, which must use every byte. A length the bytes claim reserves memory
    /// only in proportion to the bytes left (see `docs/protocol.md` §8).
    pub fn decode(bytes: &[u8], max_len: usize) -> Result<Self, WireError> {
        if bytes.len() > max_len {
            return Err(WireError::TooLarge {
                len: bytes.len(),
                max: max_len,
            });
        }
        let (&version, body) = bytes.split_first().ok_or(WireError::Empty)?;
        if version != PROTOCOL_VERSION {
            return Err(WireError::UnsupportedVersion {
                got: version,
                supported: PROTOCOL_VERSION,
            });
        }
        let mut decoder = postcard::Deserializer::from_flavor(FrameInput::new(body));
        let frame = Self::deserialize(&mut decoder).map_err(WireError::Malformed)?;
        let rest = decoder.finalize().map_err(WireError::Malformed)?;
        if !rest.is_empty() {
            return Err(WireError::TrailingBytes { count: rest.len() });
        }
        Ok(frame)
    }

    /// The protocol version a frame announces, if it has a first byte.
    pub fn version_of(bytes: &[u8]) -> Option<u8> {
        bytes.first().copied()
    }

    /// What kind of frame `bytes` announce, read from the variant tag after the version
    /// byte without decoding the rest (for per-kind traffic counters). Bytes that do not
    /// name a known kind are [`FrameKind::Other`].
    pub fn kind_of(bytes: &[u8]) -> FrameKind {
        // postcard writes the variant index as a varint: one byte below 128.
        match bytes.get(1) {
            Some(0..=2) => FrameKind::Handshake,
            Some(3) => FrameKind::Gossip,
            Some(4) => FrameKind::PubSub,
            _ => FrameKind::Other,
        }
    }

    /// This frame's kind.
    pub fn kind(&self) -> FrameKind {
        match self {
            Self::Handshake(_) | Self::HandshakeAccepted(_) | Self::HandshakeRefused(_) => {
                FrameKind::Handshake
            }
            Self::Gossip(_) => FrameKind::Gossip,
            Self::PubSub(_) => FrameKind::PubSub,
        }
    }
}

/// The kinds of traffic a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Opening or refusing a connection.
    Handshake,
    /// Gossip: membership and state.
    Gossip,
    /// Pub/sub delivery.
    PubSub,
    /// Bytes that name no known kind (they will not decode).
    Other,
}

use std::fmt;
use std::sync::Arc;

/// Why the transport could not bind or send.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TransportError {
    /// The listener could not be bound.
    Bind {
        /// The address it tried.
        address: String,
        /// What the system said, in words a person reads.
        reason: String,
        /// The system's error itself (also given as [`source`](std::error::Error::source)).
        error: Arc<std::io::Error>,
    },
    /// The peer's send queue is full: the frame was not queued (the peer is slow or
    /// unreachable); gossip repairs the loss later.
    QueueFull {
        /// The peer's address.
        peer: String,
    },
    /// The encoded frame is larger than `max_frame_bytes`: the peer would refuse it and
    /// close the connection, so it was not sent (counted in `oversized_frames`).
    FrameTooLarge {
        /// The peer's address.
        peer: String,
        /// The frame's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The transport is closed.
    Closed,
    /// A setting is out of range.
    InvalidConfig {
        /// Which rule it breaks.
        reason: &'static str,
    },
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind {
                address, reason, ..
            } => write!(f, "bind {address} failed: {reason}"),
            Self::QueueFull { peer } => write!(f, "send queue to {peer} is full"),
            Self::FrameTooLarge { peer, bytes, max } => write!(
                f,
                "frame of {bytes} bytes for {peer} not sent: over max_frame_bytes ({max}); raise TransportConfig::max_frame_bytes on every node or send less at once"
            ),
            Self::Closed => f.write_str("the transport is closed"),
            Self::InvalidConfig { reason } => {
                write!(f, "invalid transport configuration: {reason}")
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// Two errors are equal when they say the same; a bind error's system error is compared
/// by its kind.
impl PartialEq for TransportError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Bind {
                    address,
                    reason,
                    error,
                },
                Self::Bind {
                    address: other_address,
                    reason: other_reason,
                    error: other_error,
                },
            ) => {
                address == other_address
                    && reason == other_reason
                    && error.kind() == other_error.kind()
            }
            (Self::QueueFull { peer }, Self::QueueFull { peer: other_peer }) => peer == other_peer,
            (
                Self::FrameTooLarge { peer, bytes, max },
                Self::FrameTooLarge {
                    peer: other_peer,
                    bytes: other_bytes,
                    max: other_max,
                },
            ) => peer == other_peer && bytes == other_bytes && max == other_max,
            (Self::Closed, Self::Closed) => true,
            (
                Self::InvalidConfig { reason },
                Self::InvalidConfig {
                    reason: other_reason,
                },
            ) => reason == other_reason,
            _ => false,
        }
    }
}

impl Eq for TransportError {}

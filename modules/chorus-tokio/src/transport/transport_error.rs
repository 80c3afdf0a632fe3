use std::fmt;

/// Why the transport could not bind or send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The listener could not be bound.
    Bind {
        /// The address it tried.
        address: String,
        /// What the system said.
        reason: String,
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
            Self::Bind { address, reason } => write!(f, "bind {address} failed: {reason}"),
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

impl std::error::Error for TransportError {}

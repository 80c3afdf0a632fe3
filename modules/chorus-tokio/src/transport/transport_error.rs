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
            Self::Closed => f.write_str("the transport is closed"),
            Self::InvalidConfig { reason } => {
                write!(f, "invalid transport configuration: {reason}")
            }
        }
    }
}

impl std::error::Error for TransportError {}

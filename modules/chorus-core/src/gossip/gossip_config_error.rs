use core::fmt;

/// A gossip setting that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipConfigError {
    /// `fan_out` or `push_fan_out` is 0: no peer would ever be contacted.
    ZeroFanOut,
    /// `gossip_interval_ms` is 0.
    ZeroGossipInterval,
    /// `heartbeat_interval_ms` is 0.
    ZeroHeartbeatInterval,
    /// `max_entries_per_message` is 0: no entry could ever travel.
    ZeroMaxEntries,
    /// `max_bytes_per_message` cannot hold even a small digest.
    MessageBytesTooSmall {
        /// The configured bound.
        bytes: usize,
    },
    /// `max_write_bytes` is 0 or more than half of `max_bytes_per_message`, so a write
    /// might not fit a message beside its digest.
    WriteBytesOutOfRange {
        /// The configured bound.
        bytes: usize,
        /// The largest allowed with this message bound.
        maximum: usize,
    },
    /// The expiration is shorter than a few heartbeat or gossip intervals, so ordinary
    /// delays would block live members.
    ExpirationTooShort {
        /// The configured expiration.
        expiration_ms: u64,
        /// The smallest allowed with these intervals.
        minimum_ms: u64,
    },
    /// The request timeout is 0 or not below the heartbeat expiration.
    RequestTimeoutNotBelowExpiration {
        /// The configured timeout.
        timeout_ms: u64,
        /// The configured expiration.
        expiration_ms: u64,
    },
}

impl GossipConfigError {
    /// The smallest `max_bytes_per_message` accepted.
    pub const MIN_MESSAGE_BYTES: usize = 512;
}

impl fmt::Display for GossipConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroFanOut => f.write_str("fan_out and push_fan_out must be at least 1"),
            Self::ZeroGossipInterval => f.write_str("gossip_interval_ms must be above 0"),
            Self::ZeroHeartbeatInterval => f.write_str("heartbeat_interval_ms must be above 0"),
            Self::ZeroMaxEntries => f.write_str("max_entries_per_message must be at least 1"),
            Self::MessageBytesTooSmall { bytes } => write!(
                f,
                "max_bytes_per_message is {bytes}; it must be at least {}",
                Self::MIN_MESSAGE_BYTES
            ),
            Self::WriteBytesOutOfRange { bytes, maximum } => write!(
                f,
                "max_write_bytes is {bytes}; it must be between 1 and half of max_bytes_per_message ({maximum})"
            ),
            Self::ExpirationTooShort {
                expiration_ms,
                minimum_ms,
            } => write!(
                f,
                "heartbeat_expiration_ms is {expiration_ms}; with these intervals it must be at least {minimum_ms}"
            ),
            Self::RequestTimeoutNotBelowExpiration {
                timeout_ms,
                expiration_ms,
            } => write!(
                f,
                "request_timeout_ms is {timeout_ms}; it must be above 0 and below heartbeat_expiration_ms ({expiration_ms})"
            ),
        }
    }
}

impl core::error::Error for GossipConfigError {}

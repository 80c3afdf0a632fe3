use alloc::string::String;
use core::fmt;

/// Why a gossiper could not start, stop or serve a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GossiperError {
    /// `start` was called on a gossiper that runs already.
    AlreadyStarted,
    /// The gossiper does not run (never started, or stopped).
    NotStarted,
    /// The key is reserved for chorus (it starts with `chorus.`).
    ReservedKey {
        /// The refused key.
        key: String,
    },
    /// The node left the cluster; it no longer writes or gossips.
    Left,
    /// A key and its value together exceed `max_write_bytes`: the write is refused, so
    /// that every write fits a gossip message.
    WriteTooLarge {
        /// The key written.
        key: String,
        /// Bytes of key and value.
        bytes: usize,
        /// The configured bound.
        max: usize,
    },
    /// The gossip configuration breaks a rule.
    Config(super::GossipConfigError),
    /// The gossiper's driver failed (for example, its runtime is gone).
    Driver {
        /// What failed, in words a user can act on.
        reason: String,
    },
}

impl fmt::Display for GossiperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("the gossiper is already started"),
            Self::NotStarted => f.write_str("the gossiper is not started"),
            Self::ReservedKey { key } => {
                write!(
                    f,
                    "key {key:?} is reserved: keys starting with \"chorus.\" belong to chorus"
                )
            }
            Self::Left => f.write_str("this node left the cluster"),
            Self::WriteTooLarge { key, bytes, max } => write!(
                f,
                "writing {key:?} takes {bytes} bytes of key and value; at most {max} are allowed (max_write_bytes)"
            ),
            Self::Config(e) => write!(f, "invalid gossip configuration: {e}"),
            Self::Driver { reason } => write!(f, "the gossip driver failed: {reason}"),
        }
    }
}

impl core::error::Error for GossiperError {}

use alloc::string::String;
use core::fmt;

/// Why the pub/sub component could not start or stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubSubError {
    /// `start` was called while it runs already.
    AlreadyStarted,
    /// It does not run.
    NotStarted,
    /// The delivery driver failed.
    Driver {
        /// What failed.
        reason: String,
    },
}

impl fmt::Display for PubSubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("pub/sub is already started"),
            Self::NotStarted => f.write_str("pub/sub is not started"),
            Self::Driver { reason } => write!(f, "pub/sub driver failed: {reason}"),
        }
    }
}

impl core::error::Error for PubSubError {}

use alloc::string::String;
use core::fmt;

/// Why a cluster provider could not start or stop.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderError {
    /// `start` was called on a provider that runs already.
    AlreadyStarted,
    /// `stop` was called on a provider that does not run.
    NotStarted,
    /// The provider could not listen on its address.
    Bind {
        /// The address it tried to bind.
        address: String,
        /// Why binding failed, as the system said it.
        reason: String,
    },
    /// The provider's configuration is not usable.
    Config {
        /// What is wrong with it.
        reason: String,
    },
    /// Leaving the cluster gracefully failed; peers will detect the departure by timeout.
    Leave {
        /// What failed.
        reason: String,
    },
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("the cluster provider is already started"),
            Self::NotStarted => f.write_str("the cluster provider is not started"),
            Self::Bind { address, reason } => write!(f, "bind {address} failed: {reason}"),
            Self::Config { reason } => write!(f, "invalid provider configuration: {reason}"),
            Self::Leave { reason } => write!(f, "graceful leave failed: {reason}"),
        }
    }
}

impl core::error::Error for ProviderError {}

use alloc::string::String;
use core::fmt;

/// Why a kind could not be registered or unregistered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindError {
    /// A kind needs a non-empty name.
    EmptyName,
    /// The kind is registered already.
    AlreadyRegistered(String),
    /// The kind is not registered.
    NotRegistered(String),
}

impl fmt::Display for KindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyName => f.write_str("a kind needs a non-empty name"),
            Self::AlreadyRegistered(kind) => write!(f, "kind {kind:?} is already registered"),
            Self::NotRegistered(kind) => write!(f, "kind {kind:?} is not registered"),
        }
    }
}

impl core::error::Error for KindError {}

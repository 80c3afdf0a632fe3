use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};

use super::KindError;

/// The kinds (named roles such as actor kinds or the pub/sub topic kind) a member hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindRegistry {
    kinds: BTreeSet<String>,
}

impl KindRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `kind`.
    pub fn register(&mut self, kind: &str) -> Result<(), KindError> {
        if kind.is_empty() {
            return Err(KindError::EmptyName);
        }
        if !self.kinds.insert(kind.to_string()) {
            return Err(KindError::AlreadyRegistered(kind.to_string()));
        }
        Ok(())
    }

    /// Unregisters `kind`.
    pub fn unregister(&mut self, kind: &str) -> Result<(), KindError> {
        if self.kinds.remove(kind) {
            Ok(())
        } else {
            Err(KindError::NotRegistered(kind.to_string()))
        }
    }

    /// Whether `kind` is registered.
    pub fn contains(&self, kind: &str) -> bool {
        self.kinds.contains(kind)
    }

    /// The registered kinds, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.kinds.iter().map(String::as_str)
    }

    /// How many kinds are registered.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether no kind is registered.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

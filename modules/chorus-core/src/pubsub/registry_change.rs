use alloc::vec::Vec;

use super::Subscription;

/// What changed between two registries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryChange {
    /// Subscriptions that appeared.
    pub added: Vec<Subscription>,
    /// Subscriptions that disappeared.
    pub removed: Vec<Subscription>,
}

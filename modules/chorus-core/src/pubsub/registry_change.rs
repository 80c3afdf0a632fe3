use alloc::vec::Vec;

use super::Subscription;

/// What changed between two registries. A subscription is identified by its topic, member
/// and subscriber; one whose group changed is removed and added, one whose in-flight limit
/// alone changed is updated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryChange {
    /// Subscriptions that appeared.
    pub added: Vec<Subscription>,
    /// Subscriptions that disappeared.
    pub removed: Vec<Subscription>,
    /// Subscriptions still there with another in-flight limit (their new value).
    pub updated: Vec<Subscription>,
}

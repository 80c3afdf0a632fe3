use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;

use super::{LocalSubscription, RegistryChange, Subscription};
use crate::topology::MemberId;

/// The cluster-wide registry: every subscription of every member in the topology, as
/// derived from the members' gossiped subscription lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionRegistry {
    /// Subscriptions per topic, sorted.
    topics: BTreeMap<String, BTreeSet<Subscription>>,
}

impl SubscriptionRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry of `members` and their subscription lists.
    pub fn from_members<'a>(
        members: impl IntoIterator<Item = (&'a MemberId, &'a [LocalSubscription])>,
    ) -> Self {
        let mut registry = Self::new();
        for (member, subscriptions) in members {
            for s in subscriptions {
                registry
                    .topics
                    .entry(s.topic.clone())
                    .or_default()
                    .insert(Subscription {
                        topic: s.topic.clone(),
                        member: member.clone(),
                        subscriber: s.subscriber.clone(),
                        group: s.group.clone(),
                        max_in_flight: s.max_in_flight,
                    });
            }
        }
        registry
    }

    /// The subscriptions of `topic`, sorted.
    pub fn subscribers(&self, topic: &str) -> impl Iterator<Item = &Subscription> {
        self.topics.get(topic).into_iter().flatten()
    }

    /// Whether `topic` has any subscriber.
    pub fn has_topic(&self, topic: &str) -> bool {
        self.topics.get(topic).is_some_and(|s| !s.is_empty())
    }

    /// The topics with subscribers.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(String::as_str)
    }

    /// Every subscription, sorted by topic.
    pub fn all(&self) -> impl Iterator<Item = &Subscription> {
        self.topics.values().flatten()
    }

    /// Removes one subscription (found unreachable); returns whether it was there.
    pub fn remove(&mut self, subscription: &Subscription) -> bool {
        let Some(set) = self.topics.get_mut(&subscription.topic) else {
            return false;
        };
        let removed = set.remove(subscription);
        if set.is_empty() {
            self.topics.remove(&subscription.topic);
        }
        removed
    }

    /// What changes from `self` to `next`.
    pub fn diff(&self, next: &Self) -> RegistryChange {
        let old: BTreeSet<&Subscription> = self.all().collect();
        let new: BTreeSet<&Subscription> = next.all().collect();
        RegistryChange {
            added: new.difference(&old).map(|s| (*s).clone()).collect(),
            removed: old.difference(&new).map(|s| (*s).clone()).collect(),
        }
    }
}

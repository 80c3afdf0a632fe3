use alloc::collections::BTreeMap;
use alloc::string::String;

use super::{LocalSubscription, RegistryChange, SubscriberId, Subscription};
use crate::topology::MemberId;

/// The cluster-wide registry: every subscription of every member in the topology, as
/// derived from the members' gossiped subscription lists. A subscriber of a member appears
/// at most once per topic (a list naming it twice keeps the last entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionRegistry {
    /// Subscriptions per topic, keyed and sorted by (member, subscriber).
    topics: BTreeMap<String, BTreeMap<(MemberId, SubscriberId), Subscription>>,
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
                registry.topics.entry(s.topic.clone()).or_default().insert(
                    (member.clone(), s.subscriber.clone()),
                    Subscription {
                        topic: s.topic.clone(),
                        member: member.clone(),
                        subscriber: s.subscriber.clone(),
                        group: s.group.clone(),
                        max_in_flight: s.max_in_flight,
                    },
                );
            }
        }
        registry
    }

    /// The subscriptions of `topic`, sorted by member and subscriber.
    pub fn subscribers(&self, topic: &str) -> impl Iterator<Item = &Subscription> {
        self.topics
            .get(topic)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    /// The subscription of `subscriber` on `member` to `topic`, if any.
    pub fn get(
        &self,
        topic: &str,
        member: &MemberId,
        subscriber: &SubscriberId,
    ) -> Option<&Subscription> {
        self.topics
            .get(topic)?
            .get(&(member.clone(), subscriber.clone()))
    }

    /// Whether `topic` has any subscriber.
    pub fn has_topic(&self, topic: &str) -> bool {
        self.topics.get(topic).is_some_and(|s| !s.is_empty())
    }

    /// The topics with subscribers.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(String::as_str)
    }

    /// Every subscription, sorted by topic, member and subscriber.
    pub fn all(&self) -> impl Iterator<Item = &Subscription> {
        self.topics.values().flat_map(BTreeMap::values)
    }

    /// Removes one subscription (found unreachable); returns whether it was there.
    pub fn remove(&mut self, subscription: &Subscription) -> bool {
        let Some(set) = self.topics.get_mut(&subscription.topic) else {
            return false;
        };
        let key = (subscription.member.clone(), subscription.subscriber.clone());
        let removed = set.get(&key) == Some(subscription) && set.remove(&key).is_some();
        if set.is_empty() {
            self.topics.remove(&subscription.topic);
        }
        removed
    }

    /// What changes from `self` to `next`: a changed group is a removal and an addition, a
    /// changed in-flight limit alone an update.
    pub fn diff(&self, next: &Self) -> RegistryChange {
        let mut change = RegistryChange::default();
        for old in self.all() {
            match next.get(&old.topic, &old.member, &old.subscriber) {
                None => change.removed.push(old.clone()),
                Some(new) if new.group != old.group => {
                    change.removed.push(old.clone());
                    change.added.push(new.clone());
                }
                Some(new) if new.max_in_flight != old.max_in_flight => {
                    change.updated.push(new.clone());
                }
                Some(_) => {}
            }
        }
        for new in next.all() {
            if self.get(&new.topic, &new.member, &new.subscriber).is_none() {
                change.added.push(new.clone());
            }
        }
        change
    }
}

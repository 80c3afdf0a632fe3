use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;

use super::{LocalSubscription, RegistryChange, SubscriberId, Subscription};
use crate::topology::MemberId;

/// The cluster-wide registry: every subscription of every member in the topology, as
/// derived from the members' gossiped subscription lists. A subscriber of a member appears
/// at most once per topic (a list naming it twice keeps the last entry).
///
/// The registry is kept per member as well as per topic, so that one member's new list
/// ([`replace_member`](Self::replace_member)) costs what that member subscribes, not a
/// rebuild of the whole registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionRegistry {
    /// Subscriptions per topic, keyed and sorted by (member, subscriber).
    topics: BTreeMap<String, BTreeMap<(MemberId, SubscriberId), Subscription>>,
    /// The (topic, subscriber) pairs of each member that has any.
    members: BTreeMap<MemberId, BTreeSet<(String, SubscriberId)>>,
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
            registry.replace_member(member, subscriptions);
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

    /// The members with subscriptions.
    pub fn members(&self) -> impl Iterator<Item = &MemberId> {
        self.members.keys()
    }

    /// The subscriptions of `member`, sorted by topic and subscriber.
    pub fn of_member<'a>(&'a self, member: &'a MemberId) -> impl Iterator<Item = &'a Subscription> {
        self.members
            .get(member)
            .into_iter()
            .flatten()
            .filter_map(move |(topic, subscriber)| self.get(topic, member, subscriber))
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
        if removed {
            self.unindex(
                &subscription.member,
                &subscription.topic,
                &subscription.subscriber,
            );
        }
        removed
    }

    fn unindex(&mut self, member: &MemberId, topic: &str, subscriber: &SubscriberId) {
        if let Some(own) = self.members.get_mut(member) {
            own.remove(&(String::from(topic), subscriber.clone()));
            if own.is_empty() {
                self.members.remove(member);
            }
        }
    }

    /// Makes `list` the subscriptions of `member` (an empty list removes the member) and
    /// returns what changed for it: a changed group is a removal and an addition, a
    /// changed in-flight limit alone an update. Costs what the member subscribed before
    /// and after, whatever the size of the registry.
    pub fn replace_member(
        &mut self,
        member: &MemberId,
        list: &[LocalSubscription],
    ) -> RegistryChange {
        // The new list, last entry winning for a (topic, subscriber) named twice.
        let mut next: BTreeMap<(String, SubscriberId), Subscription> = BTreeMap::new();
        for s in list {
            next.insert(
                (s.topic.clone(), s.subscriber.clone()),
                Subscription {
                    topic: s.topic.clone(),
                    member: member.clone(),
                    subscriber: s.subscriber.clone(),
                    group: s.group.clone(),
                    max_in_flight: s.max_in_flight,
                },
            );
        }
        let mut change = RegistryChange::default();
        let old_keys = self.members.remove(member).unwrap_or_default();
        for (topic, subscriber) in &old_keys {
            let Some(set) = self.topics.get_mut(topic) else {
                continue;
            };
            let Some(old) = set.remove(&(member.clone(), subscriber.clone())) else {
                continue;
            };
            if set.is_empty() {
                self.topics.remove(topic);
            }
            match next.get(&(topic.clone(), subscriber.clone())) {
                None => change.removed.push(old),
                Some(new) if new.group != old.group => {
                    change.removed.push(old);
                    change.added.push(new.clone());
                }
                Some(new) if new.max_in_flight != old.max_in_flight => {
                    change.updated.push(new.clone());
                }
                Some(_) => {}
            }
        }
        let mut keys = BTreeSet::new();
        for (key, subscription) in next {
            if !old_keys.contains(&key) {
                change.added.push(subscription.clone());
            }
            self.topics
                .entry(key.0.clone())
                .or_default()
                .insert((member.clone(), key.1.clone()), subscription);
            keys.insert(key);
        }
        if !keys.is_empty() {
            self.members.insert(member.clone(), keys);
        }
        change
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

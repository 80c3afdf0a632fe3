//! `/topics`: the subscriptions of the node's registry, per topic and group.

use std::collections::BTreeMap;

use chorus_core::pubsub::Subscription;
use serde::Serialize;

/// The body of `/topics`.
#[derive(Debug, Serialize)]
pub(crate) struct TopicsView {
    pub(crate) topics: Vec<TopicView>,
}

/// The subscriptions of one topic.
#[derive(Debug, Serialize)]
pub(crate) struct TopicView {
    pub(crate) topic: String,
    /// Every subscription of the topic, broadcast and group ones.
    pub(crate) subscriptions: usize,
    /// Subscribers without a group: each receives every message.
    pub(crate) broadcast: Vec<SubscriberView>,
    /// Load-balanced groups, by name: each message goes to one instance of each.
    pub(crate) groups: Vec<GroupView>,
}

/// The instances of one group.
#[derive(Debug, Serialize)]
pub(crate) struct GroupView {
    pub(crate) group: String,
    pub(crate) instances: Vec<SubscriberView>,
}

/// One subscriber and the member it lives on.
#[derive(Debug, Serialize)]
pub(crate) struct SubscriberView {
    pub(crate) member: String,
    pub(crate) incarnation: u64,
    pub(crate) subscriber: String,
    pub(crate) max_in_flight: u32,
}

impl TopicsView {
    /// Groups `subscriptions` (as the registry lists them) per topic and group, sorted.
    pub(crate) fn new(subscriptions: Vec<Subscription>) -> Self {
        let mut topics: BTreeMap<String, TopicView> = BTreeMap::new();
        for s in subscriptions {
            let topic = topics.entry(s.topic.clone()).or_insert_with(|| TopicView {
                topic: s.topic.clone(),
                subscriptions: 0,
                broadcast: Vec::new(),
                groups: Vec::new(),
            });
            topic.subscriptions += 1;
            let view = SubscriberView {
                member: s.member.name().to_string(),
                incarnation: s.member.incarnation(),
                subscriber: s.subscriber.to_string(),
                max_in_flight: s.max_in_flight,
            };
            match s.group {
                None => topic.broadcast.push(view),
                Some(group) => match topic.groups.iter_mut().find(|g| g.group == group) {
                    Some(g) => g.instances.push(view),
                    None => topic.groups.push(GroupView {
                        group,
                        instances: vec![view],
                    }),
                },
            }
        }
        let mut topics: Vec<TopicView> = topics.into_values().collect();
        for topic in &mut topics {
            topic.groups.sort_by(|a, b| a.group.cmp(&b.group));
        }
        Self { topics }
    }
}

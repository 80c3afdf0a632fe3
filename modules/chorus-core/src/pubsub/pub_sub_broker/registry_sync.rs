//! Following the registry: subscriptions that appear, change or disappear, and what that
//! does to group instances, their queues and the payloads they hold.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{HeldPayload, PubSubBroker};
use crate::pubsub::{
    BatchMessage, LoadBalancedGroup, LocalSubscription, PubSubEvent, RemovalReason, RequeueReason,
    SubscriberId, Subscription,
};
use crate::topology::MemberId;

impl PubSubBroker {
    /// Rebuilds the registry from the members of the current topology and their gossiped
    /// subscription values (`None`: no value yet): members not listed lose their
    /// subscriptions. This node's own subscriptions are taken from its local list. See
    /// [`sync_members`](Self::sync_members) for what is reported; a driver that follows
    /// the topology change by change calls that instead, for the members that changed.
    pub fn sync_registry<'a>(
        &mut self,
        members: impl IntoIterator<Item = (&'a MemberId, Option<&'a [u8]>)>,
        now: u64,
    ) {
        let mut present: BTreeSet<MemberId> = BTreeSet::new();
        let mut lists: Vec<(MemberId, Option<&[u8]>)> = Vec::new();
        for (member, value) in members {
            present.insert(member.clone());
            lists.push((member.clone(), value));
        }
        let gone: Vec<MemberId> = self
            .registry
            .members()
            .filter(|m| **m != self.me && !present.contains(*m))
            .cloned()
            .collect();
        self.sync_members(lists.iter().map(|(m, v)| (m, *v)), &gone, now);
    }

    /// Follows the registry member by member: each of `changed` (a member of the topology)
    /// now gossips `value` (`None`: no value yet; a value that does not decode counts as
    /// no subscriptions), and each of `gone` left the topology. Costs what those members
    /// subscribe, whatever the size of the registry. This node's own entry always comes
    /// from its local list.
    ///
    /// Subscriptions that disappeared are reported as `Unsubscribed` (their member is
    /// still there) or `SubscriberRemoved { MemberGone }`; new ones as `Subscribed`, after
    /// one `TopicCreated` per topic that had no subscriber. Group instances are added,
    /// updated (a new in-flight limit) or removed (a removed instance's unfinished
    /// messages go back to the front of its group's queue); retained messages go to new
    /// broadcast subscribers.
    pub fn sync_members<'a>(
        &mut self,
        changed: impl IntoIterator<Item = (&'a MemberId, Option<&'a [u8]>)>,
        gone: &[MemberId],
        now: u64,
    ) {
        let mut lists: Vec<(MemberId, Vec<LocalSubscription>)> = Vec::new();
        for (member, value) in changed {
            let list = if *member == self.me {
                self.local.values().cloned().collect()
            } else {
                let declared = value
                    .and_then(LocalSubscription::decode_all)
                    .unwrap_or_default();
                self.within_limits(member, declared)
            };
            lists.push((member.clone(), list));
        }
        self.apply_members(&lists, gone, now);
    }

    /// What this node takes of a remote member's declared list: subscriptions to valid
    /// topics, at most `max_subscriptions_per_member` of them, in-flight limits brought
    /// down to `max_in_flight`; anything cut is reported as `SubscriptionsLimited`.
    fn within_limits(
        &mut self,
        member: &MemberId,
        declared: Vec<LocalSubscription>,
    ) -> Vec<LocalSubscription> {
        let declared_count = declared.len();
        let max_in_flight = self.config.max_in_flight;
        let mut in_flight_lowered = 0;
        let mut kept: Vec<LocalSubscription> = declared
            .into_iter()
            .filter(|s| self.validate_topic(&s.topic).is_ok() && !s.subscriber.as_str().is_empty())
            .take(self.config.max_subscriptions_per_member)
            .collect();
        for s in &mut kept {
            if s.group.is_some() && s.max_in_flight > max_in_flight {
                s.max_in_flight = max_in_flight;
                in_flight_lowered += 1;
            }
        }
        if kept.len() < declared_count || in_flight_lowered > 0 {
            self.emit(PubSubEvent::SubscriptionsLimited {
                member: member.clone(),
                declared: declared_count,
                kept: kept.len(),
                in_flight_lowered,
            });
        }
        kept
    }

    /// Replaces the lists of `lists`' members and removes `gone`, then reports and
    /// applies what changed, as [`sync_members`](Self::sync_members) describes.
    fn apply_members(
        &mut self,
        lists: &[(MemberId, Vec<LocalSubscription>)],
        gone: &[MemberId],
        now: u64,
    ) {
        // Topics without a subscriber before this sync: an addition to one creates it.
        let new_topics: BTreeSet<String> = lists
            .iter()
            .flat_map(|(_, list)| list.iter())
            .filter(|s| !self.registry.has_topic(&s.topic))
            .map(|s| s.topic.clone())
            .collect();
        let mut change = crate::pubsub::RegistryChange::default();
        let mut merge = |part: crate::pubsub::RegistryChange| {
            change.removed.extend(part.removed);
            change.updated.extend(part.updated);
            change.added.extend(part.added);
        };
        for member in gone {
            if *member != self.me {
                merge(self.registry.replace_member(member, &[]));
            }
        }
        for (member, list) in lists {
            merge(self.registry.replace_member(member, list));
        }
        let gone: BTreeSet<&MemberId> = gone.iter().filter(|m| **m != self.me).collect();
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        for removed in change.removed {
            if gone.contains(&removed.member) {
                self.emit(PubSubEvent::SubscriberRemoved {
                    topic: removed.topic.clone(),
                    member: removed.member.clone(),
                    subscriber: removed.subscriber.clone(),
                    reason: RemovalReason::MemberGone,
                });
            } else {
                self.emit(PubSubEvent::Unsubscribed {
                    topic: removed.topic.clone(),
                    member: removed.member.clone(),
                    subscriber: removed.subscriber.clone(),
                    group: removed.group.clone(),
                });
            }
            if let Some(group) = &removed.group {
                touched.insert((removed.topic.clone(), group.clone()));
            }
            self.remove_instance(&removed, now);
        }
        for updated in change.updated {
            self.update_instance(&updated, now);
        }
        let mut created: BTreeSet<String> = BTreeSet::new();
        for added in change.added {
            if new_topics.contains(&added.topic) && created.insert(added.topic.clone()) {
                self.emit(PubSubEvent::TopicCreated {
                    topic: added.topic.clone(),
                });
            }
            self.emit(PubSubEvent::Subscribed {
                topic: added.topic.clone(),
                member: added.member.clone(),
                subscriber: added.subscriber.clone(),
                group: added.group.clone(),
            });
            self.add_subscriber(&added, now);
        }
        // Only now: an instance replaced in one sync (a member's new incarnation) does not
        // leave its group without instances.
        for (topic, group) in touched {
            self.settle_group(&topic, &group);
        }
    }

    /// Takes a new identity (the node rejoined): the local subscriptions are kept and move
    /// to the new member in the registry (the old identity's leave its groups, their
    /// unfinished messages requeued, as for any member gone).
    pub fn set_member(&mut self, me: MemberId, now: u64) {
        if me == self.me {
            return;
        }
        let previous = core::mem::replace(&mut self.me, me.clone());
        let own: Vec<LocalSubscription> = self.local.values().cloned().collect();
        self.apply_members(&[(me, own)], &[previous], now);
    }

    fn add_subscriber(&mut self, added: &Subscription, now: u64) {
        match &added.group {
            Some(group) => {
                let key = (added.topic.clone(), group.clone());
                let capacity = self.config.group_queue_capacity;
                let assignments = self
                    .groups
                    .entry(key)
                    .or_insert_with(|| LoadBalancedGroup::new(capacity))
                    .add_instance(
                        added.member.clone(),
                        added.subscriber.clone(),
                        added.max_in_flight,
                    );
                if !assignments.is_empty() {
                    self.send_assignments(&added.topic, group, assignments, now);
                }
            }
            None => {
                // A retained message goes to a subscriber that arrives later.
                if let Some((message_id, payload)) = self.retained.get(&added.topic).cloned() {
                    let mut batch = BTreeMap::new();
                    batch.insert(
                        added.member.clone(),
                        alloc::vec![BatchMessage {
                            message_id,
                            payload: payload.to_vec(),
                            subscribers: alloc::vec![added.subscriber.clone()],
                            group: None,
                        }],
                    );
                    self.send_batches(&added.topic, batch, now);
                }
            }
        }
    }

    /// A group instance's new in-flight limit: its unfinished messages stay with it, and a
    /// higher limit may take queued messages at once.
    fn update_instance(&mut self, updated: &Subscription, now: u64) {
        let Some(group) = &updated.group else {
            return;
        };
        let key = (updated.topic.clone(), group.clone());
        let Some(g) = self.groups.get_mut(&key) else {
            return;
        };
        let assignments = g.add_instance(
            updated.member.clone(),
            updated.subscriber.clone(),
            updated.max_in_flight,
        );
        if !assignments.is_empty() {
            self.send_assignments(&updated.topic, group, assignments, now);
        }
    }

    /// Takes a group instance out of its group: its unfinished messages go back to the
    /// front of the queue (`Requeued`) and on to idle instances.
    pub(super) fn remove_instance(&mut self, removed: &Subscription, now: u64) {
        let Some(group) = &removed.group else {
            return;
        };
        let key = (removed.topic.clone(), group.clone());
        let Some(g) = self.groups.get_mut(&key) else {
            return;
        };
        let held = g.in_flight(&removed.member, &removed.subscriber).to_vec();
        let assignments = g.remove_instance(&removed.member, &removed.subscriber);
        self.report_requeued(
            &removed.topic,
            group,
            &removed.member,
            &removed.subscriber,
            &held,
            RequeueReason::InstanceGone,
        );
        self.send_assignments(&removed.topic, group, assignments, now);
    }

    pub(super) fn report_requeued(
        &mut self,
        topic: &str,
        group: &str,
        member: &MemberId,
        subscriber: &SubscriberId,
        message_ids: &[u64],
        reason: RequeueReason,
    ) {
        if message_ids.is_empty() {
            return;
        }
        self.topic_metrics(topic).requeued += message_ids.len() as u64;
        for &message_id in message_ids {
            self.emit(PubSubEvent::Requeued {
                topic: String::from(topic),
                group: String::from(group),
                member: member.clone(),
                subscriber: subscriber.clone(),
                message_id,
                reason,
            });
        }
    }

    /// A group that lost its last instance: forgotten when nothing waits in it, reported
    /// (`GroupWithoutInstances`) when messages wait for an instance to come back.
    pub(super) fn settle_group(&mut self, topic: &str, group: &str) {
        let key = (String::from(topic), String::from(group));
        let Some(g) = self.groups.get(&key) else {
            return;
        };
        if g.instances() > 0 {
            return;
        }
        if g.is_unused() {
            self.groups.remove(&key);
        } else {
            let queued = g.queue_len();
            self.emit(PubSubEvent::GroupWithoutInstances {
                topic: String::from(topic),
                group: String::from(group),
                queued,
            });
        }
    }

    /// Keeps a group message's payload while one more group holds it.
    pub(super) fn hold_payload(&mut self, message_id: u64, payload: &Arc<[u8]>) {
        self.payloads
            .entry(message_id)
            .and_modify(|held| held.groups += 1)
            .or_insert_with(|| HeldPayload {
                payload: Arc::clone(payload),
                groups: 1,
            });
    }

    /// One group is done with a message; its payload goes when no group holds it.
    pub(super) fn release_payload(&mut self, message_id: u64) {
        if let Some(held) = self.payloads.get_mut(&message_id) {
            held.groups = held.groups.saturating_sub(1);
            if held.groups == 0 {
                self.payloads.remove(&message_id);
            }
        }
    }
}

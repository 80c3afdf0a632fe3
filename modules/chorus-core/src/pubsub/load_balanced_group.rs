use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::{GroupAssignment, PubSubError, SubscriberId};
use crate::topology::MemberId;

/// One instance of a group and the messages it holds unfinished, in the order it got them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instance {
    member: MemberId,
    subscriber: SubscriberId,
    limit: u32,
    in_flight: Vec<u64>,
}

impl Instance {
    fn is_idle(&self) -> bool {
        self.in_flight.len() < self.limit as usize
    }
}

/// The subscribers of one topic that share a group name, as seen by one publishing node.
///
/// Each message goes to exactly one instance: the next **idle** one in round-robin order
/// (instances sorted by member and subscriber; "next" is the first idle instance after the
/// one that got the previous message). An instance is busy from delivery until it
/// completes the message, up to its in-flight limit. When every instance is busy, messages
/// wait in a bounded FIFO queue and are handed out in order as instances complete; an
/// instance that disappears, or whose delivery timed out, puts its unfinished messages back
/// at the front of the queue, in their original order.
#[derive(Debug, Clone)]
pub struct LoadBalancedGroup {
    /// Sorted by (member, subscriber).
    instances: Vec<Instance>,
    /// The instance that got the last message: the round-robin position.
    last: Option<(MemberId, SubscriberId)>,
    queue: VecDeque<u64>,
    capacity: usize,
}

impl LoadBalancedGroup {
    /// An empty group whose queue holds at most `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Self {
            instances: Vec::new(),
            last: None,
            queue: VecDeque::new(),
            capacity,
        }
    }

    /// The number of instances.
    pub fn instances(&self) -> usize {
        self.instances.len()
    }

    /// Whether the group has neither instances nor waiting messages (nothing to keep).
    pub fn is_unused(&self) -> bool {
        self.instances.is_empty() && self.queue.is_empty()
    }

    /// Messages waiting for an idle instance.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// The messages waiting, in order.
    pub fn queued(&self) -> impl Iterator<Item = u64> + '_ {
        self.queue.iter().copied()
    }

    /// The messages `subscriber` on `member` holds unfinished, in the order it got them.
    pub fn in_flight(&self, member: &MemberId, subscriber: &SubscriberId) -> &[u64] {
        self.position(member, subscriber)
            .and_then(|i| self.instances.get(i))
            .map_or(&[], |instance| instance.in_flight.as_slice())
    }

    /// How many more messages the group can take now: idle slots plus queue room.
    pub fn free_capacity(&self) -> usize {
        let idle: usize = self
            .instances
            .iter()
            .map(|i| (i.limit as usize).saturating_sub(i.in_flight.len()))
            .sum();
        idle + self.capacity.saturating_sub(self.queue.len())
    }

    fn position(&self, member: &MemberId, subscriber: &SubscriberId) -> Option<usize> {
        self.instances
            .binary_search_by(|i| (&i.member, &i.subscriber).cmp(&(member, subscriber)))
            .ok()
    }

    /// Adds an instance, or updates the in-flight limit of one already there (its
    /// unfinished messages stay with it). Queued messages may go to it at once.
    pub fn add_instance(
        &mut self,
        member: MemberId,
        subscriber: SubscriberId,
        limit: u32,
    ) -> Vec<GroupAssignment> {
        let limit = limit.max(1);
        match self
            .instances
            .binary_search_by(|i| (&i.member, &i.subscriber).cmp(&(&member, &subscriber)))
        {
            Ok(i) => {
                if let Some(instance) = self.instances.get_mut(i) {
                    instance.limit = limit;
                }
            }
            // Sorted, so that every publisher walks instances in the same order.
            Err(at) => self.instances.insert(
                at,
                Instance {
                    member,
                    subscriber,
                    limit,
                    in_flight: Vec::new(),
                },
            ),
        }
        self.dispatch()
    }

    /// Removes an instance: its unfinished messages go back to the front of the queue
    /// (in their original order) and are handed to idle instances.
    pub fn remove_instance(
        &mut self,
        member: &MemberId,
        subscriber: &SubscriberId,
    ) -> Vec<GroupAssignment> {
        let Some(i) = self.position(member, subscriber) else {
            return Vec::new();
        };
        let instance = self.instances.remove(i);
        for message in instance.in_flight.into_iter().rev() {
            self.queue.push_front(message);
        }
        self.dispatch()
    }

    /// Takes back from an instance those of `message_ids` it holds (their delivery timed
    /// out): they go to the front of the queue in the order the instance got them, and are
    /// handed to the next idle instances **after** that one, so another idle instance is
    /// preferred to the one that did not answer. Ids it does not hold are ignored.
    pub fn requeue(
        &mut self,
        member: &MemberId,
        subscriber: &SubscriberId,
        message_ids: &[u64],
    ) -> Vec<GroupAssignment> {
        let Some(instance) = self
            .position(member, subscriber)
            .and_then(|i| self.instances.get_mut(i))
        else {
            return Vec::new();
        };
        let mut taken = Vec::new();
        instance.in_flight.retain(|m| {
            let take = message_ids.contains(m);
            if take {
                taken.push(*m);
            }
            !take
        });
        if taken.is_empty() {
            return Vec::new();
        }
        for message in taken.into_iter().rev() {
            self.queue.push_front(message);
        }
        self.last = Some((member.clone(), subscriber.clone()));
        self.dispatch()
    }

    /// Offers a new message: handed to the next idle instance, or queued. `Err` when the
    /// queue is full (nothing changed).
    pub fn offer(&mut self, message_id: u64) -> Result<Option<GroupAssignment>, u64> {
        if self.queue.is_empty()
            && let Some(assignment) = self.assign(message_id)
        {
            return Ok(Some(assignment));
        }
        if self.queue.len() >= self.capacity {
            return Err(message_id);
        }
        self.queue.push_back(message_id);
        Ok(None)
    }

    /// The instance finished `message_id`: it is idle again and queued messages may go
    /// to it (or others). `Err` when that instance does not hold that message.
    pub fn complete(
        &mut self,
        member: &MemberId,
        subscriber: &SubscriberId,
        message_id: u64,
    ) -> Result<Vec<GroupAssignment>, PubSubError> {
        let instance = self
            .position(member, subscriber)
            .and_then(|i| self.instances.get_mut(i))
            .ok_or(PubSubError::NotInFlight { message_id })?;
        let at = instance
            .in_flight
            .iter()
            .position(|m| *m == message_id)
            .ok_or(PubSubError::NotInFlight { message_id })?;
        instance.in_flight.remove(at);
        Ok(self.dispatch())
    }

    /// Hands queued messages, in order, to idle instances.
    fn dispatch(&mut self) -> Vec<GroupAssignment> {
        let mut assignments = Vec::new();
        while let Some(&next) = self.queue.front() {
            let Some(assignment) = self.assign(next) else {
                break;
            };
            self.queue.pop_front();
            assignments.push(assignment);
        }
        assignments
    }

    /// Gives `message_id` to the first idle instance after the last one served, if any.
    fn assign(&mut self, message_id: u64) -> Option<GroupAssignment> {
        let count = self.instances.len();
        let start = self.last.as_ref().map_or(0, |(member, subscriber)| {
            self.instances
                .partition_point(|i| (&i.member, &i.subscriber) <= (member, subscriber))
        });
        for step in 0..count {
            let index = (start + step) % count;
            let Some(instance) = self.instances.get_mut(index) else {
                continue;
            };
            if instance.is_idle() {
                instance.in_flight.push(message_id);
                self.last = Some((instance.member.clone(), instance.subscriber.clone()));
                return Some(GroupAssignment {
                    message_id,
                    member: instance.member.clone(),
                    subscriber: instance.subscriber.clone(),
                });
            }
        }
        None
    }
}

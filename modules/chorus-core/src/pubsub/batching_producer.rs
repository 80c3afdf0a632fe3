use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use super::{
    MessageHandle, MessageOutcome, ProducerBatch, ProducerConfig, ProducerError, PublishAck,
    PublishRejection, RetryPolicy,
};

/// A message waiting in the producer.
#[derive(Debug, Clone)]
struct Queued {
    handle: MessageHandle,
    payload: Vec<u8>,
    produced_at: u64,
}

/// A batch published and not yet answered.
#[derive(Debug, Clone)]
struct InFlight {
    messages: Vec<Queued>,
    attempts: u32,
    sent_at: u64,
}

/// Collects messages for one topic into batches, sans-IO: by size or linger time, with a
/// bounded queue, a publish timeout, a retry policy, cancellation and a bounded number of
/// batches in flight.
///
/// Order: batches go out in the order their messages were produced, and batches to retry
/// go out before any batch not yet sent (no new batch leaves while a retry waits), oldest
/// messages first. With
/// `max_in_flight_batches` = 1 messages are therefore published in the order produced.
/// With more in flight, a batch sent after one that is rejected and retried may be
/// accepted first: its messages are then published before the retried ones.
///
/// Timeouts: a message still waiting — in the queue or for a retry — fails with `Timeout`
/// once `publish_timeout_ms` passed since it was produced. A batch in flight cannot be
/// recalled, so it waits for its answer up to `publish_timeout_ms` after it was sent;
/// unanswered by then it counts as rejected with `Timeout` and follows the retry policy.
#[derive(Debug)]
pub struct BatchingProducer {
    config: ProducerConfig,
    queue: VecDeque<Queued>,
    /// Batches to publish again, in the order their messages were produced, with the time
    /// each may go.
    retries: VecDeque<(u64, InFlight)>,
    in_flight: BTreeMap<u64, InFlight>,
    next_handle: u64,
    next_batch: u64,
    stopped: bool,
    outcomes: Vec<(MessageHandle, MessageOutcome)>,
}

impl BatchingProducer {
    /// A producer with `config`.
    pub fn new(config: ProducerConfig) -> Result<Self, ProducerError> {
        config.validate()?;
        Ok(Self {
            config,
            queue: VecDeque::new(),
            retries: VecDeque::new(),
            in_flight: BTreeMap::new(),
            next_handle: 1,
            next_batch: 1,
            stopped: false,
            outcomes: Vec::new(),
        })
    }

    /// Messages waiting to be batched.
    pub fn queued(&self) -> usize {
        self.queue.len()
            + self
                .retries
                .iter()
                .map(|(_, b)| b.messages.len())
                .sum::<usize>()
    }

    /// Batches published and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether the producer stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Queues a message produced at `now`.
    pub fn produce(&mut self, payload: Vec<u8>, now: u64) -> Result<MessageHandle, ProducerError> {
        if self.stopped {
            return Err(ProducerError::Stopped);
        }
        if self.queued() >= self.config.queue_capacity {
            return Err(ProducerError::Full);
        }
        let handle = MessageHandle(self.next_handle);
        self.next_handle += 1;
        self.queue.push_back(Queued {
            handle,
            payload,
            produced_at: now,
        });
        Ok(handle)
    }

    /// Cancels a message still waiting: in the queue, or in a batch waiting to be
    /// retried (a batch left empty is dropped). A message in a batch in flight cannot be
    /// cancelled. Returns whether it was cancelled.
    pub fn cancel(&mut self, handle: MessageHandle) -> bool {
        let found = if let Some(at) = self.queue.iter().position(|m| m.handle == handle) {
            self.queue.remove(at);
            true
        } else {
            self.retries.iter_mut().any(|(_, batch)| {
                let before = batch.messages.len();
                batch.messages.retain(|m| m.handle != handle);
                batch.messages.len() < before
            })
        };
        if !found {
            return false;
        }
        self.retries.retain(|(_, batch)| !batch.messages.is_empty());
        self.outcomes.push((handle, MessageOutcome::Cancelled));
        true
    }

    /// Stops: every waiting message ends `Stopped`; batches in flight still get answers.
    pub fn stop(&mut self) {
        self.stopped = true;
        let waiting: Vec<Queued> = self
            .retries
            .drain(..)
            .flat_map(|(_, b)| b.messages)
            .chain(self.queue.drain(..))
            .collect();
        for m in waiting {
            self.outcomes.push((m.handle, MessageOutcome::Stopped));
        }
    }

    /// The batches to publish now: retries that are due first, then full batches, then a
    /// partial one whose oldest message lingered long enough; at most
    /// `max_in_flight_batches` in flight. Timeouts are applied first (see the type's doc):
    /// waiting messages produced, and batches in flight sent, `publish_timeout_ms` ago.
    pub fn poll(&mut self, now: u64) -> Vec<ProducerBatch> {
        self.expire(now);
        let mut out = Vec::new();
        while self.in_flight.len() < self.config.max_in_flight_batches && !self.stopped {
            let batch = if let Some((due, _)) = self.retries.front()
                && *due <= now
            {
                self.retries.pop_front().map(|(_, b)| b)
            } else if self.retries.is_empty() && self.batch_ready(now) {
                let take = self.queue.len().min(self.config.batch_size);
                Some(InFlight {
                    messages: self.queue.drain(..take).collect(),
                    attempts: 0,
                    sent_at: now,
                })
            } else {
                None
            };
            let Some(mut batch) = batch else {
                break;
            };
            batch.attempts += 1;
            batch.sent_at = now;
            let id = self.next_batch;
            self.next_batch += 1;
            out.push(ProducerBatch {
                id,
                payloads: batch.messages.iter().map(|m| m.payload.clone()).collect(),
            });
            self.in_flight.insert(id, batch);
        }
        out
    }

    fn batch_ready(&self, now: u64) -> bool {
        match self.queue.front() {
            None => false,
            Some(oldest) => {
                self.queue.len() >= self.config.batch_size
                    || now.saturating_sub(oldest.produced_at) >= self.config.linger_ms
            }
        }
    }

    /// When the next poll has something to do (for the driver's timer): the earliest of
    /// the next send — a retry due, or the oldest queued message's linger deadline, when a
    /// batch may go — and the next timeout of a waiting message or a batch in flight.
    /// `None` when nothing waits.
    pub fn next_poll_at(&self) -> Option<u64> {
        let timeout = self.config.publish_timeout_ms;
        let may_send = !self.stopped && self.in_flight.len() < self.config.max_in_flight_batches;
        let send = if !may_send {
            None
        } else if let Some((due, _)) = self.retries.front() {
            // No new batch leaves while a retry waits.
            Some(*due)
        } else {
            self.queue.front().map(|m| {
                if self.queue.len() >= self.config.batch_size {
                    m.produced_at
                } else {
                    m.produced_at.saturating_add(self.config.linger_ms)
                }
            })
        };
        let waiting = self
            .queue
            .iter()
            .chain(self.retries.iter().flat_map(|(_, b)| b.messages.iter()))
            .map(|m| m.produced_at.saturating_add(timeout));
        let in_flight = self
            .in_flight
            .values()
            .map(|b| b.sent_at.saturating_add(timeout));
        send.into_iter().chain(waiting).chain(in_flight).min()
    }

    fn expire(&mut self, now: u64) {
        let timeout = self.config.publish_timeout_ms;
        // Batches in flight first: an unanswered one follows the retry policy, and those
        // of its messages that are too old then fail below with the waiting ones.
        let stale: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, b)| now.saturating_sub(b.sent_at) >= timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.on_ack(
                id,
                &PublishAck::Rejected {
                    reason: PublishRejection::Timeout,
                },
                now,
            );
        }
        let late = |m: &Queued| now.saturating_sub(m.produced_at) >= timeout;
        let mut expired = Vec::new();
        for (_, batch) in &mut self.retries {
            batch.messages.retain(|m| {
                if late(m) {
                    expired.push(m.handle);
                    false
                } else {
                    true
                }
            });
        }
        self.retries.retain(|(_, batch)| !batch.messages.is_empty());
        self.queue.retain(|m| {
            if late(m) {
                expired.push(m.handle);
                false
            } else {
                true
            }
        });
        for handle in expired {
            self.fail(handle, PublishRejection::Timeout);
        }
    }

    fn fail(&mut self, handle: MessageHandle, reason: PublishRejection) {
        self.outcomes
            .push((handle, MessageOutcome::Failed { reason }));
    }

    /// The broker's answer to batch `id`. Accepted: its messages are published. Rejected
    /// (or timed out): the retry policy decides.
    pub fn on_ack(&mut self, id: u64, ack: &PublishAck, now: u64) {
        let Some(batch) = self.in_flight.remove(&id) else {
            return;
        };
        let reason = match ack {
            PublishAck::Accepted { .. } => {
                for m in batch.messages {
                    self.outcomes.push((m.handle, MessageOutcome::Published));
                }
                return;
            }
            PublishAck::Rejected { reason } => *reason,
        };
        let retry_at = match self.config.retry {
            RetryPolicy::RetryImmediately { max_attempts } if batch.attempts < max_attempts => {
                Some(now)
            }
            RetryPolicy::RetryAfter {
                delay_ms,
                max_attempts,
            } if batch.attempts < max_attempts => Some(now + delay_ms),
            _ => None,
        };
        match retry_at {
            Some(at) if !self.stopped => {
                // Retries wait in the order their messages were produced, whatever order
                // the rejections came in.
                let first = batch.messages.first().map(|m| m.handle);
                let position = self
                    .retries
                    .partition_point(|(_, b)| b.messages.first().map(|m| m.handle) < first);
                self.retries.insert(position, (at, batch));
            }
            _ => {
                for m in batch.messages {
                    self.fail(m.handle, reason);
                }
                if self.config.retry == RetryPolicy::FailBatchAndStop {
                    self.stop();
                }
            }
        }
    }

    /// Takes the outcomes decided since the last call.
    pub fn take_outcomes(&mut self) -> Vec<(MessageHandle, MessageOutcome)> {
        core::mem::take(&mut self.outcomes)
    }
}

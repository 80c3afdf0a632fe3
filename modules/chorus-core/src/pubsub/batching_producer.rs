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
/// batches in flight. Order is kept: a retried batch goes out before later messages.
#[derive(Debug)]
pub struct BatchingProducer {
    config: ProducerConfig,
    queue: VecDeque<Queued>,
    /// Batches to publish again, oldest first, with the time they may go.
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

    /// Cancels a message still waiting (not yet in a published batch).
    pub fn cancel(&mut self, handle: MessageHandle) -> bool {
        let Some(at) = self.queue.iter().position(|m| m.handle == handle) else {
            return false;
        };
        self.queue.remove(at);
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
    /// `max_in_flight_batches` in flight. Messages (and batches) older than the publish
    /// timeout fail with `Timeout` instead.
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

    /// When the next poll could send something (for the driver's timer).
    pub fn next_poll_at(&self) -> Option<u64> {
        let retry = self.retries.front().map(|(due, _)| *due);
        let linger = self
            .queue
            .front()
            .map(|m| m.produced_at + self.config.linger_ms);
        match (retry, linger) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn expire(&mut self, now: u64) {
        let timeout = self.config.publish_timeout_ms;
        let late = |m: &Queued| now.saturating_sub(m.produced_at) >= timeout;
        let mut expired = Vec::new();
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
            Some(at) if !self.stopped => self.retries.push_back((at, batch)),
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

mod local_sink;
mod pub_sub_state;
mod sink_counters;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chorus_core::pubsub::{PubSub, PubSubBroker, PubSubConfig, PubSubError};
use chorus_core::topology::MemberId;

pub(crate) use self::local_sink::LocalSink;
pub(crate) use self::pub_sub_state::{PubSubState, PubSubWork};
pub(crate) use self::sink_counters::SinkCounters;
use crate::transport::TransportConfig;

/// Room a delivery batch needs in a frame beyond its messages (ids, topic, framing).
const FRAME_MARGIN: usize = 64 * 1024;

/// The default buffer of a subscription stream, in deliveries.
pub(crate) const DEFAULT_SUBSCRIPTION_BUFFER: usize = 1_024;

/// The largest buffer of a subscription stream, in deliveries.
pub(crate) const MAX_SUBSCRIPTION_BUFFER: usize = 1 << 20;

/// The pub/sub component of a Tokio node: the core's `PubSubBroker` and the buffers of
/// the local subscribers, started first and stopped last by the cluster lifecycle.
///
/// The [`TokioGossiper`](crate::TokioGossiper) it is given to
/// ([`with_pub_sub`](crate::TokioGossiper::with_pub_sub)) drives the broker in its loop:
/// it hands it the pub/sub frames the transport received (with the member of the
/// connection's handshake), the members of each new topology with their gossiped
/// subscriptions, and the time; it sends the frames the broker asks for, publishes its
/// events as `ClusterEvent::PubSub`, and gossips the local subscriptions. While stopped,
/// publishes are refused with `NotStarted` and received batches are answered
/// `Unreachable`. Stopping ends every local subscription stream.
///
/// `start` checks the settings first: a delivery timeout of at least 1 ms, and delivery
/// batches (`max_batch_bytes`, `max_payload_bytes`) that fit the transport's
/// `max_frame_bytes` with 64 KiB to spare.
#[derive(Debug)]
pub struct TokioPubSub {
    state: Arc<Mutex<PubSubState>>,
    config: PubSubConfig,
    max_frame_bytes: usize,
}

impl TokioPubSub {
    /// A stopped component for member `member`, with subscription streams of 1,024
    /// deliveries, for frames of the default transport limit.
    pub fn new(member: MemberId, config: PubSubConfig) -> Self {
        let broker = PubSubBroker::new(member, config.clone());
        Self {
            state: Arc::new(Mutex::new(PubSubState::new(
                broker,
                DEFAULT_SUBSCRIPTION_BUFFER,
            ))),
            config,
            max_frame_bytes: TransportConfig::new().max_frame_bytes,
        }
    }

    /// Buffers `deliveries` per subscription stream (from 1 to 1,048,576; a value outside
    /// is brought to the bound). A broadcast subscriber whose buffer is full misses the
    /// messages that arrive meanwhile, each reported as `PubSubEvent::DeliveryDropped`.
    #[must_use]
    pub fn with_subscription_buffer(self, deliveries: usize) -> Self {
        lock(&self.state).set_buffer(deliveries.clamp(1, MAX_SUBSCRIPTION_BUFFER));
        self
    }

    /// The transport's `max_frame_bytes`, which every delivery batch must fit.
    #[must_use]
    pub fn with_max_frame_bytes(mut self, max_frame_bytes: usize) -> Self {
        self.max_frame_bytes = max_frame_bytes;
        self
    }

    /// Whether delivery runs.
    pub fn is_running(&self) -> bool {
        lock(&self.state).is_started()
    }

    /// The state the gossip loop drives.
    pub(crate) fn shared(&self) -> Arc<Mutex<PubSubState>> {
        Arc::clone(&self.state)
    }

    fn validate(&self) -> Result<(), PubSubError> {
        let config = &self.config;
        if config.delivery_timeout_ms == 0 {
            return Err(PubSubError::Driver {
                reason: "delivery_timeout_ms is 0: give batches at least 1 ms to be acknowledged"
                    .to_string(),
            });
        }
        let batch = config.max_batch_bytes.max(config.max_payload_bytes);
        if batch.saturating_add(FRAME_MARGIN) > self.max_frame_bytes {
            return Err(PubSubError::Driver {
                reason: format!(
                    "a delivery batch of up to {batch} bytes (the larger of max_batch_bytes and max_payload_bytes) plus {FRAME_MARGIN} bytes of framing does not fit max_frame_bytes ({}): lower PubSubConfig::max_batch_bytes / max_payload_bytes or raise TransportConfig::max_frame_bytes",
                    self.max_frame_bytes
                ),
            });
        }
        Ok(())
    }
}

/// The state, also after a thread panicked while holding it (every step leaves it whole).
pub(crate) fn lock(state: &Mutex<PubSubState>) -> MutexGuard<'_, PubSubState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PubSub for TokioPubSub {
    fn start(&mut self) -> Result<(), PubSubError> {
        if lock(&self.state).is_started() {
            return Err(PubSubError::AlreadyStarted);
        }
        self.validate()?;
        lock(&self.state).start()
    }

    fn stop(&mut self) -> Result<(), PubSubError> {
        lock(&self.state).stop()
    }
}

mod local_sink;
mod local_subscribers;
mod sink_counters;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chorus_core::pubsub::{PubSub, PubSubConfig, PubSubError};

pub(crate) use self::local_sink::{LocalSink, Offered};
pub(crate) use self::local_subscribers::LocalSubscribers;
pub(crate) use self::sink_counters::SinkCounters;
use crate::transport::TransportConfig;

/// The default buffer of a subscription stream, in deliveries.
pub(crate) const DEFAULT_SUBSCRIPTION_BUFFER: usize = 1_024;

/// The largest buffer of a subscription stream, in deliveries.
pub(crate) const MAX_SUBSCRIPTION_BUFFER: usize = 1 << 20;

/// The pub/sub component of a Tokio node in the cluster lifecycle: started first and
/// stopped last by `ClusterCore`. The broker itself is part of the node
/// (`chorus_core::node::Node`) that the gossip loop runs; this component holds its
/// settings, says whether it runs, and owns the buffers of the local subscription
/// streams.
///
/// `start` checks the settings first (`PubSubConfig::validate` for the transport's
/// `max_frame_bytes`). While stopped, publishes are refused with `NotStarted` and received
/// batches are answered `Unreachable`. Stopping ends every local subscription stream.
#[derive(Debug)]
pub(crate) struct TokioPubSub {
    shared: Arc<Mutex<LocalSubscribers>>,
    config: PubSubConfig,
    max_frame_bytes: usize,
}

impl TokioPubSub {
    /// A stopped component with subscription streams of 1,024 deliveries, for frames of
    /// the default transport limit.
    pub(crate) fn new(config: PubSubConfig) -> Self {
        Self {
            shared: Arc::new(Mutex::new(LocalSubscribers::new(
                DEFAULT_SUBSCRIPTION_BUFFER,
            ))),
            config,
            max_frame_bytes: TransportConfig::new().max_frame_bytes,
        }
    }

    /// Buffers `deliveries` per subscription stream (from 1 to 1,048,576; a value outside
    /// is brought to the bound).
    #[must_use]
    pub(crate) fn with_subscription_buffer(self, deliveries: usize) -> Self {
        lock(&self.shared).set_buffer(deliveries.clamp(1, MAX_SUBSCRIPTION_BUFFER));
        self
    }

    /// The transport's `max_frame_bytes`, which every delivery batch must fit.
    #[must_use]
    pub(crate) fn with_max_frame_bytes(mut self, max_frame_bytes: usize) -> Self {
        self.max_frame_bytes = max_frame_bytes;
        self
    }

    /// What the gossip loop needs to run the node's broker.
    pub(crate) fn link(&self) -> PubSubLink {
        PubSubLink {
            shared: Arc::clone(&self.shared),
            config: self.config.clone(),
            max_frame_bytes: self.max_frame_bytes,
        }
    }
}

/// The gossip loop's end of a [`TokioPubSub`]: the settings of the broker it composes
/// into its node, and the shared switch and streams.
#[derive(Debug, Clone)]
pub(crate) struct PubSubLink {
    pub(crate) shared: Arc<Mutex<LocalSubscribers>>,
    pub(crate) config: PubSubConfig,
    pub(crate) max_frame_bytes: usize,
}

/// The state, also after a thread panicked while holding it (every step leaves it whole).
pub(crate) fn lock(state: &Mutex<LocalSubscribers>) -> MutexGuard<'_, LocalSubscribers> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PubSub for TokioPubSub {
    fn start(&mut self) -> Result<(), PubSubError> {
        if lock(&self.shared).is_started() {
            return Err(PubSubError::AlreadyStarted);
        }
        self.config
            .validate(self.max_frame_bytes)
            .map_err(|e| PubSubError::Driver {
                reason: e.to_string(),
            })?;
        lock(&self.shared).start();
        Ok(())
    }

    fn stop(&mut self) -> Result<(), PubSubError> {
        let mut shared = lock(&self.shared);
        if !shared.is_started() {
            return Err(PubSubError::NotStarted);
        }
        shared.stop();
        Ok(())
    }
}

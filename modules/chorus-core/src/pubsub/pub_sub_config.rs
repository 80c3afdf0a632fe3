use alloc::string::String;
use alloc::vec::Vec;

use super::PubSubConfigError;

/// Room a delivery batch needs in a frame beyond its messages (ids, topic, framing).
pub const BATCH_FRAME_MARGIN: usize = 64 * 1024;

/// Settings of a node's pub/sub broker.
///
/// With the `serde` feature it reads and writes as a table whose keys are the field names,
/// every one optional (its default) and an unknown one an error; `delivery_timeout_ms` is
/// `delivery_timeout`, written for people (`"5s"`, see
/// [`duration_text`](crate::duration_text)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct PubSubConfig {
    /// Largest payload accepted, bytes (default 256 KiB).
    pub max_payload_bytes: usize,
    /// Messages a load-balanced group holds waiting for an idle instance (default 1,024).
    pub group_queue_capacity: usize,
    /// Longest topic name, bytes (default 256).
    pub max_topic_bytes: usize,
    /// A delivery batch not acknowledged after this long reports `Timeout` (default 5 s).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "delivery_timeout", with = "crate::duration_text")
    )]
    pub delivery_timeout_ms: u64,
    /// Encoded bytes of the messages of one delivery batch (default 512 KiB): the messages
    /// for one member are split into several batches above it, so that a batch fits the
    /// driver's frame limit. A message larger on its own travels alone.
    pub max_batch_bytes: usize,
    /// Topics whose latest message is handed to subscribers that arrive later.
    pub retained_topics: Vec<String>,
    /// Subscriptions taken from one remote member's gossiped list (default 1,024); the
    /// rest of a longer list is ignored and reported (`SubscriptionsLimited`), so that a
    /// peer cannot make every node hold a registry of its choosing.
    pub max_subscriptions_per_member: usize,
    /// The largest in-flight limit a group instance may declare (default 1,024): a local
    /// subscription asking for more is refused, a remote one is brought down to it and
    /// reported, so that an instance that never completes holds a bounded number of
    /// messages.
    pub max_in_flight: u32,
}

impl PubSubConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            max_payload_bytes: 256 * 1024,
            group_queue_capacity: 1_024,
            max_topic_bytes: 256,
            delivery_timeout_ms: 5_000,
            max_batch_bytes: 512 * 1024,
            retained_topics: Vec::new(),
            max_subscriptions_per_member: 1_024,
            max_in_flight: 1_024,
        }
    }

    /// Checks the settings for a transport whose frames hold at most `max_frame_bytes`:
    /// a delivery timeout of at least 1 ms, topic names of at least 1 byte, and delivery
    /// batches (`max_batch_bytes`, `max_payload_bytes`) that fit a frame with
    /// [`BATCH_FRAME_MARGIN`] to spare.
    pub fn validate(&self, max_frame_bytes: usize) -> Result<(), PubSubConfigError> {
        if self.delivery_timeout_ms == 0 {
            return Err(PubSubConfigError::ZeroDeliveryTimeout);
        }
        if self.max_topic_bytes == 0 {
            return Err(PubSubConfigError::ZeroTopicBytes);
        }
        if self.max_subscriptions_per_member == 0 || self.max_in_flight == 0 {
            return Err(PubSubConfigError::ZeroSubscriptionLimit);
        }
        let batch_bytes = self.max_batch_bytes.max(self.max_payload_bytes);
        if batch_bytes.saturating_add(BATCH_FRAME_MARGIN) > max_frame_bytes {
            return Err(PubSubConfigError::BatchExceedsFrame {
                batch_bytes,
                margin_bytes: BATCH_FRAME_MARGIN,
                max_frame_bytes,
            });
        }
        Ok(())
    }

    /// The same settings, retaining the latest message of `topic` for late subscribers.
    #[must_use]
    pub fn retain(mut self, topic: &str) -> Self {
        self.retained_topics.push(String::from(topic));
        self
    }
}

impl Default for PubSubConfig {
    fn default() -> Self {
        Self::new()
    }
}

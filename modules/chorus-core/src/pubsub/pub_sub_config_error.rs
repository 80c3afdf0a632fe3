use core::fmt;

/// A pub/sub setting that breaks a rule ([`PubSubConfig::validate`](super::PubSubConfig::validate)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PubSubConfigError {
    /// `delivery_timeout_ms` is 0: every batch would time out before it was sent.
    ZeroDeliveryTimeout,
    /// `max_topic_bytes` is 0: no topic name would be valid.
    ZeroTopicBytes,
    /// `max_subscriptions_per_member` or `max_in_flight` is 0: no subscription, or no
    /// group instance, could ever be taken.
    ZeroSubscriptionLimit,
    /// A delivery batch of up to `batch_bytes` (the larger of `max_batch_bytes` and
    /// `max_payload_bytes`) plus `margin_bytes` of framing does not fit the transport's
    /// frame limit.
    BatchExceedsFrame {
        /// The largest batch the settings allow.
        batch_bytes: usize,
        /// Room a batch needs beyond its messages.
        margin_bytes: usize,
        /// The transport's frame limit.
        max_frame_bytes: usize,
    },
}

impl fmt::Display for PubSubConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroDeliveryTimeout => f.write_str(
                "delivery_timeout_ms is 0: give batches at least 1 ms to be acknowledged",
            ),
            Self::ZeroTopicBytes => {
                f.write_str("max_topic_bytes is 0: allow topic names of at least 1 byte")
            }
            Self::ZeroSubscriptionLimit => {
                f.write_str("max_subscriptions_per_member and max_in_flight must be at least 1")
            }
            Self::BatchExceedsFrame {
                batch_bytes,
                margin_bytes,
                max_frame_bytes,
            } => write!(
                f,
                "a delivery batch of up to {batch_bytes} bytes (the larger of max_batch_bytes and max_payload_bytes) plus {margin_bytes} bytes of framing does not fit max_frame_bytes ({max_frame_bytes}): lower PubSubConfig::max_batch_bytes / max_payload_bytes or raise the transport's max_frame_bytes"
            ),
        }
    }
}

impl core::error::Error for PubSubConfigError {}

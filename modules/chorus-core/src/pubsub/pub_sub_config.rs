use alloc::string::String;
use alloc::vec::Vec;

/// Settings of a node's pub/sub broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubSubConfig {
    /// Largest payload accepted, bytes (default 256 KiB).
    pub max_payload_bytes: usize,
    /// Messages a load-balanced group holds waiting for an idle instance (default 1,024).
    pub group_queue_capacity: usize,
    /// Longest topic name, bytes (default 256).
    pub max_topic_bytes: usize,
    /// A delivery batch not acknowledged after this long reports `Timeout` (default 5 s).
    pub delivery_timeout_ms: u64,
    /// Encoded bytes of the messages of one delivery batch (default 512 KiB): the messages
    /// for one member are split into several batches above it, so that a batch fits the
    /// driver's frame limit. A message larger on its own travels alone.
    pub max_batch_bytes: usize,
    /// Topics whose latest message is handed to subscribers that arrive later.
    pub retained_topics: Vec<String>,
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
        }
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

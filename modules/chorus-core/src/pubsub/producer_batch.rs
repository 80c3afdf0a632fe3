use alloc::vec::Vec;

/// A batch a producer wants published: the driver calls `PubSubBroker::publish` with the
/// payloads and reports the answer with `BatchingProducer::on_ack`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerBatch {
    /// Matches the answer to the batch.
    pub id: u64,
    /// The payloads, in the order they were produced.
    pub payloads: Vec<Vec<u8>>,
}

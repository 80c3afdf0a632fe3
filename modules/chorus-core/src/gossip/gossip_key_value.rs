use alloc::boxed::Box;
use alloc::vec::Vec;

/// One gossiped value: its bytes, the owner's sequence number when it was written, and the
/// local time this node accepted it (never sent on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GossipKeyValue {
    value: Box<[u8]>,
    seq: u64,
    timestamp: u64,
}

impl GossipKeyValue {
    /// A value written at owner sequence `seq`, accepted here at `timestamp` (ms).
    pub fn new(value: Vec<u8>, seq: u64, timestamp: u64) -> Self {
        Self {
            value: value.into_boxed_slice(),
            seq,
            timestamp,
        }
    }

    /// The value bytes.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The owner's sequence number for this write; a higher one wins.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When this node accepted the value (its own clock, milliseconds).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

/// Bounds of one gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaLimits {
    /// At most this many entries per message.
    pub max_entries: usize,
    /// At most this many encoded bytes of entries and digests per message.
    pub max_bytes: usize,
}

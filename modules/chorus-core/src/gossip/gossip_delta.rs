use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::OwnerDelta;

/// Entries a peer lacks, grouped by owner: our own state first, then the owners the peer is
/// furthest behind on; bounded in entries and encoded bytes (see `DeltaLimits`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipDelta {
    /// One part per owner.
    pub owners: Vec<OwnerDelta>,
}

impl GossipDelta {
    /// Whether the delta carries no entry and raises no watermark.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// The number of entries carried.
    pub fn entry_count(&self) -> usize {
        self.owners.iter().map(|o| o.entries.len()).sum()
    }
}

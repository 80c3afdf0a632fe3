use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::DeltaEntry;
use crate::topology::MemberId;

/// The part of one member's state a delta carries.
///
/// The entries are every write of `member` the sender holds with a sequence number in
/// `(from, to]`, in ascending order, possibly followed by later writes the sender holds
/// out of order. A receiver that holds every write up to `from` therefore holds every
/// write up to `to` once it merged the entries, and raises its watermark to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerDelta {
    /// The member whose state this is.
    pub member: MemberId,
    /// The watermark the delta starts after.
    pub from: u64,
    /// The watermark a receiver at `from` or above reaches.
    pub to: u64,
    /// The writes, in ascending sequence order.
    pub entries: Vec<DeltaEntry>,
}

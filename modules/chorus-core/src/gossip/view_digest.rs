use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::DigestEntry;
use crate::topology::MemberId;

/// A digest that names members by their position in a topology both sides share, instead
/// of by id: once the cluster agrees on its topology (the common, steady case) a digest
/// entry shrinks from ~15 bytes to ~4, and nothing needs decoding into ids.
///
/// `hash` is the sender's topology hash; a receiver with the same hash holds the same
/// sorted member list and reads positions against it. A receiver with another hash cannot
/// read it and answers with its own full digest instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewDigest {
    /// The topology hash the positions refer to.
    pub hash: u64,
    /// `(heartbeat, watermark)` of every member of the topology, in its order.
    pub all: Vec<(u64, u64)>,
    /// `(position, heartbeat, watermark)` of some members of the topology.
    pub some: Vec<(u32, u64, u64)>,
}

impl ViewDigest {
    /// The full entries this digest stands for, reading positions against `members` (the
    /// receiver's own sorted topology members); `None` when a position is out of range.
    pub fn expand<M: AsRef<MemberId>>(&self, members: &[M]) -> Option<Vec<DigestEntry>> {
        let mut entries = Vec::with_capacity(self.all.len() + self.some.len());
        if !self.all.is_empty() {
            if self.all.len() != members.len() {
                return None;
            }
            for (member, (heartbeat, watermark)) in members.iter().zip(&self.all) {
                entries.push(DigestEntry {
                    member: member.as_ref().clone(),
                    heartbeat: *heartbeat,
                    watermark: *watermark,
                });
            }
        }
        for (position, heartbeat, watermark) in &self.some {
            let member = members.get(*position as usize)?;
            entries.push(DigestEntry {
                member: member.as_ref().clone(),
                heartbeat: *heartbeat,
                watermark: *watermark,
            });
        }
        Some(entries)
    }
}

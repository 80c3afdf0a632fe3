use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::MemberId;

/// A member of the cluster: its id, the address peers reach it at, and the kinds it hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    id: MemberId,
    address: String,
    kinds: Vec<String>,
}

impl Member {
    /// A member reachable at `address` that hosts no kinds yet.
    pub fn new(id: MemberId, address: impl Into<String>) -> Self {
        Self {
            id,
            address: address.into(),
            kinds: Vec::new(),
        }
    }

    /// The same member, hosting `kinds`.
    #[must_use]
    pub fn with_kinds<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.kinds = kinds.into_iter().map(Into::into).collect();
        self.kinds.sort();
        self.kinds.dedup();
        self
    }

    /// The member's id.
    pub fn id(&self) -> &MemberId {
        &self.id
    }

    /// The address peers reach this member at (`host:port` for TCP).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The kinds this member hosts, sorted.
    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// Whether this member hosts `kind`.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.kinds
            .binary_search_by(|k| k.as_str().cmp(kind))
            .is_ok()
    }
}

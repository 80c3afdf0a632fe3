use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::MemberId;

/// A member of the cluster: its id, the address peers reach it at, and the kinds it hosts.
///
/// A member is shared, not copied: every topology, peer list and event of a node holding
/// the same member points to one allocation, so cloning one costs a reference count (a
/// node keeps several views of N members). On the wire it is the plain triple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Member {
    inner: Arc<MemberData>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MemberData {
    id: MemberId,
    address: String,
    kinds: Vec<String>,
}

impl Member {
    /// A member reachable at `address` that hosts no kinds yet.
    pub fn new(id: MemberId, address: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(MemberData {
                id,
                address: address.into(),
                kinds: Vec::new(),
            }),
        }
    }

    /// The same member, hosting `kinds`.
    #[must_use]
    pub fn with_kinds<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut kinds: Vec<String> = kinds.into_iter().map(Into::into).collect();
        kinds.sort();
        kinds.dedup();
        Arc::make_mut(&mut self.inner).kinds = kinds;
        self
    }

    /// The member's id.
    pub fn id(&self) -> &MemberId {
        &self.inner.id
    }

    /// The address peers reach this member at (`host:port` for TCP).
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    /// The kinds this member hosts, sorted.
    pub fn kinds(&self) -> &[String] {
        &self.inner.kinds
    }

    /// Whether this member hosts `kind`.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.inner
            .kinds
            .binary_search_by(|k| k.as_str().cmp(kind))
            .is_ok()
    }
}

impl AsRef<MemberId> for Member {
    fn as_ref(&self) -> &MemberId {
        self.id()
    }
}

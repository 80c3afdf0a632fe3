use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::topology::{Member, MemberId};

/// What a member says about itself under the `chorus.member` key: where to reach it and
/// the kinds it hosts. A member is part of the topology once this key is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// The address peers reach it at.
    pub address: String,
    /// The kinds it hosts.
    pub kinds: Vec<String>,
}

impl MemberInfo {
    /// The information `member` publishes about itself.
    pub fn of(member: &Member) -> Self {
        Self {
            address: String::from(member.address()),
            kinds: member.kinds().to_vec(),
        }
    }

    /// The encoded value of the key.
    pub fn encode(&self) -> Vec<u8> {
        // Encoding strings into memory cannot fail.
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Reads the key's value; `None` when it is not a valid `MemberInfo`.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }

    /// Whether `member` has this address and these kinds.
    pub fn describes(&self, member: &Member) -> bool {
        self.address == member.address() && self.kinds == member.kinds()
    }

    /// The [`Member`] `id` described by this information.
    pub fn to_member(&self, id: MemberId) -> Member {
        Member::new(id, self.address.clone()).with_kinds(self.kinds.iter().cloned())
    }
}

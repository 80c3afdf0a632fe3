use core::fmt;

use super::MemberId;

/// Why decoded bytes are not a [`ClusterTopology`](super::ClusterTopology): the invariants
/// its constructors keep (sorted lists, the hash of the members) do not hold, so the input
/// was not written by one of them. Nothing inconsistent is ever built from such input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopologyDecodeError {
    /// The members are not sorted by id.
    MembersNotSorted,
    /// A member is listed more than once.
    DuplicateMember(MemberId),
    /// The joined or the left members are not sorted by id.
    ChangesNotSorted,
    /// The blocked members are not sorted, or one is listed twice.
    BlockedNotSorted,
    /// The stored hash is not the hash of the members.
    HashMismatch {
        /// The hash the input carries.
        stored: u64,
        /// The hash of its members.
        computed: u64,
    },
}

impl fmt::Display for TopologyDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MembersNotSorted => f.write_str("topology members are not sorted by id"),
            Self::DuplicateMember(id) => {
                write!(f, "topology lists member {id} more than once")
            }
            Self::ChangesNotSorted => {
                f.write_str("topology joined or left members are not sorted by id")
            }
            Self::BlockedNotSorted => {
                f.write_str("topology blocked members are not sorted or not unique")
            }
            Self::HashMismatch { stored, computed } => write!(
                f,
                "topology hash {stored:#018x} is not the hash of its members ({computed:#018x})"
            ),
        }
    }
}

impl core::error::Error for TopologyDecodeError {}

use core::fmt;

use super::MemberId;

/// Why a topology update was refused; the refused update changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopologyError {
    /// The member appears more than once in the member list.
    DuplicateMember(MemberId),
    /// The update says the member joined but does not list it as a member.
    JoinedNotMember(MemberId),
    /// The update says the member left but still lists it as a member.
    LeftStillMember(MemberId),
    /// The member is blocked (now or earlier) yet listed as a member.
    BlockedIsMember(MemberId),
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateMember(id) => write!(f, "member {id} is listed more than once"),
            Self::JoinedNotMember(id) => {
                write!(f, "member {id} is reported as joined but is not a member")
            }
            Self::LeftStillMember(id) => {
                write!(f, "member {id} is reported as left but is still a member")
            }
            Self::BlockedIsMember(id) => write!(f, "member {id} is blocked but listed as a member"),
        }
    }
}

impl core::error::Error for TopologyError {}

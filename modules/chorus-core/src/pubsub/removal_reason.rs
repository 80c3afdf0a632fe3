/// Why a subscriber left the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// Its member unsubscribed it.
    Unsubscribed,
    /// Its member left the topology (blocked or left).
    MemberGone,
    /// A delivery found it gone from its member.
    Unreachable,
}

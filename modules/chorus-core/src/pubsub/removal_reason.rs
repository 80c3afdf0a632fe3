/// Why a subscriber left the registry without unsubscribing (an unsubscription is reported
/// as `PubSubEvent::Unsubscribed` instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// Its member left the topology (blocked or left).
    MemberGone,
    /// A delivery found it gone from its member.
    Unreachable,
}

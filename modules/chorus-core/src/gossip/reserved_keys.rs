//! Keys chorus itself writes in every member's state; user keys may not start with
//! [`RESERVED_PREFIX`].

/// The prefix of every key chorus reserves.
pub const RESERVED_PREFIX: &str = "chorus.";
/// The member's address and kinds (`membership::MemberInfo`, postcard).
pub const MEMBER: &str = "chorus.member";
/// Written once by a member that leaves gracefully: every node blocks it at once.
pub const LEFT: &str = "chorus.left";
/// The hash of the member's current topology (u64 little endian), agreed by consensus.
pub const TOPOLOGY: &str = "chorus.topology";
/// The member's pub/sub subscriptions.
pub const SUBSCRIPTIONS: &str = "chorus.subscriptions";

/// Whether `key` is reserved for chorus.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_PREFIX)
}

use alloc::vec;
use alloc::vec::Vec;

use super::{ClusterTopology, Member, MemberId, TopologyError};

fn member(name: &str, incarnation: u64) -> Member {
    Member::new(MemberId::new(name, incarnation), "127.0.0.1:7000")
}

#[test]
fn hash_does_not_depend_on_member_order() {
    let a = ClusterTopology::new(vec![member("a", 1), member("b", 1), member("c", 1)]);
    let b = ClusterTopology::new(vec![member("c", 1), member("a", 1), member("b", 1)]);
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.members(), b.members());
}

#[test]
fn hash_tells_different_members_apart() {
    let a = ClusterTopology::new(vec![member("a", 1), member("b", 1)]);
    let restarted = ClusterTopology::new(vec![member("a", 1), member("b", 2)]);
    let fewer = ClusterTopology::new(vec![member("a", 1)]);
    assert_ne!(a.hash(), restarted.hash());
    assert_ne!(a.hash(), fewer.hash());
}

#[test]
fn hash_keeps_name_and_incarnation_boundaries_apart() {
    // "ab"+1 and "a"+... must not collide through concatenation.
    let x = ClusterTopology::hash_of([&MemberId::new("ab", 1)]);
    let y = ClusterTopology::hash_of([&MemberId::new("a", 1)]);
    assert_ne!(x, y);
}

#[test]
fn hash_is_fnv1a_of_the_stable_encoding() {
    // FNV-1a 64 of nothing is its offset basis: the empty topology has a known hash.
    assert_eq!(ClusterTopology::empty().hash(), 0xcbf2_9ce4_8422_2325);
}

#[test]
fn next_reports_joined_and_left() {
    let first = ClusterTopology::new(vec![member("a", 1), member("b", 1)]);
    let second = ClusterTopology::next(&first, vec![member("b", 1), member("c", 1)], Vec::new());
    let joined: Vec<_> = second.joined().iter().map(|m| m.id().name()).collect();
    let left: Vec<_> = second.left().iter().map(|m| m.id().name()).collect();
    assert_eq!(joined, vec!["c"]);
    assert_eq!(left, vec!["a"]);
}

#[test]
fn validate_refuses_duplicates() {
    let t = ClusterTopology::new(vec![member("a", 1), member("a", 1)]);
    assert_eq!(
        t.validate(|_| false),
        Err(TopologyError::DuplicateMember(MemberId::new("a", 1)))
    );
}

#[test]
fn validate_refuses_joined_outside_members() {
    let t = ClusterTopology::new(vec![member("a", 1)]).with_changes(vec![member("b", 1)], vec![]);
    assert_eq!(
        t.validate(|_| false),
        Err(TopologyError::JoinedNotMember(MemberId::new("b", 1)))
    );
}

#[test]
fn validate_refuses_left_that_is_still_a_member() {
    let t = ClusterTopology::new(vec![member("a", 1)]).with_changes(vec![], vec![member("a", 1)]);
    assert_eq!(
        t.validate(|_| false),
        Err(TopologyError::LeftStillMember(MemberId::new("a", 1)))
    );
}

#[test]
fn validate_refuses_blocked_members() {
    let own = ClusterTopology::new(vec![member("a", 1)]).with_blocked(vec![MemberId::new("a", 1)]);
    assert_eq!(
        own.validate(|_| false),
        Err(TopologyError::BlockedIsMember(MemberId::new("a", 1)))
    );
    let earlier = ClusterTopology::new(vec![member("a", 1), member("b", 1)]);
    let blocked_b = MemberId::new("b", 1);
    assert_eq!(
        earlier.validate(|id| *id == blocked_b),
        Err(TopologyError::BlockedIsMember(blocked_b.clone()))
    );
}

#[test]
fn member_kinds_are_sorted_and_searchable() {
    let m = member("a", 1).with_kinds(["worker", "topic", "worker"]);
    assert_eq!(m.kinds(), ["topic", "worker"]);
    assert!(m.has_kind("worker"));
    assert!(!m.has_kind("other"));
}

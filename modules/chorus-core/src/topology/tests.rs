use alloc::vec;
use alloc::vec::Vec;

use super::{ClusterTopology, Member, MemberId, TopologyDecodeError, TopologyError, TopologyWire};

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

/// A topology's serialized fields with nothing checked — what a hostile or corrupt source
/// could send — and the right hash for `members` as given.
fn raw(members: Vec<Member>) -> TopologyWire {
    let hash = ClusterTopology::hash_of(members.iter().map(Member::id));
    TopologyWire {
        members,
        joined: Vec::new(),
        left: Vec::new(),
        blocked: Vec::new(),
        hash,
    }
}

/// What serde makes of `wire` once encoded.
fn decode(wire: &TopologyWire) -> Result<ClusterTopology, postcard::Error> {
    let bytes = postcard::to_allocvec(wire).unwrap();
    postcard::from_bytes(&bytes)
}

#[test]
fn a_topology_round_trips_through_serde() {
    let t = ClusterTopology::next(
        &ClusterTopology::new(vec![member("a", 1), member("x", 1)]),
        vec![member("c", 1), member("a", 1), member("b", 2)],
        vec![MemberId::new("z", 1), MemberId::new("x", 1)],
    );
    let bytes = postcard::to_allocvec(&t).unwrap();
    assert_eq!(postcard::from_bytes::<ClusterTopology>(&bytes), Ok(t));
}

#[test]
fn deserializing_goes_through_the_checks() {
    let sorted = raw(vec![member("a", 1), member("b", 1)]);
    assert_eq!(
        decode(&sorted),
        Ok(ClusterTopology::new(vec![member("b", 1), member("a", 1)]))
    );
    // The same bytes with the members swapped: only the order differs, and it is refused.
    let unsorted = raw(vec![member("b", 1), member("a", 1)]);
    assert_eq!(decode(&unsorted), Err(postcard::Error::SerdeDeCustom));
}

#[test]
fn unsorted_or_duplicate_members_are_refused() {
    // Lookups binary-search the members: an unsorted list would miss members it holds.
    assert_eq!(
        ClusterTopology::try_from(raw(vec![member("b", 1), member("a", 1)])),
        Err(TopologyDecodeError::MembersNotSorted)
    );
    assert_eq!(
        ClusterTopology::try_from(raw(vec![member("a", 1), member("b", 1), member("b", 1)])),
        Err(TopologyDecodeError::DuplicateMember(MemberId::new("b", 1)))
    );
}

#[test]
fn unsorted_changes_or_blocked_lists_are_refused() {
    let mut joined = raw(vec![member("a", 1), member("b", 1)]);
    joined.joined = vec![member("b", 1), member("a", 1)];
    assert_eq!(
        ClusterTopology::try_from(joined),
        Err(TopologyDecodeError::ChangesNotSorted)
    );
    let mut left = raw(vec![member("a", 1)]);
    left.left = vec![member("d", 1), member("c", 1)];
    assert_eq!(
        ClusterTopology::try_from(left),
        Err(TopologyDecodeError::ChangesNotSorted)
    );
    let mut blocked = raw(vec![member("a", 1)]);
    blocked.blocked = vec![MemberId::new("c", 1), MemberId::new("c", 1)];
    assert_eq!(
        ClusterTopology::try_from(blocked),
        Err(TopologyDecodeError::BlockedNotSorted)
    );
}

#[test]
fn a_hash_that_is_not_the_members_hash_is_refused() {
    let mut forged = raw(vec![member("a", 1), member("b", 1)]);
    // The hash of another view: nodes would wrongly agree on it through consensus.
    let other = ClusterTopology::new(vec![member("a", 1)]).hash();
    forged.hash = other;
    assert_eq!(
        ClusterTopology::try_from(forged),
        Err(TopologyDecodeError::HashMismatch {
            stored: other,
            computed: ClusterTopology::new(vec![member("a", 1), member("b", 1)]).hash(),
        })
    );
}

#[test]
fn a_decoded_topology_equals_the_one_its_constructors_build() {
    let mut wire = raw(vec![member("a", 1), member("c", 1)]);
    wire.joined = vec![member("c", 1)];
    wire.left = vec![member("b", 1)];
    wire.blocked = vec![MemberId::new("b", 1)];
    let built = ClusterTopology::new(vec![member("c", 1), member("a", 1)])
        .with_changes(vec![member("c", 1)], vec![member("b", 1)])
        .with_blocked(vec![MemberId::new("b", 1)]);
    let decoded = ClusterTopology::try_from(wire).unwrap();
    assert_eq!(decoded, built);
    assert!(decoded.contains(&MemberId::new("c", 1)));
}

#[test]
fn decode_errors_name_the_broken_rule() {
    let e = TopologyDecodeError::HashMismatch {
        stored: 1,
        computed: 2,
    };
    assert_eq!(
        alloc::format!("{e}"),
        "topology hash 0x0000000000000001 is not the hash of its members (0x0000000000000002)"
    );
    assert_eq!(
        alloc::format!(
            "{}",
            TopologyDecodeError::DuplicateMember(MemberId::new("a", 1))
        ),
        "topology lists member a#1 more than once"
    );
}

use super::{FailureDetector, HeartbeatFailureDetector, MemberInfo};
use crate::topology::{Member, MemberId};

#[test]
fn member_expires_only_after_the_expiration_without_news() {
    let mut detector = HeartbeatFailureDetector::new(1_000);
    let a = MemberId::new("a", 1);
    detector.alive(&a, 100);
    assert!(detector.expired(1_099).is_empty());
    detector.alive(&a, 900);
    assert!(
        detector.expired(1_800).is_empty(),
        "news at 900 restarts the clock"
    );
    assert_eq!(detector.expired(1_900), core::slice::from_ref(&a));
    detector.forget(&a);
    assert!(detector.expired(10_000).is_empty());
}

#[test]
fn late_news_never_moves_the_clock_back() {
    let mut detector = HeartbeatFailureDetector::new(1_000);
    let a = MemberId::new("a", 1);
    detector.alive(&a, 500);
    detector.alive(&a, 200);
    assert_eq!(detector.last_alive(&a), Some(500));
}

#[test]
fn member_info_round_trips_and_refuses_garbage() {
    let member = Member::new(MemberId::new("a", 1), "127.0.0.1:7000").with_kinds(["worker"]);
    let info = MemberInfo::of(&member);
    let decoded = MemberInfo::decode(&info.encode()).unwrap();
    assert_eq!(decoded.to_member(MemberId::new("a", 1)), member);
    assert_eq!(MemberInfo::decode(&[0xff, 0xff, 0xff]), None);
}

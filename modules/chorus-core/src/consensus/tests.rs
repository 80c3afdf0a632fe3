use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::{ConsensusCheck, ConsensusChecks};
use crate::cluster::ClusterEvent;
use crate::topology::MemberId;

fn ids(n: usize) -> Vec<MemberId> {
    (0..n)
        .map(|i| MemberId::new(&alloc::format!("m{i}"), 1))
        .collect()
}

#[test]
fn consensus_is_reached_when_every_member_publishes_the_same_value_and_lost_after() {
    let members = ids(3);
    let mut checks = ConsensusChecks::new();
    let handle = checks.register(ConsensusCheck::new("version", "app.version"));
    let mut values: BTreeMap<MemberId, Vec<u8>> = members
        .iter()
        .zip([b"1", b"1", b"2"])
        .map(|(m, v)| (m.clone(), v.to_vec()))
        .collect();
    let eval = |checks: &mut ConsensusChecks, values: &BTreeMap<MemberId, Vec<u8>>| {
        checks.evaluate(&members, |m, _| values.get(m).map(Vec::as_slice))
    };

    assert!(eval(&mut checks, &values).is_empty(), "no agreement yet");
    assert_eq!(checks.agreed(handle), None);
    values.insert(members[2].clone(), b"1".to_vec());
    assert_eq!(
        eval(&mut checks, &values),
        [ClusterEvent::ConsensusReached {
            check: "version".into(),
            value: b"1".to_vec()
        }]
    );
    assert_eq!(checks.agreed(handle), Some(&b"1"[..]));
    assert!(
        eval(&mut checks, &values).is_empty(),
        "no event without change"
    );
    values.insert(members[0].clone(), b"3".to_vec());
    assert_eq!(
        eval(&mut checks, &values),
        [ClusterEvent::ConsensusLost {
            check: "version".into()
        }]
    );
    assert!(checks.remove(handle));
    assert!(!checks.remove(handle));
}

#[test]
fn a_member_without_a_value_blocks_consensus() {
    let members = ids(2);
    let mut checks = ConsensusChecks::new();
    let handle = checks.register(ConsensusCheck::new("k", "k"));
    let one = [1u8];
    let events = checks.evaluate(&members, |m, _| (m.name() == "m0").then_some(&one[..]));
    assert!(events.is_empty());
    assert_eq!(checks.agreed(handle), None);
}

#[test]
fn extractor_compares_part_of_the_value() {
    let members = ids(2);
    let mut checks = ConsensusChecks::new();
    let handle = checks.register(
        ConsensusCheck::new("major", "version").with_extractor(|v| v.first().map(|b| vec![*b])),
    );
    let a = [1u8, 7];
    let b = [1u8, 9];
    checks.evaluate(&members, |m, _| {
        Some(if m.name() == "m0" { &a[..] } else { &b[..] })
    });
    assert_eq!(checks.agreed(handle), Some(&[1u8][..]));
    assert!(checks.watches("version"));
    assert!(!checks.watches("other"));
}

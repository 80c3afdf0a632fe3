//! Rules of the state store, and properties of merge and delta exchange.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::{
    DeltaEntry, DeltaLimits, DigestEntry, GossipDelta, GossipDigest, GossipState, GossipStateStore,
    OwnerDelta, reserved_keys,
};
use crate::topology::MemberId;

const WIDE: DeltaLimits = DeltaLimits {
    max_entries: 10_000,
    max_bytes: 1 << 20,
};

fn id(name: &str) -> MemberId {
    MemberId::new(name, 1)
}

fn everyone(_: &MemberId) -> bool {
    true
}

/// A digest saying the sender knows nothing but itself.
fn empty_digest(of: &MemberId) -> GossipDigest {
    GossipDigest {
        entries: vec![DigestEntry {
            member: of.clone(),
            heartbeat: 0,
            watermark: 0,
        }],
        complete: true,
        view: None,
    }
}

fn digest_of(store: &GossipStateStore) -> GossipDigest {
    store.digest(1 << 20, 0, everyone)
}

/// Sends `from` what `to` lacks, as a full round would.
fn sync(from: &GossipStateStore, to: &mut GossipStateStore, now: u64) {
    let delta = from.delta_for(&digest_of(to), WIDE, everyone);
    to.merge_delta(&delta, now, everyone);
}

#[test]
fn one_sequence_counter_per_member_for_all_keys() {
    let mut store = GossipStateStore::new(id("a"));
    assert_eq!(store.set("x", b"1", 10).unwrap().seq, 1);
    assert_eq!(store.set("y", b"1", 11).unwrap().seq, 2);
    assert_eq!(store.set("x", b"2", 12).unwrap().seq, 3);
    assert_eq!(store.seq(), 3);
    assert_eq!(store.get_local("x").unwrap().value(), b"2");
    assert_eq!(store.get_local("x").unwrap().timestamp(), 12);
}

#[test]
fn setting_the_same_value_again_changes_nothing() {
    let mut store = GossipStateStore::new(id("a"));
    store.set("x", b"1", 10);
    assert_eq!(store.set("x", b"1", 20), None);
    assert_eq!(store.seq(), 1);
    assert_eq!(store.get_local("x").unwrap().timestamp(), 10);
}

#[test]
fn map_state_lives_under_one_key() {
    let mut store = GossipStateStore::new(id("a"));
    let me = id("a");
    store.map_set("subs", "t1", b"x", 1).unwrap();
    store.map_set("subs", "t2", b"y", 2).unwrap();
    assert_eq!(store.map_keys(&me, "subs"), ["t1", "t2"]);
    assert_eq!(store.map_get(&me, "subs", "t2"), Some(b"y".to_vec()));
    assert!(
        store.map_set("subs", "t2", b"y", 3).is_none(),
        "unchanged map"
    );
    store.map_remove("subs", "t1", 4).unwrap();
    assert!(store.map_remove("subs", "t1", 5).is_none(), "already gone");
    assert_eq!(store.map_keys(&me, "subs"), ["t2"]);
    assert_eq!(store.seq(), 3, "each map change is one write of the key");
}

#[test]
fn merge_takes_only_strictly_higher_sequence_numbers_and_stamps_local_time() {
    let mut a = GossipStateStore::new(id("a"));
    a.set("k", b"old", 1);
    a.set("k", b"new", 2);
    let mut b = GossipStateStore::new(id("b"));
    let updates = {
        let delta = a.delta_for(&empty_digest(&id("b")), WIDE, everyone);
        b.merge_delta(&delta, 500, everyone)
    };
    assert_eq!(updates.len(), 1, "only the latest write of k travels");
    let held = b.get(&id("a"), "k").unwrap();
    assert_eq!(
        (held.value(), held.seq(), held.timestamp()),
        (&b"new"[..], 2, 500)
    );

    // An older write arriving late loses.
    let stale = GossipDelta {
        owners: vec![super::OwnerDelta {
            member: id("a"),
            from: 0,
            to: 1,
            entries: vec![super::DeltaEntry {
                key: "k".into(),
                seq: 1,
                value: b"old".to_vec(),
            }],
        }],
    };
    assert!(b.merge_delta(&stale, 600, everyone).is_empty());
    assert_eq!(b.get(&id("a"), "k").unwrap().value(), b"new");
}

#[test]
fn merge_never_takes_our_own_keys_from_others() {
    let mut a = GossipStateStore::new(id("a"));
    a.set("k", b"mine", 1);
    let forged = GossipDelta {
        owners: vec![super::OwnerDelta {
            member: id("a"),
            from: 0,
            to: 9,
            entries: vec![super::DeltaEntry {
                key: "k".into(),
                seq: 9,
                value: b"forged".to_vec(),
            }],
        }],
    };
    assert!(a.merge_delta(&forged, 5, everyone).is_empty());
    assert_eq!(a.get_local("k").unwrap().value(), b"mine");
}

#[test]
fn delta_holds_only_entries_above_the_acknowledged_watermark() {
    let mut a = GossipStateStore::new(id("a"));
    for (i, key) in ["k1", "k2", "k3"].iter().enumerate() {
        a.set(key, b"v", i as u64);
    }
    let mut b = GossipStateStore::new(id("b"));
    sync(&a, &mut b, 10);
    assert_eq!(b.state().member(&id("a")).unwrap().watermark(), 3);
    a.set("k4", b"v", 20);
    let delta = a.delta_for(&digest_of(&b), WIDE, everyone);
    let keys: Vec<&str> = delta.owners[0]
        .entries
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(keys, ["k4"]);
    assert_eq!((delta.owners[0].from, delta.owners[0].to), (3, 4));
}

#[test]
fn a_lost_delta_is_sent_again_because_the_watermark_did_not_move() {
    let mut a = GossipStateStore::new(id("a"));
    a.set("k", b"v", 1);
    let b = GossipStateStore::new(id("b"));
    let first = a.delta_for(&digest_of(&b), WIDE, everyone);
    // `first` is lost: b never merges it and acknowledges nothing new.
    let again = a.delta_for(&digest_of(&b), WIDE, everyone);
    assert_eq!(first, again);
    assert_eq!(again.entry_count(), 1);
}

#[test]
fn delta_sends_our_own_state_first_then_the_owners_the_target_is_most_behind_on() {
    let mut a = GossipStateStore::new(id("a"));
    let mut c = GossipStateStore::new(id("c"));
    let mut d = GossipStateStore::new(id("d"));
    c.set("c1", b"v", 1);
    for i in 0..5 {
        d.set(&alloc::format!("d{i}"), b"v", 1);
    }
    sync(&c, &mut a, 1);
    sync(&d, &mut a, 1);
    a.set("own", b"v", 2);
    let b = GossipStateStore::new(id("b"));
    let delta = a.delta_for(&digest_of(&b), WIDE, everyone);
    let order: Vec<&str> = delta.owners.iter().map(|o| o.member.name()).collect();
    assert_eq!(order, ["a", "d", "c"]);
}

#[test]
fn delta_is_bounded_in_entries_and_bytes_and_resumes_where_it_stopped() {
    let mut a = GossipStateStore::new(id("a"));
    for i in 0..10 {
        a.set(&alloc::format!("key{i}"), &[7u8; 20], i);
    }
    let mut b = GossipStateStore::new(id("b"));
    let tight = DeltaLimits {
        max_entries: 4,
        max_bytes: 1 << 20,
    };
    let first = a.delta_for(&digest_of(&b), tight, everyone);
    assert_eq!(first.entry_count(), 4);
    assert_eq!((first.owners[0].from, first.owners[0].to), (0, 4));
    b.merge_delta(&first, 1, everyone);
    let second = a.delta_for(&digest_of(&b), tight, everyone);
    assert_eq!(
        second.owners[0].entries[0].seq, 5,
        "resumes after the watermark"
    );

    let small = DeltaLimits {
        max_entries: 100,
        max_bytes: 120,
    };
    let bounded = a.delta_for(&empty_digest(&id("b")), small, everyone);
    let encoded = postcard::to_allocvec(&bounded).unwrap();
    assert!(encoded.len() <= 120, "{} bytes", encoded.len());
    assert!(bounded.entry_count() >= 1);
}

#[test]
fn digest_is_cut_to_its_byte_budget_and_rotates() {
    let mut a = GossipStateStore::new(id("a"));
    for i in 0..50 {
        let mut other = GossipStateStore::new(MemberId::new(&alloc::format!("m{i:02}"), 1));
        other.set("k", b"v", 0);
        sync(&other, &mut a, 0);
    }
    let full = a.digest(1 << 20, 0, everyone);
    assert!(full.complete);
    assert_eq!(full.entries.len(), 51);
    let cut = a.digest(200, 0, everyone);
    assert!(!cut.complete);
    assert!(GossipStateStore::digest_size(&cut) <= 200);
    assert_eq!(
        cut.entries[0].member,
        id("a"),
        "our own entry always comes first"
    );
    let rotated = a.digest(200, 7, everyone);
    assert_ne!(cut.entries[1].member, rotated.entries[1].member);
}

#[test]
fn digest_reply_asks_for_what_we_lack_and_offers_fresher_heartbeats() {
    let mut a = GossipStateStore::new(id("a"));
    a.set("k", b"v", 0);
    a.bump_heartbeat();
    let mut b = GossipStateStore::new(id("b"));
    b.bump_heartbeat();
    b.bump_heartbeat();
    // b knows nothing of a; a's digest names a (and is complete).
    let reply = b.digest_reply(&digest_of(&a), 1 << 20, everyone);
    let named: Vec<(&str, u64, u64)> = reply
        .entries
        .iter()
        .map(|e| (e.member.name(), e.heartbeat, e.watermark))
        .collect();
    assert!(named.contains(&("a", 0, 0)), "asks for all of a: {named:?}");
    assert!(
        named.contains(&("b", 2, 0)),
        "offers b, unknown to a: {named:?}"
    );
    assert!(!reply.complete);
}

#[test]
fn observed_heartbeats_take_the_maximum_and_report_advances() {
    let mut a = GossipStateStore::new(id("a"));
    let digest = |hb| GossipDigest {
        entries: vec![DigestEntry {
            member: id("b"),
            heartbeat: hb,
            watermark: 0,
        }],
        complete: false,
        view: None,
    };
    // Named only in a digest, b is not taken in: made-up ids cost nothing.
    assert!(a.observe_digest(&digest(5), everyone).is_empty());
    assert_eq!(a.heartbeat(&id("b")), None);
    assert_eq!(a.state().len(), 1);
    // Once b's writes arrived, its heartbeats count, the highest one winning.
    let b_joins = GossipDelta {
        owners: vec![OwnerDelta {
            member: id("b"),
            from: 0,
            to: 1,
            entries: vec![DeltaEntry {
                key: "k".into(),
                seq: 1,
                value: b"v".to_vec(),
            }],
        }],
    };
    a.merge_delta(&b_joins, 1, everyone);
    assert_eq!(a.observe_digest(&digest(5), everyone), [id("b")]);
    assert!(a.observe_digest(&digest(3), everyone).is_empty());
    assert_eq!(a.heartbeat(&id("b")), Some(5));
}

#[test]
fn reserved_keys_are_recognised() {
    assert!(reserved_keys::is_reserved(reserved_keys::MEMBER));
    assert!(!reserved_keys::is_reserved("app.version"));
}

// ---------- properties ----------

/// A small random state: members m0..m3, keys k0..k3, sequence numbers 1..20.
fn arb_state() -> impl Strategy<Value = GossipState> {
    let entry = (0..4usize, 0..4usize, 1..20u64, 0..5u64, 0..20u64);
    proptest::collection::vec(entry, 0..24).prop_map(|entries| {
        let mut state = GossipState::new();
        for (m, k, seq, hb, wm) in entries {
            let member = MemberId::new(&alloc::format!("m{m}"), 1);
            let s = state.members.entry(member).or_default();
            let key = alloc::format!("k{k}");
            // One owner never writes two values under one sequence number.
            let value = vec![(seq as u8).wrapping_mul(31) ^ (k as u8)];
            s.offer(&key, &value, seq, 0);
            s.heartbeat = s.heartbeat.max(hb);
            s.watermark = s.watermark.max(wm);
        }
        state
    })
}

fn merged(a: &GossipState, b: &GossipState) -> GossipState {
    let mut out = a.clone();
    out.merge(b, 99);
    out
}

proptest! {
    #[test]
    fn merge_is_commutative(a in arb_state(), b in arb_state()) {
        prop_assert!(merged(&a, &b).same_content(&merged(&b, &a)));
    }

    #[test]
    fn merge_is_associative(a in arb_state(), b in arb_state(), c in arb_state()) {
        let left = merged(&merged(&a, &b), &c);
        let right = merged(&a, &merged(&b, &c));
        prop_assert!(left.same_content(&right));
    }

    #[test]
    fn merge_is_idempotent(a in arb_state(), b in arb_state()) {
        let once = merged(&a, &b);
        let twice = merged(&once, &b);
        prop_assert!(once.same_content(&twice));
        prop_assert!(merged(&a, &a).same_content(&a));
    }
}

/// One step of a random exchange schedule among three stores.
#[derive(Debug, Clone)]
enum Step {
    /// Store `.0` writes key `.1`.
    Write(usize, usize),
    /// The delta from `.0` to `.1` is computed; it is delivered `.2` times (0: lost).
    Exchange(usize, usize, u8),
    /// A delta computed earlier is delivered now (reordering).
    Replay(usize),
}

fn arb_steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        (0..3usize, 0..4usize).prop_map(|(s, k)| Step::Write(s, k)),
        (0..3usize, 0..3usize, 0..3u8).prop_map(|(a, b, n)| Step::Exchange(a, b, n)),
        (0..64usize).prop_map(Step::Replay),
    ];
    proptest::collection::vec(step, 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the interleaving, duplication, reordering or loss of deltas, stores that
    /// keep exchanging afterwards converge to the same content.
    #[test]
    fn deltas_converge_under_loss_duplication_and_reordering(
        steps in arb_steps(),
        tight in any::<bool>(),
    ) {
        let limits = if tight {
            DeltaLimits { max_entries: 2, max_bytes: 1 << 20 }
        } else {
            WIDE
        };
        let mut stores: Vec<GossipStateStore> =
            (0..3).map(|i| GossipStateStore::new(MemberId::new(&alloc::format!("s{i}"), 1))).collect();
        let mut sent: Vec<(usize, GossipDelta)> = Vec::new();
        let mut version = 0u64;
        for step in &steps {
            match step {
                Step::Write(s, k) => {
                    version += 1;
                    stores[*s].set(&alloc::format!("k{k}"), &version.to_le_bytes(), version);
                }
                Step::Exchange(a, b, times) if a != b => {
                    let digest = stores[*b].digest(1 << 20, 0, everyone);
                    let delta = stores[*a].delta_for(&digest, limits, everyone);
                    for _ in 0..*times {
                        stores[*b].merge_delta(&delta, version, everyone);
                    }
                    sent.push((*b, delta));
                }
                Step::Exchange(..) => {}
                Step::Replay(i) => {
                    if let Some((to, delta)) = sent.get(*i % sent.len().max(1)).cloned() {
                        stores[to].merge_delta(&delta, version, everyone);
                    }
                }
            }
        }
        // Anti-entropy afterwards: every pair exchanges until nothing is left to send.
        for _ in 0..40 {
            for a in 0..3 {
                for b in 0..3 {
                    if a != b {
                        let digest = stores[b].digest(1 << 20, 0, everyone);
                        let delta = stores[a].delta_for(&digest, limits, everyone);
                        stores[b].merge_delta(&delta, version, everyone);
                    }
                }
            }
        }
        // Members that never wrote anything have nothing to spread; compare the rest.
        let written = |s: &GossipStateStore| -> Vec<MemberId> {
            let mut ids: Vec<MemberId> = s
                .state()
                .members()
                .filter(|(_, st)| st.entries().next().is_some())
                .map(|(m, _)| m.clone())
                .collect();
            ids.sort();
            ids
        };
        for i in 1..3 {
            prop_assert_eq!(written(&stores[0]), written(&stores[i]));
            for m in written(&stores[0]) {
                let a = stores[0].state().member(&m);
                let b = stores[i].state().member(&m);
                prop_assert!(a.zip(b).is_some_and(|(a, b)| a.same_content(b)), "store {} differs on {}", i, m);
            }
        }
    }
}

#[test]
fn merge_state_keeps_our_own_keys() {
    let mut a = GossipStateStore::new(id("a"));
    a.set("k", b"mine", 1);
    let mut other = GossipState::new();
    other
        .members
        .entry(id("a"))
        .or_default()
        .offer("k", b"x", 50, 0);
    other
        .members
        .entry(id("z"))
        .or_default()
        .offer("k", b"z", 1, 0);
    let updates = a.merge_state(&other, 7);
    assert_eq!(updates.len(), 1);
    assert_eq!(a.get_local("k").unwrap().value(), b"mine");
    assert_eq!(a.get(&id("z"), "k").unwrap().value(), b"z");
    let _: String = updates[0].key.clone();
}

#[test]
fn a_part_claiming_more_than_it_carries_raises_no_watermark() {
    let mut a = GossipStateStore::new(id("a"));
    let part = |from, to, seqs: &[u64]| GossipDelta {
        owners: vec![OwnerDelta {
            member: id("b"),
            from,
            to,
            entries: seqs
                .iter()
                .map(|s| DeltaEntry {
                    key: alloc::format!("k{s}"),
                    seq: *s,
                    value: b"v".to_vec(),
                })
                .collect(),
        }],
    };
    // Claims (0, MAX] carrying only write 1: the write is taken, the claim is not.
    a.merge_delta(&part(0, u64::MAX, &[1]), 1, everyone);
    let b = a.state().member(&id("b")).unwrap();
    assert_eq!(b.watermark(), 0);
    assert!(b.get("k1").is_some());
    // A backwards range is refused as well.
    a.merge_delta(&part(5, 2, &[]), 1, everyone);
    assert_eq!(a.state().member(&id("b")).unwrap().watermark(), 0);
    // An honest part raises it: every write of (0, 2] is held.
    a.merge_delta(&part(0, 2, &[2]), 1, everyone);
    assert_eq!(a.state().member(&id("b")).unwrap().watermark(), 2);
}

#[test]
fn a_write_that_does_not_fit_leaves_room_for_the_next_owners() {
    // b holds a big write of c's and small writes of d's; the peer lacks both.
    let mut b = GossipStateStore::new(id("b"));
    let big = vec![1u8; 600];
    let owner = |name: &str, value: &[u8]| OwnerDelta {
        member: id(name),
        from: 0,
        to: 1,
        entries: vec![DeltaEntry {
            key: "k".into(),
            seq: 1,
            value: value.to_vec(),
        }],
    };
    b.merge_delta(
        &GossipDelta {
            owners: vec![owner("c", &big), owner("d", b"small")],
        },
        1,
        everyone,
    );
    let peer = GossipDigest {
        entries: vec![],
        complete: true,
        view: None,
    };
    let limits = DeltaLimits {
        max_entries: 100,
        max_bytes: 400,
    };
    let delta = b.delta_for(&peer, limits, |m| *m != id("b"));
    let owners: Vec<&str> = delta.owners.iter().map(|p| p.member.name()).collect();
    assert_eq!(owners, ["d"], "c does not fit; d is not held back by it");
    // With room, c travels too (it is furthest behind: same distance, sorted by id).
    let roomy = DeltaLimits {
        max_entries: 100,
        max_bytes: 4_000,
    };
    let delta = b.delta_for(&peer, roomy, |m| *m != id("b"));
    assert_eq!(delta.owners.len(), 2);
}

#[test]
fn parts_since_keep_a_push_within_the_message_bounds() {
    let mut a = GossipStateStore::new(id("a"));
    for i in 0..50u64 {
        a.set(&alloc::format!("key-{i:02}"), &[7u8; 100], i);
    }
    let limits = DeltaLimits {
        max_entries: 1_000,
        max_bytes: 1_000,
    };
    let delta = a.parts_since([(&id("a"), 0)], limits);
    let size = postcard::to_allocvec(&delta).unwrap().len();
    assert!(size <= 1_000, "{size} bytes");
    let part = &delta.owners[0];
    assert!(!part.entries.is_empty() && part.entries.len() < 50);
    // The part claims only the prefix it carries, so the rest follows in anti-entropy.
    assert_eq!(part.to, part.entries.last().unwrap().seq);
    let few = DeltaLimits {
        max_entries: 3,
        max_bytes: 1 << 20,
    };
    assert_eq!(a.parts_since([(&id("a"), 0)], few).entry_count(), 3);
}

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::{
    DEFAULT_MAX_FRAME_BYTES, Frame, Handshake, HandshakeRefusal, PROTOCOL_VERSION, WireError,
};
use crate::gossip::{
    DeltaEntry, DigestEntry, GossipDelta, GossipDigest, GossipMessage, GossipPush, GossipRejected,
    GossipRequest, GossipResponse, GossipSuspect, OwnerDelta, ViewDigest,
};
use crate::pubsub::{
    BatchMessage, DeliveryAck, DeliveryBatch, DeliveryStatus, GroupCompletion, PubSubMessage,
    SubscriberId, SubscriberStatus,
};
use crate::topology::MemberId;

fn arb_member() -> impl Strategy<Value = MemberId> {
    ("[a-z0-9-]{1,12}", any::<u64>()).prop_map(|(n, i)| MemberId::new(&n, i))
}

fn arb_digest() -> impl Strategy<Value = GossipDigest> {
    (
        proptest::collection::vec(
            (arb_member(), any::<u64>(), any::<u64>()).prop_map(
                |(member, heartbeat, watermark)| DigestEntry {
                    member,
                    heartbeat,
                    watermark,
                },
            ),
            0..6,
        ),
        any::<bool>(),
        proptest::option::of((
            any::<u64>(),
            proptest::collection::vec((any::<u64>(), any::<u64>()), 0..6),
            proptest::collection::vec((any::<u32>(), any::<u64>(), any::<u64>()), 0..6),
        )),
    )
        .prop_map(|(entries, complete, view)| GossipDigest {
            entries,
            complete,
            view: view.map(|(hash, all, some)| ViewDigest { hash, all, some }),
        })
}

fn arb_delta() -> impl Strategy<Value = GossipDelta> {
    let entry = (
        "[a-z.]{0,10}",
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(key, seq, value)| DeltaEntry { key, seq, value });
    let part = (
        arb_member(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(entry, 0..4),
    )
        .prop_map(|(member, from, to, entries)| OwnerDelta {
            member,
            from,
            to,
            entries,
        });
    proptest::collection::vec(part, 0..4).prop_map(|owners| GossipDelta { owners })
}

fn arb_handshake() -> impl Strategy<Value = Handshake> {
    ("[a-z]{0,8}", any::<u8>(), arb_member(), "[0-9.:]{0,21}").prop_map(
        |(cluster, protocol_version, member, address)| Handshake {
            cluster,
            protocol_version,
            member,
            address,
        },
    )
}

fn arb_pubsub() -> impl Strategy<Value = Frame> {
    let subscriber = "[a-z0-9]{1,8}".prop_map(|s| SubscriberId::new(&s));
    let message = (
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..16),
        proptest::collection::vec(subscriber.clone(), 0..3),
        proptest::option::of("[a-z]{1,6}"),
    )
        .prop_map(|(message_id, payload, subscribers, group)| BatchMessage {
            message_id,
            payload,
            subscribers,
            group,
        });
    prop_oneof![
        (
            any::<u64>(),
            arb_member(),
            "[a-z.]{1,10}",
            proptest::collection::vec(message, 0..3)
        )
            .prop_map(|(batch_id, from, topic, messages)| Frame::PubSub(
                PubSubMessage::Batch(DeliveryBatch {
                    batch_id,
                    from,
                    topic,
                    messages,
                })
            )),
        (any::<u64>(), arb_member(), subscriber.clone(), any::<u64>()).prop_map(
            |(batch_id, from, subscriber, message_id)| Frame::PubSub(PubSubMessage::Ack(
                DeliveryAck {
                    batch_id,
                    from,
                    statuses: alloc::vec![SubscriberStatus {
                        subscriber,
                        message_id,
                        status: DeliveryStatus::Delivered,
                    }],
                }
            ))
        ),
        (
            arb_member(),
            "[a-z]{1,6}",
            "[a-z]{1,6}",
            subscriber,
            proptest::collection::vec(any::<u64>(), 0..3)
        )
            .prop_map(|(from, topic, group, subscriber, message_ids)| {
                Frame::PubSub(PubSubMessage::Completed(GroupCompletion {
                    from,
                    topic,
                    group,
                    subscriber,
                    message_ids,
                }))
            }),
    ]
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        arb_pubsub(),
        arb_handshake().prop_map(Frame::Handshake),
        arb_handshake().prop_map(Frame::HandshakeAccepted),
        ("[a-z]{0,8}", "[a-z]{0,8}").prop_map(|(expected, got)| Frame::HandshakeRefused(
            HandshakeRefusal::WrongCluster { expected, got }
        )),
        (any::<u8>(), any::<u8>()).prop_map(|(expected, got)| Frame::HandshakeRefused(
            HandshakeRefusal::WrongVersion { expected, got }
        )),
        Just(Frame::HandshakeRefused(HandshakeRefusal::NoHandshake)),
        (any::<u64>(), arb_member(), arb_digest(), arb_delta()).prop_map(
            |(id, from, digest, delta)| {
                Frame::Gossip(GossipMessage::Request(GossipRequest {
                    id,
                    from,
                    digest,
                    delta,
                }))
            }
        ),
        (any::<u64>(), arb_member(), arb_digest(), arb_delta()).prop_map(
            |(id, from, digest, delta)| {
                Frame::Gossip(GossipMessage::Response(GossipResponse {
                    id,
                    from,
                    digest,
                    delta,
                }))
            }
        ),
        (arb_member(), arb_delta(), any::<u8>()).prop_map(|(from, delta, relays)| {
            Frame::Gossip(GossipMessage::Push(GossipPush {
                from,
                delta,
                relays,
            }))
        }),
        (
            arb_member(),
            proptest::collection::vec(arb_member(), 0..4),
            any::<u8>()
        )
            .prop_map(|(from, members, relays)| {
                Frame::Gossip(GossipMessage::Suspect(GossipSuspect {
                    from,
                    members,
                    relays,
                }))
            }),
        (arb_member(), arb_member(), any::<u32>()).prop_map(|(from, blocked, members)| {
            Frame::Gossip(GossipMessage::Rejected(GossipRejected {
                from,
                blocked,
                members,
            }))
        }),
    ]
}

proptest! {
    #[test]
    fn every_frame_round_trips(frame in arb_frame()) {
        let bytes = frame.encode();
        prop_assert_eq!(bytes[0], PROTOCOL_VERSION);
        prop_assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES), Ok(frame));
    }

    #[test]
    fn arbitrary_bytes_decode_to_a_frame_or_an_error_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        let _ = Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES);
    }

    #[test]
    fn bytes_after_the_version_byte_decode_to_a_frame_or_an_error(
        variant in 0u8..8,
        tail in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        // The right version byte and a plausible variant index, so that postcard decodes
        // the rest: the version check is passed, only postcard can refuse.
        let mut bytes = vec![PROTOCOL_VERSION, variant];
        bytes.extend_from_slice(&tail);
        decodes_or_is_refused_by_postcard(&bytes)?;
    }

    #[test]
    fn mutated_encodings_of_every_frame_decode_to_a_frame_or_an_error(
        frame in arb_frame(),
        edits in proptest::collection::vec(arb_edit(), 1..6)
    ) {
        let mut bytes = frame.encode();
        for edit in edits {
            edit.apply(&mut bytes);
        }
        decodes_or_is_refused_by_postcard(&bytes)?;
    }
}

/// A change to an encoded frame, past its version byte.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, v)| Edit::Set(at, v)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, v)| Edit::Insert(at, v)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

impl Edit {
    /// Applies the edit to the body (every byte but the first), positions taken modulo
    /// its length.
    fn apply(self, bytes: &mut Vec<u8>) {
        let body = bytes.len() - 1;
        let at = |i: usize| 1 + if body == 0 { 0 } else { i % body };
        match self {
            Self::Set(i, v) if body > 0 => bytes[at(i)] = v,
            Self::Insert(i, v) => bytes.insert(at(i).min(bytes.len()), v),
            Self::Remove(i) if body > 0 => {
                bytes.remove(at(i));
            }
            Self::Truncate(i) => bytes.truncate(at(i)),
            Self::Set(..) | Self::Remove(_) => {}
        }
    }
}

/// Bytes that start with the right version byte either decode to a frame that encodes
/// and decodes back to itself, or are refused by the postcard decoder (malformed, or
/// bytes left over) — no other outcome, and no panic.
fn decodes_or_is_refused_by_postcard(bytes: &[u8]) -> Result<(), TestCaseError> {
    match Frame::decode(bytes, DEFAULT_MAX_FRAME_BYTES) {
        Ok(frame) => prop_assert_eq!(
            Frame::decode(&frame.encode(), DEFAULT_MAX_FRAME_BYTES),
            Ok(frame)
        ),
        Err(e) => prop_assert!(
            matches!(e, WireError::Malformed(_) | WireError::TrailingBytes { .. }),
            "refused before postcard: {:?}",
            e
        ),
    }
    Ok(())
}

/// One frame of every kind: each `Frame` variant and, inside it, each message variant.
fn one_of_each() -> Vec<Frame> {
    let member = MemberId::new("node-1", 1_700_000_000_000);
    let handshake = Handshake {
        cluster: String::from("prod"),
        protocol_version: PROTOCOL_VERSION,
        member: member.clone(),
        address: String::from("127.0.0.1:7000"),
    };
    let digest = GossipDigest {
        entries: vec![DigestEntry {
            member: member.clone(),
            heartbeat: 300,
            watermark: 70_000,
        }],
        complete: true,
        view: Some(ViewDigest {
            hash: u64::MAX - 5,
            all: vec![(1, 2)],
            some: vec![(3, 4, 5)],
        }),
    };
    let delta = GossipDelta {
        owners: vec![OwnerDelta {
            member: member.clone(),
            from: 1,
            to: 200,
            entries: vec![DeltaEntry {
                key: String::from("heartbeat"),
                seq: 200,
                value: vec![0, 1, 0x7f, 0x80, 0xff],
            }],
        }],
    };
    let subscriber = SubscriberId::new("worker-3");
    vec![
        Frame::Handshake(handshake.clone()),
        Frame::HandshakeAccepted(handshake),
        Frame::HandshakeRefused(HandshakeRefusal::WrongCluster {
            expected: String::from("prod"),
            got: String::from("test"),
        }),
        Frame::HandshakeRefused(HandshakeRefusal::WrongVersion {
            expected: PROTOCOL_VERSION,
            got: 9,
        }),
        Frame::HandshakeRefused(HandshakeRefusal::NoHandshake),
        Frame::Gossip(GossipMessage::Request(GossipRequest {
            id: 1 << 40,
            from: member.clone(),
            digest: digest.clone(),
            delta: delta.clone(),
        })),
        Frame::Gossip(GossipMessage::Response(GossipResponse {
            id: 9,
            from: member.clone(),
            digest,
            delta: delta.clone(),
        })),
        Frame::Gossip(GossipMessage::Push(GossipPush {
            from: member.clone(),
            delta,
            relays: 3,
        })),
        Frame::Gossip(GossipMessage::Rejected(GossipRejected {
            from: member.clone(),
            blocked: MemberId::new("node-2", 4),
            members: 12,
        })),
        Frame::Gossip(GossipMessage::Suspect(GossipSuspect {
            from: member.clone(),
            members: vec![MemberId::new("node-3", 1)],
            relays: 1,
        })),
        Frame::PubSub(PubSubMessage::Batch(DeliveryBatch {
            batch_id: 77,
            from: member.clone(),
            topic: String::from("orders"),
            messages: vec![BatchMessage {
                message_id: 5,
                payload: vec![1, 2, 3],
                subscribers: vec![subscriber.clone()],
                group: Some(String::from("billing")),
            }],
        })),
        Frame::PubSub(PubSubMessage::Ack(DeliveryAck {
            batch_id: 77,
            from: member.clone(),
            statuses: vec![SubscriberStatus {
                subscriber: subscriber.clone(),
                message_id: 5,
                status: DeliveryStatus::Delivered,
            }],
        })),
        Frame::PubSub(PubSubMessage::Completed(GroupCompletion {
            from: member,
            topic: String::from("orders"),
            group: String::from("billing"),
            subscriber,
            message_ids: vec![5, 6],
        })),
    ]
}

/// The kind of a frame, down to the message variant. Exhaustive on purpose: a new variant
/// does not compile until it is named here and given a sample in [`one_of_each`].
fn kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::Handshake(_) => "handshake",
        Frame::HandshakeAccepted(_) => "handshake accepted",
        Frame::HandshakeRefused(HandshakeRefusal::WrongCluster { .. }) => "refused: cluster",
        Frame::HandshakeRefused(HandshakeRefusal::WrongVersion { .. }) => "refused: version",
        Frame::HandshakeRefused(HandshakeRefusal::NoHandshake) => "refused: no handshake",
        Frame::Gossip(GossipMessage::Request(_)) => "gossip request",
        Frame::Gossip(GossipMessage::Response(_)) => "gossip response",
        Frame::Gossip(GossipMessage::Push(_)) => "gossip push",
        Frame::Gossip(GossipMessage::Rejected(_)) => "gossip rejected",
        Frame::Gossip(GossipMessage::Suspect(_)) => "gossip suspect",
        Frame::PubSub(PubSubMessage::Batch(_)) => "pubsub batch",
        Frame::PubSub(PubSubMessage::Ack(_)) => "pubsub ack",
        Frame::PubSub(PubSubMessage::Completed(_)) => "pubsub completed",
    }
}

#[test]
fn the_samples_hold_one_frame_of_every_kind() {
    let kinds: alloc::collections::BTreeSet<_> = one_of_each().iter().map(kind).collect();
    assert_eq!(kinds.len(), one_of_each().len(), "one sample per kind");
    assert_eq!(kinds.len(), 13, "every kind named in `kind` has a sample");
}

#[test]
fn every_one_byte_change_and_every_truncation_of_every_frame_kind_is_handled() {
    let frames = one_of_each();
    for frame in &frames {
        let bytes = frame.encode();
        assert_eq!(
            Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES).as_ref(),
            Ok(frame)
        );
        for at in 1..bytes.len() {
            let original = bytes[at];
            for value in [
                0x00,
                0x01,
                0x7f,
                0x80,
                0xff,
                original ^ 0x01,
                original ^ 0x80,
            ] {
                let mut changed = bytes.clone();
                changed[at] = value;
                decodes_or_is_refused_by_postcard(&changed).unwrap();
            }
            // Every proper prefix past the version byte is incomplete.
            assert!(matches!(
                Frame::decode(&bytes[..at], DEFAULT_MAX_FRAME_BYTES),
                Err(WireError::Malformed(_))
            ));
        }
    }
}

#[test]
fn size_limit_is_checked_before_anything_else() {
    let bytes = vec![0xffu8; 2_000];
    assert_eq!(
        Frame::decode(&bytes, 1_000),
        Err(WireError::TooLarge {
            len: 2_000,
            max: 1_000
        })
    );
}

#[test]
fn another_protocol_version_is_refused_by_its_first_byte() {
    let mut bytes = Frame::HandshakeRefused(HandshakeRefusal::NoHandshake).encode();
    bytes[0] = PROTOCOL_VERSION + 1;
    assert_eq!(
        Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES),
        Err(WireError::UnsupportedVersion {
            got: PROTOCOL_VERSION + 1,
            supported: PROTOCOL_VERSION
        })
    );
}

#[test]
fn empty_truncated_and_padded_frames_are_errors() {
    assert_eq!(Frame::decode(&[], 10), Err(WireError::Empty));
    let frame = Frame::Handshake(Handshake {
        cluster: String::from("c"),
        protocol_version: PROTOCOL_VERSION,
        member: MemberId::new("a", 1),
        address: String::from("127.0.0.1:1"),
    });
    let bytes = frame.encode();
    let truncated = &bytes[..bytes.len() - 1];
    assert!(matches!(
        Frame::decode(truncated, DEFAULT_MAX_FRAME_BYTES),
        Err(WireError::Malformed(_))
    ));
    let mut padded: Vec<u8> = bytes.clone();
    padded.push(0);
    assert_eq!(
        Frame::decode(&padded, DEFAULT_MAX_FRAME_BYTES),
        Err(WireError::TrailingBytes { count: 1 })
    );
}

#[test]
fn a_huge_claimed_length_ends_at_the_end_of_the_input() {
    // A request whose digest claims 2^32 - 1 entries but carries none. What it allocates
    // (nothing for the claim) is measured in tests/wire_allocation.rs, which counts
    // allocations; here: the decoder reads on to the end of the bytes and stops there.
    let mut bytes = vec![PROTOCOL_VERSION, 3, 0, 0, 1, b'a', 1];
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_eq!(
        Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES),
        Err(WireError::Malformed(
            postcard::Error::DeserializeUnexpectedEnd
        ))
    );
}

#[test]
fn the_kind_of_encoded_bytes_is_the_kind_of_the_frame() {
    let frames = [
        Frame::Gossip(crate::gossip::GossipMessage::Rejected(
            crate::gossip::GossipRejected {
                from: MemberId::new("a", 1),
                blocked: MemberId::new("b", 1),
                members: 3,
            },
        )),
        Frame::HandshakeRefused(crate::wire::HandshakeRefusal::NoHandshake),
    ];
    for frame in frames {
        assert_eq!(Frame::kind_of(&frame.encode()), frame.kind());
    }
    assert_eq!(Frame::kind_of(&[]), crate::wire::FrameKind::Other);
    assert_eq!(Frame::kind_of(&[1, 99]), crate::wire::FrameKind::Other);
}

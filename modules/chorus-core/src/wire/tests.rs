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
    fn corrupted_frames_never_panic(frame in arb_frame(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = frame.encode();
        for (at, value) in flips {
            let len = bytes.len();
            bytes[at % len] = value;
        }
        let _ = Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES);
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
fn a_huge_claimed_length_does_not_allocate_it() {
    // A request whose digest claims 2^32 entries but carries none: decoding fails cleanly.
    let mut bytes = vec![PROTOCOL_VERSION, 3, 0, 0, 1, b'a', 1];
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(matches!(
        Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES),
        Err(WireError::Malformed(_))
    ));
}

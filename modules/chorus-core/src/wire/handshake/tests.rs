use alloc::string::String;

use super::Handshake;
use crate::gossip::{GossipDelta, GossipMessage, GossipPush};
use crate::topology::MemberId;
use crate::wire::{DEFAULT_MAX_FRAME_BYTES, Frame, HandshakeRefusal, PROTOCOL_VERSION, WireError};

fn handshake(cluster: &str, version: u8) -> Handshake {
    Handshake {
        cluster: String::from(cluster),
        protocol_version: version,
        member: MemberId::new("a", 1),
        address: String::from("127.0.0.1:7000"),
    }
}

#[test]
fn a_handshake_of_our_cluster_and_version_passes() {
    assert_eq!(handshake("blue", PROTOCOL_VERSION).check("blue"), Ok(()));
}

#[test]
fn another_cluster_is_refused_with_both_names() {
    assert_eq!(
        handshake("red", PROTOCOL_VERSION).check("blue"),
        Err(HandshakeRefusal::WrongCluster {
            expected: String::from("blue"),
            got: String::from("red"),
        })
    );
}

#[test]
fn another_version_is_refused_before_the_cluster_is_looked_at() {
    let other = PROTOCOL_VERSION.wrapping_add(1);
    let expected = Err(HandshakeRefusal::WrongVersion {
        expected: PROTOCOL_VERSION,
        got: other,
    });
    assert_eq!(handshake("blue", other).check("blue"), expected);
    assert_eq!(handshake("red", other).check("blue"), expected);
}

#[test]
fn the_first_frame_must_be_an_acceptable_handshake() {
    let ours = handshake("blue", PROTOCOL_VERSION);
    assert_eq!(
        Handshake::from_first_frame(Ok(Frame::Handshake(ours.clone())), "blue"),
        Ok(ours)
    );
    assert_eq!(
        Handshake::from_first_frame(
            Ok(Frame::Handshake(handshake("red", PROTOCOL_VERSION))),
            "blue"
        ),
        Err(HandshakeRefusal::WrongCluster {
            expected: String::from("blue"),
            got: String::from("red"),
        })
    );
    let push = Frame::Gossip(GossipMessage::Push(GossipPush {
        from: MemberId::new("a", 1),
        delta: GossipDelta::default(),
        relays: 0,
    }));
    assert_eq!(
        Handshake::from_first_frame(Ok(push), "blue"),
        Err(HandshakeRefusal::NoHandshake)
    );
    assert_eq!(
        Handshake::from_first_frame(Err(WireError::Empty), "blue"),
        Err(HandshakeRefusal::NoHandshake)
    );
}

#[test]
fn a_first_frame_in_another_version_is_a_version_refusal() {
    let mut bytes = Frame::Handshake(handshake("blue", PROTOCOL_VERSION)).encode();
    if let Some(version) = bytes.first_mut() {
        *version = PROTOCOL_VERSION.wrapping_add(1);
    }
    let decoded = Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES);
    assert_eq!(
        Handshake::from_first_frame(decoded, "blue"),
        Err(HandshakeRefusal::WrongVersion {
            expected: PROTOCOL_VERSION,
            got: PROTOCOL_VERSION.wrapping_add(1),
        })
    );
}

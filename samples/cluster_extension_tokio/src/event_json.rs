//! Cluster events as JSON objects and as readable lines.

use chorus_core::cluster::ClusterEvent;
use chorus_core::topology::{Member, MemberId};
use chorus_tokio::Delivery;
use serde_json::{Value, json};

fn names(members: &[Member]) -> Vec<&str> {
    members.iter().map(|m| m.id().name()).collect()
}

fn id_names(ids: &[MemberId]) -> Vec<&str> {
    ids.iter().map(MemberId::name).collect()
}

fn ids(members: &[Member]) -> Vec<String> {
    members.iter().map(|m| m.id().to_string()).collect()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The event as one JSON object with an `"event"` field naming it.
pub(crate) fn to_json(event: &ClusterEvent) -> Value {
    match event {
        ClusterEvent::Startup { member } => json!({
            "event": "Startup", "member": member.name(), "incarnation": member.incarnation(),
        }),
        ClusterEvent::StartupFailed { reason } => {
            json!({ "event": "StartupFailed", "reason": reason.to_string() })
        }
        ClusterEvent::Shutdown { member } => json!({
            "event": "Shutdown", "member": member.name(), "incarnation": member.incarnation(),
        }),
        ClusterEvent::ShutdownFailed { reason } => {
            json!({ "event": "ShutdownFailed", "reason": reason.to_string() })
        }
        ClusterEvent::TopologyUpdated(t) => json!({
            "event": "TopologyUpdated",
            "members": names(t.members()),
            "joined": names(t.joined()),
            "left": names(t.left()),
            "blocked": id_names(t.blocked()),
            "member_ids": ids(t.members()),
            "hash": format!("{:016x}", t.hash()),
        }),
        ClusterEvent::TopologyApplyFailed { reason } => {
            json!({ "event": "TopologyApplyFailed", "reason": reason.to_string() })
        }
        ClusterEvent::GossipUpdated { member, key, seq } => json!({
            "event": "GossipUpdated", "member": member.name(), "key": key, "seq": seq,
        }),
        ClusterEvent::ConsensusReached { check, value } => json!({
            "event": "ConsensusReached", "check": check, "value": hex(value),
        }),
        ClusterEvent::ConsensusLost { check } => {
            json!({ "event": "ConsensusLost", "check": check })
        }
        ClusterEvent::BlockedByPeer { peer, peer_members } => json!({
            "event": "BlockedByPeer", "peer": peer.to_string(), "peer_members": peer_members,
        }),
        ClusterEvent::Rejoined { previous, member } => json!({
            "event": "Rejoined", "previous": previous.to_string(), "member": member.to_string(),
        }),
        ClusterEvent::HandshakeFailed {
            address,
            reason,
            refused_by_peer,
        } => json!({
            "event": "HandshakeFailed", "address": address, "reason": reason.to_string(),
            "refused_by_peer": refused_by_peer,
        }),
        ClusterEvent::PubSub(event) => json!({ "event": "PubSub", "detail": format!("{event:?}") }),
        ClusterEvent::ForgedSender {
            address,
            member,
            claimed,
        } => json!({
            "event": "ForgedSender", "address": address, "member": member.to_string(),
            "claimed": claimed.to_string(),
        }),
        // Events a later chorus adds: named by their debug form until this sample knows them.
        other => json!({ "event": "Other", "detail": format!("{other:?}") }),
    }
}

/// The event as a line for people, or `None` for internal chatter (writes of chorus's own
/// gossip keys).
pub(crate) fn to_line(event: &ClusterEvent) -> Option<String> {
    Some(match event {
        ClusterEvent::Startup { member } => format!("started as {member}"),
        ClusterEvent::StartupFailed { reason } => format!("start failed: {reason}"),
        ClusterEvent::Shutdown { member } => format!("{member} shut down"),
        ClusterEvent::ShutdownFailed { reason } => format!("shutdown failed: {reason}"),
        ClusterEvent::TopologyUpdated(t) => format!(
            "topology {:016x}: members {:?} joined {:?} left {:?} blocked {:?}",
            t.hash(),
            names(t.members()),
            names(t.joined()),
            names(t.left()),
            id_names(t.blocked())
        ),
        ClusterEvent::TopologyApplyFailed { reason } => format!("topology refused: {reason}"),
        ClusterEvent::GossipUpdated { key, .. } if key.starts_with("chorus.") => return None,
        ClusterEvent::GossipUpdated { member, key, seq } => {
            format!("{member} wrote {key} (seq {seq})")
        }
        ClusterEvent::ConsensusReached { check, value } => {
            format!("consensus on {check}: {}", hex(value))
        }
        ClusterEvent::ConsensusLost { check } => format!("consensus on {check} lost"),
        ClusterEvent::BlockedByPeer { peer, .. } => format!("{peer} blocked this node"),
        ClusterEvent::Rejoined { previous, member } => format!("rejoined: {previous} -> {member}"),
        ClusterEvent::HandshakeFailed {
            address,
            reason,
            refused_by_peer,
        } => {
            let who = if *refused_by_peer {
                "refused by"
            } else {
                "refused"
            };
            format!("{who} {address}: {reason}")
        }
        ClusterEvent::PubSub(event) => format!("pub/sub: {event:?}"),
        ClusterEvent::ForgedSender {
            address,
            member,
            claimed,
        } => format!("dropped a message from {address} ({member}) claiming to be {claimed}"),
        other => format!("{other:?}"),
    })
}

/// A delivery as one JSON object: `"event": "Delivery"`, the topic, the publisher, the
/// message id, the group, and the payload as text (`payload`, lossy UTF-8) and hex.
pub(crate) fn delivery_json(delivery: &Delivery) -> Value {
    json!({
        "event": "Delivery",
        "topic": delivery.topic,
        "publisher": delivery.publisher.to_string(),
        "message_id": delivery.message_id,
        "group": delivery.group,
        "payload": String::from_utf8_lossy(&delivery.payload),
        "payload_hex": hex(&delivery.payload),
    })
}

/// A delivery as a line for people.
pub(crate) fn delivery_line(delivery: &Delivery) -> String {
    format!(
        "{} #{} from {}: {}",
        delivery.topic,
        delivery.message_id,
        delivery.publisher,
        String::from_utf8_lossy(&delivery.payload)
    )
}

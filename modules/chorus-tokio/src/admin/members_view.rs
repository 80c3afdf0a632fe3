//! `/members`: the members of the node's topology and the members it blocked.

use chorus_core::topology::{Member, MemberId};
use serde::Serialize;
use tokio::time::Instant;

use crate::node_snapshot::SnapshotData;

/// The body of `/members`.
#[derive(Debug, Serialize)]
pub(crate) struct MembersView {
    pub(crate) members: Vec<MemberView>,
}

/// One member, as `/members` lists it.
#[derive(Debug, Serialize)]
pub(crate) struct MemberView {
    pub(crate) name: String,
    pub(crate) incarnation: u64,
    /// The address peers reach it at; `None` for a blocked member (the node forgets
    /// what it knew of it).
    pub(crate) address: Option<String>,
    /// `alive` for a member of the topology, `blocked` for a member blocked for good.
    pub(crate) status: &'static str,
    /// Whether this is the node answering.
    #[serde(rename = "self")]
    pub(crate) is_self: bool,
    pub(crate) kinds: Vec<String>,
    /// The member's heartbeat counter as this node knows it.
    pub(crate) heartbeat: Option<u64>,
    /// Milliseconds since this node saw the member's heartbeat rise (or first saw the
    /// member), measured at the node's gossip rounds; `None` when not known.
    pub(crate) last_heard_ms: Option<u64>,
}

impl MembersView {
    /// The members of the topology (exactly `Cluster::members`), then the blocked ones.
    pub(crate) fn new(
        members: &[Member],
        blocked: &[MemberId],
        snapshot: &SnapshotData,
        now: Instant,
    ) -> Self {
        let alive = members.iter().map(|member| {
            let id = member.id();
            let heard = snapshot.heard.get(id);
            MemberView {
                name: id.name().to_string(),
                incarnation: id.incarnation(),
                address: Some(member.address().to_string()),
                status: "alive",
                is_self: snapshot.member.as_ref() == Some(id),
                kinds: member.kinds().to_vec(),
                heartbeat: heard.map(|h| h.heartbeat),
                last_heard_ms: heard
                    .map(|h| now.saturating_duration_since(h.at).as_millis() as u64),
            }
        });
        let gone = blocked.iter().map(|id| MemberView {
            name: id.name().to_string(),
            incarnation: id.incarnation(),
            address: None,
            status: "blocked",
            is_self: snapshot.member.as_ref() == Some(id),
            kinds: Vec::new(),
            heartbeat: None,
            last_heard_ms: None,
        });
        Self {
            members: alive.chain(gone).collect(),
        }
    }
}

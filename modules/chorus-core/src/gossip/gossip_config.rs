use super::{DeltaLimits, GossipConfigError};

/// Settings of the gossip protocol. Every bound is here, with a default and a validation
/// rule; `docs/operations.md` explains how detection time and bandwidth follow from them.
///
/// With the `serde` feature it reads and writes as a table whose keys are the field names,
/// every one optional (its default) and an unknown one an error; the durations drop their
/// `_ms` and are written for people: `gossip_interval = "250ms"`, `heartbeat_expiration =
/// "2s"` (see [`duration_text`](crate::duration_text); a bare integer is milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct GossipConfig {
    /// Time between two push-pull rounds (default 250 ms). Each round sends a digest to
    /// `fan_out` peers; shorter rounds detect and repair faster and cost more bytes.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "gossip_interval", with = "crate::duration_text")
    )]
    pub gossip_interval_ms: u64,
    /// A request without a response after this long is counted as timed out (default
    /// 1,000 ms). Must stay below `heartbeat_expiration_ms`.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "request_timeout", with = "crate::duration_text")
    )]
    pub request_timeout_ms: u64,
    /// Peers contacted per round (default 1). Each round every node also answers about
    /// as many requests, so news about heartbeats reaches about three times as many nodes
    /// per round; a digest of O(N) bytes per contacted peer is what a round costs.
    pub fan_out: usize,
    /// Peers a fresh change (a key set, a join, a leave) is pushed and relayed to (default
    /// 3): pushes spread a change through the cluster in O(log N) hops.
    pub push_fan_out: usize,
    /// While a node has at most this many peers, a fresh change is sent to every one of
    /// them directly instead of being relayed as a rumor (default 32): one hop, no
    /// residue of nodes the rumor missed. Above it, rumors keep the cost per node constant.
    pub broadcast_max_peers: usize,
    /// At most this many entries per message (default 1,024).
    pub max_entries_per_message: usize,
    /// At most this many encoded bytes of digest and delta per message (default 60 KiB).
    pub max_bytes_per_message: usize,
    /// A key and its value together may hold at most this many bytes (default 16 KiB). A
    /// larger write is refused with [`GossiperError::WriteTooLarge`](super::GossiperError)
    /// when it is set, so every write fits a message; at most half of
    /// `max_bytes_per_message`, which leaves room for the digest beside it.
    pub max_write_bytes: usize,
    /// Time between two increments of the local heartbeat (default 250 ms).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "heartbeat_interval", with = "crate::duration_text")
    )]
    pub heartbeat_interval_ms: u64,
    /// A member whose heartbeat has not risen for this long is blocked (default 2,000 ms).
    /// Must be at least [`GossipConfig::MIN_EXPIRATION_INTERVALS`] heartbeat intervals and
    /// gossip intervals.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "heartbeat_expiration", with = "crate::duration_text")
    )]
    pub heartbeat_expiration_ms: u64,
    /// Every this many rounds, one seed that is not a live member is contacted, so that
    /// both sides of a healed partition find each other again (default 8; 0 turns it off).
    pub seed_probe_rounds: u32,
    /// A blocked member id is remembered (and refused) for this long after it was blocked,
    /// then forgotten, which bounds the blocked list (default 10 minutes).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "blocked_retention", with = "crate::duration_text")
    )]
    pub blocked_retention_ms: u64,
    /// Whether a node that learns it is blocked — a peer refuses it, or its peers see
    /// as alive the members it blocked — rejoins under a new incarnation (default true).
    /// The rules are in `docs/protocol.md`.
    pub rejoin_when_blocked: bool,
}

impl GossipConfig {
    /// The expiration must span at least this many heartbeat and gossip intervals, or
    /// ordinary gossip delays would block live members.
    pub const MIN_EXPIRATION_INTERVALS: u64 = 4;

    /// Defaults for a LAN cluster of up to a few dozen nodes.
    pub const fn new() -> Self {
        Self {
            gossip_interval_ms: 250,
            request_timeout_ms: 1_000,
            fan_out: 1,
            push_fan_out: 3,
            broadcast_max_peers: 32,
            max_entries_per_message: 1_024,
            max_bytes_per_message: 60 * 1024,
            max_write_bytes: 16 * 1024,
            heartbeat_interval_ms: 250,
            heartbeat_expiration_ms: 2_000,
            seed_probe_rounds: 8,
            blocked_retention_ms: 10 * 60 * 1_000,
            rejoin_when_blocked: true,
        }
    }

    /// Defaults scaled for a LAN cluster of `members` nodes: heartbeat news takes about
    /// log2(N) rounds to reach everyone, so the expiration grows with log2(N).
    pub fn new_lan(members: usize) -> Self {
        let base = Self::new();
        let rounds = u64::from(usize::BITS - members.max(2).leading_zeros());
        let expiration = (base.gossip_interval_ms * (rounds + 4)).max(base.heartbeat_expiration_ms);
        Self {
            heartbeat_expiration_ms: expiration,
            ..base
        }
    }

    /// The message bounds as [`DeltaLimits`].
    pub fn limits(&self) -> DeltaLimits {
        DeltaLimits {
            max_entries: self.max_entries_per_message,
            max_bytes: self.max_bytes_per_message,
        }
    }

    /// Checks every rule; the first one broken is returned.
    pub fn validate(&self) -> Result<(), GossipConfigError> {
        if self.fan_out == 0 || self.push_fan_out == 0 {
            return Err(GossipConfigError::ZeroFanOut);
        }
        if self.gossip_interval_ms == 0 {
            return Err(GossipConfigError::ZeroGossipInterval);
        }
        if self.heartbeat_interval_ms == 0 {
            return Err(GossipConfigError::ZeroHeartbeatInterval);
        }
        if self.max_entries_per_message == 0 {
            return Err(GossipConfigError::ZeroMaxEntries);
        }
        if self.max_bytes_per_message < GossipConfigError::MIN_MESSAGE_BYTES {
            return Err(GossipConfigError::MessageBytesTooSmall {
                bytes: self.max_bytes_per_message,
            });
        }
        if self.max_write_bytes == 0 || self.max_write_bytes > self.max_bytes_per_message / 2 {
            return Err(GossipConfigError::WriteBytesOutOfRange {
                bytes: self.max_write_bytes,
                maximum: self.max_bytes_per_message / 2,
            });
        }
        let slowest = self.heartbeat_interval_ms.max(self.gossip_interval_ms);
        let minimum_ms = slowest.saturating_mul(Self::MIN_EXPIRATION_INTERVALS);
        if self.heartbeat_expiration_ms < minimum_ms {
            return Err(GossipConfigError::ExpirationTooShort {
                expiration_ms: self.heartbeat_expiration_ms,
                minimum_ms,
            });
        }
        if self.request_timeout_ms == 0 || self.request_timeout_ms >= self.heartbeat_expiration_ms {
            return Err(GossipConfigError::RequestTimeoutNotBelowExpiration {
                timeout_ms: self.request_timeout_ms,
                expiration_ms: self.heartbeat_expiration_ms,
            });
        }
        Ok(())
    }
}

impl Default for GossipConfig {
    fn default() -> Self {
        Self::new()
    }
}

use std::time::Duration;

use chorus_core::wire::DEFAULT_MAX_FRAME_BYTES;

use super::TransportError;

/// Settings of the TCP transport.
///
/// As a table of a configuration file (`[transport]` in `node.toml`) every key is optional
/// (its default) and an unknown one an error; durations are written for people (`"2s"`,
/// `"50ms"`, `"1m 30s"`: `humantime`'s forms).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransportConfig {
    /// Frames above this many bytes are refused before any allocation and close their
    /// connection (default 1 MiB).
    pub max_frame_bytes: usize,
    /// Frames waiting per peer; a full queue is an error the sender sees (default 256).
    pub send_queue_capacity: usize,
    /// Messages received but not yet handled by the gossip loop (default 1,024); a full
    /// queue slows the sending connection down.
    pub inbound_queue_capacity: usize,
    /// Time to establish a TCP connection (default 1 s).
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Time for the peer to answer a handshake (default 2 s).
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// First delay before reconnecting after a failure (default 50 ms); it doubles up to
    /// `reconnect_backoff_max` (default 2 s), with jitter.
    #[serde(with = "humantime_serde")]
    pub reconnect_backoff_min: Duration,
    /// Longest delay between reconnection attempts (default 2 s).
    #[serde(with = "humantime_serde")]
    pub reconnect_backoff_max: Duration,
    /// An outbound connection with nothing to send for this long is closed (default 30 s).
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A write to a peer that takes longer than this — the peer stopped reading and the
    /// socket buffers are full — drops the connection (default 2 s); the frame is lost
    /// and the next one reconnects with backoff. Counted in `write_timeouts`.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// Inbound connections open at once, from every peer together (default 512): one
    /// more is closed as soon as it is accepted, counted in `inbound_refused`, so that
    /// connections cannot take all of the process's file descriptors.
    pub max_inbound_connections: usize,
    /// Inbound connections open at once from one IP address (default 256: every node of
    /// a cluster on one host shares it).
    pub max_inbound_per_address: usize,
    /// An inbound connection that completes no frame for this long — idle, or stalled in
    /// the middle of one — is closed (default 60 s, above a peer's own `idle_timeout`, after
    /// which a healthy peer closes an unused connection itself). Counted in
    /// `inbound_timeouts`.
    #[serde(with = "humantime_serde")]
    pub inbound_idle_timeout: Duration,
}

impl TransportConfig {
    /// The largest queue capacity accepted, in frames or messages.
    pub const MAX_QUEUE_CAPACITY: usize = 1 << 20;

    /// The largest frame a 4-byte length prefix can announce.
    pub const MAX_FRAME_BYTES: usize = u32::MAX as usize;

    /// The defaults.
    pub fn new() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            send_queue_capacity: 256,
            inbound_queue_capacity: 1_024,
            connect_timeout: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(2),
            reconnect_backoff_min: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(2),
            max_inbound_connections: 512,
            max_inbound_per_address: 256,
            inbound_idle_timeout: Duration::from_secs(60),
        }
    }

    /// Checks every rule.
    pub fn validate(&self) -> Result<(), TransportError> {
        let rule = |ok: bool, reason| {
            if ok {
                Ok(())
            } else {
                Err(TransportError::InvalidConfig { reason })
            }
        };
        rule(
            (1_024..=Self::MAX_FRAME_BYTES).contains(&self.max_frame_bytes),
            "max_frame_bytes must be between 1024 and 4294967295",
        )?;
        rule(
            (1..=Self::MAX_QUEUE_CAPACITY).contains(&self.send_queue_capacity),
            "send_queue_capacity must be between 1 and 1048576",
        )?;
        rule(
            (1..=Self::MAX_QUEUE_CAPACITY).contains(&self.inbound_queue_capacity),
            "inbound_queue_capacity must be between 1 and 1048576",
        )?;
        rule(
            !self.connect_timeout.is_zero(),
            "connect_timeout must be above 0",
        )?;
        rule(
            !self.handshake_timeout.is_zero(),
            "handshake_timeout must be above 0",
        )?;
        rule(
            !self.reconnect_backoff_min.is_zero()
                && self.reconnect_backoff_min <= self.reconnect_backoff_max,
            "reconnect_backoff_min must be above 0 and at most reconnect_backoff_max",
        )?;
        rule(!self.idle_timeout.is_zero(), "idle_timeout must be above 0")?;
        rule(
            self.max_inbound_connections >= 1 && self.max_inbound_per_address >= 1,
            "max_inbound_connections and max_inbound_per_address must be at least 1",
        )?;
        rule(
            !self.inbound_idle_timeout.is_zero(),
            "inbound_idle_timeout must be above 0",
        )?;
        rule(
            !self.write_timeout.is_zero(),
            "write_timeout must be above 0",
        )
    }
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self::new()
    }
}

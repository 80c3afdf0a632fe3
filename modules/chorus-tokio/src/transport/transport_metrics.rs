use std::sync::atomic::{AtomicU64, Ordering};

use chorus_core::wire::FrameKind;

/// A snapshot of the transport's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportMetrics {
    /// Bytes written to peers (frames and their 4-byte length prefixes).
    pub bytes_out: u64,
    /// Bytes read from peers.
    pub bytes_in: u64,
    /// Frames written.
    pub frames_out: u64,
    /// Frames read.
    pub frames_in: u64,
    /// Of `bytes_out`, the bytes of gossip frames.
    pub gossip_bytes_out: u64,
    /// Of `bytes_out`, the bytes of pub/sub frames (the rest are handshakes).
    pub pub_sub_bytes_out: u64,
    /// Of `bytes_in`, the bytes of gossip frames.
    pub gossip_bytes_in: u64,
    /// Of `bytes_in`, the bytes of pub/sub frames (the rest are handshakes and frames
    /// that named no kind).
    pub pub_sub_bytes_in: u64,
    /// Outbound connections established (handshake accepted).
    pub connects: u64,
    /// Outbound connection attempts that failed (refused, timed out, reset).
    pub connect_failures: u64,
    /// Inbound connections accepted (handshake accepted).
    pub accepts: u64,
    /// Handshakes refused, by us or by the peer.
    pub refusals: u64,
    /// Frames that could not be decoded, or were over the size limit; each closed its
    /// connection.
    pub decode_errors: u64,
    /// Frames not queued because the peer's queue was full.
    pub queue_full: u64,
    /// Frames not sent because they were larger than `max_frame_bytes`.
    pub oversized_frames: u64,
    /// Writes that took longer than `write_timeout` (each dropped its connection).
    pub write_timeouts: u64,
    /// Established outbound connections lost: the peer closed it, or a write failed or
    /// timed out. The next frame reconnects, after a backoff.
    pub disconnects: u64,
    /// Inbound connections closed at once: over `max_inbound_connections` or
    /// `max_inbound_per_address`.
    pub inbound_refused: u64,
    /// Inbound connections closed after `inbound_idle_timeout` without a whole frame.
    pub inbound_timeouts: u64,
    /// Inbound connections open now.
    pub inbound_open: u64,
}

/// The live counters behind [`TransportMetrics`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) frames_in: AtomicU64,
    pub(crate) gossip_bytes_out: AtomicU64,
    pub(crate) pub_sub_bytes_out: AtomicU64,
    pub(crate) gossip_bytes_in: AtomicU64,
    pub(crate) pub_sub_bytes_in: AtomicU64,
    pub(crate) connects: AtomicU64,
    pub(crate) connect_failures: AtomicU64,
    pub(crate) accepts: AtomicU64,
    pub(crate) refusals: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) queue_full: AtomicU64,
    pub(crate) oversized_frames: AtomicU64,
    pub(crate) write_timeouts: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) inbound_refused: AtomicU64,
    pub(crate) inbound_timeouts: AtomicU64,
    pub(crate) inbound_open: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `n` bytes of a frame whose encoded form is `frame`, by kind.
    pub(crate) fn add_kind(&self, frame: &[u8], n: u64, outbound: bool) {
        let counter = match (chorus_core::wire::Frame::kind_of(frame), outbound) {
            (FrameKind::Gossip, true) => &self.gossip_bytes_out,
            (FrameKind::PubSub, true) => &self.pub_sub_bytes_out,
            (FrameKind::Gossip, false) => &self.gossip_bytes_in,
            (FrameKind::PubSub, false) => &self.pub_sub_bytes_in,
            _ => return,
        };
        Self::add(counter, n);
    }

    pub(crate) fn snapshot(&self) -> TransportMetrics {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TransportMetrics {
            bytes_out: read(&self.bytes_out),
            bytes_in: read(&self.bytes_in),
            frames_out: read(&self.frames_out),
            frames_in: read(&self.frames_in),
            gossip_bytes_out: read(&self.gossip_bytes_out),
            pub_sub_bytes_out: read(&self.pub_sub_bytes_out),
            gossip_bytes_in: read(&self.gossip_bytes_in),
            pub_sub_bytes_in: read(&self.pub_sub_bytes_in),
            connects: read(&self.connects),
            connect_failures: read(&self.connect_failures),
            accepts: read(&self.accepts),
            refusals: read(&self.refusals),
            decode_errors: read(&self.decode_errors),
            queue_full: read(&self.queue_full),
            oversized_frames: read(&self.oversized_frames),
            write_timeouts: read(&self.write_timeouts),
            disconnects: read(&self.disconnects),
            inbound_refused: read(&self.inbound_refused),
            inbound_timeouts: read(&self.inbound_timeouts),
            inbound_open: read(&self.inbound_open),
        }
    }
}

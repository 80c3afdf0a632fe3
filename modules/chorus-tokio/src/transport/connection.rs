//! The tasks behind the transport: accepting, reading an inbound connection, and writing
//! to one peer.
//!
//! Each connection task runs in its own span, `inbound{peer}` or `outbound{peer}`, whose
//! `member` field is filled in once the handshake names the peer; both are children of
//! the span current when the transport was bound. What a connection refuses or loses is
//! logged there with its reason: refusals, decode errors and oversized frames at `warn`,
//! lost connections at `info`, routine connects, reconnects and closes at `debug`.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use chorus_core::cluster::ClusterEvent;
use chorus_core::wire::{Frame, Handshake, HandshakeRefusal, PROTOCOL_VERSION, WireError};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use tracing::{Instrument, Span, debug, field, info, info_span, warn};

use super::backoff::Backoff;
use super::tokio_tcp_transport::{Inner, io_reason};
use super::transport_metrics::Counters;
use super::{InboundFrame, InboundMessage};

type Connection = Framed<TcpStream, LengthDelimitedCodec>;

/// Bytes of the length prefix in front of every frame.
const PREFIX: u64 = 4;

fn framed(stream: TcpStream, max_frame_bytes: usize) -> Connection {
    // The codec reads the 4-byte length first and refuses a frame over the limit before
    // reserving memory for it.
    let codec = LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(max_frame_bytes)
        .new_codec();
    Framed::new(stream, codec)
}

/// Writes one frame within `write_timeout`; `false` when the write failed, timed out (a
/// peer that stopped reading) or the transport closed: the connection must be dropped.
async fn write(inner: &Inner, connection: &mut Connection, bytes: Bytes) -> bool {
    let len = bytes.len() as u64;
    let kind_tag = bytes.get(..2).map(<[u8]>::to_vec).unwrap_or_default();
    let sent = tokio::select! {
        () = inner.cancel.cancelled() => return false,
        sent = tokio::time::timeout(inner.config.write_timeout, connection.send(bytes)) => sent,
    };
    match sent {
        Ok(Ok(())) => {
            Counters::add(&inner.counters.bytes_out, len + PREFIX);
            Counters::add(&inner.counters.frames_out, 1);
            inner.counters.add_kind(&kind_tag, len + PREFIX, true);
            true
        }
        Ok(Err(error)) => {
            debug!(reason = %error, "write failed");
            false
        }
        Err(_) => {
            Counters::add(&inner.counters.write_timeouts, 1);
            warn!(
                timeout = ?inner.config.write_timeout,
                "write timed out: the peer stopped reading"
            );
            false
        }
    }
}

/// Reads one frame; `None` when the connection closed, failed, or sent an oversized frame
/// (counted as a decode error, and logged as one; a failure is logged, a clean close is
/// left to the caller).
async fn read(inner: &Inner, connection: &mut Connection) -> Option<Bytes> {
    match connection.next().await? {
        Ok(bytes) => {
            Counters::add(&inner.counters.bytes_in, bytes.len() as u64 + PREFIX);
            Counters::add(&inner.counters.frames_in, 1);
            inner
                .counters
                .add_kind(&bytes, bytes.len() as u64 + PREFIX, false);
            Some(bytes.freeze())
        }
        Err(error) => {
            if error.kind() == std::io::ErrorKind::InvalidData {
                // The codec's only such error: a length prefix over `max_frame_bytes`.
                Counters::add(&inner.counters.decode_errors, 1);
                warn!(
                    reason = %error,
                    max_frame_bytes = inner.config.max_frame_bytes,
                    "decode error: oversized frame refused; closing the connection"
                );
            } else {
                debug!(reason = %error, "read failed");
            }
            None
        }
    }
}

fn refused(inner: &Inner, address: &str, reason: HandshakeRefusal, refused_by_peer: bool) {
    Counters::add(&inner.counters.refusals, 1);
    if refused_by_peer {
        warn!(%reason, "handshake refused by the peer");
    } else {
        warn!(%reason, "handshake refused");
    }
    inner.events.publish(ClusterEvent::HandshakeFailed {
        address: address.to_string(),
        reason,
        refused_by_peer,
    });
}

/// How long the accept loop waits after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(20);

pub(super) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            () = inner.cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let Some(slot) = InboundSlot::take(&inner, peer.ip()) else {
                    // Over a limit: closed at once, before it costs a buffer or a task.
                    drop(stream);
                    let refused = inner
                        .counters
                        .inbound_refused
                        .fetch_add(1, Ordering::Relaxed);
                    if refused % 100 == 0 {
                        warn!(
                            %peer,
                            refused = refused + 1,
                            max_inbound_connections = inner.config.max_inbound_connections,
                            max_inbound_per_address = inner.config.max_inbound_per_address,
                            "inbound connection refused: too many open (logged every 100th)"
                        );
                    }
                    continue;
                };
                let span = info_span!(
                    parent: &inner.span,
                    "inbound",
                    peer = %peer,
                    member = field::Empty
                );
                span.in_scope(|| set_nodelay(&stream));
                tokio::spawn(
                    async move {
                        // Held until the connection ends, then given back.
                        let slot = slot;
                        inbound(Arc::clone(&slot.inner), stream).await;
                    }
                    .instrument(span),
                );
            }
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(error) => {
                warn!(
                    reason = %io_reason(&error),
                    pause = ?ACCEPT_PAUSE,
                    "accept failed; trying again after a pause"
                );
                tokio::time::sleep(ACCEPT_PAUSE).await;
            }
        }
    }
}

/// One inbound connection counted against the limits; given back when dropped.
struct InboundSlot {
    inner: Arc<Inner>,
    ip: IpAddr,
}

impl InboundSlot {
    /// A slot for a connection from `ip`, if neither limit is reached.
    fn take(inner: &Arc<Inner>, ip: IpAddr) -> Option<Self> {
        let mut by_ip = inner
            .inbound_by_ip
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let open: usize = by_ip.values().sum();
        let from_ip = by_ip.get(&ip).copied().unwrap_or(0);
        if open >= inner.config.max_inbound_connections
            || from_ip >= inner.config.max_inbound_per_address
        {
            return None;
        }
        *by_ip.entry(ip).or_insert(0) += 1;
        inner.counters.inbound_open.fetch_add(1, Ordering::Relaxed);
        Some(Self {
            inner: Arc::clone(inner),
            ip,
        })
    }
}

impl Drop for InboundSlot {
    fn drop(&mut self) {
        let mut by_ip = self
            .inner
            .inbound_by_ip
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = by_ip.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                by_ip.remove(&self.ip);
            }
        }
        self.inner
            .counters
            .inbound_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

fn set_nodelay(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        debug!(reason = %io_reason(&error), "TCP_NODELAY could not be set");
    }
}

/// Serves one accepted connection: handshake, then gossip and pub/sub frames until it
/// closes.
async fn inbound(inner: Arc<Inner>, stream: TcpStream) {
    let peer_addr = stream
        .peer_addr()
        .map_or_else(|_| "unknown".to_string(), |a| a.to_string());
    let mut connection = framed(stream, inner.config.max_frame_bytes);
    let first = tokio::select! {
        () = inner.cancel.cancelled() => return,
        first = tokio::time::timeout(inner.config.handshake_timeout, read(&inner, &mut connection)) => first,
    };
    let first = match first {
        Ok(Some(first)) => first,
        Ok(None) => {
            debug!("connection closed before its handshake");
            return;
        }
        Err(_) => {
            debug!(
                timeout = ?inner.config.handshake_timeout,
                "no handshake in time; closing the connection"
            );
            return;
        }
    };
    let ours = inner.handshake();
    let decoded = Frame::decode(&first, inner.config.max_frame_bytes);
    // A frame in another version is refused as such; other undecodable bytes are also a
    // decode error, whose reason the refusal (`NoHandshake`) does not carry.
    if let Err(error) = &decoded
        && !matches!(error, WireError::UnsupportedVersion { .. })
    {
        warn!(reason = %error, "decode error in the first frame");
    }
    let theirs = match Handshake::from_first_frame(decoded, &ours.cluster) {
        Ok(theirs) => theirs,
        Err(reason) => {
            if reason == HandshakeRefusal::NoHandshake {
                Counters::add(&inner.counters.decode_errors, 1);
            }
            let refusal = Frame::HandshakeRefused(reason.clone()).encode();
            let _ = write(&inner, &mut connection, Bytes::from(refusal)).await;
            refused(&inner, &peer_addr, reason, false);
            return;
        }
    };
    Span::current().record("member", field::display(&theirs.member));
    let accepted = Frame::HandshakeAccepted(ours).encode();
    if !write(&inner, &mut connection, Bytes::from(accepted)).await {
        return;
    }
    Counters::add(&inner.counters.accepts, 1);
    debug!(address = %theirs.address, "handshake accepted");
    let idle = inner.config.inbound_idle_timeout;
    loop {
        let bytes = tokio::select! {
            () = inner.cancel.cancelled() => return,
            bytes = tokio::time::timeout(idle, read(&inner, &mut connection)) => bytes,
        };
        let Ok(bytes) = bytes else {
            Counters::add(&inner.counters.inbound_timeouts, 1);
            debug!(
                ?idle,
                "no whole frame for inbound_idle_timeout; closing the connection"
            );
            return;
        };
        let Some(bytes) = bytes else {
            debug!("connection closed");
            return;
        };
        let message = match Frame::decode(&bytes, inner.config.max_frame_bytes) {
            Ok(Frame::Gossip(message)) => InboundFrame::Gossip(message),
            Ok(Frame::PubSub(message)) => InboundFrame::PubSub(message),
            // Frames this connection has no use for (a second handshake, say) are skipped.
            Ok(_) => {
                debug!("frame skipped: this connection carries gossip and pub/sub only");
                continue;
            }
            Err(error) => {
                // A frame we cannot read: this connection is broken or hostile. Close it;
                // nothing else is affected.
                Counters::add(&inner.counters.decode_errors, 1);
                warn!(reason = %error, "decode error; closing the connection");
                return;
            }
        };
        let message = InboundMessage {
            from: theirs.address.clone(),
            member: theirs.member.clone(),
            message,
        };
        // A full queue slows this connection down; a closing transport ends it.
        let delivered = tokio::select! {
            () = inner.cancel.cancelled() => return,
            delivered = inner.inbound.send(message) => delivered,
        };
        if delivered.is_err() {
            debug!("the node stopped receiving; closing the connection");
            return;
        }
    }
}

/// Why an outbound connection could not be used.
enum ConnectFailure {
    /// The peer refused our handshake (`true`), or we refused its answer (`false`).
    Refused(HandshakeRefusal, bool),
    /// Connecting, writing or reading failed, or timed out: why, in words.
    Io(String),
}

/// Opens a connection to `address` and exchanges handshakes; the connection and the
/// member the acceptor announced.
async fn connect(
    inner: &Inner,
    address: &str,
) -> Result<(Connection, chorus_core::topology::MemberId), ConnectFailure> {
    let timeout = inner.config.connect_timeout;
    let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
        .await
        .map_err(|_| ConnectFailure::Io(format!("connect timed out after {timeout:?}")))?
        .map_err(|e| ConnectFailure::Io(format!("connect failed: {}", io_reason(&e))))?;
    set_nodelay(&stream);
    let mut connection = framed(stream, inner.config.max_frame_bytes);
    let ours = inner.handshake();
    let opening = Bytes::from(Frame::Handshake(ours.clone()).encode());
    if !write(inner, &mut connection, opening).await {
        return Err(ConnectFailure::Io(
            "the handshake could not be written".to_string(),
        ));
    }
    let timeout = inner.config.handshake_timeout;
    let reply = tokio::time::timeout(timeout, read(inner, &mut connection))
        .await
        .map_err(|_| ConnectFailure::Io(format!("no handshake answer within {timeout:?}")))?
        .ok_or_else(|| {
            ConnectFailure::Io("the connection closed before the handshake answer".to_string())
        })?;
    match Frame::decode(&reply, inner.config.max_frame_bytes) {
        // The acceptor checked us; check it too, so that both sides agree on a refusal.
        Ok(Frame::HandshakeAccepted(theirs)) => match theirs.check(&ours.cluster) {
            Ok(()) => Ok((connection, theirs.member)),
            Err(reason) => Err(ConnectFailure::Refused(reason, false)),
        },
        Ok(Frame::HandshakeRefused(reason)) => Err(ConnectFailure::Refused(reason, true)),
        // An answer in another protocol version: the peer cannot talk with us.
        Err(WireError::UnsupportedVersion { got, .. }) => Err(ConnectFailure::Refused(
            HandshakeRefusal::WrongVersion {
                expected: PROTOCOL_VERSION,
                got,
            },
            true,
        )),
        Ok(_) => {
            Counters::add(&inner.counters.decode_errors, 1);
            warn!("the handshake answer was another frame");
            Err(ConnectFailure::Io(
                "the handshake answer was another frame".to_string(),
            ))
        }
        Err(error) => {
            Counters::add(&inner.counters.decode_errors, 1);
            warn!(reason = %error, "decode error in the handshake answer");
            Err(ConnectFailure::Io(format!(
                "the handshake answer could not be decoded: {error}"
            )))
        }
    }
}

/// What woke the peer loop up.
enum Wake {
    /// The transport closed.
    Closed,
    /// The peer closed the connection (it restarted, say), or the connection failed: why.
    Lost(String),
    /// A frame to send, the queue closed (`Ok(None)`), or nothing to send for
    /// `idle_timeout` (`Err`).
    Queue(Result<Option<Bytes>, tokio::time::error::Elapsed>),
}

/// Writes queued frames to the peer at `address`, connecting on first use and
/// reconnecting with backoff after a failed attempt or a lost connection; ends when the
/// queue closes, after `idle_timeout` without frames, or when the transport closes.
///
/// A connection is lost when a write fails or takes longer than `write_timeout` (a peer
/// that stopped reading), or when the peer closes it; the frame being written is dropped
/// (gossip repairs the loss) and the next one reconnects.
pub(super) async fn peer_loop(
    inner: Arc<Inner>,
    address: String,
    mut queue: mpsc::Receiver<Bytes>,
    own_sender: mpsc::Sender<Bytes>,
) {
    let config = &inner.config;
    let mut backoff = Backoff::new(config.reconnect_backoff_min, config.reconnect_backoff_max);
    let mut connection: Option<Connection> = None;
    // No connection attempt before this instant (after a failure or a lost connection).
    let mut retry_at: Option<Instant> = None;
    loop {
        let wake = tokio::select! {
            () = inner.cancel.cancelled() => Wake::Closed,
            reason = lost(&mut connection) => Wake::Lost(reason),
            next = tokio::time::timeout(config.idle_timeout, queue.recv()) => Wake::Queue(next),
        };
        let bytes = match wake {
            Wake::Closed | Wake::Queue(Ok(None)) => return,
            Wake::Queue(Err(_)) => {
                debug!(idle = ?config.idle_timeout, "nothing to send for a while; closing");
                inner.forget_peer(&address, &own_sender);
                return;
            }
            Wake::Lost(reason) => {
                Counters::add(&inner.counters.disconnects, 1);
                connection = None;
                let pause = backoff.next_pause();
                info!(
                    %reason,
                    ?pause,
                    "connection lost; the next frame reconnects after a pause"
                );
                retry_at = Some(deadline_after(pause));
                continue;
            }
            Wake::Queue(Ok(Some(bytes))) => bytes,
        };
        if connection.is_none() {
            if let Some(at) = retry_at.take() {
                tokio::select! {
                    () = inner.cancel.cancelled() => return,
                    () = tokio::time::sleep_until(at) => {}
                }
            }
            let attempt = tokio::select! {
                () = inner.cancel.cancelled() => return,
                attempt = connect(&inner, &address) => attempt,
            };
            match attempt {
                Ok((c, member)) => {
                    Counters::add(&inner.counters.connects, 1);
                    backoff.reset();
                    Span::current().record("member", field::display(&member));
                    debug!(%member, "connected");
                    connection = Some(c);
                }
                Err(failure) => {
                    Counters::add(&inner.counters.connect_failures, 1);
                    let pause = match failure {
                        ConnectFailure::Refused(reason, by_peer) => {
                            refused(&inner, &address, reason, by_peer);
                            // A refusal will not change soon: wait the longest delay.
                            config.reconnect_backoff_max
                        }
                        ConnectFailure::Io(reason) => {
                            let pause = backoff.next_pause();
                            debug!(
                                %reason,
                                ?pause,
                                "connection attempt failed; frame dropped, the next one \
                                 retries after a pause"
                            );
                            pause
                        }
                    };
                    // The frame is dropped: gossip tolerates loss and repairs it.
                    retry_at = Some(deadline_after(pause));
                    continue;
                }
            }
        }
        if let Some(c) = connection.as_mut()
            && !write(&inner, c, bytes).await
        {
            if inner.cancel.is_cancelled() {
                return;
            }
            Counters::add(&inner.counters.disconnects, 1);
            connection = None;
            let pause = backoff.next_pause();
            info!(
                ?pause,
                "connection lost: a write failed; the next frame reconnects after a pause"
            );
            retry_at = Some(deadline_after(pause));
        }
    }
}

/// Completes when the peer closes `connection` or it fails, with why; never while there
/// is none. The peer sends nothing on our outbound connection after its handshake answer,
/// so anything it does send is read and ignored.
async fn lost(connection: &mut Option<Connection>) -> String {
    match connection {
        Some(connection) => loop {
            match connection.next().await {
                Some(Ok(_)) => {}
                Some(Err(error)) => return format!("read failed: {error}"),
                None => return "the peer closed it".to_string(),
            }
        },
        None => std::future::pending().await,
    }
}

/// `pause` from now; a pause too long to represent is a very long one, not a panic.
fn deadline_after(pause: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(pause)
        .unwrap_or_else(|| now + Duration::from_secs(FAR_FUTURE_SECS))
}

/// About thirty years: "never" for a timer.
const FAR_FUTURE_SECS: u64 = 30 * 365 * 24 * 3_600;

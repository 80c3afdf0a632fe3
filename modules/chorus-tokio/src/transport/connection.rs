//! The tasks behind the transport: accepting, reading an inbound connection, and writing
//! to one peer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chorus_core::cluster::ClusterEvent;
use chorus_core::wire::{Frame, Handshake, HandshakeRefusal, PROTOCOL_VERSION, WireError};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use super::backoff::Backoff;
use super::tokio_tcp_transport::Inner;
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
    let sent = tokio::select! {
        () = inner.cancel.cancelled() => return false,
        sent = tokio::time::timeout(inner.config.write_timeout, connection.send(bytes)) => sent,
    };
    match sent {
        Ok(Ok(())) => {
            Counters::add(&inner.counters.bytes_out, len + PREFIX);
            Counters::add(&inner.counters.frames_out, 1);
            true
        }
        Ok(Err(_)) => false,
        Err(_) => {
            Counters::add(&inner.counters.write_timeouts, 1);
            false
        }
    }
}

/// Reads one frame; `None` when the connection closed, failed, or sent an oversized frame
/// (counted as a decode error).
async fn read(inner: &Inner, connection: &mut Connection) -> Option<Bytes> {
    match connection.next().await? {
        Ok(bytes) => {
            Counters::add(&inner.counters.bytes_in, bytes.len() as u64 + PREFIX);
            Counters::add(&inner.counters.frames_in, 1);
            Some(bytes.freeze())
        }
        Err(error) => {
            if error.kind() == std::io::ErrorKind::InvalidData {
                Counters::add(&inner.counters.decode_errors, 1);
            }
            None
        }
    }
}

fn refused(inner: &Inner, address: &str, reason: HandshakeRefusal, refused_by_peer: bool) {
    Counters::add(&inner.counters.refusals, 1);
    inner.events.publish(ClusterEvent::HandshakeFailed {
        address: address.to_string(),
        reason,
        refused_by_peer,
    });
}

pub(super) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            () = inner.cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(inbound(Arc::clone(&inner), stream));
            }
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
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
    let Ok(Some(first)) = first else {
        return;
    };
    let ours = inner.handshake();
    let decoded = Frame::decode(&first, inner.config.max_frame_bytes);
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
    let accepted = Frame::HandshakeAccepted(ours).encode();
    if !write(&inner, &mut connection, Bytes::from(accepted)).await {
        return;
    }
    Counters::add(&inner.counters.accepts, 1);
    loop {
        let bytes = tokio::select! {
            () = inner.cancel.cancelled() => return,
            bytes = read(&inner, &mut connection) => bytes,
        };
        let Some(bytes) = bytes else {
            return;
        };
        let message = match Frame::decode(&bytes, inner.config.max_frame_bytes) {
            Ok(Frame::Gossip(message)) => InboundFrame::Gossip(message),
            Ok(Frame::PubSub(message)) => InboundFrame::PubSub(message),
            // Frames this connection has no use for (a second handshake, say) are skipped.
            Ok(_) => continue,
            Err(_) => {
                // A frame we cannot read: this connection is broken or hostile. Close it;
                // nothing else is affected.
                Counters::add(&inner.counters.decode_errors, 1);
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
            return;
        }
    }
}

/// Why an outbound connection could not be used.
enum ConnectFailure {
    /// The peer refused our handshake (`true`), or we refused its answer (`false`).
    Refused(HandshakeRefusal, bool),
    /// Connecting, writing or reading failed, or timed out.
    Io,
}

async fn connect(inner: &Inner, address: &str) -> Result<Connection, ConnectFailure> {
    let stream = tokio::time::timeout(inner.config.connect_timeout, TcpStream::connect(address))
        .await
        .map_err(|_| ConnectFailure::Io)?
        .map_err(|_| ConnectFailure::Io)?;
    let _ = stream.set_nodelay(true);
    let mut connection = framed(stream, inner.config.max_frame_bytes);
    let ours = inner.handshake();
    let opening = Bytes::from(Frame::Handshake(ours.clone()).encode());
    if !write(inner, &mut connection, opening).await {
        return Err(ConnectFailure::Io);
    }
    let reply = tokio::time::timeout(inner.config.handshake_timeout, read(inner, &mut connection))
        .await
        .map_err(|_| ConnectFailure::Io)?
        .ok_or(ConnectFailure::Io)?;
    match Frame::decode(&reply, inner.config.max_frame_bytes) {
        // The acceptor checked us; check it too, so that both sides agree on a refusal.
        Ok(Frame::HandshakeAccepted(theirs)) => match theirs.check(&ours.cluster) {
            Ok(()) => Ok(connection),
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
        _ => {
            Counters::add(&inner.counters.decode_errors, 1);
            Err(ConnectFailure::Io)
        }
    }
}

/// What woke the peer loop up.
enum Wake {
    /// The transport closed.
    Closed,
    /// The peer closed the connection (it restarted, say), or the connection failed.
    Lost,
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
            () = lost(&mut connection) => Wake::Lost,
            next = tokio::time::timeout(config.idle_timeout, queue.recv()) => Wake::Queue(next),
        };
        let bytes = match wake {
            Wake::Closed | Wake::Queue(Ok(None)) => return,
            Wake::Queue(Err(_)) => {
                inner.forget_peer(&address, &own_sender);
                return;
            }
            Wake::Lost => {
                Counters::add(&inner.counters.disconnects, 1);
                connection = None;
                retry_at = Some(deadline_after(backoff.next_pause()));
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
                Ok(c) => {
                    Counters::add(&inner.counters.connects, 1);
                    backoff.reset();
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
                        ConnectFailure::Io => backoff.next_pause(),
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
            retry_at = Some(deadline_after(backoff.next_pause()));
        }
    }
}

/// Completes when the peer closes `connection` or it fails; never while there is none.
/// The peer sends nothing on our outbound connection after its handshake answer, so
/// anything it does send is read and ignored.
async fn lost(connection: &mut Option<Connection>) {
    match connection {
        Some(connection) => while let Some(Ok(_)) = connection.next().await {},
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

//! The tasks behind the transport: accepting, reading an inbound connection, and writing
//! to one peer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chorus_core::cluster::ClusterEvent;
use chorus_core::wire::{Frame, Handshake, HandshakeRefusal, PROTOCOL_VERSION, WireError};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use super::InboundMessage;
use super::tokio_tcp_transport::Inner;
use super::transport_metrics::Counters;

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

async fn write(inner: &Inner, connection: &mut Connection, bytes: Bytes) -> bool {
    let len = bytes.len() as u64;
    if connection.send(bytes).await.is_err() {
        return false;
    }
    Counters::add(&inner.counters.bytes_out, len + PREFIX);
    Counters::add(&inner.counters.frames_out, 1);
    true
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

/// Why an incoming handshake is refused, if it is.
fn check_handshake(
    ours: &Handshake,
    frame: Result<Frame, WireError>,
) -> Result<Handshake, HandshakeRefusal> {
    match frame {
        Ok(Frame::Handshake(theirs)) if theirs.cluster != ours.cluster => {
            Err(HandshakeRefusal::WrongCluster {
                expected: ours.cluster.clone(),
                got: theirs.cluster,
            })
        }
        Ok(Frame::Handshake(theirs)) if theirs.protocol_version != PROTOCOL_VERSION => {
            Err(HandshakeRefusal::WrongVersion {
                expected: PROTOCOL_VERSION,
                got: theirs.protocol_version,
            })
        }
        Ok(Frame::Handshake(theirs)) => Ok(theirs),
        Err(WireError::UnsupportedVersion { got, .. }) => Err(HandshakeRefusal::WrongVersion {
            expected: PROTOCOL_VERSION,
            got,
        }),
        _ => Err(HandshakeRefusal::NoHandshake),
    }
}

/// Serves one accepted connection: handshake, then gossip frames until it closes.
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
    let theirs = match check_handshake(&ours, Frame::decode(&first, inner.config.max_frame_bytes)) {
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
        match Frame::decode(&bytes, inner.config.max_frame_bytes) {
            Ok(Frame::Gossip(message)) => {
                let message = InboundMessage {
                    from: theirs.address.clone(),
                    member: theirs.member.clone(),
                    message,
                };
                if inner.inbound.send(message).await.is_err() {
                    return;
                }
            }
            // Frames this connection has no use for (a second handshake, say) are skipped.
            Ok(_) => {}
            Err(_) => {
                // A frame we cannot read: this connection is broken or hostile. Close it;
                // nothing else is affected.
                Counters::add(&inner.counters.decode_errors, 1);
                return;
            }
        }
    }
}

/// Why an outbound connection could not be used.
enum ConnectFailure {
    /// The peer refused our handshake, or we refused its answer.
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
    if !write(
        inner,
        &mut connection,
        Bytes::from(Frame::Handshake(ours.clone()).encode()),
    )
    .await
    {
        return Err(ConnectFailure::Io);
    }
    let reply = tokio::time::timeout(inner.config.handshake_timeout, read(inner, &mut connection))
        .await
        .map_err(|_| ConnectFailure::Io)?
        .ok_or(ConnectFailure::Io)?;
    match Frame::decode(&reply, inner.config.max_frame_bytes) {
        Ok(Frame::HandshakeAccepted(theirs)) => {
            // The acceptor checked us; check it too, so both sides agree on the refusal.
            match check_handshake(&ours, Ok(Frame::Handshake(theirs))) {
                Ok(_) => Ok(connection),
                Err(reason) => Err(ConnectFailure::Refused(reason, false)),
            }
        }
        Ok(Frame::HandshakeRefused(reason)) => Err(ConnectFailure::Refused(reason, true)),
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

/// Writes queued frames to the peer at `address`, connecting on first use and
/// reconnecting with backoff; ends when the queue closes, after `idle_timeout` without
/// frames, or when the transport closes.
pub(super) async fn peer_loop(
    inner: Arc<Inner>,
    address: String,
    mut queue: mpsc::Receiver<Bytes>,
    own_sender: mpsc::Sender<Bytes>,
) {
    let mut backoff = inner.config.reconnect_backoff_min;
    let mut connection: Option<Connection> = None;
    loop {
        let next = tokio::select! {
            () = inner.cancel.cancelled() => return,
            next = tokio::time::timeout(inner.config.idle_timeout, queue.recv()) => next,
        };
        let bytes = match next {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(_) => {
                inner.forget_peer(&address, &own_sender);
                return;
            }
        };
        if connection.is_none() {
            match connect(&inner, &address).await {
                Ok(c) => {
                    Counters::add(&inner.counters.connects, 1);
                    backoff = inner.config.reconnect_backoff_min;
                    connection = Some(c);
                }
                Err(failure) => {
                    Counters::add(&inner.counters.connect_failures, 1);
                    let pause = match failure {
                        ConnectFailure::Refused(reason, by_peer) => {
                            refused(&inner, &address, reason, by_peer);
                            // A refusal will not change soon: wait the longest delay.
                            inner.config.reconnect_backoff_max
                        }
                        ConnectFailure::Io => {
                            let pause = jittered(backoff);
                            backoff = (backoff * 2).min(inner.config.reconnect_backoff_max);
                            pause
                        }
                    };
                    // The frame is dropped: gossip tolerates loss and repairs it.
                    tokio::select! {
                        () = inner.cancel.cancelled() => return,
                        () = tokio::time::sleep(pause) => {}
                    }
                    continue;
                }
            }
        }
        if let Some(c) = connection.as_mut()
            && !write(&inner, c, bytes).await
        {
            connection = None;
        }
    }
}

/// `base` plus up to half of it, so that peers do not reconnect in lock step.
fn jittered(base: Duration) -> Duration {
    let extra = rand::rng().random_range(0..=base.as_millis() as u64 / 2);
    base + Duration::from_millis(extra)
}

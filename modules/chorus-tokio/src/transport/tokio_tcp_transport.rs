use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::topology::MemberId;
use chorus_core::wire::{Frame, Handshake, PROTOCOL_VERSION};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span, debug, field, info_span, warn};

use super::connection;
use super::transport_metrics::Counters;
use super::{InboundMessage, TransportConfig, TransportError, TransportMetrics};

/// The TCP transport of one node: a listener for inbound connections and one outbound
/// connection per peer address, each with a bounded send queue.
///
/// Every connection starts with a handshake in both directions (cluster name, protocol
/// version, member id, listen address); a peer of another cluster or version is refused
/// with the reason on both sides and its frames never reach gossip. Frames are
/// length-prefixed (4 bytes, big endian) and checked against `max_frame_bytes` before any
/// allocation; a malformed or oversized frame closes that connection only. Outbound
/// connections are opened on first use (with `TCP_NODELAY`); one that is lost — the peer
/// closed it, or a write failed or took longer than `write_timeout` — is reopened for the
/// next frame after an exponential backoff with jitter, and one idle for `idle_timeout`
/// closes. Messages travel on the sender's outbound connection; inbound connections are
/// read-only.
///
/// Every connection logs in its own span (`inbound{peer member}`, `outbound{peer
/// member}`), a child of the span current at [`bind`](Self::bind): bind inside the node's
/// span to have them under it. Refusals, decode errors and oversized frames are logged at
/// `warn`, lost connections at `info`, connects, reconnects, full queues and closes at
/// `debug`, each with its reason.
///
/// Cloning gives another handle to the same transport.
#[derive(Clone)]
pub(crate) struct TokioTcpTransport {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) config: TransportConfig,
    pub(super) local: Mutex<Handshake>,
    pub(super) local_addr: SocketAddr,
    pub(super) peers: Mutex<HashMap<String, mpsc::Sender<Bytes>>>,
    pub(super) inbound: mpsc::Sender<InboundMessage>,
    pub(super) counters: Counters,
    pub(super) events: EventStream<ClusterEvent>,
    pub(super) cancel: CancellationToken,
    /// The accept loop, which owns the listener.
    pub(super) acceptor: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The span current at bind: the parent of every connection's span.
    pub(super) span: Span,
    /// Inbound connections open now, per source IP address.
    pub(super) inbound_by_ip: Mutex<HashMap<std::net::IpAddr, usize>>,
}

impl Inner {
    pub(super) fn handshake(&self) -> Handshake {
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn forget_peer(&self, address: &str, queue: &mpsc::Sender<Bytes>) {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if peers.get(address).is_some_and(|q| q.same_channel(queue)) {
            peers.remove(address);
        }
    }
}

impl TokioTcpTransport {
    /// Binds `address` and starts accepting connections for cluster `cluster` as `member`.
    /// Must be called inside a Tokio runtime. Received gossip and pub/sub frames arrive on
    /// the returned receiver; handshake failures are published on `events`.
    ///
    /// The advertised address (what peers dial) is the bound address, so binding
    /// `127.0.0.1:0` advertises the port the system chose; see
    /// [`set_advertised_address`](Self::set_advertised_address) for a wildcard bind.
    pub(crate) fn bind(
        address: &str,
        cluster: &str,
        member: MemberId,
        config: TransportConfig,
        events: EventStream<ClusterEvent>,
    ) -> Result<(Self, mpsc::Receiver<InboundMessage>), TransportError> {
        config.validate()?;
        let listener = std::net::TcpListener::bind(address).map_err(|e| TransportError::Bind {
            address: address.to_string(),
            reason: io_reason(&e),
            error: Arc::new(e),
        })?;
        Self::from_listener(listener, cluster, member, config, events)
    }

    /// Like [`bind`](Self::bind), on a listener bound already (by a caller that needed
    /// the port before creating the member id, say).
    pub(crate) fn from_listener(
        listener: std::net::TcpListener,
        cluster: &str,
        member: MemberId,
        config: TransportConfig,
        events: EventStream<ClusterEvent>,
    ) -> Result<(Self, mpsc::Receiver<InboundMessage>), TransportError> {
        config.validate()?;
        let named = listener
            .local_addr()
            .map_or_else(|_| "the listener".to_string(), |a| a.to_string());
        let bind_error = |e: std::io::Error| TransportError::Bind {
            address: named.clone(),
            reason: io_reason(&e),
            error: Arc::new(e),
        };
        listener.set_nonblocking(true).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let listener = TcpListener::from_std(listener).map_err(bind_error)?;
        let (inbound, inbound_rx) = mpsc::channel(config.inbound_queue_capacity);
        let inner = Arc::new(Inner {
            local: Mutex::new(Handshake {
                cluster: cluster.to_string(),
                protocol_version: PROTOCOL_VERSION,
                member,
                address: local_addr.to_string(),
            }),
            config,
            local_addr,
            peers: Mutex::new(HashMap::new()),
            inbound_by_ip: Mutex::new(HashMap::new()),
            inbound,
            counters: Counters::default(),
            events,
            cancel: CancellationToken::new(),
            acceptor: Mutex::new(None),
            span: Span::current(),
        });
        debug!(address = %local_addr, "transport listening");
        let acceptor = tokio::spawn(
            connection::accept_loop(Arc::clone(&inner), listener).instrument(inner.span.clone()),
        );
        *inner
            .acceptor
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(acceptor);
        Ok((Self { inner }, inbound_rx))
    }

    /// The address the listener is bound to.
    pub(crate) fn local_address(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// The address peers dial to reach this node.
    pub(crate) fn advertised_address(&self) -> String {
        self.inner.handshake().address
    }

    /// Changes the address announced in new handshakes: what peers answer to. Set it
    /// before the first send when the bound address cannot be dialled (`0.0.0.0:7000`
    /// bound, `10.0.0.5:7000` advertised).
    pub(crate) fn set_advertised_address(&self, address: impl Into<String>) {
        self.inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .address = address.into();
    }

    /// Makes new handshakes announce protocol version `version`: how tests play a peer
    /// of another version.
    #[cfg(test)]
    pub(super) fn set_protocol_version(&self, version: u8) {
        self.inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .protocol_version = version;
    }

    /// Changes the member id announced in new handshakes (after a rejoin). The next
    /// frame to each peer opens a new connection, so that peers see the new id: a peer
    /// takes pub/sub frames only from the member its connection's handshake named. The
    /// old connections close once idle.
    pub(crate) fn set_member(&self, member: MemberId) {
        let changed = {
            let mut local = self
                .inner
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let changed = local.member != member;
            if changed {
                debug!(
                    previous = %local.member,
                    %member,
                    "new member id announced: outbound connections reopen"
                );
            }
            local.member = member;
            changed
        };
        if changed {
            self.inner
                .peers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }

    /// Queues `frame` for the peer listening at `to`, opening a connection if needed.
    /// Never waits: a full queue is `QueueFull`, and a frame over `max_frame_bytes`,
    /// which the peer would refuse, is `FrameTooLarge`.
    pub(crate) fn send(&self, to: &str, frame: &Frame) -> Result<(), TransportError> {
        if self.inner.cancel.is_cancelled() {
            return Err(TransportError::Closed);
        }
        let bytes = Bytes::from(frame.encode());
        let max = self.inner.config.max_frame_bytes;
        if bytes.len() > max {
            Counters::add(&self.inner.counters.oversized_frames, 1);
            warn!(
                peer = %to,
                bytes = bytes.len(),
                max,
                "frame not sent: over max_frame_bytes, the peer would refuse it"
            );
            return Err(TransportError::FrameTooLarge {
                peer: to.to_string(),
                bytes: bytes.len(),
                max,
            });
        }
        let mut bytes = Some(bytes);
        // Two attempts: a connection task that just closed for idleness is replaced.
        for _ in 0..2 {
            let queue = self.queue_for(to);
            let Some(payload) = bytes.take() else {
                break;
            };
            match queue.try_send(payload) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    Counters::add(&self.inner.counters.queue_full, 1);
                    debug!(
                        peer = %to,
                        capacity = self.inner.config.send_queue_capacity,
                        "frame dropped: the send queue is full"
                    );
                    return Err(TransportError::QueueFull {
                        peer: to.to_string(),
                    });
                }
                Err(mpsc::error::TrySendError::Closed(payload)) => {
                    self.inner.forget_peer(to, &queue);
                    bytes = Some(payload);
                }
            }
        }
        Err(TransportError::Closed)
    }

    fn queue_for(&self, to: &str) -> mpsc::Sender<Bytes> {
        let mut peers = self
            .inner
            .peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = peers.get(to)
            && !queue.is_closed()
        {
            return queue.clone();
        }
        let (queue, rx) = mpsc::channel(self.inner.config.send_queue_capacity);
        peers.insert(to.to_string(), queue.clone());
        let span = info_span!(
            parent: &self.inner.span,
            "outbound",
            peer = %to,
            member = field::Empty
        );
        tokio::spawn(
            connection::peer_loop(Arc::clone(&self.inner), to.to_string(), rx, queue.clone())
                .instrument(span),
        );
        queue
    }

    /// A snapshot of the counters.
    pub(crate) fn metrics(&self) -> TransportMetrics {
        self.inner.counters.snapshot()
    }

    /// Stops accepting, closes every connection and drops queued frames.
    pub(crate) fn close(&self) {
        self.inner.cancel.cancel();
        self.inner
            .peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Closes like [`close`](Self::close) and waits until the listener is released, so
    /// that the address can be bound again at once.
    pub(crate) async fn close_and_wait(&self) {
        self.close();
        let acceptor = self
            .inner
            .acceptor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(acceptor) = acceptor
            && let Err(error) = acceptor.await
        {
            warn!(parent: &self.inner.span, reason = %error, "the accept loop ended abnormally");
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }
}

impl std::fmt::Debug for TokioTcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioTcpTransport")
            .field("local_addr", &self.inner.local_addr)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// What the system said, in words ("address in use" rather than "os error 98").
pub(super) fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => "address in use".to_string(),
        std::io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

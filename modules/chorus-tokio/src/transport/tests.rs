use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::{EventStream, Subscription};
use chorus_core::gossip::{DeltaEntry, GossipDelta, GossipMessage, GossipPush, OwnerDelta};
use chorus_core::pubsub::{GroupCompletion, PubSubMessage, SubscriberId};
use chorus_core::topology::MemberId;
use chorus_core::wire::{Frame, Handshake, HandshakeRefusal, PROTOCOL_VERSION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::backoff::Backoff;
use super::{InboundFrame, TokioTcpTransport, TransportConfig, TransportError};
use crate::test_support::eventually;

fn listening(
    config: TransportConfig,
) -> (
    TokioTcpTransport,
    tokio::sync::mpsc::Receiver<super::InboundMessage>,
) {
    TokioTcpTransport::bind(
        "127.0.0.1:0",
        "test",
        MemberId::new("server", 1),
        config,
        EventStream::<ClusterEvent>::new(),
    )
    .unwrap()
}

fn handshake(name: &str) -> Frame {
    Frame::Handshake(Handshake {
        cluster: "test".into(),
        protocol_version: PROTOCOL_VERSION,
        member: MemberId::new(name, 1),
        address: format!("{name}:1"),
    })
}

fn push(name: &str) -> Frame {
    Frame::Gossip(GossipMessage::Push(GossipPush {
        from: MemberId::new(name, 1),
        delta: GossipDelta::default(),
        relays: 0,
    }))
}

/// A raw client that speaks the framing by hand.
struct Raw(TcpStream);

impl Raw {
    async fn connect(transport: &TokioTcpTransport) -> Self {
        Self(TcpStream::connect(transport.local_address()).await.unwrap())
    }

    async fn send_bytes(&mut self, bytes: &[u8]) {
        self.0
            .write_all(&(bytes.len() as u32).to_be_bytes())
            .await
            .unwrap();
        self.0.write_all(bytes).await.unwrap();
    }

    async fn send(&mut self, frame: &Frame) {
        self.send_bytes(&frame.encode()).await;
    }

    async fn receive(&mut self) -> Option<Frame> {
        let mut len = [0u8; 4];
        self.0.read_exact(&mut len).await.ok()?;
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        self.0.read_exact(&mut body).await.ok()?;
        Frame::decode(&body, 1 << 20).ok()
    }

    /// Whether the server closed the connection within a second.
    async fn closed_by_peer(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(1), self.0.read(&mut byte)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

#[tokio::test]
async fn a_valid_handshake_is_accepted_and_its_gossip_delivered() {
    let (transport, mut inbound) = listening(TransportConfig::new());
    let mut client = Raw::connect(&transport).await;
    client.send(&handshake("a")).await;
    assert!(matches!(
        client.receive().await,
        Some(Frame::HandshakeAccepted(_))
    ));
    client.send(&push("a")).await;
    let message = tokio::time::timeout(Duration::from_secs(1), inbound.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.from, "a:1");
    assert_eq!(message.member, MemberId::new("a", 1));
    transport.close();
}

fn completion(name: &str) -> Frame {
    Frame::PubSub(PubSubMessage::Completed(GroupCompletion {
        from: MemberId::new(name, 1),
        topic: "jobs".into(),
        group: "g".into(),
        subscriber: SubscriberId::new("s1"),
        message_ids: vec![1],
    }))
}

#[tokio::test]
async fn a_pub_sub_frame_is_delivered_with_the_member_of_the_handshake() {
    let (transport, mut inbound) = listening(TransportConfig::new());
    let mut client = Raw::connect(&transport).await;
    client.send(&handshake("a")).await;
    client.receive().await.unwrap();
    // The frame claims another sender; the transport reports who the connection is.
    client.send(&completion("b")).await;
    let message = tokio::time::timeout(Duration::from_secs(1), inbound.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.member, MemberId::new("a", 1));
    let InboundFrame::PubSub(PubSubMessage::Completed(done)) = message.message else {
        panic!("a pub/sub frame: {message:?}");
    };
    assert_eq!(done.from, MemberId::new("b", 1));
    transport.close();
}

#[tokio::test]
async fn a_frame_over_the_limit_is_not_sent_and_keeps_the_connection() {
    let mut config = TransportConfig::new();
    config.max_frame_bytes = 4_096;
    let (a, _a_inbound) = listening(config.clone());
    let (b, mut b_inbound) = listening(config);
    let to = b.local_address().to_string();
    let refused = a.send(&to, &big_push(8_192));
    assert!(
        matches!(
            refused,
            Err(TransportError::FrameTooLarge { max: 4_096, .. })
        ),
        "{refused:?}"
    );
    assert_eq!(a.metrics().oversized_frames, 1);
    a.send(&to, &push("a")).unwrap();
    let message = tokio::time::timeout(Duration::from_secs(5), b_inbound.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(message.message, InboundFrame::Gossip(_)));
    assert_eq!(b.metrics().decode_errors, 0, "the peer never saw it");
    a.close();
    b.close();
}

#[tokio::test]
async fn a_new_member_id_opens_new_connections_that_announce_it() {
    let (a, _a_inbound) = listening(TransportConfig::new());
    let (b, mut b_inbound) = listening(TransportConfig::new());
    let to = b.local_address().to_string();
    a.send(&to, &push("server")).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), b_inbound.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.member, MemberId::new("server", 1));
    a.set_member(MemberId::new("server", 2));
    a.send(&to, &push("server")).unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), b_inbound.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.member, MemberId::new("server", 2));
    assert_eq!(a.metrics().connects, 2);
    a.close();
    b.close();
}

#[tokio::test]
async fn an_oversized_frame_closes_that_connection_and_nothing_else() {
    let mut config = TransportConfig::new();
    config.max_frame_bytes = 4_096;
    let (transport, mut inbound) = listening(config);
    let mut good = Raw::connect(&transport).await;
    good.send(&handshake("good")).await;
    good.receive().await.unwrap();

    let mut bad = Raw::connect(&transport).await;
    bad.send(&handshake("bad")).await;
    bad.receive().await.unwrap();
    // Announce a frame far over the limit; the server must not wait for (or allocate) it.
    bad.0.write_all(&(64u32 << 20).to_be_bytes()).await.unwrap();
    assert!(
        bad.closed_by_peer().await,
        "the oversized sender is cut off"
    );
    assert_eq!(transport.metrics().decode_errors, 1);

    good.send(&push("good")).await;
    let message = tokio::time::timeout(Duration::from_secs(1), inbound.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.from, "good:1", "the other connection still works");
    transport.close();
}

#[tokio::test]
async fn garbage_after_the_handshake_closes_that_connection() {
    let (transport, _inbound) = listening(TransportConfig::new());
    let mut client = Raw::connect(&transport).await;
    client.send(&handshake("a")).await;
    client.receive().await.unwrap();
    client
        .send_bytes(&[PROTOCOL_VERSION, 0xff, 0xff, 0xff, 0xff, 0xff])
        .await;
    assert!(client.closed_by_peer().await);
    assert_eq!(transport.metrics().decode_errors, 1);
    transport.close();
}

#[tokio::test]
async fn a_connection_that_does_not_start_with_a_handshake_is_refused() {
    let (transport, _inbound) = listening(TransportConfig::new());
    let mut client = Raw::connect(&transport).await;
    client.send(&push("a")).await;
    assert!(matches!(
        client.receive().await,
        Some(Frame::HandshakeRefused(_))
    ));
    assert!(client.closed_by_peer().await);
    assert_eq!(transport.metrics().refusals, 1);
    transport.close();
}

#[tokio::test]
async fn another_protocol_version_is_refused_with_the_reason() {
    let (transport, _inbound) = listening(TransportConfig::new());
    let mut client = Raw::connect(&transport).await;
    let mut bytes = handshake("a").encode();
    bytes[0] = PROTOCOL_VERSION + 1;
    client.send_bytes(&bytes).await;
    let Some(Frame::HandshakeRefused(reason)) = client.receive().await else {
        panic!("expected a refusal");
    };
    assert_eq!(
        reason,
        chorus_core::wire::HandshakeRefusal::WrongVersion {
            expected: PROTOCOL_VERSION,
            got: PROTOCOL_VERSION + 1
        }
    );
    transport.close();
}

#[tokio::test]
async fn a_full_send_queue_is_an_error_the_caller_sees() {
    let mut config = TransportConfig::new();
    config.send_queue_capacity = 1;
    config.connect_timeout = Duration::from_secs(5);
    let (transport, _inbound) = listening(config);
    // A listener that accepts but never answers the handshake keeps the queue stuck.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = silent.local_addr().unwrap().to_string();
    let mut full = None;
    for _ in 0..4 {
        if let Err(e) = transport.send(&target, &push("a")) {
            full = Some(e);
            break;
        }
    }
    assert_eq!(full, Some(TransportError::QueueFull { peer: target }));
    assert_eq!(transport.metrics().queue_full, 1);
    transport.close();
    assert_eq!(
        transport.send("127.0.0.1:1", &push("a")),
        Err(TransportError::Closed)
    );
}

#[tokio::test]
async fn binding_a_taken_address_says_so() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let err = TokioTcpTransport::bind(
        &taken,
        "t",
        MemberId::new("a", 1),
        TransportConfig::new(),
        EventStream::new(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("bind {taken} failed: address in use")
    );
}

#[test]
fn configuration_rules_are_enforced() {
    let mut config = TransportConfig::new();
    config.send_queue_capacity = 0;
    assert!(matches!(
        config.validate(),
        Err(TransportError::InvalidConfig { .. })
    ));
    let mut config = TransportConfig::new();
    config.reconnect_backoff_min = Duration::from_secs(10);
    assert!(config.validate().is_err());
    assert!(TransportConfig::new().validate().is_ok());
}

/// The handshake failures a transport published: reason, refused by the peer.
type Failures = Arc<Mutex<Vec<(HandshakeRefusal, bool)>>>;

/// A transport of cluster `test` whose handshake failures are collected.
fn watched(
    name: &str,
    config: TransportConfig,
) -> (
    TokioTcpTransport,
    tokio::sync::mpsc::Receiver<super::InboundMessage>,
    Failures,
    Subscription<ClusterEvent>,
) {
    let events = EventStream::<ClusterEvent>::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let subscription = events.subscribe(move |e| {
        if let ClusterEvent::HandshakeFailed {
            reason,
            refused_by_peer,
            ..
        } = e
        {
            sink.lock()
                .unwrap()
                .push((reason.clone(), *refused_by_peer));
        }
    });
    let (transport, inbound) = TokioTcpTransport::bind(
        "127.0.0.1:0",
        "test",
        MemberId::new(name, 1),
        config,
        events,
    )
    .unwrap();
    (transport, inbound, seen, subscription)
}

/// A push of about `bytes` bytes.
fn big_push(bytes: usize) -> Frame {
    Frame::Gossip(GossipMessage::Push(GossipPush {
        from: MemberId::new("a", 1),
        delta: GossipDelta {
            owners: vec![OwnerDelta {
                member: MemberId::new("a", 1),
                from: 0,
                to: 1,
                entries: vec![DeltaEntry {
                    key: "big".into(),
                    seq: 1,
                    value: vec![7; bytes],
                }],
            }],
        },
        relays: 0,
    }))
}

/// Accepts one connection on `listener` and answers its handshake, as a peer would.
async fn accept_as_peer(listener: &TcpListener) -> Raw {
    let (stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("a connection within 5 s")
        .unwrap();
    let mut raw = Raw(stream);
    assert!(matches!(raw.receive().await, Some(Frame::Handshake(_))));
    let ours = Handshake {
        cluster: "test".into(),
        protocol_version: PROTOCOL_VERSION,
        member: MemberId::new("raw", 1),
        address: listener.local_addr().unwrap().to_string(),
    };
    raw.send(&Frame::HandshakeAccepted(ours)).await;
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_of_two_transports_agree() {
    let (a, _a_inbound) = listening(TransportConfig::new());
    let (b, mut b_inbound) = listening(TransportConfig::new());
    let to = b.local_address().to_string();
    for _ in 0..20 {
        a.send(&to, &push("a")).unwrap();
    }
    for _ in 0..20 {
        tokio::time::timeout(Duration::from_secs(5), b_inbound.recv())
            .await
            .expect("every push arrives")
            .unwrap();
    }
    let (sent, received) = (a.metrics(), b.metrics());
    assert_eq!(sent.connects, 1);
    assert_eq!(received.accepts, 1);
    // A's handshake and pushes are what B read; B's answer is what A read.
    assert_eq!(sent.frames_out, 21);
    assert_eq!(sent.frames_out, received.frames_in);
    assert_eq!(sent.bytes_out, received.bytes_in);
    assert_eq!(received.frames_out, 1);
    assert_eq!(sent.frames_in, received.frames_out);
    assert_eq!(sent.bytes_in, received.bytes_out);
    let push_bytes = push("a").encode().len() as u64 + 4;
    assert!(sent.bytes_out > 20 * push_bytes, "{sent:?}");
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_protocol_version_is_refused_on_both_sides() {
    let (newer, _n, newer_saw, _s1) = watched("newer", TransportConfig::new());
    let (older, _o, older_saw, _s2) = watched("older", TransportConfig::new());
    newer.set_protocol_version(PROTOCOL_VERSION + 1);
    newer
        .send(&older.local_address().to_string(), &push("newer"))
        .unwrap();
    let both = eventually(Duration::from_secs(5), || async {
        !newer_saw.lock().unwrap().is_empty() && !older_saw.lock().unwrap().is_empty()
    })
    .await;
    assert!(both, "both sides publish HandshakeFailed");
    let reason = HandshakeRefusal::WrongVersion {
        expected: PROTOCOL_VERSION,
        got: PROTOCOL_VERSION + 1,
    };
    assert_eq!(older_saw.lock().unwrap()[0], (reason.clone(), false));
    assert_eq!(newer_saw.lock().unwrap()[0], (reason, true));
    assert_eq!(older.metrics().refusals, 1);
    assert_eq!(older.metrics().accepts, 0);
    assert_eq!(newer.metrics().refusals, 1);
    assert_eq!(newer.metrics().connects, 0);
    newer.close();
    older.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_in_another_protocol_version_is_a_refusal_for_the_connecting_side() {
    let (transport, _inbound, saw, _s) = watched("a", TransportConfig::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    transport
        .send(&listener.local_addr().unwrap().to_string(), &push("a"))
        .unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let mut peer = Raw(stream);
    assert!(matches!(peer.receive().await, Some(Frame::Handshake(_))));
    let mut answer = Frame::HandshakeRefused(HandshakeRefusal::NoHandshake).encode();
    answer[0] = PROTOCOL_VERSION + 1;
    peer.send_bytes(&answer).await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            !saw.lock().unwrap().is_empty()
        })
        .await
    );
    assert_eq!(
        saw.lock().unwrap()[0],
        (
            HandshakeRefusal::WrongVersion {
                expected: PROTOCOL_VERSION,
                got: PROTOCOL_VERSION + 1
            },
            true
        )
    );
    transport.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_peer_closes_is_reopened_for_the_next_frame() {
    let (transport, _inbound) = listening(TransportConfig::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap().to_string();
    transport.send(&to, &push("a")).unwrap();
    let mut first = accept_as_peer(&listener).await;
    assert!(matches!(first.receive().await, Some(Frame::Gossip(_))));
    drop(first); // The peer goes away (a restart, say).

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut second = loop {
        tokio::select! {
            accepted = listener.accept() => break Raw(accepted.unwrap().0),
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                let _ = transport.send(&to, &push("a"));
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no reconnection");
    };
    assert!(matches!(second.receive().await, Some(Frame::Handshake(_))));
    let m = transport.metrics();
    assert_eq!(m.connects, 1, "the second handshake is not answered yet");
    assert!(m.disconnects >= 1, "{m:?}");
    transport.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_is_dropped_after_the_write_timeout_and_reconnected() {
    let mut config = TransportConfig::new();
    config.write_timeout = Duration::from_millis(300);
    config.send_queue_capacity = 4;
    let (transport, _inbound) = listening(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap().to_string();
    let frame = big_push(256 * 1024);
    transport.send(&to, &frame).unwrap();
    // Answers the handshake, then never reads again (and stays open).
    let _stuck = accept_as_peer(&listener).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let _second = loop {
        tokio::select! {
            accepted = listener.accept() => break accepted.unwrap().0,
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                let _ = transport.send(&to, &frame);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reconnection after a write timeout: {:?}",
            transport.metrics()
        );
    };
    let m = transport.metrics();
    assert!(m.write_timeouts >= 1, "{m:?}");
    assert!(m.disconnects >= 1, "{m:?}");
    transport.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_transport_ends_a_write_blocked_on_a_peer_that_stopped_reading() {
    let mut config = TransportConfig::new();
    config.write_timeout = Duration::from_secs(600);
    config.send_queue_capacity = 2;
    let (transport, _inbound) = listening(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap().to_string();
    let frame = big_push(256 * 1024);
    transport.send(&to, &frame).unwrap();
    let mut stuck = accept_as_peer(&listener).await;
    // Once the queue is full, the connection task is blocked in a write.
    let blocked = eventually(Duration::from_secs(15), || async {
        let _ = transport.send(&to, &frame);
        transport.metrics().queue_full > 0
    })
    .await;
    assert!(
        blocked,
        "the peer's buffers filled: {:?}",
        transport.metrics()
    );
    transport.close();
    // The task dropped its connection: writing to it soon fails (reset by the peer).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut reset = false;
    while !reset && tokio::time::Instant::now() < deadline {
        reset = stuck.0.write_all(b"ping").await.is_err();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        reset,
        "the blocked connection was closed with the transport"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_connection_attempts_back_off() {
    let (transport, _inbound) = listening(TransportConfig::new());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = closed.local_addr().unwrap().to_string();
    drop(closed);
    for _ in 0..50 {
        let _ = transport.send(&to, &push("a"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 50, 100, 200, 400 ms and more (with jitter) between attempts: at most 5 in a second.
    let failures = transport.metrics().connect_failures;
    assert!((2..=6).contains(&failures), "{failures} attempts in 1 s");
    transport.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_timings_do_not_panic_the_connection_task() {
    let mut config = TransportConfig::new();
    config.reconnect_backoff_min = Duration::MAX;
    config.reconnect_backoff_max = Duration::MAX;
    config.idle_timeout = Duration::MAX;
    config.connect_timeout = Duration::MAX;
    config.handshake_timeout = Duration::MAX;
    config.write_timeout = Duration::MAX;
    let (transport, _inbound) = listening(config);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = closed.local_addr().unwrap().to_string();
    drop(closed);
    for _ in 0..10 {
        let _ = transport.send(&to, &push("a"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One attempt, then a very long pause; a task that panicked would have been replaced
    // by a new one, attempting again.
    assert_eq!(transport.metrics().connect_failures, 1);
    transport.close();
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_maximum_and_saturates() {
    let min = Duration::from_millis(50);
    let max = Duration::from_millis(400);
    let mut backoff = Backoff::new(min, max);
    let expected = [50, 100, 200, 400, 400];
    for base in expected {
        let pause = backoff.next_pause();
        let base = Duration::from_millis(base);
        assert!(
            pause >= base && pause <= base + base / 2,
            "{pause:?} for {base:?}"
        );
    }
    backoff.reset();
    assert!(backoff.next_pause() <= min + min / 2);

    let mut huge = Backoff::new(Duration::MAX / 2, Duration::MAX);
    for _ in 0..4 {
        assert!(huge.next_pause() >= Duration::MAX / 2);
    }
    assert_eq!(
        Backoff::new(Duration::MAX, Duration::MAX).next_pause(),
        Duration::MAX
    );
}

#[test]
fn out_of_range_queues_frames_and_timeouts_are_refused() {
    let refused = |change: fn(&mut TransportConfig)| {
        let mut config = TransportConfig::new();
        change(&mut config);
        matches!(config.validate(), Err(TransportError::InvalidConfig { .. }))
    };
    assert!(refused(|c| c.write_timeout = Duration::ZERO));
    assert!(refused(|c| c.send_queue_capacity = usize::MAX));
    assert!(refused(|c| c.inbound_queue_capacity = usize::MAX));
    assert!(refused(|c| c.max_frame_bytes = usize::MAX));
    assert!(!refused(
        |c| c.send_queue_capacity = TransportConfig::MAX_QUEUE_CAPACITY
    ));
}

/// A raw client connecting from `source` (any 127.0.0.0/8 address), so that tests can
/// stand for several hosts.
async fn connect_from(source: &str, transport: &TokioTcpTransport) -> Raw {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    Raw(socket.connect(transport.local_address()).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_from_one_host_leave_room_for_a_real_peer() {
    let config = TransportConfig::new();
    let per_address = config.max_inbound_per_address;
    let (transport, mut inbound) = listening(config);
    // One host opens 2,000 connections and never speaks.
    let mut hostile = Vec::new();
    for _ in 0..2_000 {
        hostile.push(connect_from("127.0.0.2", &transport).await);
    }
    let limited = eventually(Duration::from_secs(5), || async {
        let m = transport.metrics();
        m.inbound_refused == 2_000 - per_address as u64 && m.inbound_open == per_address as u64
    })
    .await;
    assert!(limited, "{:?}", transport.metrics());
    // A real peer on another host still gets in and is heard.
    let mut peer = connect_from("127.0.0.1", &transport).await;
    peer.send(&handshake("real")).await;
    assert!(matches!(
        peer.receive().await,
        Some(Frame::HandshakeAccepted(_))
    ));
    peer.send(&push("real")).await;
    let heard = tokio::time::timeout(Duration::from_secs(2), inbound.recv()).await;
    assert!(matches!(heard, Ok(Some(m)) if m.member == MemberId::new("real", 1)));
    drop(hostile);
    let released = eventually(Duration::from_secs(5), || async {
        transport.metrics().inbound_open == 1
    })
    .await;
    assert!(released, "closed connections give their slot back");
    transport.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_inbound_limit_closes_one_more_connection_at_once() {
    let config = TransportConfig {
        max_inbound_connections: 3,
        ..TransportConfig::new()
    };
    let (transport, _inbound) = listening(config);
    let mut open = Vec::new();
    for source in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        open.push(connect_from(source, &transport).await);
    }
    assert!(
        eventually(Duration::from_secs(2), || async {
            transport.metrics().inbound_open == 3
        })
        .await
    );
    let mut extra = connect_from("127.0.0.5", &transport).await;
    assert!(
        extra.closed_by_peer().await,
        "over the limit: closed at once"
    );
    assert_eq!(transport.metrics().inbound_refused, 1);
    transport.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_stalls_in_the_middle_of_a_frame_is_closed_after_the_idle_timeout() {
    let config = TransportConfig {
        inbound_idle_timeout: Duration::from_millis(300),
        ..TransportConfig::new()
    };
    let (transport, _inbound) = listening(config);
    let mut stalled = Raw::connect(&transport).await;
    stalled.send(&handshake("slow")).await;
    assert!(matches!(
        stalled.receive().await,
        Some(Frame::HandshakeAccepted(_))
    ));
    // A length prefix announcing 64 KiB, and then only ten bytes of it.
    stalled
        .0
        .write_all(&(64u32 << 10).to_be_bytes())
        .await
        .unwrap();
    stalled.0.write_all(&[0u8; 10]).await.unwrap();
    assert!(stalled.closed_by_peer().await, "closed within a second");
    assert_eq!(transport.metrics().inbound_timeouts, 1);
    // An idle one too (nothing after the handshake).
    let mut idle = Raw::connect(&transport).await;
    idle.send(&handshake("idle")).await;
    assert!(matches!(
        idle.receive().await,
        Some(Frame::HandshakeAccepted(_))
    ));
    assert!(idle.closed_by_peer().await);
    assert!(
        eventually(Duration::from_secs(2), || async {
            transport.metrics().inbound_timeouts == 2 && transport.metrics().inbound_open == 0
        })
        .await
    );
    transport.close();
}

use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipDelta, GossipMessage, GossipPush};
use chorus_core::topology::MemberId;
use chorus_core::wire::{Frame, Handshake, PROTOCOL_VERSION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{TokioTcpTransport, TransportConfig, TransportError};

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

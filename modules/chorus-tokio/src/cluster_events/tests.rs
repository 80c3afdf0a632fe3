#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::topology::MemberId;
use futures_util::{FutureExt, StreamExt};

use super::ClusterEvents;

fn member() -> MemberId {
    MemberId::new("a", 1)
}

fn gossip(seq: u64) -> ClusterEvent {
    ClusterEvent::GossipUpdated {
        member: member(),
        key: "k".into(),
        seq,
    }
}

fn startup() -> ClusterEvent {
    ClusterEvent::Startup { member: member() }
}

fn shutdown() -> ClusterEvent {
    ClusterEvent::Shutdown { member: member() }
}

/// Everything `events` holds now, without waiting.
fn drain(events: &mut ClusterEvents) -> Vec<ClusterEvent> {
    let mut seen = Vec::new();
    while let Some(Some(event)) = events.next().now_or_never() {
        seen.push(event);
    }
    seen
}

#[test]
fn a_full_buffer_takes_a_lasting_event_in_place_of_the_newest_transient_one() {
    let stream = EventStream::new();
    let mut events = ClusterEvents::new(&stream, 3);
    for seq in 1..=4 {
        stream.publish(gossip(seq));
    }
    stream.publish(startup());
    stream.publish(shutdown());
    assert_eq!(drain(&mut events), vec![gossip(1), startup(), shutdown()]);
    // gossip 4 found no room; gossip 3 and 2 made room for the lasting events.
    assert_eq!(events.dropped(), 3);
}

#[test]
fn a_hundred_thousand_transient_events_do_not_push_out_the_lasting_ones() {
    let stream = EventStream::new();
    let mut events = ClusterEvents::new(&stream, 16);
    stream.publish(startup());
    for seq in 0..100_000 {
        stream.publish(gossip(seq));
        if seq == 50_000 {
            stream.publish(shutdown());
        }
    }
    let seen = drain(&mut events);
    assert_eq!(seen.len(), 16);
    assert_eq!(seen.first(), Some(&startup()));
    assert_eq!(seen.last(), Some(&shutdown()));
    assert_eq!(events.dropped(), 100_000 + 2 - 16);
}

#[test]
fn a_buffer_full_of_lasting_events_drops_the_newer_one() {
    let stream = EventStream::new();
    let mut events = ClusterEvents::new(&stream, 2);
    stream.publish(startup());
    stream.publish(ClusterEvent::ConsensusLost { check: "c".into() });
    stream.publish(shutdown());
    stream.publish(gossip(1));
    assert_eq!(
        drain(&mut events),
        vec![startup(), ClusterEvent::ConsensusLost { check: "c".into() }]
    );
    assert_eq!(events.dropped(), 2);
}

#[test]
fn read_events_make_room_again() {
    let stream = EventStream::new();
    let mut events = ClusterEvents::new(&stream, 1);
    stream.publish(gossip(1));
    assert_eq!(drain(&mut events), vec![gossip(1)]);
    stream.publish(gossip(2));
    assert_eq!(drain(&mut events), vec![gossip(2)]);
    assert_eq!(events.dropped(), 0);
}

#[tokio::test]
async fn a_waiting_reader_is_woken_by_a_publish_from_another_thread() {
    let stream = EventStream::new();
    let mut events = ClusterEvents::new(&stream, 8);
    let publisher = stream.clone();
    let publishing = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        publisher.publish(startup());
    });
    let next = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
    assert_eq!(next.expect("woken within the limit"), Some(startup()));
    publishing.join().unwrap();
}

#[tokio::test]
async fn the_stream_ends_when_the_event_stream_is_gone() {
    let stream = EventStream::with_replay(4);
    stream.publish(startup());
    let events = ClusterEvents::new(&stream, 8);
    drop(stream);
    let rest = tokio::time::timeout(Duration::from_secs(10), events.collect::<Vec<_>>()).await;
    assert_eq!(rest.expect("ends within the limit"), vec![startup()]);
}

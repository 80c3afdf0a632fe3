use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::{ClusterProvider, ProviderError, StaticClusterProvider};
use crate::cluster::ClusterEvent;
use crate::event_stream::EventStream;
use crate::topology::{Member, MemberId};

#[test]
fn static_provider_publishes_its_members_as_joined_when_started() {
    let events = EventStream::new();
    let seen = Arc::new(spin::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let _sub = events.subscribe(move |e: &ClusterEvent| sink.lock().push(e.clone()));
    let members = vec![
        Member::new(MemberId::new("b", 1), "b:1"),
        Member::new(MemberId::new("a", 1), "a:1"),
    ];
    let mut provider = StaticClusterProvider::new(members, events);
    assert!(seen.lock().is_empty(), "nothing is published before start");
    provider.start().unwrap();
    let seen = seen.lock();
    let [ClusterEvent::TopologyUpdated(topology)] = seen.as_slice() else {
        panic!("expected one TopologyUpdated, got {seen:?}");
    };
    let names: Vec<_> = topology.members().iter().map(|m| m.id().name()).collect();
    assert_eq!(names, vec!["a", "b"]);
    assert_eq!(topology.joined(), topology.members());
}

#[test]
fn static_provider_refuses_double_start_and_stop_before_start() {
    let mut provider = StaticClusterProvider::new(Vec::new(), EventStream::new());
    assert_eq!(provider.stop(), Err(ProviderError::NotStarted));
    provider.start().unwrap();
    assert_eq!(provider.start(), Err(ProviderError::AlreadyStarted));
    provider.stop().unwrap();
}

use alloc::vec::Vec;

use super::{ClusterProvider, ProviderError};
use crate::cluster::ClusterEvent;
use crate::event_stream::EventStream;
use crate::topology::{ClusterTopology, Member};

/// A provider with a fixed member list: when started, it publishes that list as one
/// `TopologyUpdated` (every member joined). For tests, embedded systems and clusters whose
/// membership is set by configuration.
#[derive(Debug)]
pub struct StaticClusterProvider {
    members: Vec<Member>,
    events: EventStream<ClusterEvent>,
    started: bool,
}

impl StaticClusterProvider {
    /// A provider that will publish `members` on `events` when started.
    pub fn new(members: Vec<Member>, events: EventStream<ClusterEvent>) -> Self {
        Self {
            members,
            events,
            started: false,
        }
    }

    /// The configured members.
    pub fn members(&self) -> &[Member] {
        &self.members
    }
}

impl ClusterProvider for StaticClusterProvider {
    fn start(&mut self) -> Result<(), ProviderError> {
        if self.started {
            return Err(ProviderError::AlreadyStarted);
        }
        self.started = true;
        let topology =
            ClusterTopology::next(&ClusterTopology::empty(), self.members.clone(), Vec::new());
        self.events.publish(ClusterEvent::TopologyUpdated(topology));
        Ok(())
    }

    fn stop(&mut self) -> Result<(), ProviderError> {
        if !self.started {
            return Err(ProviderError::NotStarted);
        }
        self.started = false;
        Ok(())
    }
}

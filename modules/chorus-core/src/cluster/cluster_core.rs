use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::fmt;

use super::{
    ApplyOutcome, ClusterConfig, ClusterError, ClusterEvent, ClusterMetrics, ClusterState,
    KindRegistry, MetricsError,
};
use crate::gossip::Gossiper;
use crate::provider::ClusterProvider;
use crate::pubsub::{PubSub, TOPIC_KIND};
use crate::topology::{ClusterTopology, MemberId, TopologyError};

/// The lifecycle and topology state of one cluster node.
///
/// It starts pub/sub, then the gossiper, then the provider, and stops them in the reverse
/// order; a failing step undoes the steps that had started. It applies topologies after
/// validating them and keeps the blocked list, the kind registry and the counters.
///
/// `ClusterCore` does not publish by itself: the events it produces wait in an outbox
/// ([`ClusterCore::drain_events`]) until its owner publishes them outside any lock. The
/// `ClusterExtension` does exactly that.
pub struct ClusterCore {
    config: ClusterConfig,
    state: ClusterState,
    pubsub: Box<dyn PubSub + Send>,
    gossiper: Box<dyn Gossiper + Send>,
    provider: Box<dyn ClusterProvider + Send>,
    topology: ClusterTopology,
    blocked: BTreeSet<MemberId>,
    kinds: KindRegistry,
    metrics: ClusterMetrics,
    outbox: Vec<ClusterEvent>,
}

/// The components the core starts, in start order.
#[derive(Clone, Copy)]
enum Step {
    PubSub,
    Gossiper,
    Provider,
}

impl ClusterCore {
    /// A stopped core with the kinds of `config` registered.
    pub fn new(
        config: ClusterConfig,
        pubsub: Box<dyn PubSub + Send>,
        gossiper: Box<dyn Gossiper + Send>,
        provider: Box<dyn ClusterProvider + Send>,
    ) -> Self {
        let mut kinds = KindRegistry::new();
        for kind in &config.kinds {
            // Duplicates and empty names in the configuration are simply skipped.
            let _ = kinds.register(kind);
        }
        Self {
            config,
            state: ClusterState::Stopped,
            pubsub,
            gossiper,
            provider,
            topology: ClusterTopology::empty(),
            blocked: BTreeSet::new(),
            kinds,
            metrics: ClusterMetrics::default(),
            outbox: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Where the node is in its lifecycle.
    pub fn state(&self) -> ClusterState {
        self.state
    }

    /// Starts pub/sub, the gossiper and the provider, in that order.
    ///
    /// Refused unless stopped, and while the topic kind is not registered. When a step
    /// fails, the steps already started are stopped in reverse order, the node is stopped
    /// again and `StartupFailed` is produced.
    pub fn start(&mut self) -> Result<(), ClusterError> {
        if self.state != ClusterState::Stopped {
            return Err(ClusterError::InvalidTransition {
                from: self.state,
                to: ClusterState::Starting,
            });
        }
        if !self.kinds.contains(TOPIC_KIND) {
            let reason = ClusterError::TopicKindNotRegistered;
            self.outbox.push(ClusterEvent::StartupFailed {
                reason: reason.clone(),
            });
            return Err(reason);
        }
        self.state = ClusterState::Starting;
        let steps = [Step::PubSub, Step::Gossiper, Step::Provider];
        for (index, step) in steps.iter().enumerate() {
            if let Err(reason) = self.start_step(*step) {
                for started in steps.iter().take(index).rev() {
                    // Undo is best effort: the start failure is what the caller must see.
                    let _ = self.stop_step(*started);
                }
                self.state = ClusterState::Stopped;
                self.outbox.push(ClusterEvent::StartupFailed {
                    reason: reason.clone(),
                });
                return Err(reason);
            }
        }
        self.state = ClusterState::Running;
        self.outbox.push(ClusterEvent::Startup {
            member: self.config.member_id.clone(),
        });
        Ok(())
    }

    /// Stops the provider, the gossiper and pub/sub, in that order.
    ///
    /// Refused unless running. A failing step does not stop the others: every component is
    /// asked to stop, the node ends stopped, and the first failure is returned and produced
    /// as `ShutdownFailed`.
    pub fn shutdown(&mut self) -> Result<(), ClusterError> {
        if self.state != ClusterState::Running {
            return Err(ClusterError::InvalidTransition {
                from: self.state,
                to: ClusterState::ShuttingDown,
            });
        }
        self.state = ClusterState::ShuttingDown;
        let mut first_failure = None;
        for step in [Step::Provider, Step::Gossiper, Step::PubSub] {
            if let Err(reason) = self.stop_step(step) {
                first_failure.get_or_insert(reason);
            }
        }
        self.state = ClusterState::Stopped;
        if let Some(reason) = first_failure {
            self.outbox.push(ClusterEvent::ShutdownFailed {
                reason: reason.clone(),
            });
            return Err(reason);
        }
        self.outbox.push(ClusterEvent::Shutdown {
            member: self.config.member_id.clone(),
        });
        Ok(())
    }

    fn start_step(&mut self, step: Step) -> Result<(), ClusterError> {
        match step {
            Step::PubSub => self.pubsub.start().map_err(ClusterError::PubSub),
            Step::Gossiper => self.gossiper.start().map_err(ClusterError::Gossiper),
            Step::Provider => self.provider.start().map_err(ClusterError::Provider),
        }
    }

    fn stop_step(&mut self, step: Step) -> Result<(), ClusterError> {
        match step {
            Step::PubSub => self.pubsub.stop().map_err(ClusterError::PubSub),
            Step::Gossiper => self.gossiper.stop().map_err(ClusterError::Gossiper),
            Step::Provider => self.provider.stop().map_err(ClusterError::Provider),
        }
    }

    /// Applies `topology` if it is valid and differs from the last applied one.
    ///
    /// Validation: no duplicate members, joined ⊆ members, left ∩ members = ∅, and no
    /// blocked member (blocked now or earlier) among the members. A refused topology
    /// changes nothing and produces `TopologyApplyFailed`. A topology whose hash equals the
    /// last applied one is ignored. The blocked members it reports stay blocked for good.
    pub fn apply_topology(
        &mut self,
        topology: &ClusterTopology,
    ) -> Result<ApplyOutcome, TopologyError> {
        if let Err(reason) = topology.validate(|id| self.blocked.contains(id)) {
            self.metrics.updates_rejected += 1;
            self.outbox.push(ClusterEvent::TopologyApplyFailed {
                reason: reason.clone(),
            });
            return Err(reason);
        }
        self.blocked.extend(topology.blocked().iter().cloned());
        if topology.hash() == self.topology.hash() {
            self.metrics.updates_ignored += 1;
            return Ok(ApplyOutcome::Ignored);
        }
        self.metrics.updates_applied += 1;
        self.metrics.joined_total += topology.joined().len() as u64;
        self.metrics.left_total += topology.left().len() as u64;
        self.topology = topology.clone();
        Ok(ApplyOutcome::Applied)
    }

    /// The node rejoined the cluster as `member` (a new incarnation, after the cluster
    /// blocked its previous one): its previous view and blocked list belong to the old
    /// identity and are dropped; the counters keep running.
    pub fn rejoined(&mut self, member: MemberId) {
        self.config.member_id = member;
        self.topology = ClusterTopology::empty();
        self.blocked.clear();
    }

    /// The last applied topology.
    pub fn topology(&self) -> &ClusterTopology {
        &self.topology
    }

    /// Whether `id` is blocked.
    pub fn is_blocked(&self, id: &MemberId) -> bool {
        self.blocked.contains(id)
    }

    /// The blocked members, sorted.
    pub fn blocked(&self) -> impl Iterator<Item = &MemberId> {
        self.blocked.iter()
    }

    /// The registered kinds.
    pub fn kinds(&self) -> &KindRegistry {
        &self.kinds
    }

    /// Registers `kind`.
    pub fn register_kind(&mut self, kind: &str) -> Result<(), ClusterError> {
        self.kinds.register(kind).map_err(ClusterError::Kind)
    }

    /// Unregisters `kind`.
    pub fn unregister_kind(&mut self, kind: &str) -> Result<(), ClusterError> {
        self.kinds.unregister(kind).map_err(ClusterError::Kind)
    }

    /// A snapshot of the counters, or `Disabled` when metrics are off.
    pub fn metrics(&self) -> Result<ClusterMetrics, MetricsError> {
        if !self.config.metrics_enabled {
            return Err(MetricsError::Disabled);
        }
        Ok(ClusterMetrics {
            members: self.topology.members().len(),
            blocked: self.blocked.len(),
            ..self.metrics
        })
    }

    /// Takes the events produced since the last call, oldest first.
    pub fn drain_events(&mut self) -> Vec<ClusterEvent> {
        core::mem::take(&mut self.outbox)
    }
}

impl fmt::Debug for ClusterCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterCore")
            .field("member", &self.config.member_id)
            .field("state", &self.state)
            .field("members", &self.topology.members().len())
            .field("blocked", &self.blocked.len())
            .finish_non_exhaustive()
    }
}

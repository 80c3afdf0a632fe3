use chorus_core::gossip::GossipConfig;
use chorus_core::pubsub::PubSubConfig;

use crate::{Latency, SimError};

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Nodes at the start.
    pub nodes: usize,
    /// Seed of every random choice (latency, loss, peer choice, tick phases).
    pub seed: u64,
    /// Per-message latency.
    pub latency: Latency,
    /// Probability that a message is lost, 0.0–1.0.
    pub loss: f64,
    /// Gossip settings of every node.
    pub gossip: GossipConfig,
    /// How many of the first nodes serve as seeds for the others (at least 1).
    pub seeds: usize,
    /// Nodes start spread over this many virtual ms (0: all at once).
    pub start_window_ms: u64,
    /// Run a pub/sub broker on every node with these settings (`None`: gossip only).
    pub pubsub: Option<PubSubConfig>,
    /// How long a group instance takes to process a message, virtual ms.
    pub processing_ms: u64,
}

impl SimConfig {
    /// `nodes` nodes, seed 1, 1–5 ms latency, no loss, default gossip settings, one seed.
    pub fn new(nodes: usize) -> Self {
        Self {
            nodes,
            seed: 1,
            latency: Latency::Uniform { min: 1, max: 5 },
            loss: 0.0,
            gossip: GossipConfig::new(),
            seeds: 1,
            start_window_ms: 0,
            pubsub: None,
            processing_ms: 20,
        }
    }

    /// The same configuration with another seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same configuration with message loss `loss` (0.0–1.0).
    #[must_use]
    pub fn with_loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// The same configuration with a pub/sub broker on every node.
    #[must_use]
    pub fn with_pubsub(mut self, pubsub: PubSubConfig) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// The same configuration with other gossip settings.
    #[must_use]
    pub fn with_gossip(mut self, gossip: GossipConfig) -> Self {
        self.gossip = gossip;
        self
    }

    /// Checks every rule.
    pub fn validate(&self) -> Result<(), SimError> {
        let invalid = |reason: &str| {
            Err(SimError::InvalidConfig {
                reason: reason.to_string(),
            })
        };
        if self.nodes == 0 {
            return invalid("at least one node is needed");
        }
        if !(0.0..=1.0).contains(&self.loss) {
            return invalid("loss must be between 0.0 and 1.0");
        }
        if self.seeds == 0 || self.seeds > self.nodes {
            return invalid("seeds must be between 1 and the number of nodes");
        }
        if let Latency::Uniform { min, max } = self.latency
            && min > max
        {
            return invalid("latency min must not exceed max");
        }
        self.gossip.validate().map_err(SimError::Gossip)
    }
}

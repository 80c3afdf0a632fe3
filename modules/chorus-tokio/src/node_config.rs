mod config_error;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use chorus_core::gossip::GossipConfig;
use chorus_core::pubsub::PubSubConfig;

pub use config_error::ConfigError;

use crate::cluster_events::MAX_EVENT_BUFFER;
use crate::tokio_pub_sub::{DEFAULT_SUBSCRIPTION_BUFFER, MAX_SUBSCRIPTION_BUFFER};
use crate::transport::TransportConfig;

/// A node's whole configuration as data: what a `node.toml` holds, and what
/// [`ClusterBuilder::config`](crate::ClusterBuilder::config) applies.
///
/// Every key is optional (the default below) and an unknown one is an error, so a
/// misspelled key never goes unnoticed. Durations are written for people: `"250ms"`,
/// `"2s"`, `"1m30s"`. `docs/node.toml` is a complete sample with every default; the
/// rules are in `docs/operations.md` (*Configuration file*).
///
/// ```
/// use chorus_tokio::NodeConfig;
/// let config = NodeConfig::from_toml(
///     r#"
///     name = "a"
///     bind = "127.0.0.1:7000"
///     seeds = ["127.0.0.1:7001"]
///
///     [gossip]
///     gossip_interval = "500ms"
///     heartbeat_expiration = "4s"
///     "#,
/// )?;
/// config.validate()?;
/// assert_eq!(config.gossip.gossip_interval_ms, 500);
/// assert_eq!(config.cluster_name, "chorus");
/// # Ok::<(), chorus_tokio::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive] // It will grow (security keys): build it from `default()` or a file.
pub struct NodeConfig {
    /// The member name (default: `node-` and the bound port). Name nodes that run on
    /// several hosts yourself: ports repeat across hosts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address to listen on (default `127.0.0.1:0`, a free port).
    pub bind: String,
    /// The address peers dial, when not the bound one: a host (the bound port is added) or
    /// `HOST:PORT`; required with a wildcard `bind` (default: none, the bound address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
    /// Nodes to join through (default: none, the node starts a cluster).
    pub seeds: Vec<String>,
    /// The cluster's name (default `chorus`): nodes of another cluster are refused.
    pub cluster_name: String,
    /// The kinds this node hosts (default: none).
    pub kinds: Vec<String>,
    /// How long a graceful shutdown waits for peers to acknowledge the leave (default 2 s).
    #[serde(with = "humantime_serde")]
    pub leave_timeout: Duration,
    /// Events buffered per `Cluster::events` stream (default 1,024; 1 to 1,048,576).
    pub event_buffer: usize,
    /// Deliveries buffered per subscription stream (default 1,024; 1 to 1,048,576).
    pub subscription_buffer: usize,
    /// Where the admin endpoint (`/metrics`, `/members`, `/health`, `/topics`) listens
    /// (default: none, no endpoint); see `ClusterBuilder::admin_addr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<String>,
    /// How many topics `/metrics` labels one by one (default 100); the others are summed
    /// under `topic="_other"`.
    pub metrics_max_topics: usize,
    /// Gossip settings, the `[gossip]` table.
    pub gossip: GossipConfig,
    /// Transport settings, the `[transport]` table.
    pub transport: TransportConfig,
    /// Pub/sub settings, the `[pub_sub]` table.
    pub pub_sub: PubSubConfig,
}

impl NodeConfig {
    /// The defaults: the same as [`Cluster::builder`](crate::Cluster::builder)'s.
    pub fn new() -> Self {
        Self {
            name: None,
            bind: "127.0.0.1:0".to_string(),
            advertise: None,
            seeds: Vec::new(),
            cluster_name: "chorus".to_string(),
            kinds: Vec::new(),
            leave_timeout: Duration::from_secs(2),
            event_buffer: 1_024,
            subscription_buffer: DEFAULT_SUBSCRIPTION_BUFFER,
            metrics_addr: None,
            metrics_max_topics: crate::admin::MAX_EXPORTED_TOPICS,
            gossip: GossipConfig::new(),
            transport: TransportConfig::new(),
            pub_sub: PubSubConfig::new(),
        }
    }

    /// Reads a configuration from TOML text. A key that is unknown or holds a value of the
    /// wrong kind, or text that is no TOML, is a [`ConfigError::Parse`] naming the key
    /// (`gossip.gossip_intervall`), its line and the reason. The values are not checked
    /// against each other: call [`NodeConfig::validate`] next.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|e| ConfigError::parse(text, None, e))?;
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().iter().next().map(|_| e.path().to_string());
            ConfigError::parse(text, key, e.into_inner())
        })
    }

    /// Reads the TOML file at `path` ([`NodeConfig::from_toml`]); a file that cannot be
    /// read is [`ConfigError::Read`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Checks every rule: the gossip, transport and pub/sub settings' own
    /// (`GossipConfig::validate`, [`TransportConfig::validate`], `PubSubConfig::validate`
    /// against the transport's `max_frame_bytes`), a `name` and `cluster_name` that are
    /// not empty, and buffers from 1 to 1,048,576. The first rule broken is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self
            .name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return Err(ConfigError::Empty { key: "name" });
        }
        if let Some(name) = &self.name {
            crate::names::check_member_name(name).map_err(|reason| ConfigError::Invalid {
                key: "name",
                reason,
            })?;
        }
        for seed in &self.seeds {
            crate::names::check_seed(seed).map_err(|reason| ConfigError::Invalid {
                key: "seeds",
                reason,
            })?;
        }
        if self.cluster_name.trim().is_empty() {
            return Err(ConfigError::Empty {
                key: "cluster_name",
            });
        }
        let buffers = [
            ("event_buffer", self.event_buffer, MAX_EVENT_BUFFER),
            (
                "subscription_buffer",
                self.subscription_buffer,
                MAX_SUBSCRIPTION_BUFFER,
            ),
        ];
        for (key, value, max) in buffers {
            if !(1..=max).contains(&value) {
                return Err(ConfigError::OutOfRange {
                    key,
                    value,
                    min: 1,
                    max,
                });
            }
        }
        self.gossip.validate().map_err(ConfigError::Gossip)?;
        self.transport.validate().map_err(ConfigError::Transport)?;
        self.pub_sub
            .validate(self.transport.max_frame_bytes)
            .map_err(ConfigError::PubSub)
    }

    /// The configuration as TOML, every setting written out (an unset `name`, `advertise`
    /// or `metrics_addr` left out): what `node --print-config` prints, and what
    /// [`NodeConfig::from_toml`] reads back to an equal configuration.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(ConfigError::Print)
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self::new()
    }
}

//! Gossip: the replicated state store, push-pull deltas, heartbeats, membership and
//! consensus, as one sans-IO state machine ([`GossipNode`]). See `docs/protocol.md`.

mod delta_entry;
mod delta_limits;
mod digest_entry;
pub(crate) mod encoded_size;
mod gossip_config;
mod gossip_config_error;
mod gossip_delta;
mod gossip_digest;
mod gossip_key_value;
mod gossip_member_state;
mod gossip_message;
mod gossip_metrics;
mod gossip_node;
mod gossip_output;
mod gossip_push;
mod gossip_rejected;
mod gossip_request;
mod gossip_response;
mod gossip_state;
mod gossip_state_store;
mod gossip_suspect;
mod gossip_update;
mod gossiper;
mod gossiper_error;
mod owner_delta;
pub mod reserved_keys;
#[cfg(test)]
mod tests;
mod view_digest;

pub use delta_entry::DeltaEntry;
pub use delta_limits::DeltaLimits;
pub use digest_entry::DigestEntry;
pub use gossip_config::GossipConfig;
pub use gossip_config_error::GossipConfigError;
pub use gossip_delta::GossipDelta;
pub use gossip_digest::GossipDigest;
pub use gossip_key_value::GossipKeyValue;
pub use gossip_member_state::GossipMemberState;
pub use gossip_message::GossipMessage;
pub use gossip_metrics::GossipMetrics;
pub use gossip_node::{GossipNode, TOPOLOGY_CHECK};
pub use gossip_output::GossipOutput;
pub use gossip_push::GossipPush;
pub use gossip_rejected::GossipRejected;
pub use gossip_request::GossipRequest;
pub use gossip_response::GossipResponse;
pub use gossip_state::GossipState;
pub use gossip_state_store::GossipStateStore;
pub use gossip_suspect::GossipSuspect;
pub use gossip_update::GossipUpdate;
pub use gossiper::Gossiper;
pub use gossiper_error::GossiperError;
pub use owner_delta::OwnerDelta;
pub use view_digest::ViewDigest;

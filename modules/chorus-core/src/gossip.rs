//! Gossip: the replicated state store, push-pull deltas, heartbeats and consensus checks.

mod gossiper;
mod gossiper_error;

pub use gossiper::Gossiper;
pub use gossiper_error::GossiperError;

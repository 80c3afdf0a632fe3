//! `chorus-sim`: runs many real `chorus-core` gossip nodes over a virtual network with a
//! virtual clock, deterministically from a seed.
//!
//! Every message goes through the real wire encoding (encode → bytes → decode), so sizes
//! are real; the network adds latency, loss and partitions; scripted actions crash,
//! restart, add, partition and heal nodes. The same seed gives the same run: the
//! simulator hashes its whole event trace, and tests compare the hashes of two runs.
//! Scenarios measure what users care about — convergence, dissemination, detection,
//! false positives, bandwidth and memory — in virtual time. See `docs/simulation.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod latency;
mod memory;
mod node_stats;
pub mod plot;
pub mod scenario;
mod sim_config;
mod sim_error;
mod simulator;

pub use latency::Latency;
pub use memory::{MemoryUsage, memory_usage};
pub use node_stats::NodeStats;
pub use sim_config::SimConfig;
pub use sim_error::SimError;
pub use simulator::{Completion, Delivery, FalsePositive, Observations, Simulator, address_of};

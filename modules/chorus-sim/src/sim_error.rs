use std::fmt;

use chorus_core::gossip::GossipConfigError;

/// Why a simulation could not be set up or a step could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// The gossip configuration breaks a rule.
    Gossip(GossipConfigError),
    /// A setting of the simulation is out of range.
    InvalidConfig {
        /// Which rule it breaks.
        reason: String,
    },
    /// A node index that does not exist.
    NoSuchNode(usize),
    /// A scenario step did not complete in the virtual time it was given.
    Timeout {
        /// What was awaited.
        what: String,
        /// Virtual milliseconds waited.
        waited_ms: u64,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gossip(e) => write!(f, "gossip configuration: {e}"),
            Self::InvalidConfig { reason } => write!(f, "invalid simulation: {reason}"),
            Self::NoSuchNode(i) => write!(f, "no node {i} in the simulation"),
            Self::Timeout { what, waited_ms } => {
                write!(f, "{what} did not happen within {waited_ms} virtual ms")
            }
        }
    }
}

impl std::error::Error for SimError {}

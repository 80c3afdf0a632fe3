//! Consensus checks: does every live member publish the same value under a key?

mod consensus_check;
mod consensus_checks;
mod consensus_handle;
#[cfg(test)]
mod tests;

pub use consensus_check::ConsensusCheck;
pub use consensus_checks::ConsensusChecks;
pub use consensus_handle::ConsensusHandle;

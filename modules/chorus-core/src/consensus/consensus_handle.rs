/// Names a registered consensus check, to query or remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsensusHandle(pub(crate) u64);

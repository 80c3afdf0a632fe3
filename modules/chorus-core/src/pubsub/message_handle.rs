/// Names a message given to a producer, to cancel it or match its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageHandle(pub(crate) u64);

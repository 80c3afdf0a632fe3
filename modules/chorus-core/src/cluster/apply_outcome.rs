/// What applying a valid topology did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The topology differs from the last applied one and is now current.
    Applied,
    /// The topology has the hash of the last applied one: nothing changed.
    Ignored,
}

use super::GossiperError;

/// The gossip component as the cluster lifecycle sees it: something that starts and stops.
///
/// `ClusterCore` starts the gossiper after pub/sub and before the provider, and stops it in
/// the reverse order. Drivers implement it (`TokioGossiper`, the simulator's node).
pub trait Gossiper {
    /// Starts gossiping; `AlreadyStarted` when it runs already.
    fn start(&mut self) -> Result<(), GossiperError>;
    /// Stops gossiping; `NotStarted` when it does not run.
    fn stop(&mut self) -> Result<(), GossiperError>;
}

use super::PubSubError;

/// The pub/sub component as the cluster lifecycle sees it: started first, stopped last, so
/// that subscribers exist before the node is visible and messages drain after it left.
pub trait PubSub {
    /// Starts pub/sub delivery.
    fn start(&mut self) -> Result<(), PubSubError>;
    /// Stops pub/sub delivery.
    fn stop(&mut self) -> Result<(), PubSubError>;
}

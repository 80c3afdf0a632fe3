use chorus_core::pubsub::{PubSub, PubSubError};

/// The pub/sub component of a Tokio node as the lifecycle sees it: started first and
/// stopped last. Delivery between nodes over TCP is not part of this crate yet; this type
/// only keeps the lifecycle contract (`AlreadyStarted`, `NotStarted`).
#[derive(Debug, Default)]
pub struct TokioPubSub {
    running: bool,
}

impl TokioPubSub {
    /// A stopped component.
    pub fn new() -> Self {
        Self::default()
    }
}

impl PubSub for TokioPubSub {
    fn start(&mut self) -> Result<(), PubSubError> {
        if self.running {
            return Err(PubSubError::AlreadyStarted);
        }
        self.running = true;
        Ok(())
    }

    fn stop(&mut self) -> Result<(), PubSubError> {
        if !self.running {
            return Err(PubSubError::NotStarted);
        }
        self.running = false;
        Ok(())
    }
}

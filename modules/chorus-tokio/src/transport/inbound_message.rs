use chorus_core::topology::MemberId;

use super::InboundFrame;

/// A message received on an accepted connection, with who sent it (as its handshake
/// said).
#[derive(Debug, Clone)]
pub(crate) struct InboundMessage {
    /// The address the sender listens on (answers go there).
    pub(crate) from: String,
    /// The sender's member id at handshake time.
    pub(crate) member: MemberId,
    /// The message.
    pub(crate) message: InboundFrame,
}

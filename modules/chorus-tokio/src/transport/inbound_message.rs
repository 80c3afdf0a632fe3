use chorus_core::topology::MemberId;

use super::InboundFrame;

/// A message received on an accepted connection, with who sent it (as its handshake
/// said).
#[derive(Debug, Clone)]
pub struct InboundMessage {
    /// The address the sender listens on (answers go there).
    pub from: String,
    /// The sender's member id at handshake time.
    pub member: MemberId,
    /// The message.
    pub message: InboundFrame,
}

//! The wire format: one versioned frame enum, encoded with postcard.
//!
//! A frame on the wire is one byte of protocol version followed by the postcard encoding
//! of [`Frame`]. Decoding checks the size limit before anything else and turns any byte
//! string into a frame or a [`WireError`], never a panic; a length the bytes claim
//! reserves memory only in proportion to the bytes left. See `docs/protocol.md`.

mod frame;
mod frame_input;
mod handshake;
mod handshake_refusal;
#[cfg(test)]
mod tests;
mod wire_error;

pub use frame::{Frame, FrameKind};
pub use handshake::Handshake;
pub use handshake_refusal::HandshakeRefusal;
pub use wire_error::WireError;

/// The protocol version this build speaks; the first byte of every frame.
pub const PROTOCOL_VERSION: u8 = 1;

/// The default largest frame accepted, in bytes (1 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

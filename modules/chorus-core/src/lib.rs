//! `chorus-core`: every rule of the chorus cluster protocol as sans-IO state machines.
//!
//! The crate never reads a clock, never spawns, never touches a socket: callers pass the
//! current time (`now`, milliseconds) and receive the outputs (frames to send, events to
//! publish). Two drivers run the same code: `chorus-tokio` over real TCP and timers, and
//! `chorus-sim` over a deterministic virtual network. See `docs/architecture.md`.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod cluster;
pub mod consensus;
pub mod duration_text;
pub mod event_stream;
pub mod gossip;
pub mod membership;
pub mod node;
pub mod provider;
pub mod pubsub;
pub mod topology;
pub mod wire;

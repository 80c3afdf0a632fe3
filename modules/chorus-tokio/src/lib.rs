//! `chorus-tokio`: drives the sans-IO `chorus-core` with Tokio — real sockets, real timers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use chorus_core as core;

//! `chorus-sim`: runs many `chorus-core` nodes over a virtual network with a virtual clock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

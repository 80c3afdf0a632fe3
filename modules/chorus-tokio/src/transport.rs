//! TCP transport: a listener, one outbound connection per peer, handshakes, bounded queues.
//!
//! Users set it with [`TransportConfig`], read its counters as [`TransportMetrics`] and
//! see its failures as [`TransportError`]; the transport itself is the node's plumbing.

mod backoff;
mod connection;
mod inbound_frame;
mod inbound_message;
#[cfg(test)]
mod tests;
mod tokio_tcp_transport;
mod transport_config;
mod transport_error;
mod transport_metrics;

pub(crate) use inbound_frame::InboundFrame;
pub(crate) use inbound_message::InboundMessage;
pub(crate) use tokio_tcp_transport::TokioTcpTransport;
pub use transport_config::TransportConfig;
pub use transport_error::TransportError;
pub use transport_metrics::TransportMetrics;

//! TCP transport: a listener, one outbound connection per peer, handshakes, bounded queues.

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

pub use inbound_frame::InboundFrame;
pub use inbound_message::InboundMessage;
pub use tokio_tcp_transport::TokioTcpTransport;
pub use transport_config::TransportConfig;
pub use transport_error::TransportError;
pub use transport_metrics::TransportMetrics;

//! Membership from gossip: member information, failure detection, and the topology view.

mod failure_detector;
mod heartbeat_failure_detector;
mod member_info;
#[cfg(test)]
mod tests;

pub use failure_detector::FailureDetector;
pub use heartbeat_failure_detector::HeartbeatFailureDetector;
pub use member_info::MemberInfo;

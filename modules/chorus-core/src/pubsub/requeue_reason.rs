/// Why a group message went back to the front of its group's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueReason {
    /// The instance holding it left the group (unsubscribed, its member left the topology,
    /// or a delivery found it unreachable).
    InstanceGone,
    /// Its delivery batch was not acknowledged within `delivery_timeout_ms`.
    DeliveryTimeout,
}

//! Distributed publish/subscribe: the registry, delivery plans, load-balanced groups,
//! acknowledgements and the batching producer, as sans-IO state machines. See the pub/sub
//! section of `docs/protocol.md`.

mod batch_message;
mod batching_producer;
mod delivery_ack;
mod delivery_batch;
mod delivery_status;
mod frame_refusal;
mod group_assignment;
mod group_completion;
mod latency_histogram;
mod load_balanced_group;
mod local_delivery;
mod local_subscription;
mod message_handle;
mod message_outcome;
mod producer_batch;
mod producer_config;
mod producer_error;
mod pub_sub;
mod pub_sub_broker;
mod pub_sub_config;
mod pub_sub_config_error;
mod pub_sub_error;
mod pub_sub_event;
mod pub_sub_message;
mod pub_sub_output;
mod publish_ack;
mod publish_rejection;
mod registry_change;
mod removal_reason;
mod requeue_reason;
mod retry_policy;
mod subscriber_id;
mod subscriber_status;
mod subscription;
mod subscription_registry;
#[cfg(test)]
mod tests;
mod topic_metrics;

pub use batch_message::BatchMessage;
pub use batching_producer::BatchingProducer;
pub use delivery_ack::DeliveryAck;
pub use delivery_batch::DeliveryBatch;
pub use delivery_status::DeliveryStatus;
pub use frame_refusal::FrameRefusal;
pub use group_assignment::GroupAssignment;
pub use group_completion::GroupCompletion;
pub use latency_histogram::LatencyHistogram;
pub use load_balanced_group::LoadBalancedGroup;
pub use local_delivery::LocalDelivery;
pub use local_subscription::LocalSubscription;
pub use message_handle::MessageHandle;
pub use message_outcome::MessageOutcome;
pub use producer_batch::ProducerBatch;
pub use producer_config::ProducerConfig;
pub use producer_error::ProducerError;
pub use pub_sub::PubSub;
pub use pub_sub_broker::PubSubBroker;
pub use pub_sub_config::{BATCH_FRAME_MARGIN, PubSubConfig};
pub use pub_sub_config_error::PubSubConfigError;
pub use pub_sub_error::PubSubError;
pub use pub_sub_event::PubSubEvent;
pub use pub_sub_message::PubSubMessage;
pub use pub_sub_output::PubSubOutput;
pub use publish_ack::PublishAck;
pub use publish_rejection::PublishRejection;
pub use registry_change::RegistryChange;
pub use removal_reason::RemovalReason;
pub use requeue_reason::RequeueReason;
pub use retry_policy::RetryPolicy;
pub use subscriber_id::SubscriberId;
pub use subscriber_status::SubscriberStatus;
pub use subscription::Subscription;
pub use subscription_registry::SubscriptionRegistry;
pub use topic_metrics::TopicMetrics;

/// The kind that hosts topics; `ClusterCore` refuses to start while it is not registered.
pub const TOPIC_KIND: &str = "chorus.topic";

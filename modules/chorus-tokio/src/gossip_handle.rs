use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chorus_core::consensus::{ConsensusCheck, ConsensusHandle};
use chorus_core::gossip::{GossipNode, GossiperError};
use chorus_core::pubsub::{PubSubError, PublishAck, SubscriberId, Subscription};
use chorus_core::topology::MemberId;
use tokio::sync::{mpsc, oneshot};

use crate::gossip_command::GossipCommand;
use crate::tokio_pub_sub::{LocalSink, SinkCounters};
use crate::transport::{InboundMessage, TokioTcpTransport};
use crate::{Delivery, NodeError, SubscriptionStream};

/// A handle to the gossip loop of a [`TokioGossiper`](crate::TokioGossiper): every call
/// is a message to the task that owns the `GossipNode`, answered on a oneshot channel.
/// Calls fail with `NotStarted` while the gossiper does not run.
#[derive(Clone, Debug)]
pub(crate) struct GossipHandle {
    commands: Arc<Mutex<mpsc::Sender<GossipCommand>>>,
}

impl GossipHandle {
    pub(crate) fn new(commands: Arc<Mutex<mpsc::Sender<GossipCommand>>>) -> Self {
        Self { commands }
    }

    fn sender(&self) -> mpsc::Sender<GossipCommand> {
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> GossipCommand,
    ) -> Result<T, GossiperError> {
        let (reply, answer) = oneshot::channel();
        self.sender()
            .send(command(reply))
            .await
            .map_err(|_| GossiperError::NotStarted)?;
        answer.await.map_err(|_| GossiperError::NotStarted)
    }

    /// Hands the node, its transport and its inbound messages to the loop (the provider
    /// does this once it has bound its address).
    pub(crate) fn attach(
        &self,
        node: GossipNode,
        transport: TokioTcpTransport,
        inbound: mpsc::Receiver<InboundMessage>,
    ) -> Result<(), GossiperError> {
        self.sender()
            .try_send(GossipCommand::Attach {
                node: Box::new(node),
                transport,
                inbound,
            })
            .map_err(|_| GossiperError::NotStarted)
    }

    /// Writes a local key and pushes it to peers.
    pub(crate) async fn set(&self, key: &str, value: &[u8]) -> Result<bool, GossiperError> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.ask(|reply| GossipCommand::Set { key, value, reply })
            .await?
    }

    /// The value of `key` owned by `member`, as known here.
    pub(crate) async fn get(
        &self,
        member: &MemberId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, GossiperError> {
        let (member, key) = (member.clone(), key.to_string());
        self.ask(|reply| GossipCommand::Get { member, key, reply })
            .await
    }

    /// This node's current member id (it changes when the node rejoins).
    pub(crate) async fn member_id(&self) -> Result<MemberId, GossiperError> {
        self.ask(|reply| GossipCommand::Member { reply }).await
    }

    /// Registers a consensus check.
    pub(crate) async fn register_consensus(
        &self,
        check: ConsensusCheck,
    ) -> Result<ConsensusHandle, GossiperError> {
        self.ask(|reply| GossipCommand::RegisterConsensus { check, reply })
            .await
    }

    /// Removes a consensus check.
    pub(crate) async fn remove_consensus(
        &self,
        handle: ConsensusHandle,
    ) -> Result<bool, GossiperError> {
        self.ask(|reply| GossipCommand::RemoveConsensus { handle, reply })
            .await
    }

    /// The value every live member agrees on for the check, if they do.
    pub(crate) async fn consensus(
        &self,
        handle: ConsensusHandle,
    ) -> Result<Option<Vec<u8>>, GossiperError> {
        self.ask(|reply| GossipCommand::Consensus { handle, reply })
            .await
    }

    /// The topology hash every live member agrees on, if they do.
    pub(crate) async fn topology_consensus(&self) -> Result<Option<u64>, GossiperError> {
        self.ask(|reply| GossipCommand::TopologyConsensus { reply })
            .await
    }

    /// The transport the loop sends with (once attached).
    pub(crate) async fn transport(&self) -> Result<TokioTcpTransport, GossiperError> {
        self.ask(|reply| GossipCommand::Transport { reply }).await
    }

    /// Replaces the node's seed addresses (what its seed names resolve to now); false
    /// when the loop does not serve.
    pub(crate) async fn set_seeds(&self, seeds: Vec<String>) -> bool {
        self.sender()
            .send(GossipCommand::SetSeeds { seeds })
            .await
            .is_ok()
    }

    /// Leaves the cluster gracefully: writes the left key and sends it to every live
    /// peer, again each request timeout to those that did not answer. Returns once every
    /// peer acknowledged the leave, or after `timeout` with
    /// [`NodeError::LeaveTimedOut`] naming those that did not. The node gossips no more
    /// either way; calling it again waits for the same acknowledgements.
    pub(crate) async fn leave(&self, timeout: Duration) -> Result<(), NodeError> {
        self.ask(|reply| GossipCommand::Leave { timeout, reply })
            .await?
    }

    /// Asks the loop's pub/sub; a loop that does not serve is `NotStarted`.
    async fn ask_pub_sub<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> GossipCommand,
    ) -> Result<T, NodeError> {
        self.ask(command)
            .await
            .map_err(|_| NodeError::PubSub(PubSubError::NotStarted))
    }

    /// Subscribes a new local subscriber to `topic` (in `group`, or broadcast).
    pub(crate) async fn subscribe(
        &self,
        topic: &str,
        group: Option<&str>,
        max_in_flight: u32,
    ) -> Result<SubscriptionStream, NodeError> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let counters = Arc::new(SinkCounters::default());
        let sink = LocalSink::new(sender, Arc::clone(&counters));
        let (topic, group) = (topic.to_string(), group.map(str::to_string));
        let subscriber = self
            .ask_pub_sub(|reply| GossipCommand::Subscribe {
                topic: topic.clone(),
                group: group.clone(),
                max_in_flight,
                sink,
                reply,
            })
            .await?
            .map_err(NodeError::PubSub)?;
        Ok(SubscriptionStream::new(
            receiver,
            counters,
            topic,
            group,
            subscriber,
            self.clone(),
        ))
    }

    /// Unsubscribes a local subscriber and waits until the loop took it in.
    pub(crate) async fn unsubscribe(
        &self,
        topic: &str,
        subscriber: &SubscriberId,
    ) -> Result<(), NodeError> {
        let (topic, subscriber) = (topic.to_string(), subscriber.clone());
        self.ask_pub_sub(|reply| GossipCommand::Unsubscribe {
            topic,
            subscriber,
            reply: Some(reply),
        })
        .await?
        .map_err(NodeError::PubSub)
    }

    /// Unsubscribes without waiting (from a `Drop`). If the command queue is full the loop
    /// finds the dropped stream by itself, at its next round.
    pub(crate) fn unsubscribe_soon(&self, topic: &str, subscriber: &SubscriberId) {
        let _ = self.sender().try_send(GossipCommand::Unsubscribe {
            topic: topic.to_string(),
            subscriber: subscriber.clone(),
            reply: None,
        });
    }

    /// Publishes `payloads` on `topic`: the broker's answer, or `NotStarted` as an error
    /// when the loop does not serve.
    pub(crate) async fn publish(
        &self,
        topic: &str,
        payloads: Vec<Vec<u8>>,
    ) -> Result<PublishAck, NodeError> {
        let topic = topic.to_string();
        self.ask_pub_sub(|reply| GossipCommand::Publish {
            topic,
            payloads,
            reply,
        })
        .await
    }

    /// Completes a group delivery at its publisher.
    pub(crate) async fn complete(&self, delivery: &Delivery) -> Result<(), NodeError> {
        let Some(group) = delivery.group.clone() else {
            return Ok(());
        };
        let publisher = delivery.publisher.clone();
        let topic = delivery.topic.clone();
        let subscriber = delivery.subscriber().clone();
        let message_id = delivery.message_id;
        self.ask_pub_sub(|reply| GossipCommand::Complete {
            publisher,
            topic,
            group,
            subscriber,
            message_id,
            reply,
        })
        .await?
        .map_err(NodeError::PubSub)
    }

    /// The subscriptions of `topic` in this node's registry.
    pub(crate) async fn subscriptions(&self, topic: &str) -> Result<Vec<Subscription>, NodeError> {
        let topic = topic.to_string();
        self.ask_pub_sub(|reply| GossipCommand::Subscriptions { topic, reply })
            .await
    }

    /// Every subscription in this node's registry, sorted by topic, member and
    /// subscriber.
    pub(crate) async fn all_subscriptions(&self) -> Result<Vec<Subscription>, NodeError> {
        self.ask_pub_sub(|reply| GossipCommand::AllSubscriptions { reply })
            .await
    }
}

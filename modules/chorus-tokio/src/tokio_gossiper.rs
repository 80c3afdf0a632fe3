mod gossip_loop;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, PoisonError};

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, Gossiper, GossiperError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::gossip_loop::Attached;
use crate::gossip_command::GossipCommand;
use crate::gossip_handle::GossipHandle;
use crate::node_snapshot::NodeSnapshot;
use crate::tokio_pub_sub::{PubSubLink, TokioPubSub};

/// Commands waiting for the gossip loop.
const COMMAND_QUEUE: usize = 256;

/// Runs a `chorus_core::node::Node` on Tokio: one task owns the node, ticks it on an
/// interval of `gossip_interval_ms`, polls it when its deferred work falls due, hands it
/// every received frame and every command, sends what it asks for through the transport,
/// publishes its events on the `EventStream` and hands its deliveries to the local
/// subscription streams. The node decides everything; the loop only moves bytes and time.
///
/// The node itself comes from the [`LocalClusterProvider`](crate::LocalClusterProvider),
/// which creates it once it has bound its address; until then the loop waits. Other
/// components talk to the loop through a [`GossipHandle`].
///
/// Given a [`TokioPubSub`] ([`with_pub_sub`](Self::with_pub_sub)), the node runs a broker
/// with its settings, started and stopped with the component.
///
/// [`stop`](Gossiper::stop) pauses the loop and keeps the node: a later
/// [`start`](Gossiper::start) resumes it where it was (same member, state and transport),
/// unless the provider closed the transport meanwhile, in which case the loop waits for
/// the provider to attach a new node, as at the first start.
pub(crate) struct TokioGossiper {
    config: GossipConfig,
    events: EventStream<ClusterEvent>,
    commands: Arc<Mutex<mpsc::Sender<GossipCommand>>>,
    pending: Option<mpsc::Receiver<GossipCommand>>,
    pub_sub: Option<PubSubLink>,
    /// What the loop publishes about the node (see [`NodeSnapshot`]).
    snapshot: NodeSnapshot,
    running: Option<(CancellationToken, JoinHandle<Option<Attached>>)>,
    /// The loop of the last stop, which hands its node back when it ends.
    stopped: Option<JoinHandle<Option<Attached>>>,
}

impl TokioGossiper {
    /// A stopped gossiper publishing on `events`.
    pub(crate) fn new(config: GossipConfig, events: EventStream<ClusterEvent>) -> Self {
        let (sender, receiver) = mpsc::channel(COMMAND_QUEUE);
        Self {
            config,
            events,
            commands: Arc::new(Mutex::new(sender)),
            pending: Some(receiver),
            pub_sub: None,
            snapshot: NodeSnapshot::default(),
            running: None,
            stopped: None,
        }
    }

    /// Drives `pub_sub`'s broker in the gossip loop (see above).
    #[must_use]
    pub(crate) fn with_pub_sub(mut self, pub_sub: &TokioPubSub) -> Self {
        self.pub_sub = Some(pub_sub.link());
        self
    }

    /// A handle to talk to the loop.
    pub(crate) fn handle(&self) -> GossipHandle {
        GossipHandle::new(Arc::clone(&self.commands))
    }

    /// What the loop publishes about the node, for readers that do not wait for it.
    pub(crate) fn snapshot(&self) -> NodeSnapshot {
        self.snapshot.clone()
    }

    /// Whether the loop runs.
    pub(crate) fn is_running(&self) -> bool {
        self.running.is_some()
    }
}

impl Gossiper for TokioGossiper {
    fn start(&mut self) -> Result<(), GossiperError> {
        if self.running.is_some() {
            return Err(GossiperError::AlreadyStarted);
        }
        self.config.validate().map_err(GossiperError::Config)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| GossiperError::Driver {
            reason: "start must be called inside a Tokio runtime".to_string(),
        })?;
        // After a stop the first channel is gone: a fresh one, and handles follow it.
        let receiver = self.pending.take().unwrap_or_else(|| {
            let (sender, receiver) = mpsc::channel(COMMAND_QUEUE);
            *self.commands.lock().unwrap_or_else(PoisonError::into_inner) = sender;
            receiver
        });
        let cancel = CancellationToken::new();
        let task = runtime.spawn(gossip_loop::run(
            self.stopped.take(),
            receiver,
            self.events.clone(),
            cancel.clone(),
            self.config,
            self.pub_sub.clone(),
            self.snapshot.clone(),
        ));
        self.running = Some((cancel, task));
        Ok(())
    }

    fn stop(&mut self) -> Result<(), GossiperError> {
        let Some((cancel, task)) = self.running.take() else {
            return Err(GossiperError::NotStarted);
        };
        cancel.cancel();
        self.stopped = Some(task);
        Ok(())
    }
}

impl Drop for TokioGossiper {
    fn drop(&mut self) {
        if let Some((cancel, _)) = self.running.take() {
            cancel.cancel();
        }
    }
}

impl std::fmt::Debug for TokioGossiper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioGossiper")
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

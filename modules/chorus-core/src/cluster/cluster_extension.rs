use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;

use super::{ClusterCore, ClusterError, ClusterEvent, ClusterMetrics, MetricsError};
use crate::event_stream::{EventStream, Subscription};
use crate::topology::{ClusterTopology, MemberId};

/// Holds the [`ClusterCore`] of a node and applies every `TopologyUpdated` published on the
/// node's `EventStream`, by anyone, exactly once (an update with the hash of the last
/// applied one is ignored). Nobody calls `apply_topology` by hand. A `Rejoined` event
/// (the node came back under a new incarnation) resets the core's view first.
///
/// No subscriber ever runs while the extension holds the core: every access to the core
/// ([`ClusterExtension::with_core`] and the methods built on it) takes a
/// [`PublishHold`](crate::event_stream::PublishHold) on the stream first, so an event
/// published meanwhile — a provider publishes its first topology during `start` — is
/// delivered only once the core is free again, together with the events the core produced.
/// A subscriber may therefore call back into the extension (read the topology, the metrics,
/// or run [`ClusterExtension::with_core`]) from any event without deadlocking. Updates that
/// reach the extension while another thread holds the core wait in a queue that the holder
/// applies before letting the core go.
pub struct ClusterExtension {
    shared: Arc<Shared>,
    _subscription: Subscription<ClusterEvent>,
}

struct Shared {
    core: spin::Mutex<ClusterCore>,
    pending: spin::Mutex<VecDeque<Change>>,
    events: EventStream<ClusterEvent>,
}

/// A change published on the stream that the core must take in order.
enum Change {
    Topology(ClusterTopology),
    Rejoined(MemberId),
}

impl ClusterExtension {
    /// Takes `core` and subscribes to `events` (the stream its provider publishes on).
    pub fn new(core: ClusterCore, events: EventStream<ClusterEvent>) -> Self {
        let shared = Arc::new(Shared {
            core: spin::Mutex::new(core),
            pending: spin::Mutex::new(VecDeque::new()),
            events,
        });
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        let subscription = shared.events.subscribe(move |event| {
            let change = match event {
                ClusterEvent::TopologyUpdated(topology) => Change::Topology(topology.clone()),
                ClusterEvent::Rejoined { member, .. } => Change::Rejoined(member.clone()),
                _ => return,
            };
            if let Some(shared) = weak.upgrade() {
                shared.pending.lock().push_back(change);
                shared.settle();
            }
        });
        Self {
            shared,
            _subscription: subscription,
        }
    }

    /// The event stream this extension listens to and publishes on.
    pub fn events(&self) -> &EventStream<ClusterEvent> {
        &self.shared.events
    }

    /// Starts the node (see [`ClusterCore::start`]).
    pub fn start(&self) -> Result<(), ClusterError> {
        self.with_core(ClusterCore::start)
    }

    /// Shuts the node down (see [`ClusterCore::shutdown`]).
    pub fn shutdown(&self) -> Result<(), ClusterError> {
        self.with_core(ClusterCore::shutdown)
    }

    /// The last applied topology.
    pub fn topology(&self) -> ClusterTopology {
        self.with_core(|core| core.topology().clone())
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> Result<ClusterMetrics, MetricsError> {
        self.with_core(|core| core.metrics())
    }

    /// Runs `f` on the core; pending topologies are applied once `f` returns. The events
    /// published while `f` runs (by the core's components or by other threads) and those
    /// the core produced are delivered after the core is released, in that order.
    pub fn with_core<R>(&self, f: impl FnOnce(&mut ClusterCore) -> R) -> R {
        let hold = self.shared.events.hold();
        let (result, produced) = {
            let mut core = self.shared.core.lock();
            let result = f(&mut core);
            (result, self.shared.apply_pending(&mut core))
        };
        self.shared.publish(produced);
        // The core is free: deliver what was held back. The extension's own subscriber
        // applies the topologies among it as it goes.
        drop(hold);
        self.shared.settle();
        result
    }
}

impl Shared {
    /// Applies queued topologies while holding the core; returns the events produced.
    fn apply_pending(&self, core: &mut ClusterCore) -> Vec<ClusterEvent> {
        loop {
            let next = self.pending.lock().pop_front();
            match next {
                // Refusals are reported through the produced TopologyApplyFailed event.
                Some(Change::Topology(topology)) => {
                    let _ = core.apply_topology(&topology);
                }
                Some(Change::Rejoined(member)) => core.rejoined(member),
                None => return core.drain_events(),
            }
        }
    }

    /// Applies what is queued unless someone else holds the core — that holder checks the
    /// queue again after releasing it, so nothing is left behind.
    fn settle(&self) {
        while !self.pending.lock().is_empty() {
            let Some(mut core) = self.core.try_lock() else {
                return;
            };
            let produced = self.apply_pending(&mut core);
            drop(core);
            self.publish(produced);
        }
    }

    fn publish(&self, produced: Vec<ClusterEvent>) {
        for event in produced {
            self.events.publish(event);
        }
    }
}

impl fmt::Debug for ClusterExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterExtension")
            .field("pending", &self.shared.pending.lock().len())
            .finish_non_exhaustive()
    }
}

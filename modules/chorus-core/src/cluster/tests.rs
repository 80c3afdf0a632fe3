extern crate std;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{
    ApplyOutcome, ClusterConfig, ClusterCore, ClusterError, ClusterEvent, ClusterExtension,
    ClusterState, KindError, MetricsError,
};
use crate::event_stream::EventStream;
use crate::gossip::{Gossiper, GossiperError};
use crate::provider::{ClusterProvider, ProviderError, StaticClusterProvider};
use crate::pubsub::{PubSub, PubSubError, TOPIC_KIND};
use crate::topology::{ClusterTopology, Member, MemberId, TopologyError};

type Log = Arc<spin::Mutex<Vec<String>>>;

/// A component that records its calls in a shared log and fails the calls named in
/// `failing` (for example `"start provider"`).
struct Fake {
    name: &'static str,
    log: Log,
    failing: &'static [&'static str],
}

impl Fake {
    /// Records the call; returns whether it must fail.
    fn call(&self, what: &str) -> bool {
        let call = alloc::format!("{} {}", what, self.name);
        let fail = self.failing.contains(&call.as_str());
        self.log.lock().push(call);
        fail
    }
}

impl PubSub for Fake {
    fn start(&mut self) -> Result<(), PubSubError> {
        if self.call("start") {
            return Err(PubSubError::Driver {
                reason: "boom".to_string(),
            });
        }
        Ok(())
    }
    fn stop(&mut self) -> Result<(), PubSubError> {
        if self.call("stop") {
            return Err(PubSubError::NotStarted);
        }
        Ok(())
    }
}

impl Gossiper for Fake {
    fn start(&mut self) -> Result<(), GossiperError> {
        if self.call("start") {
            return Err(GossiperError::AlreadyStarted);
        }
        Ok(())
    }
    fn stop(&mut self) -> Result<(), GossiperError> {
        if self.call("stop") {
            return Err(GossiperError::NotStarted);
        }
        Ok(())
    }
}

impl ClusterProvider for Fake {
    fn start(&mut self) -> Result<(), ProviderError> {
        if self.call("start") {
            return Err(ProviderError::Bind {
                address: "127.0.0.1:1".to_string(),
                reason: "address in use".to_string(),
            });
        }
        Ok(())
    }
    fn stop(&mut self) -> Result<(), ProviderError> {
        if self.call("stop") {
            return Err(ProviderError::NotStarted);
        }
        Ok(())
    }
}

fn fake(name: &'static str, log: &Log, failing: &'static [&'static str]) -> Fake {
    Fake {
        name,
        log: Arc::clone(log),
        failing,
    }
}

fn core_with(failing: &'static [&'static str]) -> (ClusterCore, Log) {
    let log: Log = Arc::default();
    let core = ClusterCore::new(
        config(),
        Box::new(fake("pubsub", &log, failing)),
        Box::new(fake("gossiper", &log, failing)),
        Box::new(fake("provider", &log, failing)),
    );
    (core, log)
}

fn config() -> ClusterConfig {
    ClusterConfig::new("test", MemberId::new("self", 1))
}

fn member(name: &str) -> Member {
    Member::new(MemberId::new(name, 1), "127.0.0.1:7000")
}

fn log_of(log: &Log) -> Vec<String> {
    log.lock().clone()
}

#[test]
fn start_runs_pubsub_then_gossiper_then_provider_and_shutdown_reverses() {
    let (mut core, log) = core_with(&[]);
    core.start().unwrap();
    assert_eq!(core.state(), ClusterState::Running);
    core.shutdown().unwrap();
    assert_eq!(core.state(), ClusterState::Stopped);
    assert_eq!(
        log_of(&log),
        [
            "start pubsub",
            "start gossiper",
            "start provider",
            "stop provider",
            "stop gossiper",
            "stop pubsub"
        ]
    );
    let events = core.drain_events();
    assert_eq!(
        events,
        vec![
            ClusterEvent::Startup {
                member: MemberId::new("self", 1)
            },
            ClusterEvent::Shutdown {
                member: MemberId::new("self", 1)
            }
        ]
    );
}

#[test]
fn failing_provider_undoes_gossiper_and_pubsub_and_reports_startup_failed() {
    let (mut core, log) = core_with(&["start provider"]);
    let err = core.start().unwrap_err();
    assert!(matches!(
        err,
        ClusterError::Provider(ProviderError::Bind { .. })
    ));
    assert_eq!(core.state(), ClusterState::Stopped);
    assert_eq!(
        log_of(&log),
        [
            "start pubsub",
            "start gossiper",
            "start provider",
            "stop gossiper",
            "stop pubsub"
        ]
    );
    assert_eq!(
        core.drain_events(),
        vec![ClusterEvent::StartupFailed { reason: err }]
    );
}

#[test]
fn failing_gossiper_undoes_only_pubsub_and_never_starts_the_provider() {
    let (mut core, log) = core_with(&["start gossiper"]);
    assert!(matches!(core.start(), Err(ClusterError::Gossiper(_))));
    assert_eq!(
        log_of(&log),
        ["start pubsub", "start gossiper", "stop pubsub"]
    );
}

#[test]
fn failing_pubsub_starts_nothing_else() {
    let (mut core, log) = core_with(&["start pubsub"]);
    assert!(matches!(core.start(), Err(ClusterError::PubSub(_))));
    assert_eq!(log_of(&log), ["start pubsub"]);
    // The node may be started again once the cause is gone.
    assert_eq!(core.state(), ClusterState::Stopped);
}

#[test]
fn failing_stop_still_stops_the_rest_and_reports_shutdown_failed() {
    let (mut core, log) = core_with(&["stop gossiper"]);
    core.start().unwrap();
    core.drain_events();
    log.lock().clear();
    let err = core.shutdown().unwrap_err();
    assert_eq!(err, ClusterError::Gossiper(GossiperError::NotStarted));
    assert_eq!(
        log_of(&log),
        ["stop provider", "stop gossiper", "stop pubsub"]
    );
    assert_eq!(core.state(), ClusterState::Stopped);
    assert_eq!(
        core.drain_events(),
        vec![ClusterEvent::ShutdownFailed { reason: err }]
    );
}

#[test]
fn wrong_transitions_are_typed_errors() {
    let (mut core, _) = core_with(&[]);
    assert_eq!(
        core.shutdown(),
        Err(ClusterError::InvalidTransition {
            from: ClusterState::Stopped,
            to: ClusterState::ShuttingDown
        })
    );
    core.start().unwrap();
    assert_eq!(
        core.start(),
        Err(ClusterError::InvalidTransition {
            from: ClusterState::Running,
            to: ClusterState::Starting
        })
    );
}

#[test]
fn start_is_refused_while_the_topic_kind_is_not_registered() {
    let (mut core, log) = core_with(&[]);
    core.unregister_kind(TOPIC_KIND).unwrap();
    assert_eq!(core.start(), Err(ClusterError::TopicKindNotRegistered));
    assert!(log_of(&log).is_empty(), "no component was started");
    assert_eq!(core.state(), ClusterState::Stopped);
    assert_eq!(
        core.drain_events(),
        vec![ClusterEvent::StartupFailed {
            reason: ClusterError::TopicKindNotRegistered
        }]
    );
    core.register_kind(TOPIC_KIND).unwrap();
    core.start().unwrap();
}

#[test]
fn a_missing_topic_kind_publishes_startup_failed_through_the_extension() {
    let log: Log = Arc::default();
    let events = EventStream::new();
    let core = ClusterCore::new(
        config(),
        Box::new(fake("pubsub", &log, &[])),
        Box::new(fake("gossiper", &log, &[])),
        Box::new(fake("provider", &log, &[])),
    );
    let ext = ClusterExtension::new(core, events);
    let (_sub, seen) = recorder(ext.events());
    ext.with_core(|c| c.unregister_kind(TOPIC_KIND)).unwrap();
    assert_eq!(ext.start(), Err(ClusterError::TopicKindNotRegistered));
    assert_eq!(
        *seen.lock(),
        vec![ClusterEvent::StartupFailed {
            reason: ClusterError::TopicKindNotRegistered
        }]
    );
}

#[test]
fn kind_registry_refuses_duplicates_unknown_and_empty_names() {
    let (mut core, _) = core_with(&[]);
    core.register_kind("worker").unwrap();
    assert_eq!(
        core.register_kind("worker"),
        Err(ClusterError::Kind(KindError::AlreadyRegistered(
            "worker".to_string()
        )))
    );
    assert_eq!(
        core.unregister_kind("ghost"),
        Err(ClusterError::Kind(KindError::NotRegistered(
            "ghost".to_string()
        )))
    );
    assert_eq!(
        core.register_kind(""),
        Err(ClusterError::Kind(KindError::EmptyName))
    );
    assert_eq!(
        core.kinds().iter().collect::<Vec<_>>(),
        [TOPIC_KIND, "worker"]
    );
}

#[test]
fn same_hash_update_is_applied_once() {
    let (mut core, _) = core_with(&[]);
    let first = ClusterTopology::next(
        &ClusterTopology::empty(),
        vec![member("a"), member("b"), member("c")],
        vec![],
    );
    assert_eq!(core.apply_topology(&first), Ok(ApplyOutcome::Applied));
    // The same members learnt in another order, with other change lists: same hash, so
    // it is ignored and the view applied first stays, change lists included.
    let again = ClusterTopology::new(vec![member("c"), member("a"), member("b")])
        .with_changes(vec![member("b")], vec![member("d")]);
    assert_eq!(again.hash(), first.hash());
    assert_eq!(core.apply_topology(&again), Ok(ApplyOutcome::Ignored));
    assert_eq!(core.topology(), &first);
    let m = core.metrics().unwrap();
    assert_eq!(
        (
            m.updates_applied,
            m.updates_ignored,
            m.joined_total,
            m.left_total
        ),
        (1, 1, 3, 0)
    );
}

#[test]
fn duplicate_member_is_refused_by_apply_topology() {
    let (mut core, _) = core_with(&[]);
    let good = ClusterTopology::next(&ClusterTopology::empty(), vec![member("a")], vec![]);
    core.apply_topology(&good).unwrap();
    core.drain_events();
    let twice = ClusterTopology::new(vec![member("b"), member("a"), member("b")]);
    assert_eq!(
        core.apply_topology(&twice),
        Err(TopologyError::DuplicateMember(MemberId::new("b", 1)))
    );
    assert_eq!(core.topology(), &good);
    assert_eq!(
        core.drain_events(),
        vec![ClusterEvent::TopologyApplyFailed {
            reason: TopologyError::DuplicateMember(MemberId::new("b", 1))
        }]
    );
    let m = core.metrics().unwrap();
    assert_eq!(
        (m.updates_applied, m.updates_rejected, m.members),
        (1, 1, 1)
    );
}

#[test]
fn invalid_update_changes_nothing_and_reports_why() {
    let (mut core, _) = core_with(&[]);
    let good = ClusterTopology::next(&ClusterTopology::empty(), vec![member("a")], vec![]);
    core.apply_topology(&good).unwrap();
    let bad = ClusterTopology::new(vec![member("a"), member("b")])
        .with_changes(vec![member("c")], vec![]);
    let err = core.apply_topology(&bad).unwrap_err();
    assert_eq!(err, TopologyError::JoinedNotMember(MemberId::new("c", 1)));
    assert_eq!(core.topology(), &good);
    assert_eq!(
        core.drain_events(),
        vec![ClusterEvent::TopologyApplyFailed { reason: err }]
    );
    assert_eq!(core.metrics().unwrap().updates_rejected, 1);
}

#[test]
fn blocked_member_stays_blocked_and_may_not_return() {
    let (mut core, _) = core_with(&[]);
    let both = ClusterTopology::next(
        &ClusterTopology::empty(),
        vec![member("a"), member("b")],
        vec![],
    );
    core.apply_topology(&both).unwrap();
    let b_blocked = ClusterTopology::next(&both, vec![member("a")], vec![MemberId::new("b", 1)]);
    core.apply_topology(&b_blocked).unwrap();
    assert!(core.is_blocked(&MemberId::new("b", 1)));
    // A later view that forgot the block still may not list b.
    let b_back = ClusterTopology::next(&b_blocked, vec![member("a"), member("b")], vec![]);
    assert_eq!(
        core.apply_topology(&b_back),
        Err(TopologyError::BlockedIsMember(MemberId::new("b", 1)))
    );
    // Its restart, a new incarnation, may join.
    let restarted = Member::new(MemberId::new("b", 2), "127.0.0.1:7001");
    let b2 = ClusterTopology::next(&b_blocked, vec![member("a"), restarted], vec![]);
    assert_eq!(core.apply_topology(&b2), Ok(ApplyOutcome::Applied));
    let m = core.metrics().unwrap();
    assert_eq!(
        (m.members, m.blocked, m.left_total, m.joined_total),
        (2, 1, 1, 3)
    );
}

#[test]
fn metrics_disabled_is_an_error() {
    let log: Log = Arc::default();
    let core = ClusterCore::new(
        config().with_metrics(false),
        Box::new(fake("pubsub", &log, &[])),
        Box::new(fake("gossiper", &log, &[])),
        Box::new(fake("provider", &log, &[])),
    );
    assert_eq!(core.metrics(), Err(MetricsError::Disabled));
}

fn recorder(
    events: &EventStream<ClusterEvent>,
) -> (
    crate::event_stream::Subscription<ClusterEvent>,
    Arc<spin::Mutex<Vec<ClusterEvent>>>,
) {
    let seen = Arc::new(spin::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (events.subscribe(move |e| sink.lock().push(e.clone())), seen)
}

fn extension_with_static(members: Vec<Member>) -> ClusterExtension {
    let events = EventStream::new();
    let log: Log = Arc::default();
    let provider = StaticClusterProvider::new(members, events.clone());
    let core = ClusterCore::new(
        config(),
        Box::new(fake("pubsub", &log, &[])),
        Box::new(fake("gossiper", &log, &[])),
        Box::new(provider),
    );
    ClusterExtension::new(core, events)
}

#[test]
fn extension_applies_the_topology_the_provider_publishes_during_start() {
    let ext = extension_with_static(vec![member("a"), member("b")]);
    let (_sub, seen) = recorder(ext.events());
    ext.start().unwrap();
    let names: Vec<_> = ext
        .topology()
        .members()
        .iter()
        .map(|m| m.id().name().to_string())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(ext.metrics().unwrap().updates_applied, 1);
    let seen = seen.lock();
    assert!(matches!(
        seen.first(),
        Some(ClusterEvent::TopologyUpdated(_))
    ));
    assert!(matches!(seen.last(), Some(ClusterEvent::Startup { .. })));
}

#[test]
fn extension_applies_updates_published_by_anyone_exactly_once() {
    let ext = extension_with_static(vec![member("a")]);
    ext.start().unwrap();
    let next = ClusterTopology::next(&ext.topology(), vec![member("a"), member("b")], vec![]);
    ext.events()
        .publish(ClusterEvent::TopologyUpdated(next.clone()));
    ext.events()
        .publish(ClusterEvent::TopologyUpdated(next.clone()));
    assert_eq!(ext.topology(), next);
    let m = ext.metrics().unwrap();
    assert_eq!((m.updates_applied, m.updates_ignored), (2, 1));
}

#[test]
fn extension_publishes_topology_apply_failed_and_keeps_the_old_view() {
    let ext = extension_with_static(vec![member("a")]);
    ext.start().unwrap();
    let before = ext.topology();
    let (_sub, seen) = recorder(ext.events());
    let bad = ClusterTopology::new(vec![member("a")]).with_changes(vec![], vec![member("a")]);
    ext.events().publish(ClusterEvent::TopologyUpdated(bad));
    assert_eq!(ext.topology(), before);
    let seen = seen.lock();
    assert!(seen.iter().any(|e| matches!(
        e,
        ClusterEvent::TopologyApplyFailed {
            reason: TopologyError::LeftStillMember(_)
        }
    )));
}

#[test]
fn subscriber_may_read_the_extension_while_handling_its_events() {
    let ext = Arc::new(extension_with_static(vec![member("a")]));
    let observed = Arc::new(spin::Mutex::new(None));
    let (ext_in, observed_in) = (Arc::downgrade(&ext), Arc::clone(&observed));
    let _sub = ext.events().subscribe(move |e| {
        if let (ClusterEvent::Startup { .. }, Some(ext)) = (e, ext_in.upgrade()) {
            *observed_in.lock() = Some(ext.topology().members().len());
        }
    });
    ext.start().unwrap();
    assert_eq!(*observed.lock(), Some(1));
}

#[test]
fn extension_resets_the_view_when_the_node_rejoins_under_a_new_incarnation() {
    let ext = extension_with_static(vec![member("self"), member("b")]);
    ext.start().unwrap();
    // b blocked this node; the partition view blocked b.
    let alone = ClusterTopology::next(
        &ext.topology(),
        vec![member("self")],
        vec![MemberId::new("b", 1)],
    );
    ext.events().publish(ClusterEvent::TopologyUpdated(alone));
    assert!(ext.with_core(|c| c.is_blocked(&MemberId::new("b", 1))));
    let me2 = MemberId::new("self", 2);
    ext.events().publish(ClusterEvent::Rejoined {
        previous: MemberId::new("self", 1),
        member: me2.clone(),
    });
    // As the new incarnation, b is a live member again and may be applied.
    let back = ClusterTopology::next(
        &ClusterTopology::empty(),
        vec![Member::new(me2.clone(), "a"), member("b")],
        vec![MemberId::new("self", 1)],
    );
    ext.events()
        .publish(ClusterEvent::TopologyUpdated(back.clone()));
    assert_eq!(ext.topology(), back);
    assert_eq!(ext.with_core(|c| c.config().member_id.clone()), me2);
}

/// Runs `f` on another thread and fails the test if it has not finished within a bound
/// far above what it needs: a deadlock shows as a failure, not as a hung test run.
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    result
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{what} did not finish ({e}): deadlock"))
}

/// What a subscriber saw of the extension when the provider's topology reached it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    members: usize,
    applied: u64,
    state: ClusterState,
}

#[test]
fn subscriber_may_call_back_into_the_extension_on_the_topology_published_during_start() {
    let ext = Arc::new(extension_with_static(vec![member("a"), member("b")]));
    let observed = Arc::new(spin::Mutex::new(Vec::new()));
    let (ext_in, observed_in) = (Arc::downgrade(&ext), Arc::clone(&observed));
    let _sub = ext.events().subscribe(move |e| {
        if let (ClusterEvent::TopologyUpdated(_), Some(ext)) = (e, ext_in.upgrade()) {
            // The provider publishes this inside `start`, while the extension runs the
            // core: each of these takes the core.
            let members = ext.topology().members().len();
            let applied = ext.metrics().map_or(0, |m| m.updates_applied);
            let state = ext.with_core(|c| c.state());
            observed_in.lock().push(Observed {
                members,
                applied,
                state,
            });
        }
    });
    let node = Arc::clone(&ext);
    let outcome = finishes("start with a subscriber reading the extension", move || {
        node.start()
    });
    assert_eq!(outcome, Ok(()));
    // The extension subscribed first, so the topology was applied before this subscriber
    // read it.
    assert_eq!(
        *observed.lock(),
        vec![Observed {
            members: 2,
            applied: 1,
            state: ClusterState::Running,
        }]
    );
}

#[test]
fn concurrent_publishers_each_get_their_topology_applied_once() {
    const ROUNDS: usize = 200;
    let ext = Arc::new(extension_with_static(vec![member("self")]));
    ext.start().unwrap();
    // A subscriber that reads the extension on every event adds contention on the core.
    let reads = Arc::new(AtomicUsize::new(0));
    let (ext_in, reads_in) = (Arc::downgrade(&ext), Arc::clone(&reads));
    let _reader = ext.events().subscribe(move |e| {
        if let (ClusterEvent::TopologyUpdated(_), Some(ext)) = (e, ext_in.upgrade()) {
            let _ = ext.metrics();
            reads_in.fetch_add(1, Ordering::SeqCst);
        }
    });
    let views = |side: &'static str| -> Vec<ClusterTopology> {
        (0..ROUNDS)
            .map(|i| {
                let name = alloc::format!("{side}{i}");
                ClusterTopology::new(vec![member("self"), member(&name)])
            })
            .collect()
    };
    let (left, right) = (views("a"), views("b"));
    let expected_last = [
        left.last().cloned().unwrap(),
        right.last().cloned().unwrap(),
    ];
    let shared = Arc::clone(&ext);
    finishes("two threads publishing topologies", move || {
        std::thread::scope(|scope| {
            for views in [left, right] {
                let ext = &shared;
                scope.spawn(move || {
                    for view in views {
                        ext.events().publish(ClusterEvent::TopologyUpdated(view));
                        // Interleave core accesses with the publishes of the other thread.
                        let _ = ext.topology();
                    }
                });
            }
        });
    });
    let m = ext.metrics().unwrap();
    // Every view is distinct from the one before it whatever the interleaving, so each is
    // applied exactly once: none lost, none applied twice, none refused.
    assert_eq!(
        (m.updates_applied, m.updates_ignored, m.updates_rejected),
        (1 + 2 * ROUNDS as u64, 0, 0)
    );
    assert_eq!(reads.load(Ordering::SeqCst), 2 * ROUNDS);
    assert!(expected_last.contains(&ext.topology()));
}

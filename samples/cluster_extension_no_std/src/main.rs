//! chorus-core alone: a static provider publishes the topology on the `EventStream`, the
//! `ClusterExtension` applies it, and a manual tick plays a few membership changes. Nothing
//! here uses a clock, a thread or a socket — the same code runs on a microcontroller.
//!
//! Run it with `cargo run -p cluster_extension_no_std`.

use std::process::ExitCode;

use chorus_core::cluster::{ClusterConfig, ClusterCore, ClusterEvent, ClusterExtension};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{Gossiper, GossiperError};
use chorus_core::provider::StaticClusterProvider;
use chorus_core::pubsub::{PubSubBroker, PubSubConfig};
use chorus_core::topology::{ClusterTopology, Member, MemberId};

/// Stands in for a gossiper: on a board without a network, the topology is static.
#[derive(Debug, Default)]
struct ManualGossiper {
    running: bool,
}

impl Gossiper for ManualGossiper {
    fn start(&mut self) -> Result<(), GossiperError> {
        if self.running {
            return Err(GossiperError::AlreadyStarted);
        }
        self.running = true;
        Ok(())
    }
    fn stop(&mut self) -> Result<(), GossiperError> {
        if !self.running {
            return Err(GossiperError::NotStarted);
        }
        self.running = false;
        Ok(())
    }
}

fn member(name: &str, incarnation: u64, port: u16) -> Member {
    Member::new(MemberId::new(name, incarnation), format!("10.0.0.1:{port}"))
}

fn names(members: &[Member]) -> String {
    let names: Vec<String> = members.iter().map(|m| m.id().to_string()).collect();
    format!("[{}]", names.join(", "))
}

fn describe(event: &ClusterEvent) -> String {
    match event {
        ClusterEvent::TopologyUpdated(t) => format!(
            "TopologyUpdated members={} joined={} left={} blocked={:?} hash={:016x}",
            names(t.members()),
            names(t.joined()),
            names(t.left()),
            t.blocked(),
            t.hash()
        ),
        other => format!("{other:?}"),
    }
}

fn print_metrics(extension: &ClusterExtension) {
    match extension.metrics() {
        Ok(m) => println!("    metrics: {m}"),
        Err(e) => println!("    metrics unavailable: {e}"),
    }
}

/// One manual tick: what happens, and the view a provider would publish after it.
type Tick = (&'static str, fn(&ClusterTopology) -> ClusterTopology);

fn main() -> ExitCode {
    let events = EventStream::new();
    let _printer = events.subscribe(|event| println!("  event: {}", describe(event)));

    let seeds = vec![
        member("a", 1, 7001),
        member("b", 1, 7002),
        member("c", 1, 7003),
    ];
    let provider = StaticClusterProvider::new(seeds, events.clone());
    let core = ClusterCore::new(
        ClusterConfig::new("sample", MemberId::new("a", 1)),
        // The real broker: with no network here it only delivers to local subscribers.
        Box::new(PubSubBroker::new(
            MemberId::new("a", 1),
            PubSubConfig::new(),
        )),
        Box::new(ManualGossiper::default()),
        Box::new(provider),
    );
    let extension = ClusterExtension::new(core, events.clone());

    println!("start");
    if let Err(e) = extension.start() {
        eprintln!("start failed: {e}");
        return ExitCode::FAILURE;
    }
    print_metrics(&extension);

    // Manual ticks: each publishes what a provider would, and the extension applies it.
    let ticks: [Tick; 4] = [
        ("d joins", |t| {
            let mut members = t.members().to_vec();
            members.push(member("d", 1, 7004));
            ClusterTopology::next(t, members, Vec::new())
        }),
        ("the same view again (ignored: same hash)", |t| {
            ClusterTopology::new(t.members().to_vec())
        }),
        ("b crashes and is blocked", |t| {
            let members = t
                .members()
                .iter()
                .filter(|m| m.id().name() != "b")
                .cloned()
                .collect();
            ClusterTopology::next(t, members, vec![MemberId::new("b", 1)])
        }),
        ("a stale view lists b again (refused)", |t| {
            let mut members = t.members().to_vec();
            members.push(member("b", 1, 7002));
            ClusterTopology::next(t, members, Vec::new())
        }),
    ];
    for (tick, (what, step)) in ticks.iter().enumerate() {
        println!("tick {}: {what}", tick + 1);
        let next = step(&extension.topology());
        events.publish(ClusterEvent::TopologyUpdated(next));
        print_metrics(&extension);
    }

    println!(
        "applied topology: {}",
        names(extension.topology().members())
    );
    println!("shutdown");
    if let Err(e) = extension.shutdown() {
        eprintln!("shutdown failed: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

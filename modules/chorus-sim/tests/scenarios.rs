//! Scenarios of the simulator as tests: sizes small enough for CI, figures printed.
//! All times are virtual, so the bounds are exact, not wall-clock guesses.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chorus_core::gossip::GossipConfig;
use chorus_sim::scenario::{self, ScenarioReport};
use chorus_sim::{SimConfig, Simulator};

fn log2(n: usize) -> f64 {
    (n as f64).log2()
}

fn show(report: &ScenarioReport) {
    print!("{}", report.to_text());
}

#[test]
fn the_same_seed_replays_the_same_run_and_another_seed_does_not() {
    let run = |seed: u64| {
        let (sim, report) =
            scenario::full(SimConfig::new(30).with_seed(seed).with_loss(0.02), 2_000).unwrap();
        (
            sim.trace_hash(),
            sim.events_processed(),
            report.crash_detect_ms,
        )
    };
    let first = run(7);
    assert_eq!(first, run(7), "same seed, same trace");
    assert_ne!(first.0, run(8).0, "another seed, another trace");
}

#[test]
fn a_hundred_nodes_converge_in_logarithmic_rounds_and_spread_a_key() {
    let (_, report) = scenario::convergence(SimConfig::new(100)).unwrap();
    show(&report);
    let bound = 2.0 * log2(100) + 4.0;
    let rounds = report.consensus_rounds.unwrap();
    assert!(
        rounds <= bound,
        "consensus after {rounds:.1} rounds > {bound:.1}"
    );
    // Pushes carry a fresh key in message delays; a rumor's residue waits one round.
    assert!(report.key_rounds.unwrap() <= 2.0, "{report:?}");
    assert_eq!(report.false_positives, 0);
}

#[test]
fn a_crashed_node_is_blocked_by_every_survivor_after_the_expiration() {
    let config = SimConfig::new(50);
    let expiration = config.gossip.heartbeat_expiration_ms;
    let interval = config.gossip.gossip_interval_ms;
    let mut report = ScenarioReport::new("crash", &config);
    let mut sim = Simulator::new(config).unwrap();
    scenario::converge(&mut sim, &mut report).unwrap();
    scenario::crash(&mut sim, 17, &mut report).unwrap();
    let detected = report.crash_detect_ms.unwrap();
    println!(
        "crash of 1 in 50 blocked by every survivor after {detected} ms (expiration {expiration} ms)"
    );
    // Not before a survivor could have missed heartbeats for the whole expiration, and
    // within the expiration plus the time news takes to cross the cluster.
    assert!(
        detected + interval >= expiration,
        "{detected} ms is before the expiration"
    );
    assert!(detected <= expiration + 8 * interval, "{detected} ms");
    assert!(sim.observations().false_positives().is_empty());
}

#[test]
fn a_graceful_leave_is_seen_by_all_within_one_dissemination_far_sooner_than_a_crash() {
    let config = SimConfig::new(50);
    let mut report = ScenarioReport::new("leave", &config);
    let mut sim = Simulator::new(config).unwrap();
    scenario::converge(&mut sim, &mut report).unwrap();
    scenario::leave(&mut sim, 11, &mut report).unwrap();
    scenario::crash(&mut sim, 23, &mut report).unwrap();
    let (leave, crash) = (report.leave_ms.unwrap(), report.crash_detect_ms.unwrap());
    println!("leave seen by all after {leave} ms; crash after {crash} ms");
    // The leaver tells every peer directly: one message delay (latency is 1–5 ms).
    assert!(leave <= 5, "leave took {leave} ms");
    assert!(leave * 100 < crash);
    assert!(sim.observations().false_positives().is_empty());
}

#[test]
fn ten_percent_loss_still_converges() {
    let (_, report) = scenario::convergence(SimConfig::new(100).with_loss(0.10)).unwrap();
    show(&report);
    assert!(report.consensus_ms.is_some() && report.key_ms.is_some());
    assert_eq!(report.false_positives, 0);
}

#[test]
fn a_steady_200_node_cluster_has_no_false_positive_over_ten_minutes_at_five_percent_loss() {
    let config = SimConfig::new(200)
        .with_loss(0.05)
        .with_gossip(GossipConfig::new_lan(200));
    let (sim, report) = scenario::steady_state(config, 10 * 60 * 1_000).unwrap();
    show(&report);
    let fps = sim.observations().false_positives();
    assert!(fps.is_empty(), "false positives: {fps:?}");
    assert!(sim.all_see_all());
}

#[test]
fn after_a_partition_heals_the_smaller_side_rejoins_and_one_topology_remains() {
    let config = SimConfig::new(40);
    let split = 24;
    let (sim, report) = scenario::partition(config, split, 10_000).unwrap();
    show(&report);
    // Every node of the smaller side came back under a new incarnation…
    for i in split..40 {
        let id = sim.id_of(i).unwrap();
        assert!(id.incarnation() > 1, "n{i} still runs as {id}");
    }
    // …the larger side kept its identities…
    for i in 0..split {
        assert_eq!(sim.id_of(i).unwrap().incarnation(), 1, "n{i} rejoined");
    }
    // …and every live node sees all 40 and agrees.
    assert!(sim.topology_agreed());
    assert_eq!(sim.node(0).unwrap().topology().members().len(), 40);
}

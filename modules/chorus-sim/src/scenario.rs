//! Scenarios: scripted runs that measure one behaviour each, in virtual time.

mod report;

use chorus_core::topology::MemberId;

use crate::{SimConfig, SimError, Simulator, memory_usage};
pub use report::ScenarioReport;

/// The key scenarios write and measure.
pub const KEY: &str = "sim.key";

/// Longest virtual time any step may take.
const STEP_LIMIT_MS: u64 = 120_000;
/// How often conditions are checked, virtual ms.
const CHECK_MS: u64 = 5;

fn timeout(what: &str) -> SimError {
    SimError::Timeout {
        what: what.to_string(),
        waited_ms: STEP_LIMIT_MS,
    }
}

fn rounds(sim: &Simulator, ms: u64) -> f64 {
    ms as f64 / sim.config().gossip.gossip_interval_ms as f64
}

/// Starts the cluster and waits until every node sees every node and agrees on the
/// topology; fills the convergence figures.
pub fn converge(sim: &mut Simulator, report: &mut ScenarioReport) -> Result<(), SimError> {
    let start = sim.now();
    let joined = sim
        .run_until_true(STEP_LIMIT_MS, CHECK_MS, Simulator::all_see_all)
        .ok_or_else(|| timeout("every node seeing every node"))?;
    report.join_ms = Some(joined - start);
    let agreed = sim
        .run_until_true(STEP_LIMIT_MS, CHECK_MS, Simulator::topology_agreed)
        .ok_or_else(|| timeout("topology consensus"))?;
    report.consensus_ms = Some(agreed - start);
    report.consensus_rounds = Some(rounds(sim, agreed - start));
    Ok(())
}

/// Writes a key on node `writer` and waits until every live node has it.
pub fn disseminate(
    sim: &mut Simulator,
    writer: usize,
    report: &mut ScenarioReport,
) -> Result<MemberId, SimError> {
    let owner = sim.id_of(writer).ok_or(SimError::NoSuchNode(writer))?;
    let start = sim.now();
    let value = start.to_le_bytes();
    sim.set_key(writer, KEY, &value)?;
    let done = sim
        .run_until_true(STEP_LIMIT_MS, 1, |s| s.all_have_key(&owner, KEY, &value))
        .ok_or_else(|| timeout("key dissemination"))?;
    report.key_ms = Some(done - start);
    report.key_rounds = Some(rounds(sim, done - start));
    Ok(owner)
}

/// Crashes node `victim` and waits until every survivor blocked it.
pub fn crash(
    sim: &mut Simulator,
    victim: usize,
    report: &mut ScenarioReport,
) -> Result<(), SimError> {
    let id = sim.id_of(victim).ok_or(SimError::NoSuchNode(victim))?;
    let start = sim.now();
    sim.crash(victim)?;
    let done = sim
        .run_until_true(STEP_LIMIT_MS, CHECK_MS, |s| s.all_blocked(&id))
        .ok_or_else(|| timeout("crash detection"))?;
    report.crash_detect_ms = Some(done - start);
    Ok(())
}

/// Node `leaver` leaves gracefully; waits until every other node blocked it.
pub fn leave(
    sim: &mut Simulator,
    leaver: usize,
    report: &mut ScenarioReport,
) -> Result<(), SimError> {
    let id = sim.id_of(leaver).ok_or(SimError::NoSuchNode(leaver))?;
    let start = sim.now();
    sim.leave(leaver)?;
    let others: Vec<usize> = sim.live().filter(|i| *i != leaver).collect();
    let done = sim
        .run_until_true(STEP_LIMIT_MS, 1, |s| {
            others
                .iter()
                .all(|i| s.node(*i).is_some_and(|n| n.is_blocked(&id)))
        })
        .ok_or_else(|| timeout("leave"))?;
    report.leave_ms = Some(done - start);
    // The leaver stops once every peer acknowledged (or timed out).
    sim.run_until_true(STEP_LIMIT_MS, CHECK_MS, |s| {
        s.node(leaver)
            .is_some_and(chorus_core::gossip::GossipNode::leave_acknowledged)
    });
    sim.crash(leaver)?;
    Ok(())
}

/// Runs `window_ms` of steady state and measures traffic per live node.
pub fn steady(sim: &mut Simulator, window_ms: u64, report: &mut ScenarioReport) {
    let before = sim.live_traffic();
    let start = sim.now();
    sim.run_until(start + window_ms);
    let after = sim.live_traffic();
    let live = sim.live().count().max(1) as f64;
    let secs = window_ms as f64 / 1000.0;
    report.bytes_sent_per_node_s =
        Some((after.bytes_sent - before.bytes_sent) as f64 / live / secs);
    report.bytes_received_per_node_s =
        Some((after.bytes_received - before.bytes_received) as f64 / live / secs);
    report.messages_per_node_s =
        Some((after.messages_sent - before.messages_sent) as f64 / live / secs);
}

fn finish(sim: &Simulator, report: &mut ScenarioReport) {
    report.false_positives = sim.observations().false_positives().len();
    report.virtual_ms = sim.now();
    report.events = sim.events_processed();
    report.trace_hash = sim.trace_hash();
    report.entries = sim.total_entries();
    let memory = memory_usage();
    report.rss_kib = memory.rss_kib;
    report.peak_rss_kib = memory.peak_rss_kib;
}

/// Convergence, a key, steady traffic, a crash and a leave, in that order.
pub fn full(config: SimConfig, steady_ms: u64) -> Result<(Simulator, ScenarioReport), SimError> {
    full_with(config, steady_ms, |_, _| {})
}

/// [`full`], reporting progress.
pub fn full_with(
    config: SimConfig,
    steady_ms: u64,
    progress: impl FnMut(u64, u64) + 'static,
) -> Result<(Simulator, ScenarioReport), SimError> {
    let nodes = config.nodes;
    let mut report = ScenarioReport::new("full", &config);
    let mut sim = Simulator::new(config)?;
    sim.set_progress(progress);
    converge(&mut sim, &mut report)?;
    disseminate(&mut sim, nodes / 2, &mut report)?;
    steady(&mut sim, steady_ms, &mut report);
    if nodes >= 3 {
        crash(&mut sim, nodes - 1, &mut report)?;
        leave(&mut sim, nodes - 2, &mut report)?;
    }
    finish(&sim, &mut report);
    Ok((sim, report))
}

/// Convergence and key dissemination only.
pub fn convergence(config: SimConfig) -> Result<(Simulator, ScenarioReport), SimError> {
    convergence_with(config, |_, _| {})
}

/// [`convergence`], reporting progress.
pub fn convergence_with(
    config: SimConfig,
    progress: impl FnMut(u64, u64) + 'static,
) -> Result<(Simulator, ScenarioReport), SimError> {
    let nodes = config.nodes;
    let mut report = ScenarioReport::new("convergence", &config);
    let mut sim = Simulator::new(config)?;
    sim.set_progress(progress);
    converge(&mut sim, &mut report)?;
    disseminate(&mut sim, nodes / 2, &mut report)?;
    finish(&sim, &mut report);
    Ok((sim, report))
}

/// Steady state for `duration_ms` after convergence: false positives and traffic.
pub fn steady_state(
    config: SimConfig,
    duration_ms: u64,
) -> Result<(Simulator, ScenarioReport), SimError> {
    steady_state_with(config, duration_ms, |_, _| {})
}

/// [`steady_state`], reporting progress.
pub fn steady_state_with(
    config: SimConfig,
    duration_ms: u64,
    progress: impl FnMut(u64, u64) + 'static,
) -> Result<(Simulator, ScenarioReport), SimError> {
    let mut report = ScenarioReport::new("steady", &config);
    let mut sim = Simulator::new(config)?;
    sim.set_progress(progress);
    converge(&mut sim, &mut report)?;
    steady(&mut sim, duration_ms, &mut report);
    finish(&sim, &mut report);
    Ok((sim, report))
}

/// A partition into two sides (the first `split` nodes and the rest) and its heal.
///
/// Expected: each side blocks the other after the heartbeat expiration; after the heal,
/// the nodes of the smaller side learn they are blocked and rejoin as new incarnations,
/// and the cluster ends with one agreed topology of every live node.
pub fn partition(
    config: SimConfig,
    split: usize,
    hold_ms: u64,
) -> Result<(Simulator, ScenarioReport), SimError> {
    partition_with(config, split, hold_ms, |_, _| {})
}

/// [`partition`], reporting progress.
pub fn partition_with(
    config: SimConfig,
    split: usize,
    hold_ms: u64,
    progress: impl FnMut(u64, u64) + 'static,
) -> Result<(Simulator, ScenarioReport), SimError> {
    let nodes = config.nodes;
    let mut report = ScenarioReport::new("partition", &config);
    let mut sim = Simulator::new(config)?;
    sim.set_progress(progress);
    converge(&mut sim, &mut report)?;
    let side = |i: usize| usize::from(i >= split);
    sim.partition(side);
    let ids: Vec<MemberId> = (0..nodes).filter_map(|i| sim.id_of(i)).collect();
    let start = sim.now();
    let split_seen = sim
        .run_until_true(STEP_LIMIT_MS, CHECK_MS, |s| {
            (0..nodes).all(|i| {
                let Some(node) = s.node(i) else { return false };
                ids.iter()
                    .enumerate()
                    .filter(|(j, _)| side(*j) != side(i))
                    .all(|(_, id)| node.is_blocked(id))
            })
        })
        .ok_or_else(|| timeout("each side blocking the other"))?;
    report.partition_detect_ms = Some(split_seen - start);
    sim.run_until(sim.now() + hold_ms);
    sim.heal();
    let healed = sim.now();
    let merged = sim
        .run_until_true(STEP_LIMIT_MS, CHECK_MS, Simulator::topology_agreed)
        .ok_or_else(|| timeout("one topology after the heal"))?;
    report.heal_ms = Some(merged - healed);
    report.rejoins = Some(sim.observations().rejoins());
    finish(&sim, &mut report);
    Ok((sim, report))
}

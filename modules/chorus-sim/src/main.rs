//! `chorus-sim`: runs a scenario of many chorus nodes in virtual time and prints figures.
//!
//! ```sh
//! cargo run --release -p chorus-sim -- --nodes 1000 --scenario full --json
//! cargo run --release -p chorus-sim -- --nodes 100 --loss 0.1 --plot informed.svg
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use chorus_core::gossip::GossipConfig;
use chorus_sim::scenario::{self, KEY, ScenarioReport};
use chorus_sim::{Latency, SimConfig, SimError, Simulator, plot};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Convergence, a key, steady traffic, a crash and a leave.
    Full,
    /// Convergence and a key.
    Convergence,
    /// Steady state: false positives and traffic over --duration-s.
    Steady,
    /// A partition (60/40) held for --duration-s, then healed.
    Partition,
}

/// Simulates a chorus cluster in virtual time.
#[derive(Debug, Parser)]
#[command(name = "chorus-sim", version, about)]
struct Args {
    /// Nodes.
    #[arg(long, default_value_t = 100)]
    nodes: usize,
    /// Seed: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Probability that a message is lost (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Latency of every link in ms: one value (fixed) or MIN-MAX (uniform).
    #[arg(long, default_value = "1-5")]
    latency_ms: String,
    /// What to run.
    #[arg(long, value_enum, default_value = "full")]
    scenario: Scenario,
    /// Virtual seconds of steady state (steady, full) or of partition (partition).
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Use `GossipConfig::new_lan(nodes)` (expiration scaled with the size).
    #[arg(long)]
    lan_preset: bool,
    /// Gossip and heartbeat interval, ms (default: the configuration's, 250).
    #[arg(long)]
    gossip_interval_ms: Option<u64>,
    /// Heartbeat expiration, ms (default: the configuration's, 2,000).
    #[arg(long)]
    expiration_ms: Option<u64>,
    /// Print one JSON line of figures.
    #[arg(long)]
    json: bool,
    /// Draw the fraction of nodes informed of the key over time into this SVG file.
    #[arg(long)]
    plot: Option<String>,
}

fn latency(text: &str) -> Result<Latency, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("--latency-ms: {s:?} is not a number of ms"))
    };
    match text.split_once('-') {
        Some((min, max)) => {
            let (min, max) = (parse(min)?, parse(max)?);
            if min > max {
                return Err("--latency-ms: MIN must not exceed MAX".into());
            }
            Ok(Latency::Uniform { min, max })
        }
        None => Ok(Latency::Fixed(parse(text)?)),
    }
}

fn run(args: &Args) -> Result<(Simulator, ScenarioReport, f64), String> {
    let mut gossip = if args.lan_preset {
        GossipConfig::new_lan(args.nodes)
    } else {
        GossipConfig::new()
    };
    if let Some(interval) = args.gossip_interval_ms {
        gossip.gossip_interval_ms = interval;
        gossip.heartbeat_interval_ms = interval;
    }
    if let Some(expiration) = args.expiration_ms {
        gossip.heartbeat_expiration_ms = expiration;
        gossip.request_timeout_ms = gossip.request_timeout_ms.min(expiration / 2);
    }
    let mut config = SimConfig::new(args.nodes)
        .with_seed(args.seed)
        .with_loss(args.loss)
        .with_gossip(gossip);
    config.latency = latency(&args.latency_ms)?;
    config.validate().map_err(|e| e.to_string())?;
    let bar = if args.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    };
    let wall = Instant::now();
    let duration_ms = args.duration_s * 1000;
    let outcome: Result<(Simulator, ScenarioReport), SimError> = match args.scenario {
        Scenario::Full => scenario::full_with(config, duration_ms, progress(&bar)),
        Scenario::Convergence => scenario::convergence_with(config, progress(&bar)),
        Scenario::Steady => scenario::steady_state_with(config, duration_ms, progress(&bar)),
        Scenario::Partition => {
            let split = args.nodes * 6 / 10;
            scenario::partition_with(config, split, duration_ms, progress(&bar))
        }
    };
    bar.finish_and_clear();
    let (sim, report) = outcome.map_err(|e| e.to_string())?;
    Ok((sim, report, wall.elapsed().as_secs_f64()))
}

fn progress(bar: &ProgressBar) -> impl FnMut(u64, u64) + 'static {
    let bar = bar.clone();
    move |now, events| {
        bar.set_message(format!(
            "{:.1} s virtual, {events} events",
            now as f64 / 1000.0
        ));
        bar.tick();
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.nodes == 0 {
        eprintln!("--nodes must be at least 1");
        return ExitCode::from(2);
    }
    let (sim, report, wall_s) = match run(&args) {
        Ok(done) => done,
        Err(e) => {
            eprintln!("chorus-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.plot {
        let writer = args.nodes / 2;
        let times = sim
            .id_of(writer)
            .map(|owner| sim.observations().key_arrival_times(&owner, KEY))
            .unwrap_or_default();
        let start = times.first().copied().unwrap_or(0);
        let title = format!(
            "{} nodes, loss {:.0}%: key dissemination",
            args.nodes,
            args.loss * 100.0
        );
        if let Err(e) = plot::informed_fraction(path, &title, start, &times, sim.live().count()) {
            eprintln!("chorus-sim: plot {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if args.json {
        let mut json = report.to_json();
        if let Some(map) = json.as_object_mut() {
            map.insert("wall_s".into(), ((wall_s * 100.0).round() / 100.0).into());
        }
        println!("{json}");
    } else {
        print!("{}", report.to_text());
        println!("  {:<28} {wall_s:.1} s", "wall time");
    }
    ExitCode::SUCCESS
}

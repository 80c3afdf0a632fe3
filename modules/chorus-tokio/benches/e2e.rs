//! End-to-end figures of chorus on loopback TCP: N real nodes in one process and as N
//! processes. For each run it prints one JSON line; at the end, a table of min / median /
//! max per figure.
//!
//! ```sh
//! cargo bench -p chorus-tokio --bench e2e -- --nodes 5,10,20 --runs 5 --mode both
//! ```
//!
//! Figures: join (every node sees every node), topology consensus, a key set on one node
//! seen by all, a crash (SIGKILL / abort) blocked by every survivor, false positives (a
//! live node removed by anyone), a graceful leave seen by all, idle traffic per node
//! (transport counters) and resident memory per node.
// A measurement program, not library code: its indexes are bounded by the nodes it
// created, and each scenario reads best as one function.
#![allow(
    clippy::indexing_slicing,
    clippy::too_many_lines,
    clippy::many_single_char_names
)]

mod e2e_support;

use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use e2e_support::{Figures, child, in_process, processes, report};

/// Which kind of cluster to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// N nodes in this process.
    InProcess,
    /// N node processes.
    Processes,
    /// Both.
    Both,
}

/// End-to-end chorus figures on loopback TCP.
#[derive(Debug, Parser)]
#[command(name = "e2e")]
struct Args {
    /// Cluster sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "5,10,20")]
    nodes: Vec<usize>,
    /// Runs per size and mode.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// In one process, as processes, or both.
    #[arg(long, value_enum, default_value = "both")]
    mode: Mode,
    /// Seconds of idle traffic measured after convergence.
    #[arg(long, default_value_t = 5)]
    idle_secs: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Run as one node of a multi-process run (internal).
    #[arg(long, hide = true)]
    child: bool,
    /// Child: member name.
    #[arg(long, hide = true)]
    name: Option<String>,
    /// Child: cluster name.
    #[arg(long, hide = true)]
    cluster: Option<String>,
    /// Child: seed address.
    #[arg(long, hide = true)]
    seed: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // One node needs one thread: a current-thread runtime keeps its memory small.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start Tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.child {
        let name = args.name.unwrap_or_else(|| "child".into());
        let cluster = args.cluster.unwrap_or_else(|| "bench".into());
        return runtime.block_on(child::run(&name, &cluster, args.seed));
    }
    if args.nodes.iter().any(|n| *n < 3) || args.runs == 0 {
        eprintln!(
            "--nodes must be at least 3 (a crash and a leave need survivors) and --runs at least 1"
        );
        return ExitCode::from(2);
    }
    let mut all: Vec<Figures> = Vec::new();
    for &n in &args.nodes {
        for run in 0..args.runs {
            if matches!(args.mode, Mode::InProcess | Mode::Both) {
                match runtime.block_on(in_process::run(n, run, args.idle_secs)) {
                    Ok(f) => {
                        println!("{}", f.json());
                        all.push(f);
                    }
                    Err(e) => eprintln!("in-process N={n} run {run} failed: {e}"),
                }
            }
            if matches!(args.mode, Mode::Processes | Mode::Both) {
                match processes::run(n, run, args.idle_secs) {
                    Ok(f) => {
                        println!("{}", f.json());
                        all.push(f);
                    }
                    Err(e) => eprintln!("processes N={n} run {run} failed: {e}"),
                }
            }
        }
    }
    report::table(&all);
    ExitCode::SUCCESS
}

//! A chorus node over TCP, and a three-node demo.
//!
//! ```text
//! cluster_extension_tokio node --name a --bind 127.0.0.1:7000 [--advertise HOST[:PORT]] [--seed 127.0.0.1:7001]... [--cluster NAME] [--subscribe TOPIC]... [--json]
//! cluster_extension_tokio demo
//! cluster_extension_tokio members|info|topics [--admin HOST:PORT] [--json]
//! ```
//!
//! `members`, `info` and `topics` ask a running node's admin endpoint (`node
//! --metrics-addr HOST:PORT`; default 127.0.0.1:9100) and print aligned columns, or the
//! endpoint's JSON with `--json`; they exit 1 when the endpoint cannot be reached.
//!
//! `node` runs until SIGINT or SIGTERM, then leaves the cluster gracefully and exits 0.
//! With `--json` every cluster event is one JSON object per line on stdout; with
//! `--subscribe TOPIC` the node subscribes to the topic and prints every delivery (a
//! `Delivery` object with `--json`).
//!
//! Logs go to stderr, never stdout: `--log-level FILTER` if given, else `RUST_LOG`, else
//! `info` (see [`log_filter`]).

mod admin_client;
mod demo;
mod event_json;
mod node;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// chorus sample node.
#[derive(Debug, Parser)]
#[command(name = "cluster_extension_tokio", version, about)]
struct Cli {
    /// What to log on stderr: a level (error, warn, info, debug, trace) or `RUST_LOG`
    /// directives such as `info,chorus_tokio=debug`. When given it wins over the
    /// `RUST_LOG` variable; without either, `info`. Logs never go to stdout, so `--json`
    /// output stays pure JSON Lines.
    #[arg(long, global = true, value_name = "FILTER", value_parser = parse_filter)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one node until SIGINT or SIGTERM, then leave gracefully.
    Node(node::NodeArgs),
    /// Run three nodes in this process: join, spread a key, publish to subscribers and a
    /// group, crash one, leave with another.
    Demo,
    /// List a running node's members (its topology, then the members it blocked), from
    /// its admin endpoint (`node --metrics-addr`), like `serf members`.
    Members(admin_client::AdminArgs),
    /// Show who a running node is and every counter and gauge it keeps, from its admin
    /// endpoint.
    Info(admin_client::AdminArgs),
    /// List the subscriptions a running node knows, per topic and group, from its admin
    /// endpoint.
    Topics(admin_client::AdminArgs),
}

/// Checks a `--log-level` value: one that is no filter is a usage error.
fn parse_filter(value: &str) -> Result<String, String> {
    match EnvFilter::try_new(value) {
        Ok(_) => Ok(value.to_string()),
        Err(e) => Err(format!("not a log filter ({e})")),
    }
}

/// The filter: `--log-level` if given, else `RUST_LOG` if set and valid (an invalid one is
/// reported and ignored), else `info`.
fn log_filter(flag: Option<&str>) -> EnvFilter {
    let from_env = std::env::var("RUST_LOG").ok();
    let (directives, origin) = match (flag, from_env.as_deref()) {
        (Some(flag), _) => (flag, "--log-level"),
        (None, Some(env)) if !env.trim().is_empty() => (env, "RUST_LOG"),
        _ => return EnvFilter::new(DEFAULT_LOG_LEVEL),
    };
    EnvFilter::try_new(directives).unwrap_or_else(|e| {
        eprintln!(
            "{origin}={directives:?} is not a log filter ({e}); logging at {DEFAULT_LOG_LEVEL}"
        );
        EnvFilter::new(DEFAULT_LOG_LEVEL)
    })
}

/// What is logged without `--log-level` or `RUST_LOG`.
const DEFAULT_LOG_LEVEL: &str = "info";

/// Logs to stderr (colours only on a terminal); stdout is for events and deliveries.
fn install_logs(filter: EnvFilter) {
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    if let Err(e) = installed {
        eprintln!("logs are off: {e}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    install_logs(log_filter(cli.log_level.as_deref()));
    // One node needs one thread: a current-thread runtime keeps its memory small.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Node(args) => runtime.block_on(node::run(args)),
        Command::Demo => runtime.block_on(demo::run()),
        Command::Members(args) => admin_client::members(&args),
        Command::Info(args) => admin_client::info(&args),
        Command::Topics(args) => admin_client::topics(&args),
    }
}

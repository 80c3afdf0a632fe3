//! A chorus node over TCP, and a three-node demo.
//!
//! ```text
//! cluster_extension_tokio node --name a --bind 127.0.0.1:7000 [--advertise HOST[:PORT]] [--seed 127.0.0.1:7001]... [--cluster NAME] [--subscribe TOPIC]... [--json]
//! cluster_extension_tokio demo
//! ```
//!
//! `node` runs until SIGINT or SIGTERM, then leaves the cluster gracefully and exits 0.
//! With `--json` every cluster event is one JSON object per line on stdout; with
//! `--subscribe TOPIC` the node subscribes to the topic and prints every delivery (a
//! `Delivery` object with `--json`).

mod demo;
mod event_json;
mod node;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// chorus sample node.
#[derive(Debug, Parser)]
#[command(name = "cluster_extension_tokio", version, about)]
struct Cli {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    }
}

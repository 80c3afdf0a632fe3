//! `node`: one node until SIGINT or SIGTERM, then a graceful leave; its settings from
//! `--config FILE` and the flags, which override the file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_tokio::{Cluster, ClusterEvents, ConfigError, Delivery, NodeConfig};
use clap::Args;
use futures_util::StreamExt;
use futures_util::stream::SelectAll;
use tokio::signal::unix::{SignalKind, signal};

use crate::event_json::{delivery_json, delivery_line, to_json, to_line};

/// How the file and the flags combine, shown by `node --help`.
const CONFIG_RULES: &str = "\
Configuration: --config FILE reads the settings from a TOML file (every key optional, an \
unknown key an error; a complete sample with the defaults is docs/node.toml). A flag given \
on the command line replaces the file's value; --seed, given once or more, replaces the \
file's whole seeds list. --print-config prints the result as TOML and exits without \
starting. An unreadable or invalid file, or an invalid result, is reported on stderr \
(naming the key) and the node exits with status 2 without starting.";

/// Arguments of `node`.
#[derive(Debug, Args)]
#[command(after_help = CONFIG_RULES)]
pub(crate) struct NodeArgs {
    /// Read the settings from this TOML file; the flags below override its values.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the effective configuration (the file's, then the flags') as TOML on stdout
    /// and exit without starting.
    #[arg(long)]
    print_config: bool,
    /// The member name (file: `name`; default `node-PORT`, the bound port).
    #[arg(long)]
    name: Option<String>,
    /// The address to listen on, e.g. 127.0.0.1:7000; port 0 picks a free port (file:
    /// `bind`; default 127.0.0.1:0).
    #[arg(long)]
    bind: Option<String>,
    /// The address peers dial to reach this node, if not the bound one: a host (the bound
    /// port is added) or HOST:PORT. Required when binding 0.0.0.0 or `[::]` (file:
    /// `advertise`).
    #[arg(long)]
    advertise: Option<String>,
    /// A node to join through (repeat for several); replaces the file's list (file:
    /// `seeds`).
    #[arg(long = "seed")]
    seeds: Vec<String>,
    /// The cluster name; nodes of other clusters are refused (file: `cluster_name`; default
    /// chorus).
    #[arg(long)]
    cluster: Option<String>,
    /// Serve the admin endpoint (/metrics, /members, /health, /topics) at ADDR, e.g.
    /// 127.0.0.1:9100 (file: `metrics_addr`; default: none).
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<String>,
    /// Subscribe to TOPIC (repeat for several) and print every message delivered to it.
    #[arg(long = "subscribe", value_name = "TOPIC")]
    subscribe: Vec<String>,
    /// Print one JSON object per event (JSON Lines) instead of readable lines.
    #[arg(long)]
    json: bool,
}

impl NodeArgs {
    /// The effective configuration: the file's (or the defaults), then every flag given,
    /// checked.
    fn config(&self) -> Result<NodeConfig, ConfigError> {
        let mut config = match &self.config {
            Some(path) => NodeConfig::from_file(path)?,
            None => NodeConfig::default(),
        };
        if let Some(name) = &self.name {
            config.name = Some(name.clone());
        }
        if let Some(bind) = &self.bind {
            config.bind.clone_from(bind);
        }
        if let Some(advertise) = &self.advertise {
            config.advertise = Some(advertise.clone());
        }
        if !self.seeds.is_empty() {
            config.seeds.clone_from(&self.seeds);
        }
        if let Some(cluster) = &self.cluster {
            config.cluster_name.clone_from(cluster);
        }
        if let Some(address) = &self.metrics_addr {
            config.metrics_addr = Some(address.clone());
        }
        config.validate()?;
        Ok(config)
    }

    /// What is wrong with the configuration, for stderr: a parse error is prefixed with
    /// the file it is in.
    fn describe(&self, error: &ConfigError) -> String {
        match (&self.config, error) {
            (Some(path), ConfigError::Parse { .. }) => format!("{}: {error}", path.display()),
            _ => error.to_string(),
        }
    }
}

/// The exit status of a configuration that cannot be used, as of a usage error.
const CONFIG_ERROR: u8 = 2;

struct Printer {
    json: bool,
    address: String,
}

impl Printer {
    fn print(&self, event: &ClusterEvent) {
        if self.json {
            let mut object = to_json(event);
            if matches!(event, ClusterEvent::Startup { .. })
                && let Some(map) = object.as_object_mut()
            {
                map.insert("address".into(), self.address.clone().into());
            }
            println!("{object}");
        } else if let ClusterEvent::Startup { member } = event {
            println!("started as {member}, listening at {}", self.address);
        } else if let Some(line) = to_line(event) {
            println!("{line}");
        }
    }

    fn print_delivery(&self, delivery: &Delivery) {
        if self.json {
            println!("{}", delivery_json(delivery));
        } else {
            println!("{}", delivery_line(delivery));
        }
    }
}

pub(crate) async fn run(args: NodeArgs) -> ExitCode {
    let config = match args.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}", args.describe(&e));
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    if args.print_config {
        return match config.to_toml() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(CONFIG_ERROR)
            }
        };
    }
    let (mut interrupt, mut terminate) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("cannot listen for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bind = config.bind.clone();
    let started = Cluster::builder().config(config).start().await;
    let cluster = match started {
        Ok(cluster) => cluster,
        Err(reason) => {
            let printer = Printer {
                json: args.json,
                address: bind,
            };
            printer.print(&ClusterEvent::StartupFailed { reason });
            return ExitCode::FAILURE;
        }
    };
    let printer = Printer {
        json: args.json,
        address: cluster.address(),
    };
    let mut events = cluster.events();
    let mut deliveries = SelectAll::new();
    for topic in &args.subscribe {
        match cluster.subscribe(topic).await {
            Ok(stream) => deliveries.push(stream),
            Err(e) => {
                eprintln!("cannot subscribe to {topic:?}: {e}");
                let _ = cluster.shutdown().await;
                return ExitCode::FAILURE;
            }
        }
    }
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(event) => printer.print(&event),
                None => break,
            },
            Some(delivery) = deliveries.next(), if !deliveries.is_empty() => {
                printer.print_delivery(&delivery);
            }
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
    }
    let result = cluster.shutdown().await;
    drain(&mut events, &printer).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A leave that not every peer acknowledged still ends the node: the message
            // names the peers that will notice by heartbeat expiration instead.
            eprintln!("shutdown: {e}");
            ExitCode::SUCCESS
        }
    }
}

/// Prints what the shutdown produced.
async fn drain(events: &mut ClusterEvents, printer: &Printer) {
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(100), events.next()).await
    {
        printer.print(&event);
    }
}

//! `node`: one node until SIGINT or SIGTERM, then a graceful leave.

use std::process::ExitCode;
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_tokio::{Cluster, ClusterEvents, Delivery};
use clap::Args;
use futures_util::StreamExt;
use futures_util::stream::SelectAll;
use tokio::signal::unix::{SignalKind, signal};

use crate::event_json::{delivery_json, delivery_line, to_json, to_line};

/// Arguments of `node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// The member name.
    #[arg(long)]
    name: String,
    /// The address to listen on, e.g. 127.0.0.1:7000 (port 0 picks a free port).
    #[arg(long)]
    bind: String,
    /// The address peers dial to reach this node, if not the bound one: a host (the bound
    /// port is added) or HOST:PORT. Required when binding 0.0.0.0 or `[::]`.
    #[arg(long)]
    advertise: Option<String>,
    /// A node to join through (repeat for several).
    #[arg(long = "seed")]
    seeds: Vec<String>,
    /// The cluster name; nodes of other clusters are refused.
    #[arg(long, default_value = "chorus")]
    cluster: String,
    /// Subscribe to TOPIC (repeat for several) and print every message delivered to it.
    #[arg(long = "subscribe", value_name = "TOPIC")]
    subscribe: Vec<String>,
    /// Print one JSON object per event (JSON Lines) instead of readable lines.
    #[arg(long)]
    json: bool,
}

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
    let mut builder = Cluster::builder()
        .name(args.name.clone())
        .bind(args.bind.clone())
        .seeds(args.seeds.clone())
        .cluster_name(args.cluster.clone());
    if let Some(advertise) = &args.advertise {
        builder = builder.advertise(advertise.clone());
    }
    let started = builder.start().await;
    let cluster = match started {
        Ok(cluster) => cluster,
        Err(reason) => {
            let printer = Printer {
                json: args.json,
                address: args.bind.clone(),
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

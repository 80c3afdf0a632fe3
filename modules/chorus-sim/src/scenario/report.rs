use std::fmt::Write;

use serde_json::{Value, json};

use crate::SimConfig;

/// The figures a scenario measured (virtual time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub scenario: String,
    /// Nodes at the start.
    pub nodes: usize,
    /// The seed.
    pub seed: u64,
    /// Message loss.
    pub loss: f64,
    /// Until every node saw every node, ms.
    pub join_ms: Option<u64>,
    /// Until every node agreed on the topology hash, ms.
    pub consensus_ms: Option<u64>,
    /// The same in gossip rounds.
    pub consensus_rounds: Option<f64>,
    /// From a key write until every node had it, ms.
    pub key_ms: Option<u64>,
    /// The same in gossip rounds.
    pub key_rounds: Option<f64>,
    /// From a crash until every survivor blocked the node, ms.
    pub crash_detect_ms: Option<u64>,
    /// From a graceful leave until every other node blocked the leaver, ms.
    pub leave_ms: Option<u64>,
    /// From a partition until every node blocked the other side, ms.
    pub partition_detect_ms: Option<u64>,
    /// From the heal until one agreed topology, ms.
    pub heal_ms: Option<u64>,
    /// Nodes that rejoined under a new incarnation.
    pub rejoins: Option<usize>,
    /// Live members removed by live nodes.
    pub false_positives: usize,
    /// Bytes sent per live node per second in the steady window.
    pub bytes_sent_per_node_s: Option<f64>,
    /// Bytes received per live node per second in the steady window.
    pub bytes_received_per_node_s: Option<f64>,
    /// Messages sent per live node per second in the steady window.
    pub messages_per_node_s: Option<f64>,
    /// Entries held by all live nodes together.
    pub entries: usize,
    /// Resident memory of the simulator process at the end, KiB.
    pub rss_kib: u64,
    /// Peak resident memory, KiB.
    pub peak_rss_kib: u64,
    /// Virtual time simulated, ms.
    pub virtual_ms: u64,
    /// Events processed.
    pub events: u64,
    /// Hash of the whole event trace.
    pub trace_hash: u64,
}

impl ScenarioReport {
    /// An empty report for `scenario` run with `config`.
    pub fn new(scenario: &str, config: &SimConfig) -> Self {
        Self {
            scenario: scenario.to_string(),
            nodes: config.nodes,
            seed: config.seed,
            loss: config.loss,
            ..Self::default()
        }
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario, "nodes": self.nodes, "seed": self.seed, "loss": self.loss,
            "join_ms": self.join_ms, "consensus_ms": self.consensus_ms,
            "consensus_rounds": self.consensus_rounds, "key_ms": self.key_ms,
            "key_rounds": self.key_rounds, "crash_detect_ms": self.crash_detect_ms,
            "leave_ms": self.leave_ms, "partition_detect_ms": self.partition_detect_ms,
            "heal_ms": self.heal_ms, "rejoins": self.rejoins,
            "false_positives": self.false_positives,
            "bytes_sent_per_node_s": self.bytes_sent_per_node_s.map(f64::round),
            "bytes_received_per_node_s": self.bytes_received_per_node_s.map(f64::round),
            "messages_per_node_s": self.messages_per_node_s.map(|m| (m * 10.0).round() / 10.0),
            "entries": self.entries, "rss_kib": self.rss_kib, "peak_rss_kib": self.peak_rss_kib,
            "virtual_ms": self.virtual_ms, "events": self.events,
            "trace_hash": format!("{:016x}", self.trace_hash),
        })
    }

    /// The report as readable lines.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "scenario {} — {} nodes, seed {}, loss {:.0}%\n",
            self.scenario,
            self.nodes,
            self.seed,
            self.loss * 100.0
        );
        let mut line = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                let _ = writeln!(out, "  {name:<28} {value}");
            }
        };
        let ms = |v: Option<u64>| v.map(|v| format!("{:.2} s", v as f64 / 1000.0));
        line("all see all", ms(self.join_ms));
        line(
            "topology consensus",
            self.consensus_ms
                .zip(self.consensus_rounds)
                .map(|(m, r)| format!("{:.2} s ({r:.1} rounds)", m as f64 / 1000.0)),
        );
        line(
            "key seen by all",
            self.key_ms
                .zip(self.key_rounds)
                .map(|(m, r)| format!("{m} ms ({r:.2} rounds)")),
        );
        line("crash blocked by all", ms(self.crash_detect_ms));
        line(
            "leave seen by all",
            self.leave_ms.map(|m| format!("{m} ms")),
        );
        line("partition detected", ms(self.partition_detect_ms));
        line("one topology after heal", ms(self.heal_ms));
        line("rejoins", self.rejoins.map(|r| r.to_string()));
        line("false positives", Some(self.false_positives.to_string()));
        line(
            "bytes/s sent per node",
            self.bytes_sent_per_node_s.map(|b| format!("{b:.0}")),
        );
        line(
            "bytes/s received per node",
            self.bytes_received_per_node_s.map(|b| format!("{b:.0}")),
        );
        line(
            "messages/s per node",
            self.messages_per_node_s.map(|m| format!("{m:.1}")),
        );
        line("entries held (all nodes)", Some(self.entries.to_string()));
        line(
            "memory",
            Some(format!(
                "{:.1} MiB now, {:.1} MiB peak",
                self.rss_kib as f64 / 1024.0,
                self.peak_rss_kib as f64 / 1024.0
            )),
        );
        line(
            "simulated",
            Some(format!(
                "{:.1} s virtual, {} events",
                self.virtual_ms as f64 / 1000.0,
                self.events
            )),
        );
        line("trace hash", Some(format!("{:016x}", self.trace_hash)));
        out
    }
}

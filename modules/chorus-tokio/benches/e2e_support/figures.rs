use serde_json::json;

/// The figures of one run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Figures {
    pub(crate) mode: &'static str,
    pub(crate) nodes: usize,
    pub(crate) run: usize,
    /// From the first start until every node sees every node.
    pub(crate) join_ms: f64,
    /// From the first start until every node agrees on the topology hash.
    pub(crate) consensus_ms: f64,
    /// From a write on one node until every node has it.
    pub(crate) key_ms: f64,
    /// From the crash until the last survivor blocked the crashed node.
    pub(crate) crash_ms: f64,
    /// Live nodes removed by anyone during the run.
    pub(crate) false_positives: usize,
    /// From the start of a graceful leave until every other node removed the leaver.
    pub(crate) leave_ms: f64,
    /// Idle bytes sent per node per second.
    pub(crate) idle_out_bps: f64,
    /// Idle bytes received per node per second.
    pub(crate) idle_in_bps: f64,
    /// Resident memory per node, KiB.
    pub(crate) rss_kib_per_node: f64,
}

impl Figures {
    /// One machine-readable line.
    pub(crate) fn json(&self) -> String {
        json!({
            "mode": self.mode, "nodes": self.nodes, "run": self.run,
            "join_ms": round(self.join_ms), "consensus_ms": round(self.consensus_ms),
            "key_ms": round(self.key_ms), "crash_ms": round(self.crash_ms),
            "false_positives": self.false_positives, "leave_ms": round(self.leave_ms),
            "idle_out_bytes_per_s": round(self.idle_out_bps),
            "idle_in_bytes_per_s": round(self.idle_in_bps),
            "rss_kib_per_node": round(self.rss_kib_per_node),
        })
        .to_string()
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

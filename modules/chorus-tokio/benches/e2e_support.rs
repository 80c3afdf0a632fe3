//! The parts of the end-to-end bench.

pub(crate) mod child;
mod figures;
pub(crate) mod in_process;
pub(crate) mod processes;
pub(crate) mod report;

pub(crate) use figures::Figures;

use std::time::Duration;

/// Longest a single step may take before the run is declared failed.
pub(crate) const STEP_LIMIT: Duration = Duration::from_secs(30);

/// Resident memory of process `pid` (`self` for this one), in KiB, from /proc.
pub(crate) fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

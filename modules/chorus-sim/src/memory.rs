/// Memory of this process, read from `/proc/self/status` (Linux).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Resident memory now, KiB.
    pub rss_kib: u64,
    /// Peak resident memory, KiB.
    pub peak_rss_kib: u64,
}

/// The memory this process uses now and at its peak; zeros where `/proc` is unavailable.
pub fn memory_usage() -> MemoryUsage {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return MemoryUsage::default();
    };
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    MemoryUsage {
        rss_kib: field("VmRSS:"),
        peak_rss_kib: field("VmHWM:"),
    }
}

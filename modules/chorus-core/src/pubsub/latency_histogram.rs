#[cfg(test)]
mod tests;

/// Delivery latencies in fixed buckets: how long the acknowledgement of a delivery took,
/// from the publisher sending its batch to the subscriber's node acknowledging it, in
/// milliseconds of the driver's clock.
///
/// The buckets are fixed ([`BOUNDS_MS`](Self::BOUNDS_MS), then everything above the last
/// bound), so the histogram is a few counters — the same on every node, summable across
/// nodes, and exported as they are (a Prometheus histogram, for instance). Latencies are
/// whole milliseconds: a delivery to a subscriber on the publishing node counts as 0 ms.
///
/// ```
/// use chorus_core::pubsub::LatencyHistogram;
///
/// let mut latency = LatencyHistogram::default();
/// latency.record(3, 2); // two deliveries acknowledged after 3 ms
/// latency.record(7_000, 1);
/// assert_eq!(latency.count(), 3);
/// assert_eq!(latency.sum_ms(), 7_006);
/// // At most 5 ms: the buckets are cumulative, as Prometheus reads them.
/// assert_eq!(latency.cumulative().nth(2), Some((Some(5), 2)));
/// assert_eq!(latency.cumulative().last(), Some((None, 3)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Observations per bucket (not cumulative); the last one is above every bound.
    counts: [u64; LatencyHistogram::BUCKETS],
    sum_ms: u64,
}

impl LatencyHistogram {
    /// The upper bounds of the buckets, in milliseconds (inclusive); a last bucket takes
    /// what is above 5 s.
    pub const BOUNDS_MS: [u64; 12] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000];

    /// The number of buckets: one per bound, and the one above them all.
    pub const BUCKETS: usize = Self::BOUNDS_MS.len() + 1;

    /// Records `n` observations of `latency_ms`.
    pub fn record(&mut self, latency_ms: u64, n: u64) {
        let bucket = Self::BOUNDS_MS
            .iter()
            .position(|bound| latency_ms <= *bound)
            .unwrap_or(Self::BOUNDS_MS.len());
        if let Some(count) = self.counts.get_mut(bucket) {
            *count = count.saturating_add(n);
        }
        self.sum_ms = self.sum_ms.saturating_add(latency_ms.saturating_mul(n));
    }

    /// Observations recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0, |sum, c| sum.saturating_add(*c))
    }

    /// The sum of the latencies recorded, in milliseconds.
    pub fn sum_ms(&self) -> u64 {
        self.sum_ms
    }

    /// Observations per bucket, in the order of [`BOUNDS_MS`](Self::BOUNDS_MS), then the
    /// bucket above them (not cumulative).
    pub fn counts(&self) -> &[u64; Self::BUCKETS] {
        &self.counts
    }

    /// The cumulative buckets: for each bound (`None` for the last, unbounded one), the
    /// observations at most that long.
    pub fn cumulative(&self) -> impl Iterator<Item = (Option<u64>, u64)> + '_ {
        let bounds = Self::BOUNDS_MS.iter().copied().map(Some).chain([None]);
        bounds
            .zip(self.counts.iter())
            .scan(0u64, |sum, (bound, c)| {
                *sum = sum.saturating_add(*c);
                Some((bound, *sum))
            })
    }

    /// Adds `other`'s observations to these (to sum topics or nodes).
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine = mine.saturating_add(*theirs);
        }
        self.sum_ms = self.sum_ms.saturating_add(other.sum_ms);
    }
}

use super::LatencyHistogram;

#[test]
fn each_latency_falls_in_the_first_bucket_whose_bound_it_does_not_exceed() {
    let mut h = LatencyHistogram::default();
    for ms in [0, 1, 2, 3, 5_000, 5_001, u64::MAX] {
        h.record(ms, 1);
    }
    let counts = h.counts();
    assert_eq!(counts[0], 2, "0 and 1 ms: at most 1 ms");
    assert_eq!(counts[1], 1, "2 ms");
    assert_eq!(counts[2], 1, "3 ms: at most 5 ms");
    assert_eq!(counts[LatencyHistogram::BOUNDS_MS.len() - 1], 1, "5 s");
    assert_eq!(counts[LatencyHistogram::BOUNDS_MS.len()], 2, "above 5 s");
    assert_eq!(h.count(), 7);
    assert_eq!(h.sum_ms(), u64::MAX, "the sum saturates, it never wraps");
}

#[test]
fn cumulative_buckets_end_with_the_total_and_merging_adds_counts() {
    let mut a = LatencyHistogram::default();
    a.record(4, 3);
    let mut b = LatencyHistogram::default();
    b.record(150, 2);
    a.merge(&b);
    let cumulative: alloc::vec::Vec<_> = a.cumulative().collect();
    assert_eq!(cumulative.len(), LatencyHistogram::BUCKETS);
    assert_eq!(cumulative[1], (Some(2), 0));
    assert_eq!(cumulative[2], (Some(5), 3));
    assert_eq!(cumulative[6], (Some(100), 3));
    assert_eq!(cumulative[7], (Some(200), 5));
    assert_eq!(cumulative.last(), Some(&(None, 5)));
    assert_eq!(a.sum_ms(), 3 * 4 + 2 * 150);
}

use super::Figures;

type Pick = fn(&Figures) -> f64;

const COLUMNS: [(&str, Pick); 8] = [
    ("join ms", |f| f.join_ms),
    ("consensus ms", |f| f.consensus_ms),
    ("key ms", |f| f.key_ms),
    ("crash ms", |f| f.crash_ms),
    ("leave ms", |f| f.leave_ms),
    ("idle out B/s", |f| f.idle_out_bps),
    ("idle in B/s", |f| f.idle_in_bps),
    ("RSS KiB/node", |f| f.rss_kib_per_node),
];

fn median_min_max(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    };
    (median, values[0], values[n - 1])
}

/// Prints, per mode and size, the median and [min–max] of every figure.
pub(crate) fn table(all: &[Figures]) {
    let mut groups: Vec<(&str, usize)> = all.iter().map(|f| (f.mode, f.nodes)).collect();
    groups.sort_unstable();
    groups.dedup();
    println!();
    println!("median [min – max] over runs");
    for (mode, nodes) in groups {
        let runs: Vec<&Figures> = all
            .iter()
            .filter(|f| f.mode == mode && f.nodes == nodes)
            .collect();
        let fp: usize = runs.iter().map(|f| f.false_positives).sum();
        println!(
            "{mode}, N = {nodes} ({} runs, {fp} false positives in all)",
            runs.len()
        );
        for (name, pick) in COLUMNS {
            let (median, min, max) = median_min_max(runs.iter().map(|f| pick(f)).collect());
            println!("  {name:<14} {median:>10.1}  [{min:.1} – {max:.1}]");
        }
    }
}

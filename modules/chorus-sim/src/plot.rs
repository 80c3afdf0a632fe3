//! Plots of simulated runs (SVG).

use plotters::prelude::*;

/// Draws the fraction of `total` nodes informed over time, from the times (virtual ms
/// since `start`) at which each informed node received the news, into an SVG at `path`.
pub fn informed_fraction(
    path: &str,
    title: &str,
    start: u64,
    times: &[u64],
    total: usize,
) -> Result<(), String> {
    let total = total.max(1) as f64;
    let mut points: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    for (i, t) in times.iter().enumerate() {
        let ms = t.saturating_sub(start) as f64;
        points.push((ms, (i + 1) as f64 / total));
    }
    let end = points.last().map_or(1.0, |p| p.0).max(1.0) * 1.05;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..end, 0.0..1.05)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("virtual ms after the write")
        .y_desc("fraction of nodes informed")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(points, &BLUE))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

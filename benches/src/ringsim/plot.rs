//! `ringsim --plot`: each node's exact hash-space share over its fair share, as bars.

use std::fmt;
use std::path::Path;

use plotters::prelude::*;

/// A chart that could not be drawn or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotError {
    reason: String,
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the load chart: {}", self.reason)
    }
}

impl std::error::Error for PlotError {}

fn err(e: impl fmt::Display) -> PlotError {
    PlotError { reason: e.to_string() }
}

/// Draws one bar per node (in the order given): its share over its fair share (1.0 is
/// perfect balance), with a line at 1.0, into an SVG at `path`. `shares` holds
/// (name, share, fair share); nodes with a fair share of 0 are drawn at 0.
///
/// ```
/// use pool_benches::ringsim::plot_shares;
///
/// let dir = tempfile::tempdir()?;
/// let out = dir.path().join("load.svg");
/// plot_shares(&out, "3 nodes", &[("a".into(), 0.3, 1.0 / 3.0), ("b".into(), 0.4, 1.0 / 3.0), ("c".into(), 0.3, 1.0 / 3.0)])?;
/// assert!(std::fs::read_to_string(&out)?.contains("<svg"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A [`PlotError`] if there is nothing to plot or the file cannot be written.
pub fn plot_shares(
    path: &Path,
    title: &str,
    shares: &[(String, f64, f64)],
) -> Result<(), PlotError> {
    if shares.is_empty() {
        return Err(err("no nodes to plot"));
    }
    let ratios: Vec<f64> =
        shares.iter().map(|(_, s, fair)| if *fair > 0.0 { s / fair } else { 0.0 }).collect();
    let y_max = ratios.iter().copied().fold(1.0f64, f64::max) * 1.15;
    let n = ratios.len();
    let root = SVGBackend::new(path, (1000, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title}: hash-space share / fair share per node"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n as f64, 0f64..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("node")
        .y_desc("share / fair share")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()
        .map_err(err)?;
    let bar = BLUE.mix(0.6).filled();
    chart
        .draw_series(
            ratios
                .iter()
                .enumerate()
                .map(|(i, &r)| Rectangle::new([(i as f64 + 0.1, 0.0), (i as f64 + 0.9, r)], bar)),
        )
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new([(0.0, 1.0), (n as f64, 1.0)], RED.stroke_width(2)))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

//! `cachesim --plot`: hit ratio against capacity, one line per policy and one panel per trace,
//! in the manner of Caffeine's efficiency charts.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use plotters::prelude::*;

/// One point of a hit-ratio chart.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    /// The trace's report name; one panel per trace.
    pub trace: String,
    /// The policy's name; one line per policy.
    pub policy: String,
    /// The cache capacity (x axis).
    pub capacity: usize,
    /// The hit ratio, 0 to 1 (y axis).
    pub hit_ratio: f64,
}

/// A chart that could not be drawn or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotError {
    reason: String,
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the hit-ratio chart: {}", self.reason)
    }
}

impl std::error::Error for PlotError {}

fn err(e: impl fmt::Display) -> PlotError {
    PlotError { reason: e.to_string() }
}

const PANEL_WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 420;

/// Draws `points` as an SVG at `path`: one panel per trace (in first-seen order), hit ratio
/// against capacity, one coloured line with markers per policy.
///
/// ```
/// use pool_benches::sim::{plot_hit_ratios, PlotPoint};
///
/// let dir = tempfile::tempdir()?;
/// let out = dir.path().join("hits.svg");
/// let point = |policy: &str, capacity, hit_ratio| PlotPoint {
///     trace: "OLTP".into(), policy: policy.into(), capacity, hit_ratio,
/// };
/// plot_hit_ratios(&out, &[point("lru", 250, 0.16), point("lru", 500, 0.23), point("opt", 250, 0.38)])?;
/// assert!(std::fs::read_to_string(&out)?.contains("<svg"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A [`PlotError`] if there is nothing to plot or the file cannot be written.
pub fn plot_hit_ratios(path: &Path, points: &[PlotPoint]) -> Result<(), PlotError> {
    if points.is_empty() {
        return Err(err("no results to plot"));
    }
    let mut traces: Vec<&str> = Vec::new();
    for p in points {
        if !traces.contains(&p.trace.as_str()) {
            traces.push(&p.trace);
        }
    }
    let mut policies: Vec<&str> = Vec::new();
    for p in points {
        if !policies.contains(&p.policy.as_str()) {
            policies.push(&p.policy);
        }
    }
    let rows = u32::try_from(traces.len()).map_err(err)?;
    let root =
        SVGBackend::new(path, (PANEL_WIDTH, PANEL_HEIGHT.saturating_mul(rows))).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let panels = root.split_evenly((traces.len(), 1));
    for (panel, trace) in panels.iter().zip(&traces) {
        let mine: Vec<&PlotPoint> = points.iter().filter(|p| p.trace == *trace).collect();
        let x_max = mine.iter().map(|p| p.capacity).max().unwrap_or(1) as f64 * 1.05;
        let y_max =
            mine.iter().map(|p| p.hit_ratio).fold(0.0f64, f64::max).mul_add(1.1, 0.02).min(1.0);
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{trace}: hit ratio by capacity"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("capacity (entries)")
            .y_desc("hit ratio")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .draw()
            .map_err(err)?;
        for (i, policy) in policies.iter().enumerate() {
            // BTreeMap: points sorted by capacity, the last result for a repeated capacity wins.
            let series: BTreeMap<usize, f64> = mine
                .iter()
                .filter(|p| p.policy == *policy)
                .map(|p| (p.capacity, p.hit_ratio))
                .collect();
            if series.is_empty() {
                continue;
            }
            let color = Palette99::pick(i).to_rgba();
            let xy: Vec<(f64, f64)> = series.iter().map(|(&c, &h)| (c as f64, h)).collect();
            chart
                .draw_series(LineSeries::new(xy.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(*policy)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(xy.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

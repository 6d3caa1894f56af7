//! `leakcheck --plot`: what the detector saw, as an SVG. The raw samples, the memory floor it
//! tracked, the Theil–Sen trend it fitted (at the first alarm and at the end), and the first
//! alarm, so a reader can judge the verdict from the curve.

use std::fmt;
use std::path::Path;

use plotters::prelude::*;
use pool_metrics::LeakReport;

/// Everything one run of the detector leaves to draw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Every accepted sample, `(t seconds, bytes)`.
    pub(crate) samples: Vec<(f64, f64)>,
    /// Each floor point the detector added, in order.
    pub(crate) floor: Vec<(f64, f64)>,
    /// The report when the first alarm was raised.
    pub(crate) at_alarm: Option<LeakReport>,
}

/// A chart that could not be drawn or written.
#[derive(Debug)]
pub(crate) struct PlotError(String);

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the leak chart: {}", self.0)
    }
}

fn err(e: impl fmt::Display) -> PlotError {
    PlotError(e.to_string())
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 520;
/// Above this many samples the raw series is drawn as the minimum and maximum of each of
/// `MAX_DRAWN / 2` equal time buckets: the envelope (troughs included) survives, and the SVG
/// stays a few hundred kilobytes for a day of one-second samples.
const MAX_DRAWN: usize = 4_000;
const MB: f64 = 1e6;

/// A named, coloured line of the chart.
type Layer = (&'static str, RGBColor, Vec<(f64, f64)>);

/// The detector's fitted trend over its analysis window, as a segment in MB.
fn trend(r: &LeakReport) -> Option<Vec<(f64, f64)>> {
    if r.window_points == 0 {
        return None;
    }
    let (t0, t1) = (r.window_start_t, r.window_start_t + r.window_secs);
    let y = |t: f64| (r.trend_start_bytes + r.slope_bytes_per_sec * (t - t0)) / MB;
    Some(vec![(t0, y(t0)), (t1, y(t1))])
}

/// The samples to draw, in MB: all of them, or the per-bucket envelope of a long series.
fn drawn(samples: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if samples.len() <= MAX_DRAWN {
        return samples.iter().map(|&(t, b)| (t, b / MB)).collect();
    }
    let per = samples.len().div_ceil(MAX_DRAWN / 2);
    let mut out = Vec::with_capacity(MAX_DRAWN);
    for chunk in samples.chunks(per) {
        let lo =
            chunk.iter().copied().fold((0.0, f64::INFINITY), |a, p| if p.1 < a.1 { p } else { a });
        let hi = chunk
            .iter()
            .copied()
            .fold((0.0, f64::NEG_INFINITY), |a, p| if p.1 > a.1 { p } else { a });
        let (first, second) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        out.push((first.0, first.1 / MB));
        out.push((second.0, second.1 / MB));
    }
    out
}

/// Draws `seen` and the final report `end` as an SVG at `path`.
pub(crate) fn plot(path: &Path, seen: &Seen, end: &LeakReport) -> Result<(), PlotError> {
    if seen.samples.is_empty() {
        return Err(err("no samples to plot"));
    }
    let samples = drawn(&seen.samples);
    let floor: Vec<(f64, f64)> = seen.floor.iter().map(|&(t, b)| (t, b / MB)).collect();
    let trends: Vec<Layer> = [
        ("trend at the first alarm", RED, seen.at_alarm.as_ref().and_then(trend)),
        ("trend at the end", MAGENTA, trend(end)),
    ]
    .into_iter()
    .filter_map(|(name, color, line)| line.map(|l| (name, color, l)))
    .collect();

    let all_y = samples.iter().chain(&floor).chain(trends.iter().flat_map(|t| &t.2)).map(|p| p.1);
    let (y_min, y_max) =
        all_y.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let pad = ((y_max - y_min) * 0.05).max(0.5);
    let (t_min, t_max) = (seen.samples[0].0, seen.samples[seen.samples.len() - 1].0);
    let t_max = if t_max > t_min { t_max } else { t_min + 1.0 };

    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let verdict = match end.first_alarm_t {
        Some(t) => format!("leaking: first alarm at t = {t:.0} s"),
        None => "no leak found".to_owned(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("leakcheck: {verdict}"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(t_min..t_max, (y_min - pad)..(y_max + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("t (s)")
        .y_desc("memory (MB)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .draw()
        .map_err(err)?;

    let grey = RGBColor(150, 150, 150);
    chart
        .draw_series(LineSeries::new(samples, grey.stroke_width(1)))
        .map_err(err)?
        .label("samples")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1)));
    if !floor.is_empty() {
        chart
            .draw_series(LineSeries::new(floor, BLUE.stroke_width(2)))
            .map_err(err)?
            .label("memory floor")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    }
    for (name, color, line) in trends {
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(3)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    if let Some(t) = end.first_alarm_t {
        let alarm = RGBColor(200, 0, 0);
        chart
            .draw_series(LineSeries::new(
                [(t, y_min - pad), (t, y_max + pad)],
                alarm.stroke_width(1),
            ))
            .map_err(err)?
            .label("first alarm")
            .legend(move |(x, y)| PathElement::new(vec![(x + 10, y - 6), (x + 10, y + 6)], alarm));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_series_keeps_its_envelope() {
        // 100 000 samples of a sawtooth: the drawn series must keep the troughs and peaks.
        let samples: Vec<(f64, f64)> =
            (0..100_000).map(|i| (f64::from(i), 1e8 + f64::from(i % 97) * 1e5)).collect();
        let d = drawn(&samples);
        assert!(d.len() <= MAX_DRAWN);
        let lo = d.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = d.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        assert!((lo - 100.0).abs() < 1e-9 && (hi - 109.6).abs() < 1e-9, "{lo} {hi}");
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0), "time stays in order");
    }

    #[test]
    fn nothing_to_plot_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let end = pool_metrics::LeakDetector::new().report();
        assert!(plot(&dir.path().join("x.svg"), &Seen::default(), &end).is_err());
    }
}

//! What the leak detector concludes.

use serde::{Deserialize, Serialize};

/// The detector's current conclusion.
///
/// ```
/// use pool_metrics::{LeakDetector, LeakVerdict};
///
/// assert_eq!(LeakDetector::new().report().verdict, LeakVerdict::Insufficient);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeakVerdict {
    /// Not enough history past the warm-up horizon to judge.
    Insufficient,
    /// No persistent growth of the memory floor.
    Stable,
    /// The floor grows persistently but not yet for long enough to alarm.
    Suspect,
    /// The floor has grown persistently for the confirmation period: a leak.
    Leaking,
}

/// The leak detector's report: the seeds' least-squares statistics kept for comparison, and
/// the robust statistics behind the verdict. Slopes are in bytes per second.
///
/// ```
/// use pool_metrics::LeakDetector;
///
/// let mut d = LeakDetector::new();
/// for t in 0..3_600 {
///     // 5 MB/min leak
///     d.push(f64::from(t), 100e6 + f64::from(t) * 5e6 / 60.0)?;
/// }
/// let r = d.report();
/// assert!(r.leaking);
/// assert!((r.slope_bytes_per_sec - 5e6 / 60.0).abs() < 1e3);
/// // The 8 min warm-up horizon plus two minutes past it come first.
/// assert!(r.first_alarm_t.unwrap() < 1_500.0);
/// # Ok::<(), pool_metrics::SampleError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeakReport {
    /// Samples accepted so far.
    pub samples: u64,
    /// Whether an alarm has been raised (latched: stays true once raised).
    pub leaking: bool,
    /// The current verdict (may fall back to `stable` after a leak stops).
    pub verdict: LeakVerdict,
    /// Time (the sample's `t`) of the first alarm.
    pub first_alarm_t: Option<f64>,
    /// Theil–Sen slope of the memory floor over the analysis window, bytes/s.
    pub slope_bytes_per_sec: f64,
    /// Least-squares slope of the floor over the same window, bytes/s.
    pub least_squares_slope: f64,
    /// R² of that least-squares line (1 for a straight line, near 0 for no linear trend).
    pub r_squared: f64,
    /// The seeds' statistic: least-squares slope over the last ten raw samples, bytes/s.
    pub last10_slope: f64,
    /// Mann–Kendall trend statistic of the floor (about N(0, 1) without a trend).
    pub mann_kendall_z: f64,
    /// One-sided confidence of an upward trend, `Phi(mann_kendall_z)`, in `[0, 1]`.
    pub confidence: f64,
    /// Floor points in the analysis window.
    pub window_points: usize,
    /// Seconds spanned by the analysis window.
    pub window_secs: f64,
    /// The floor's robust growth over the window, `slope * window_secs`, bytes.
    pub growth_bytes: f64,
    /// Time (the samples' `t`) of the analysis window's first floor point.
    pub window_start_t: f64,
    /// The fitted Theil–Sen trend at `window_start_t`, bytes: the trend line is
    /// `trend_start_bytes + slope_bytes_per_sec * (t - window_start_t)` over the window.
    pub trend_start_bytes: f64,
}

//! The plain, serializable summary of a histogram.

use serde::{Deserialize, Serialize};

/// A point-in-time summary of a [`Histogram`](crate::Histogram): count, exact min and max,
/// mean and the usual latency quantiles, each within the histogram's relative error
/// (0.1 % by default). All values are in the unit that was recorded (nanoseconds for
/// [`Histogram::record_duration`](crate::Histogram::record_duration)). An empty histogram
/// gives all zeros.
///
/// ```
/// use pool_metrics::Histogram;
///
/// let h = Histogram::new();
/// for v in 1..=1000 {
///     h.record(v);
/// }
/// let s = h.snapshot();
/// assert_eq!((s.count, s.min, s.max), (1000, 1, 1000));
/// assert_eq!(s.p50, 500);
/// assert_eq!(s.p99, 990);
/// let json = serde_json::to_string(&s).unwrap();
/// assert!(json.contains("\"p999\":999"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramSnapshot {
    /// Number of recorded values, saturated ones included.
    pub count: u64,
    /// Smallest recorded value (exact; after saturation).
    pub min: u64,
    /// Largest recorded value (exact; after saturation).
    pub max: u64,
    /// Mean of the recorded values, computed from bucket midpoints.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Values above the histogram's `highest`, recorded as `highest`.
    pub saturated: u64,
}

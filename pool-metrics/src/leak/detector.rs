//! The streaming leak detector: floor extraction, robust trend, persistence, confirmation.

use std::collections::VecDeque;

use super::builder::LeakDetectorBuilder;
use super::error::{SampleError, SampleErrorKind};
use super::report::{LeakReport, LeakVerdict};
use super::stats::{LineFit, least_squares, mann_kendall_z, normal_cdf, theil_sen};

/// The analysis window is cut into this many segments; the floor must rise in each one, so
/// a one-time step (which lands in one segment) or a warm-up tail never alarms.
const SEGMENTS: usize = 3;
/// A segment must rise by at least this fraction of `min_slope * segment duration`.
const SEGMENT_RISE_FRACTION: f64 = 0.25;

/// A segment must also carry at least this fraction of its time-proportional share of the
/// window's total rise: a linear leak gives each segment its full share, a step gives one
/// segment all of it and the others none.
const SEGMENT_SHARE_FRACTION: f64 = 0.4;

/// Finds memory leaks in a stream of `(t seconds, bytes)` samples, one at a time, without
/// alarming on garbage-collector sawtooths, warm-ups, one-time steps or mean-reverting wander.
///
/// Memory is bounded by the parameters, never by the number of samples. The method, its
/// parameters and measured false-alarm and detection rates are in `src/leak/README.md`:
/// in short, the memory *floor* (trailing minimum over 5 min) is taken once a minute, and an
/// alarm needs, in some window of the last 6 to 30 floor points past the 8-minute warm-up
/// horizon, a Theil–Sen slope above 0.5 MiB/min, a Mann–Kendall trend at 99 % confidence, a
/// robust growth of 20 MB and a rise in each third of the window, on three consecutive
/// evaluations.
///
/// ```
/// use pool_metrics::LeakDetector;
///
/// let mut d = LeakDetector::new();
/// for t in 0..7_200 {
///     // A 20 MB garbage-collector sawtooth with a 90 s period, no leak.
///     let saw = f64::from(t % 90) / 90.0 * 20e6;
///     d.push(f64::from(t), 500e6 + saw)?;
/// }
/// let r = d.report();
/// assert!(!r.leaking, "{r:?}");
/// # Ok::<(), pool_metrics::SampleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LeakDetector {
    config: LeakDetectorBuilder,
    step_secs: f64,
    floor_buckets: u64,
    samples: u64,
    first_t: Option<f64>,
    last_t: f64,
    /// Index and minimum of the step bucket being filled.
    bucket: Option<(u64, f64)>,
    /// Minima of the most recent step buckets, `floor_buckets` of them at most.
    minima: VecDeque<(u64, f64)>,
    /// `(t, floor)` points past the warm-up horizon, `window_points` at most.
    floors: VecDeque<(f64, f64)>,
    /// The last ten raw samples, for the seeds' least-squares statistic.
    last10: VecDeque<(f64, f64)>,
    suspect_run: usize,
    first_alarm_t: Option<f64>,
    report: LeakReport,
    scratch: Vec<f64>,
}

impl Default for LeakDetector {
    /// The same as [`LeakDetector::new`].
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::default().report().samples, 0);
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl LeakDetector {
    /// A detector with the default parameters (see [`LeakDetectorBuilder`]'s constants).
    ///
    /// ```
    /// let d = pool_metrics::LeakDetector::new();
    /// assert!(!d.report().leaking);
    /// ```
    pub fn new() -> Self {
        Self::from_builder(LeakDetectorBuilder::new())
    }

    /// A builder for other parameters.
    ///
    /// ```
    /// let d = pool_metrics::LeakDetector::builder().confirm(1).build()?;
    /// assert_eq!(d.config().get_confirm(), 1);
    /// # Ok::<(), pool_metrics::LeakBuildError>(())
    /// ```
    pub fn builder() -> LeakDetectorBuilder {
        LeakDetectorBuilder::new()
    }

    pub(crate) fn from_builder(config: LeakDetectorBuilder) -> Self {
        let step_secs = config.step.as_secs_f64();
        let floor_buckets = (config.floor_window.as_secs_f64() / step_secs).ceil().max(1.0) as u64;
        Self {
            config,
            step_secs,
            floor_buckets,
            samples: 0,
            first_t: None,
            last_t: f64::NEG_INFINITY,
            bucket: None,
            minima: VecDeque::with_capacity(floor_buckets as usize + 1),
            floors: VecDeque::with_capacity(config.window_points + 1),
            last10: VecDeque::with_capacity(11),
            suspect_run: 0,
            first_alarm_t: None,
            report: empty_report(),
            scratch: Vec::new(),
        }
    }

    /// The effective parameters.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::new().config().get_min_points(), 6);
    /// ```
    pub fn config(&self) -> &LeakDetectorBuilder {
        &self.config
    }

    /// Feeds one sample: `t` in seconds (any origin, never decreasing) and the memory in use
    /// in bytes. Returns whether this sample raised the first alarm.
    ///
    /// # Errors
    ///
    /// [`SampleError`] when `t` is not finite, `bytes` is not finite or negative, or `t` is
    /// earlier than the previous sample's; the sample is then ignored.
    ///
    /// ```
    /// let mut d = pool_metrics::LeakDetector::new();
    /// assert_eq!(d.push(0.0, 1e6), Ok(false));
    /// assert!(d.push(1.0, -5.0).is_err());
    /// assert_eq!(d.report().samples, 1);
    /// ```
    pub fn push(&mut self, t: f64, bytes: f64) -> Result<bool, SampleError> {
        if !t.is_finite() {
            return Err(SampleError::new(
                SampleErrorKind::InvalidTime,
                format!("sample time must be finite, got {t}"),
            ));
        }
        if !(bytes.is_finite() && bytes >= 0.0) {
            return Err(SampleError::new(
                SampleErrorKind::InvalidBytes,
                format!("sample bytes must be finite and >= 0, got {bytes}"),
            ));
        }
        if t < self.last_t {
            return Err(SampleError::new(
                SampleErrorKind::TimeWentBackwards,
                format!("sample time must not go backwards: got {t} after {}", self.last_t),
            ));
        }
        self.last_t = t;
        self.samples += 1;
        self.report.samples = self.samples;
        if self.last10.len() == 10 {
            self.last10.pop_front();
        }
        self.last10.push_back((t, bytes));
        self.report.last10_slope =
            least_squares(self.last10.iter().copied()).map_or(0.0, |f| f.slope);

        let first_t = *self.first_t.get_or_insert(t);
        let index = ((t - first_t) / self.step_secs) as u64;
        match self.bucket {
            Some((i, min)) if i == index => self.bucket = Some((i, min.min(bytes))),
            Some((i, min)) => {
                self.bucket = Some((index, bytes));
                return Ok(self.close_bucket(i, min, t));
            }
            None => self.bucket = Some((index, bytes)),
        }
        Ok(false)
    }

    /// Ends step bucket `index` (minimum `min`); adds a floor point and re-evaluates.
    fn close_bucket(&mut self, index: u64, min: f64, now: f64) -> bool {
        while self.minima.front().is_some_and(|&(i, _)| i + self.floor_buckets <= index) {
            self.minima.pop_front();
        }
        self.minima.push_back((index, min));
        // The floor window ends with this bucket; it is a valid floor only once it lies wholly
        // past the warm-up horizon (and so wholly inside the series).
        let end = (index + 1) as f64 * self.step_secs;
        let start = end - self.floor_buckets as f64 * self.step_secs;
        if start < self.config.warmup.as_secs_f64() {
            return false;
        }
        let floor = self.minima.iter().map(|&(_, m)| m).fold(f64::INFINITY, f64::min);
        if self.floors.len() == self.config.window_points {
            self.floors.pop_front();
        }
        self.floors.push_back((end, floor));
        self.evaluate(now)
    }

    fn evaluate(&mut self, now: f64) -> bool {
        let points: Vec<(f64, f64)> = self.floors.iter().copied().collect();
        let n = points.len();
        if n < self.config.min_points {
            return false;
        }
        // Windows of the most recent k points, k growing by half each time up to n: a leak
        // that started recently is seen in a short window before a long one, while each
        // window must pass every test on its own. The longest window is reported unless a
        // shorter one is suspect.
        let mut best: Option<(bool, Window)> = None;
        let mut k = self.config.min_points;
        loop {
            let w = self.window(&points[n - k..]);
            let suspect = w.slope >= self.config.min_slope
                && w.z >= self.config.min_z
                && w.growth >= self.config.min_growth
                && w.persistent;
            if best.is_none() || suspect || !best.as_ref().is_some_and(|b| b.0) {
                best = Some((suspect, w));
            }
            if suspect || k == n {
                break;
            }
            k = (k + k / 2).min(n);
        }
        let Some((suspect, w)) = best else { return false };
        self.suspect_run = if suspect { self.suspect_run + 1 } else { 0 };
        let leaking = self.suspect_run >= self.config.confirm;
        let first = leaking && self.first_alarm_t.is_none();
        if first {
            self.first_alarm_t = Some(now);
        }
        self.report = LeakReport {
            samples: self.samples,
            leaking: self.first_alarm_t.is_some(),
            verdict: if leaking {
                LeakVerdict::Leaking
            } else if suspect {
                LeakVerdict::Suspect
            } else {
                LeakVerdict::Stable
            },
            first_alarm_t: self.first_alarm_t,
            slope_bytes_per_sec: w.slope,
            least_squares_slope: w.fit.map_or(0.0, |f| f.slope),
            r_squared: w.fit.map_or(0.0, |f| f.r2),
            last10_slope: self.report.last10_slope,
            mann_kendall_z: w.z,
            confidence: normal_cdf(w.z),
            window_points: w.points,
            window_secs: w.span,
            growth_bytes: w.growth,
        };
        first
    }

    /// The statistics of one analysis window.
    fn window(&mut self, points: &[(f64, f64)]) -> Window {
        let n = points.len();
        let slope = theil_sen(points, &mut self.scratch).unwrap_or(0.0);
        let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        let span = points[n - 1].0 - points[0].0;
        let total = points[n - 1].1 - points[0].1;
        let persistent = (0..SEGMENTS).all(|s| {
            let (a, b) = (s * (n - 1) / SEGMENTS, (s + 1) * (n - 1) / SEGMENTS);
            let rise = points[b].1 - points[a].1;
            let share = (points[b].0 - points[a].0) / span;
            let need =
                (SEGMENT_RISE_FRACTION * self.config.min_slope * (points[b].0 - points[a].0))
                    .max(SEGMENT_SHARE_FRACTION * share * total);
            b > a && rise >= need
        });
        Window {
            points: n,
            span,
            slope,
            growth: slope * span,
            fit: least_squares(points.iter().copied()),
            z: mann_kendall_z(&ys),
            persistent,
        }
    }

    /// The report as of the last sample.
    ///
    /// ```
    /// let mut d = pool_metrics::LeakDetector::new();
    /// d.push(0.0, 1.0)?;
    /// assert_eq!(d.report().samples, 1);
    /// # Ok::<(), pool_metrics::SampleError>(())
    /// ```
    pub fn report(&self) -> LeakReport {
        self.report.clone()
    }

    /// Forgets all samples and the alarm, keeping the parameters.
    ///
    /// ```
    /// let mut d = pool_metrics::LeakDetector::new();
    /// d.push(5.0, 1.0)?;
    /// d.reset();
    /// d.push(1.0, 1.0)?; // earlier times are fine again
    /// assert_eq!(d.report().samples, 1);
    /// # Ok::<(), pool_metrics::SampleError>(())
    /// ```
    pub fn reset(&mut self) {
        *self = Self::from_builder(self.config);
    }
}

/// Statistics of one analysis window.
struct Window {
    points: usize,
    span: f64,
    slope: f64,
    growth: f64,
    fit: Option<LineFit>,
    z: f64,
    persistent: bool,
}

fn empty_report() -> LeakReport {
    LeakReport {
        samples: 0,
        leaking: false,
        verdict: LeakVerdict::Insufficient,
        first_alarm_t: None,
        slope_bytes_per_sec: 0.0,
        least_squares_slope: 0.0,
        r_squared: 0.0,
        last10_slope: 0.0,
        mann_kendall_z: 0.0,
        confidence: 0.5,
        window_points: 0,
        window_secs: 0.0,
        growth_bytes: 0.0,
    }
}

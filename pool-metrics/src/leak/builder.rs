//! Parameters of the leak detector.

use std::time::Duration;

use super::detector::LeakDetector;
use super::error::{LeakDetectorBuildError, LeakDetectorBuildErrorKind};

/// Parameters of a [`LeakDetector`]; start from [`LeakDetector::builder`]. The defaults and
/// why they were chosen are in the module README (`src/leak/README.md`).
///
/// # Settings for short runs
///
/// The defaults are tuned for services watched for hours: a 30 s step, an 8-minute warm-up
/// and 20 MB of growth before an alarm, so nothing is reported in the first 11 minutes.
/// For a test or a benchmark that runs for a minute or two, scale every time down together
/// and lower the growth to what that run can accumulate: sample every 100 ms or so, a 1 s
/// step, a floor window longer than the slowest allocation cycle of the workload (here
/// 10 s), a warm-up as long as the caches take to fill, and `min_growth` / `min_slope` near
/// the smallest leak worth failing the run for.
///
/// ```
/// use std::time::Duration;
/// use pool_metrics::LeakDetector;
///
/// let short = || {
///     LeakDetector::builder()
///         .step(Duration::from_secs(1))
///         .floor_window(Duration::from_secs(10))
///         .warmup(Duration::from_secs(5))
///         .min_slope(10e3) // 10 kB/s
///         .min_growth(500e3) // 0.5 MB
///         .build()
/// };
/// // Two minutes at ten samples a second: a 4 MB sawtooth every 3 s, with and without a
/// // 50 kB/s leak underneath.
/// let run = |leak_bytes_per_sec: f64| -> Result<Option<f64>, Box<dyn std::error::Error>> {
///     let mut d = short()?;
///     for i in 0..1_200 {
///         let t = f64::from(i) / 10.0;
///         let sawtooth = f64::from(i % 30) / 30.0 * 4e6;
///         d.push(t, 50e6 + sawtooth + leak_bytes_per_sec * t)?;
///     }
///     Ok(d.report().first_alarm_t)
/// };
/// assert_eq!(run(0.0)?, None);
/// assert!(run(50e3)?.is_some_and(|t| t < 60.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct LeakDetectorBuilder {
    pub(crate) floor_window: Duration,
    pub(crate) step: Duration,
    pub(crate) window_points: usize,
    pub(crate) min_points: usize,
    pub(crate) warmup: Duration,
    pub(crate) min_slope: f64,
    pub(crate) min_z: f64,
    pub(crate) min_growth: f64,
    pub(crate) confirm: usize,
}

impl Default for LeakDetectorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LeakDetectorBuilder {
    /// 5 min: the longest floor window. The floor is the minimum over a trailing window sized
    /// from the garbage-collector cycles seen (1.05 × the longest gap between sharp drops,
    /// one `step` when there are none), at most this long, so a sawtooth with a period up to
    /// this long is flattened to its troughs.
    pub const DEFAULT_FLOOR_WINDOW: Duration = Duration::from_secs(300);
    /// 30 s: one floor point, and one evaluation, per step.
    pub const DEFAULT_STEP: Duration = Duration::from_secs(30);
    /// 60 floor points (30 min at the default step) in the analysis window: long enough that a
    /// one-time step or a slow wander shows up as not persistent.
    pub const DEFAULT_WINDOW_POINTS: usize = 60;
    /// 6 floor points at least before a verdict: the fewest for which a perfectly monotone
    /// series reaches Mann–Kendall `Z >= 2.33`.
    pub const DEFAULT_MIN_POINTS: usize = 6;
    /// 8 min: growth whose floor window started before this (from the first sample) is
    /// treated as warm-up (caches filling) and never alarms on its own; it counts only as the
    /// lead-in of a window whose floor keeps at least 0.6 of its slope over at least four
    /// floor points past this horizon (a warm-up saturates, a leak does not).
    pub const DEFAULT_WARMUP: Duration = Duration::from_secs(480);
    /// 0.5 MiB/min in bytes/s: half the smallest leak rate the detector is tuned to find
    /// (1 MB/min), so noise around zero slope never qualifies.
    pub const DEFAULT_MIN_SLOPE: f64 = 524_288.0 / 60.0;
    /// 2.33: Mann–Kendall `Z` for one-sided 99 % confidence.
    pub const DEFAULT_MIN_Z: f64 = 2.33;
    /// 20 MB: the smallest robust growth over a window that counts. Measured with the seeded
    /// sweep (README): 12 MB let 4 % of mean-reverting wanders (sd up to 5 MB) alarm, 16 MB
    /// 2.3 %, 20 MB 0.25 % (with the earlier fixed 5-min floor; 0.40 % with the adaptive
    /// floor); a 1 MB/min leak needs 20 min to get there, a 10 MB/min one 2 min.
    pub const DEFAULT_MIN_GROWTH: f64 = 20e6;
    /// 3 consecutive suspect evaluations (1 min at the default step) before the alarm.
    pub const DEFAULT_CONFIRM: usize = 3;
    /// 1000: the longest `floor_window`, in steps. The detector keeps six tick minima per step
    /// of the floor window (16 B each), so this bounds them at 96 KB; without it a 1 µs step
    /// under the default 5-minute window asked for 28.8 GB.
    pub const MAX_FLOOR_STEPS: u32 = 1000;

    /// The defaults.
    ///
    /// ```
    /// let b = pool_metrics::LeakDetectorBuilder::new();
    /// assert_eq!(b.get_window_points(), 60);
    /// ```
    pub fn new() -> Self {
        Self {
            floor_window: Self::DEFAULT_FLOOR_WINDOW,
            step: Self::DEFAULT_STEP,
            window_points: Self::DEFAULT_WINDOW_POINTS,
            min_points: Self::DEFAULT_MIN_POINTS,
            warmup: Self::DEFAULT_WARMUP,
            min_slope: Self::DEFAULT_MIN_SLOPE,
            min_z: Self::DEFAULT_MIN_Z,
            min_growth: Self::DEFAULT_MIN_GROWTH,
            confirm: Self::DEFAULT_CONFIRM,
        }
    }

    /// The longest trailing window whose minimum is the memory floor (the window adapts to
    /// the garbage-collector cycles seen, between `step` and this); longer than the longest
    /// sawtooth period you expect. Must be >= `step`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// let secs = Duration::from_secs;
    /// assert!(LeakDetector::builder().floor_window(secs(120)).build().is_ok());
    /// // Shorter than the 30 s default step: refused.
    /// let err = LeakDetector::builder().floor_window(secs(10)).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::FloorWindow);
    /// ```
    pub fn floor_window(mut self, floor_window: Duration) -> Self {
        self.floor_window = floor_window;
        self
    }

    /// The interval between floor points and evaluations; the floor window adapts in sixths
    /// of it. Must be > 0.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// let d = LeakDetector::builder().step(Duration::from_secs(1)).build()?;
    /// assert_eq!(d.config().get_floor_window(), Duration::from_secs(300)); // 300 steps: fine
    /// // 300 s of 10 ms steps is more than `MAX_FLOOR_STEPS`: lower the floor window too.
    /// let err = LeakDetector::builder().step(Duration::from_millis(10)).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::FloorWindow);
    /// # Ok::<(), pool_metrics::LeakDetectorBuildError>(())
    /// ```
    pub fn step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// Floor points in the analysis window, in `min_points..=1000`.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// let err = LeakDetector::builder().window_points(5).build().unwrap_err(); // < min_points
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::WindowPoints);
    /// assert!(LeakDetector::builder().window_points(5).min_points(5).build().is_ok());
    /// ```
    pub fn window_points(mut self, window_points: usize) -> Self {
        self.window_points = window_points;
        self
    }

    /// Floor points needed before any verdict, at least 3.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// let err = LeakDetector::builder().min_points(2).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::MinPoints);
    /// ```
    pub fn min_points(mut self, min_points: usize) -> Self {
        self.min_points = min_points;
        self
    }

    /// The warm-up horizon from the first sample (may be zero).
    ///
    /// ```
    /// use std::time::Duration;
    /// use pool_metrics::LeakDetector;
    ///
    /// // A 5 MB/min leak from the first sample: without a warm-up horizon it is found sooner.
    /// let first_alarm = |mut d: LeakDetector| {
    ///     for t in 0..3_600 {
    ///         d.push(f64::from(t), 100e6 + f64::from(t) * 5e6 / 60.0).unwrap();
    ///     }
    ///     d.report().first_alarm_t.unwrap()
    /// };
    /// let eager = first_alarm(LeakDetector::builder().warmup(Duration::ZERO).build()?);
    /// let default = first_alarm(LeakDetector::new());
    /// assert!(eager + 300.0 < default, "{eager} vs {default}");
    /// # Ok::<(), pool_metrics::LeakDetectorBuildError>(())
    /// ```
    pub fn warmup(mut self, warmup: Duration) -> Self {
        self.warmup = warmup;
        self
    }

    /// The smallest robust slope, in bytes/s, that counts as growth. Must be finite and > 0.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// assert!(LeakDetector::builder().min_slope(100.0).build().is_ok());
    /// let err = LeakDetector::builder().min_slope(0.0).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::MinSlope);
    /// ```
    pub fn min_slope(mut self, min_slope: f64) -> Self {
        self.min_slope = min_slope;
        self
    }

    /// The smallest Mann–Kendall `Z` that counts as a trend. Must be finite and > 0.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// assert!(LeakDetector::builder().min_z(3.0).build().is_ok());
    /// let err = LeakDetector::builder().min_z(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::MinZ);
    /// ```
    pub fn min_z(mut self, min_z: f64) -> Self {
        self.min_z = min_z;
        self
    }

    /// The smallest robust growth (slope times window span), in bytes, that counts. Must be
    /// finite and >= 0.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// assert!(LeakDetector::builder().min_growth(0.0).build().is_ok());
    /// let err = LeakDetector::builder().min_growth(-1.0).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::MinGrowth);
    /// ```
    pub fn min_growth(mut self, min_growth: f64) -> Self {
        self.min_growth = min_growth;
        self
    }

    /// Consecutive suspect evaluations needed to alarm, at least 1.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// assert!(LeakDetector::builder().confirm(1).build().is_ok());
    /// let err = LeakDetector::builder().confirm(0).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::Confirm);
    /// ```
    pub fn confirm(mut self, confirm: usize) -> Self {
        self.confirm = confirm;
        self
    }

    /// The floor window.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_floor_window().as_secs(), 300);
    /// ```
    pub fn get_floor_window(&self) -> Duration {
        self.floor_window
    }

    /// The step.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_step().as_secs(), 30);
    /// ```
    pub fn get_step(&self) -> Duration {
        self.step
    }

    /// The analysis window in floor points.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_window_points(), 60);
    /// ```
    pub fn get_window_points(&self) -> usize {
        self.window_points
    }

    /// The floor points needed before a verdict.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_min_points(), 6);
    /// ```
    pub fn get_min_points(&self) -> usize {
        self.min_points
    }

    /// The warm-up horizon.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_warmup().as_secs(), 480);
    /// ```
    pub fn get_warmup(&self) -> Duration {
        self.warmup
    }

    /// The smallest slope that counts, bytes/s.
    ///
    /// ```
    /// assert!(pool_metrics::LeakDetector::builder().get_min_slope() > 8_000.0);
    /// ```
    pub fn get_min_slope(&self) -> f64 {
        self.min_slope
    }

    /// The smallest Mann–Kendall `Z` that counts.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_min_z(), 2.33);
    /// ```
    pub fn get_min_z(&self) -> f64 {
        self.min_z
    }

    /// The smallest growth that counts, bytes.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_min_growth(), 20e6);
    /// ```
    pub fn get_min_growth(&self) -> f64 {
        self.min_growth
    }

    /// The consecutive suspect evaluations needed to alarm.
    ///
    /// ```
    /// assert_eq!(pool_metrics::LeakDetector::builder().get_confirm(), 3);
    /// ```
    pub fn get_confirm(&self) -> usize {
        self.confirm
    }

    /// Checks the parameters and builds the detector.
    ///
    /// # Errors
    ///
    /// [`LeakDetectorBuildError`], whose [`kind`](LeakDetectorBuildError::kind) names the
    /// parameter, when `step` is zero, `floor_window` is shorter than `step` or longer than
    /// [`MAX_FLOOR_STEPS`](Self::MAX_FLOOR_STEPS) steps, `min_points < 3`, `window_points` is
    /// outside `min_points..=1000`, `min_slope` or `min_z` is not finite and positive,
    /// `min_growth` is not finite and non-negative, or `confirm` is zero.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// let err = LeakDetector::builder().window_points(0).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::WindowPoints);
    /// assert_eq!(err.to_string(), "window_points must be in 6..=1000, got 0");
    /// ```
    pub fn build(self) -> Result<LeakDetector, LeakDetectorBuildError> {
        use LeakDetectorBuildErrorKind as Kind;
        let fail = |kind, m: String| Err(LeakDetectorBuildError::new(kind, m));
        if self.step.is_zero() {
            return fail(Kind::Step, format!("step must be > 0, got {:?}", self.step));
        }
        if self.floor_window < self.step {
            return fail(
                Kind::FloorWindow,
                format!(
                    "floor_window must be >= step ({:?}), got {:?}",
                    self.step, self.floor_window
                ),
            );
        }
        // Compared exactly in nanoseconds (u128: no overflow even for `Duration::MAX`); a ratio
        // of f64 seconds put a window of exactly 1000 steps a rounding error over the bound.
        if self.floor_window.as_nanos() > self.step.as_nanos() * u128::from(Self::MAX_FLOOR_STEPS) {
            return fail(
                Kind::FloorWindow,
                format!(
                    "floor_window must be at most {} steps ({:?} at step {:?}), got {:?}; \
                     raise step or lower floor_window",
                    Self::MAX_FLOOR_STEPS,
                    self.step.saturating_mul(Self::MAX_FLOOR_STEPS),
                    self.step,
                    self.floor_window
                ),
            );
        }
        if self.min_points < 3 {
            return fail(
                Kind::MinPoints,
                format!("min_points must be >= 3, got {}", self.min_points),
            );
        }
        if !(self.min_points..=1000).contains(&self.window_points) {
            return fail(
                Kind::WindowPoints,
                format!(
                    "window_points must be in {}..=1000, got {}",
                    self.min_points, self.window_points
                ),
            );
        }
        if !(self.min_slope.is_finite() && self.min_slope > 0.0) {
            return fail(
                Kind::MinSlope,
                format!("min_slope must be finite and > 0, got {}", self.min_slope),
            );
        }
        if !(self.min_z.is_finite() && self.min_z > 0.0) {
            return fail(Kind::MinZ, format!("min_z must be finite and > 0, got {}", self.min_z));
        }
        if !(self.min_growth.is_finite() && self.min_growth >= 0.0) {
            return fail(
                Kind::MinGrowth,
                format!("min_growth must be finite and >= 0, got {}", self.min_growth),
            );
        }
        if self.confirm == 0 {
            return fail(Kind::Confirm, "confirm must be >= 1, got 0".to_owned());
        }
        Ok(LeakDetector::from_builder(self))
    }
}

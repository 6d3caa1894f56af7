//! The streaming leak detector: floor extraction, robust trend, persistence, confirmation.

use std::collections::VecDeque;

use super::builder::LeakDetectorBuilder;
use super::error::{SampleError, SampleErrorKind};
use super::report::{LeakReport, LeakVerdict};
use super::stats::{LineFit, least_squares, mann_kendall_z, median, normal_cdf, theil_sen};

/// The analysis window is cut into this many segments; the floor must rise in each one, so
/// a one-time step (which lands in one segment) or a warm-up tail never alarms.
const SEGMENTS: usize = 3;
/// A segment must rise by at least this fraction of `min_slope * segment duration`.
const SEGMENT_RISE_FRACTION: f64 = 0.25;

/// A segment must also carry at least this fraction of its time-proportional share of the
/// window's total rise: a linear leak gives each segment its full share, a step gives one
/// segment all of it and the others none.
const SEGMENT_SHARE_FRACTION: f64 = 0.4;

/// Floor minima are kept per tick: a step is cut into this many ticks, so the floor window
/// adapts in steps of 5 s at the default 30 s step.
const TICKS_PER_STEP: u64 = 6;
/// Drops are measured between the means of two runs of this many consecutive samples, so a
/// single low sample (noise) is not a drop but a garbage-collection cycle (memory stays
/// down) is.
const DROP_SPAN: usize = 3;
/// A fall of the mean by more than this many times the 90th percentile of
/// `|sample-to-sample change|` over the previous step is a sharp drop: a garbage-collection
/// cycle.
const DROP_FACTOR: f64 = 2.0;
/// At most this many sample-to-sample changes per step feed the percentile (memory bound).
const MAX_CHANGES: usize = 256;
/// The floor window spans this many times the longest cycle seen.
const CYCLE_MARGIN: f64 = 1.05;
/// A window that reaches back before the warm-up horizon needs at least this many floor
/// points past it (2 min at the default step).
const MIN_POST: usize = 4;
/// ... and its slope past the horizon must be at least this fraction of its whole slope: a
/// warm-up saturates, a leak does not.
const STEADY_FRACTION: f64 = 0.6;

/// Finds memory leaks in a stream of `(t seconds, bytes)` samples, one at a time, without
/// alarming on garbage-collector sawtooths, warm-ups, one-time steps or mean-reverting wander.
///
/// Memory is bounded by the parameters, never by the number of samples. The method, its
/// parameters and measured false-alarm and detection rates are in `src/leak/README.md`:
/// in short, the memory *floor* is taken every 30 s as the trailing minimum over a window
/// sized from the garbage-collector cycles seen (sharp drops): 1.05 × the longest cycle, 30 s
/// without a sawtooth, 5 min at most. An alarm needs, in some window of the last 6 to 60 floor
/// points spanning at least one floor window, a Theil–Sen slope above 0.5 MiB/min, a
/// Mann–Kendall trend at 99 % confidence, a robust growth of 20 MB and a rise in each third
/// of the window, on three consecutive evaluations. Floor points before the 8-minute warm-up
/// horizon count only when at least four points past it keep 0.6 of the window's slope.
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
    tick_secs: f64,
    max_ticks: u64,
    samples: u64,
    first_t: Option<f64>,
    last_t: f64,
    /// The last `2 * DROP_SPAN` samples' bytes, for drop detection.
    recent: VecDeque<f64>,
    /// `|change|` of the samples in the step being filled.
    changes: Vec<f64>,
    /// 90th percentile of `|change|` over the last completed step: the noise scale for drop
    /// detection.
    change_scale: Option<f64>,
    /// Time of the last sharp drop (a garbage-collection cycle) and how many were seen.
    last_drop: Option<f64>,
    drops: u64,
    /// The longest interval between two consecutive drops seen so far.
    longest_cycle: f64,
    /// Index and minimum of the tick bucket being filled.
    bucket: Option<(u64, f64)>,
    /// Minima of the most recent tick buckets, `max_ticks` of them at most.
    minima: VecDeque<(u64, f64)>,
    /// Floor points whose window lies inside the series, `window_points` at most.
    floors: VecDeque<FloorPoint>,
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

    /// A builder for other parameters, starting from the defaults.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuilder};
    ///
    /// assert_eq!(LeakDetector::builder(), LeakDetectorBuilder::new());
    /// let d = LeakDetector::builder().build()?;
    /// assert_eq!(d.config(), LeakDetector::new().config());
    /// # Ok::<(), pool_metrics::LeakDetectorBuildError>(())
    /// ```
    pub fn builder() -> LeakDetectorBuilder {
        LeakDetectorBuilder::new()
    }

    pub(crate) fn from_builder(config: LeakDetectorBuilder) -> Self {
        let tick_secs = config.step.as_secs_f64() / TICKS_PER_STEP as f64;
        let max_ticks = (config.floor_window.as_secs_f64() / tick_secs).ceil().max(1.0) as u64;
        Self {
            config,
            tick_secs,
            max_ticks,
            samples: 0,
            first_t: None,
            last_t: f64::NEG_INFINITY,
            recent: VecDeque::with_capacity(2 * DROP_SPAN + 1),
            changes: Vec::new(),
            change_scale: None,
            last_drop: None,
            drops: 0,
            longest_cycle: 0.0,
            bucket: None,
            minima: VecDeque::with_capacity(max_ticks as usize + 1),
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

        self.track_drops(t, bytes);
        let first_t = *self.first_t.get_or_insert(t);
        let index = ((t - first_t) / self.tick_secs) as u64;
        match self.bucket {
            Some((i, min)) if i == index => self.bucket = Some((i, min.min(bytes))),
            Some((i, min)) => {
                self.bucket = Some((index, bytes));
                return Ok(self.close_bucket(i, min, index, t));
            }
            None => self.bucket = Some((index, bytes)),
        }
        Ok(false)
    }

    /// Updates the noise scale's inputs and the garbage-collection cycle estimate.
    fn track_drops(&mut self, t: f64, bytes: f64) {
        if let Some(&prev) = self.recent.back()
            && self.changes.len() < MAX_CHANGES
        {
            self.changes.push((bytes - prev).abs());
        }
        if self.recent.len() == 2 * DROP_SPAN {
            self.recent.pop_front();
        }
        self.recent.push_back(bytes);
        let Some(scale) = self.change_scale else { return };
        if self.recent.len() < 2 * DROP_SPAN {
            return;
        }
        let before: f64 = self.recent.iter().take(DROP_SPAN).sum();
        let after: f64 = self.recent.iter().skip(DROP_SPAN).sum();
        if (before - after) / DROP_SPAN as f64 <= DROP_FACTOR * scale {
            return;
        }
        // One drop shows in several consecutive positions of the two runs: count it once.
        let fresh = self.last_drop.is_none_or(|last| t - last > 2.0 * DROP_SPAN as f64);
        if fresh {
            if let Some(last) = self.last_drop {
                self.longest_cycle = self.longest_cycle.max(t - last);
            }
            self.drops += 1;
        }
        self.last_drop = Some(t);
    }

    /// The floor window in ticks: long enough to hold a trough of the slowest garbage-collector
    /// cycle seen so far, one step when no cycle has been seen, `floor_window` at most.
    fn floor_ticks(&self, now: f64) -> u64 {
        let cycle = match (self.drops, self.last_drop) {
            (0, _) | (_, None) => 0.0,
            // One drop: the period is unknown, so assume the longest.
            (1, _) => f64::INFINITY,
            (_, Some(last)) => self.longest_cycle.max(now - last),
        };
        let ticks = (CYCLE_MARGIN * cycle / self.tick_secs).ceil();
        if ticks.is_finite() {
            (ticks as u64).clamp(TICKS_PER_STEP, self.max_ticks)
        } else {
            self.max_ticks
        }
    }

    /// Ends tick bucket `index` (minimum `min`); at a step boundary (`next` is the next
    /// sample's tick) adds a floor point and re-evaluates.
    fn close_bucket(&mut self, index: u64, min: f64, next: u64, now: f64) -> bool {
        // Saturating: a tick index saturates at `u64::MAX` for absurd times over a tiny step.
        while self.minima.front().is_some_and(|&(i, _)| i.saturating_add(self.max_ticks) <= index) {
            self.minima.pop_front();
        }
        self.minima.push_back((index, min));
        if index / TICKS_PER_STEP == next / TICKS_PER_STEP {
            return false;
        }
        if !self.changes.is_empty() {
            let at = self.changes.len() * 9 / 10;
            let (_, q90, _) = self.changes.select_nth_unstable_by(at, f64::total_cmp);
            self.change_scale = Some(*q90);
            self.changes.clear();
        }
        // The floor window ends with this bucket; it is a valid floor only once it lies wholly
        // inside the series.
        let ticks = self.floor_ticks(now);
        let end = (index as f64 + 1.0) * self.tick_secs;
        let start = end - ticks as f64 * self.tick_secs;
        if start < 0.0 {
            return false;
        }
        // Past the horizon once a floor window has started past it (the window can shrink
        // again when a shorter cycle ends a long gap between drops).
        let post =
            start >= self.config.warmup.as_secs_f64() || self.floors.back().is_some_and(|p| p.post);
        let floor = self
            .minima
            .iter()
            .filter(|&&(i, _)| i.saturating_add(ticks) > index)
            .map(|&(_, m)| m)
            .fold(f64::INFINITY, f64::min);
        if self.floors.len() == self.config.window_points {
            self.floors.pop_front();
        }
        self.floors.push_back(FloorPoint { t: end, y: floor, post });
        self.evaluate(now)
    }

    fn evaluate(&mut self, now: f64) -> bool {
        // Points before the warm-up horizon count only as the lead-in of a window whose
        // last `MIN_POST` points or more lie past it.
        let post_points = self.floors.iter().filter(|p| p.post).count();
        let keep = if post_points >= MIN_POST { self.floors.len() } else { post_points };
        let points: Vec<(f64, f64)> =
            self.floors.iter().skip(self.floors.len() - keep).map(|p| (p.t, p.y)).collect();
        // A suspect window spans at least one floor window: after a step under a slow
        // sawtooth the floor climbs the ramp of the last cycle before the step for up to one
        // floor window, then stays level.
        let floor_secs = self.floor_ticks(now) as f64 * self.tick_secs;
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
            let w = self.window(&points[n - k..], post_points);
            let suspect = w.slope >= self.config.min_slope
                && w.z >= self.config.min_z
                && w.growth >= self.config.min_growth
                && w.persistent
                && w.steady
                && w.span >= floor_secs;
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
            window_start_t: self.first_t.unwrap_or(0.0) + w.start_t,
            trend_start_bytes: w.start_y,
        };
        first
    }

    /// The statistics of one analysis window.
    fn window(&mut self, points: &[(f64, f64)], post_points: usize) -> Window {
        let n = points.len();
        let slope = theil_sen(points, &mut self.scratch).unwrap_or(0.0);
        // The Theil–Sen line's offset: the median residual of the points from the slope.
        let start_t = points[0].0;
        self.scratch.clear();
        self.scratch.extend(points.iter().map(|&(t, y)| y - slope * (t - start_t)));
        let start_y = median(&mut self.scratch).unwrap_or(points[0].1);
        // A window reaching back before the warm-up horizon must keep its slope past it: a
        // warm-up saturates, a leak does not.
        let steady = n <= post_points || {
            let post = &points[n - post_points..];
            let post_slope = theil_sen(post, &mut self.scratch).unwrap_or(0.0);
            post_slope >= STEADY_FRACTION * slope && post_slope >= self.config.min_slope
        };
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
            start_t,
            start_y,
            points: n,
            span,
            slope,
            growth: slope * span,
            fit: least_squares(points.iter().copied()),
            z: mann_kendall_z(&ys),
            persistent,
            steady,
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

    /// The memory floor points the detector holds now, `(t, bytes)` oldest first: one per
    /// step, the last [`window_points`](LeakDetectorBuilder::window_points) of them. Read it
    /// after each [`push`](Self::push) to follow the floor over a whole run (as `leakcheck
    /// --plot` does).
    ///
    /// ```
    /// let mut d = pool_metrics::LeakDetector::new();
    /// for t in 0..600 {
    ///     // A 10 MB sawtooth with a 60 s period over a 100 MB floor.
    ///     d.push(f64::from(t), 100e6 + f64::from(t % 60) / 60.0 * 10e6)?;
    /// }
    /// let floor: Vec<(f64, f64)> = d.floor().collect();
    /// assert!(!floor.is_empty());
    /// assert!(floor.iter().all(|&(_, y)| (100e6..101e6).contains(&y)), "{floor:?}");
    /// # Ok::<(), pool_metrics::SampleError>(())
    /// ```
    pub fn floor(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        // Floor points are stamped relative to the first sample; report them in the caller's
        // time.
        let origin = self.first_t.unwrap_or(0.0);
        self.floors.iter().map(move |p| (origin + p.t, p.y))
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

/// One floor point.
#[derive(Debug, Clone, Copy)]
struct FloorPoint {
    t: f64,
    y: f64,
    /// Its floor window starts past the warm-up horizon (or an earlier point's did).
    post: bool,
}

/// Statistics of one analysis window.
struct Window {
    start_t: f64,
    start_y: f64,
    points: usize,
    span: f64,
    slope: f64,
    growth: f64,
    fit: Option<LineFit>,
    z: f64,
    persistent: bool,
    /// Past the warm-up horizon, or keeps its slope across it.
    steady: bool,
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
        window_start_t: 0.0,
        trend_start_bytes: 0.0,
    }
}

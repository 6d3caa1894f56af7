//! Adaptive concurrency: how many tasks a pool lets run at once, found by hill climbing on
//! throughput.
//!
//! Rule. While tasks are waiting in the queue (there is demand), every `window` completed tasks
//! give one throughput estimate for the current limit `L` by Little's law: with `L` tasks in
//! service and a mean run time `R`, throughput is `X(L) = L / R`. Estimates are kept per level
//! (an exponential average). The limit then moves one step:
//!
//! 1. down, if `L - 1` was measured recently and is within `tolerance` of `X(L)` (as fast with
//!    fewer tasks running: the extra task only added contention);
//! 2. up, if `L + 1` was measured recently and beat `X(L)` by more than `tolerance`;
//! 3. up, to probe, if `L + 1` has no recent estimate and there is demand;
//! 4. down, to probe, if `L - 1` has no recent estimate;
//! 5. otherwise it stays.
//!
//! The `tolerance` band and the `reprobe_after` interval are the hysteresis: the limit sits on
//! the knee of the throughput curve and leaves it only for a one-window probe every
//! `reprobe_after` windows. This is the finite-difference gradient rule of .NET's thread-pool
//! hill climbing, applied to the number of admitted tasks rather than threads. Windows without
//! demand are ignored: below the limit the pool is not the bottleneck and `L / R` would
//! overstate throughput.
//!
//! The limit is enforced by the pool's queue: at most `limit` drainer jobs pop and run tasks
//! (see `queue.rs`), so at most `limit` tasks run at once, the rest wait in the queue.

use std::fmt;

use crate::sync::{AtomicUsize, Mutex, Ordering};

/// Settings for adaptive concurrency; pass to
/// [`ComputePoolBuilder::adaptive`](crate::ComputePoolBuilder::adaptive).
///
/// # Examples
///
/// ```
/// use pool_core::{AdaptiveConfig, ComputePool};
///
/// let pool = ComputePool::builder()
///     .threads(4)
///     .adaptive(AdaptiveConfig::new().min_limit(1).initial_limit(2))
///     .build()
///     .unwrap();
/// assert_eq!(pool.stats().concurrency_limit, 2);
/// let adaptive = pool.config().adaptive.unwrap();
/// assert_eq!(adaptive.get_max_limit(), Some(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct AdaptiveConfig {
    min_limit: usize,
    max_limit: Option<usize>,
    initial_limit: Option<usize>,
    window: usize,
    tolerance: f64,
    reprobe_after: u32,
}

impl AdaptiveConfig {
    /// Completed tasks per decision. 32 keeps the relative noise of a mean run time near
    /// 1/sqrt(32) ≈ 18 % for exponential run times while still reacting within a few ms for
    /// sub-ms tasks.
    pub const DEFAULT_WINDOW: usize = 32;
    /// Relative throughput difference treated as "no better": 5 %.
    pub const DEFAULT_TOLERANCE: f64 = 0.05;
    /// Windows after which a neighbouring level's estimate is stale and is probed again.
    pub const DEFAULT_REPROBE_AFTER: u32 = 16;

    /// Defaults: limits from 1 to the thread count, starting at the thread count.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = pool_core::AdaptiveConfig::new();
    /// assert_eq!(c.get_min_limit(), 1);
    /// assert_eq!(c.get_window(), pool_core::AdaptiveConfig::DEFAULT_WINDOW);
    /// ```
    pub const fn new() -> Self {
        Self {
            min_limit: 1,
            max_limit: None,
            initial_limit: None,
            window: Self::DEFAULT_WINDOW,
            tolerance: Self::DEFAULT_TOLERANCE,
            reprobe_after: Self::DEFAULT_REPROBE_AFTER,
        }
    }

    /// The lowest limit (≥ 1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().min_limit(2).get_min_limit(), 2);
    /// ```
    pub const fn min_limit(mut self, n: usize) -> Self {
        self.min_limit = n;
        self
    }

    /// The highest limit (≤ threads; defaults to the thread count).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().max_limit(3).get_max_limit(), Some(3));
    /// ```
    pub const fn max_limit(mut self, n: usize) -> Self {
        self.max_limit = Some(n);
        self
    }

    /// The starting limit (defaults to the maximum).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().initial_limit(3).get_initial_limit(), Some(3));
    /// ```
    pub const fn initial_limit(mut self, n: usize) -> Self {
        self.initial_limit = Some(n);
        self
    }

    /// Completed tasks per decision (≥ 1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().window(8).get_window(), 8);
    /// ```
    pub const fn window(mut self, n: usize) -> Self {
        self.window = n;
        self
    }

    /// The hysteresis band, a fraction in `0.0..1.0`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().tolerance(0.1).get_tolerance(), 0.1);
    /// ```
    pub const fn tolerance(mut self, t: f64) -> Self {
        self.tolerance = t;
        self
    }

    /// Windows before a neighbouring level is probed again (≥ 1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().reprobe_after(4).get_reprobe_after(), 4);
    /// ```
    pub const fn reprobe_after(mut self, windows: u32) -> Self {
        self.reprobe_after = windows;
        self
    }

    /// The lowest limit.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().get_min_limit(), 1);
    /// ```
    #[must_use]
    pub const fn get_min_limit(&self) -> usize {
        self.min_limit
    }

    /// The highest limit, once set (a built pool reports the effective value).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().get_max_limit(), None);
    /// ```
    #[must_use]
    pub const fn get_max_limit(&self) -> Option<usize> {
        self.max_limit
    }

    /// The starting limit, once set (a built pool reports the effective value).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().get_initial_limit(), None);
    /// ```
    #[must_use]
    pub const fn get_initial_limit(&self) -> Option<usize> {
        self.initial_limit
    }

    /// Completed tasks per decision.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().get_window(), 32);
    /// ```
    #[must_use]
    pub const fn get_window(&self) -> usize {
        self.window
    }

    /// The hysteresis band.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().get_tolerance(), 0.05);
    /// ```
    #[must_use]
    pub const fn get_tolerance(&self) -> f64 {
        self.tolerance
    }

    /// Windows before a neighbouring level is probed again.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::AdaptiveConfig::new().get_reprobe_after(), 16);
    /// ```
    #[must_use]
    pub const fn get_reprobe_after(&self) -> u32 {
        self.reprobe_after
    }

    /// Checks the settings against the thread count and fills in the defaults that depend on it.
    pub(crate) fn resolve(mut self, threads: usize) -> Result<Self, String> {
        let max = self.max_limit.unwrap_or(threads);
        if self.min_limit == 0 {
            return Err("adaptive min_limit must be > 0, got 0".to_string());
        }
        if max > threads {
            return Err(format!("adaptive max_limit must be <= threads ({threads}), got {max}"));
        }
        if self.min_limit > max {
            return Err(format!(
                "adaptive min_limit ({}) must be <= max_limit ({max})",
                self.min_limit
            ));
        }
        let initial = self.initial_limit.unwrap_or(max);
        if initial < self.min_limit || initial > max {
            return Err(format!(
                "adaptive initial_limit must be within {}..={max}, got {initial}",
                self.min_limit
            ));
        }
        if self.window == 0 {
            return Err("adaptive window must be > 0, got 0".to_string());
        }
        if !(0.0..1.0).contains(&self.tolerance) {
            return Err(format!("adaptive tolerance must be in 0.0..1.0, got {}", self.tolerance));
        }
        if self.reprobe_after == 0 {
            return Err("adaptive reprobe_after must be > 0, got 0".to_string());
        }
        self.max_limit = Some(max);
        self.initial_limit = Some(initial);
        Ok(self)
    }
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct Level {
    throughput: f64,
    at_window: u64,
}

/// The decision rule, free of threads and clocks so it can be driven by a synthetic load.
#[derive(Debug)]
pub(crate) struct Controller {
    min: usize,
    max: usize,
    window: usize,
    tolerance: f64,
    reprobe_after: u64,
    limit: usize,
    samples: usize,
    sum_nanos: f64,
    demand: bool,
    windows: u64,
    /// Throughput estimate per limit, indexed by the limit.
    levels: Vec<Option<Level>>,
}

impl Controller {
    /// `cfg` must have gone through [`AdaptiveConfig::resolve`].
    pub(crate) fn new(cfg: &AdaptiveConfig) -> Self {
        let max = cfg.max_limit.unwrap_or(cfg.min_limit).max(cfg.min_limit);
        Self {
            min: cfg.min_limit,
            max,
            window: cfg.window,
            tolerance: cfg.tolerance,
            reprobe_after: u64::from(cfg.reprobe_after),
            limit: cfg.initial_limit.unwrap_or(max).clamp(cfg.min_limit, max),
            samples: 0,
            sum_nanos: 0.0,
            demand: false,
            windows: 0,
            levels: vec![None; max + 2],
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    fn fresh(&self, level: usize) -> Option<f64> {
        self.levels
            .get(level)
            .copied()
            .flatten()
            .filter(|l| self.windows - l.at_window <= self.reprobe_after)
            .map(|l| l.throughput)
    }

    /// Feeds one completed task's run time and the queue length seen at its end; returns the
    /// new limit when it changes.
    pub(crate) fn observe(&mut self, run_nanos: u64, queue_len: usize) -> Option<usize> {
        self.samples += 1;
        self.sum_nanos += run_nanos as f64;
        self.demand |= queue_len > 0;
        if self.samples < self.window {
            return None;
        }
        let mean = (self.sum_nanos / self.samples as f64).max(1.0);
        let demand = std::mem::take(&mut self.demand);
        self.samples = 0;
        self.sum_nanos = 0.0;
        self.windows += 1;
        if !demand {
            return None;
        }
        let l = self.limit;
        // Little's law with `l` tasks in service: throughput = l / mean run time.
        let x = l as f64 / mean;
        let x = match self.levels[l] {
            Some(prev) => 0.5 * prev.throughput + 0.5 * x,
            None => x,
        };
        self.levels[l] = Some(Level { throughput: x, at_window: self.windows });
        let tol = self.tolerance;
        let below = if l > self.min { Some(self.fresh(l - 1)) } else { None };
        let above = if l < self.max { Some(self.fresh(l + 1)) } else { None };
        let next = match (below, above) {
            (Some(Some(xb)), _) if xb >= x * (1.0 - tol) => l - 1,
            (_, Some(Some(xa))) if xa > x * (1.0 + tol) => l + 1,
            (_, Some(None)) => l + 1,
            (Some(None), _) => l - 1,
            _ => l,
        };
        (next != l).then(|| {
            self.limit = next;
            next
        })
    }
}

/// The controller behind a lock, plus its limit for lock-free reads on every task.
pub(crate) struct Gate {
    controller: Mutex<Controller>,
    limit: AtomicUsize,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate").field("limit", &self.limit()).finish_non_exhaustive()
    }
}

impl Gate {
    pub(crate) fn new(cfg: &AdaptiveConfig) -> Self {
        let controller = Controller::new(cfg);
        Self { limit: AtomicUsize::new(controller.limit()), controller: Mutex::new(controller) }
    }

    /// The number of tasks allowed to run at once now.
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Feeds one finished task to the controller.
    pub(crate) fn observe(&self, run_nanos: u64, queue_len: usize) {
        let mut c = self.controller.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = c.observe(run_nanos, queue_len) {
            self.limit.store(l, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(shuttle)))]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    /// A synthetic load: the work contends for a resource that serves `knee` tasks at full speed,
    /// so each task's run time is `base × max(1, running / knee)`. Deterministic jitter of ±3 %
    /// stands in for noise. Returns the limit after each window.
    fn drive(ctl: &mut Controller, knee: usize, windows: usize, queue_len: usize) -> Vec<usize> {
        let base = 1_000_000.0;
        let mut trace = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..windows {
            for _ in 0..ctl.window {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let jitter = 1.0 + ((seed % 61) as f64 - 30.0) / 1000.0;
                let l = ctl.limit() as f64;
                let run = base * (l / knee as f64).max(1.0) * jitter;
                ctl.observe(run as u64, queue_len);
            }
            trace.push(ctl.limit());
        }
        trace
    }

    fn controller(min: usize, max: usize, initial: usize) -> Controller {
        let cfg = AdaptiveConfig::new().min_limit(min).max_limit(max).initial_limit(initial);
        Controller::new(&cfg.resolve(max).unwrap())
    }

    fn settled(trace: &[usize], knee: usize) {
        let tail = &trace[trace.len() - 200..];
        assert!(tail.iter().all(|&l| l + 1 >= knee && l <= knee + 1), "left the knee: {tail:?}");
        let at_knee = tail.iter().filter(|&&l| l == knee).count();
        assert!(at_knee * 10 >= tail.len() * 8, "at the knee only {at_knee}/200 windows: {tail:?}");
    }

    #[test]
    fn climbs_from_one_to_the_knee_and_stays() {
        let mut c = controller(1, 16, 1);
        let trace = drive(&mut c, 6, 400, 100);
        settled(&trace, 6);
    }

    #[test]
    fn descends_from_the_thread_count_to_the_knee() {
        let mut c = controller(1, 16, 16);
        let trace = drive(&mut c, 3, 400, 100);
        settled(&trace, 3);
    }

    #[test]
    fn follows_a_moving_knee() {
        let mut c = controller(1, 16, 4);
        settled(&drive(&mut c, 4, 300, 100), 4);
        settled(&drive(&mut c, 10, 300, 100), 10);
        settled(&drive(&mut c, 2, 300, 100), 2);
    }

    #[test]
    fn without_demand_the_limit_does_not_move() {
        let mut c = controller(1, 16, 5);
        let trace = drive(&mut c, 2, 100, 0);
        assert!(trace.iter().all(|&l| l == 5));
    }
}

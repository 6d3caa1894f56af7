//! Timers: a latency histogram with success and error counts, as an RAII guard or a closure
//! wrapper (the seeds' performance-monitor decorator).

use crate::clock::Start;
use crate::counter::Counter;
use crate::histogram::{Histogram, HistogramSnapshot};

use serde::{Deserialize, Serialize};

/// Times operations: each one records its duration (nanoseconds) into a [`Histogram`] and
/// counts as a success or an error.
///
/// ```
/// use pool_metrics::Timer;
///
/// let t = Timer::new();
/// let sum = t.time(|| (1..=10).sum::<u32>());
/// let parsed: Result<u32, _> = t.time_result(|| "x".parse::<u32>());
/// assert_eq!(sum, 55);
/// assert!(parsed.is_err());
/// let s = t.snapshot();
/// assert_eq!((s.successes, s.errors, s.latency.count), (1, 1, 2));
/// ```
#[derive(Debug, Default)]
pub struct Timer {
    latency: Histogram,
    successes: Counter,
    errors: Counter,
}

/// A timer's figures.
///
/// ```
/// let s = pool_metrics::Timer::new().snapshot();
/// assert_eq!(s.successes + s.errors, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimerSnapshot {
    /// Durations in nanoseconds.
    pub latency: HistogramSnapshot,
    /// Operations that succeeded.
    pub successes: u64,
    /// Operations that failed (an `Err`, [`TimerGuard::fail`], or a panic).
    pub errors: u64,
}

impl Timer {
    /// A timer with a default [`Histogram`] (1 ns ..= 1 h, 0.1 %).
    ///
    /// ```
    /// assert_eq!(pool_metrics::Timer::new().snapshot().latency.count, 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A timer recording into `latency` (for another range or precision).
    ///
    /// ```
    /// let h = pool_metrics::Histogram::builder().max_relative_error(0.01).build()?;
    /// let t = pool_metrics::Timer::with_histogram(h);
    /// t.time(|| ());
    /// assert_eq!(t.latency().count(), 1);
    /// # Ok::<(), pool_metrics::HistogramBuildError>(())
    /// ```
    pub fn with_histogram(latency: Histogram) -> Self {
        Self { latency, successes: Counter::new(), errors: Counter::new() }
    }

    /// Starts timing; the guard records when dropped, as a success unless
    /// [`TimerGuard::fail`] was called or the thread is panicking.
    ///
    /// ```
    /// let t = pool_metrics::Timer::new();
    /// {
    ///     let _guard = t.start();
    ///     // ... the work ...
    /// }
    /// assert_eq!(t.snapshot().successes, 1);
    /// ```
    #[inline]
    pub fn start(&self) -> TimerGuard<'_> {
        TimerGuard { timer: self, start: Start::now(), failed: false }
    }

    /// Runs `f`, recording its duration as a success (an error if it panics).
    ///
    /// ```
    /// let t = pool_metrics::Timer::new();
    /// assert_eq!(t.time(|| 2 + 2), 4);
    /// ```
    #[inline]
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let _guard = self.start();
        f()
    }

    /// Runs `f`, recording its duration and counting `Ok` as a success and `Err` as an error.
    ///
    /// ```
    /// let t = pool_metrics::Timer::new();
    /// let r: Result<(), &str> = t.time_result(|| Err("boom"));
    /// assert_eq!(r, Err("boom"));
    /// assert_eq!(t.snapshot().errors, 1);
    /// ```
    #[inline]
    pub fn time_result<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mut guard = self.start();
        let r = f();
        if r.is_err() {
            guard.fail();
        }
        r
    }

    /// The latency histogram.
    ///
    /// ```
    /// let t = pool_metrics::Timer::new();
    /// assert_eq!(t.latency().count(), 0);
    /// ```
    pub fn latency(&self) -> &Histogram {
        &self.latency
    }

    /// Latency summary plus success and error counts.
    ///
    /// ```
    /// let t = pool_metrics::Timer::new();
    /// t.time(|| ());
    /// assert_eq!(t.snapshot().successes, 1);
    /// ```
    pub fn snapshot(&self) -> TimerSnapshot {
        TimerSnapshot {
            latency: self.latency.snapshot(),
            successes: self.successes.get(),
            errors: self.errors.get(),
        }
    }

    /// Records an operation timed elsewhere.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = pool_metrics::Timer::new();
    /// t.record(Duration::from_micros(5), false);
    /// assert_eq!((t.snapshot().errors, t.snapshot().latency.max), (1, 5_000));
    /// ```
    #[inline]
    pub fn record(&self, elapsed: std::time::Duration, success: bool) {
        self.latency.record_duration(elapsed);
        if success { self.successes.inc() } else { self.errors.inc() }
    }
}

/// Records the time since [`Timer::start`] when dropped.
///
/// ```
/// let t = pool_metrics::Timer::new();
/// let mut g = t.start();
/// g.fail();
/// drop(g);
/// assert_eq!(t.snapshot().errors, 1);
/// ```
#[derive(Debug)]
#[must_use = "the guard records when dropped; dropping it at once times nothing"]
pub struct TimerGuard<'a> {
    timer: &'a Timer,
    start: Start,
    failed: bool,
}

impl TimerGuard<'_> {
    /// Counts this operation as an error.
    ///
    /// ```
    /// let t = pool_metrics::Timer::new();
    /// t.start().fail();
    /// assert_eq!(t.snapshot().errors, 1);
    /// ```
    pub fn fail(&mut self) {
        self.failed = true;
    }
}

impl Drop for TimerGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        let ok = !self.failed && !std::thread::panicking();
        self.timer.record(self.start.elapsed(), ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_counts_as_an_error() {
        let t = Timer::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            t.time(|| panic!("boom"));
        }));
        assert!(r.is_err());
        let s = t.snapshot();
        assert_eq!((s.successes, s.errors, s.latency.count), (0, 1, 1));
    }

    #[test]
    fn durations_are_plausible() {
        let t = Timer::new();
        t.time(|| {
            let start = std::time::Instant::now();
            while start.elapsed() < std::time::Duration::from_millis(2) {
                std::hint::spin_loop();
            }
        });
        let ns = t.snapshot().latency.max;
        assert!((1_500_000..1_000_000_000).contains(&ns), "{ns}");
    }
}

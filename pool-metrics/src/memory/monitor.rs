//! The memory monitor: a bounded ring of snapshots, thresholds, alerts, pressure and leaks.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::alloc::CountingAlloc;
use super::error::{
    MemoryError, MemoryMonitorBuildError, MemoryMonitorBuildErrorKind, SpawnSamplerError,
    SpawnSamplerErrorKind,
};
use super::pressure::{MemoryPressure, PressureLevel};
use super::probe::{MemoryProbe, MemorySnapshot};
use super::subscription::{Listeners, Subscription};
use crate::clock::{Clock, MonotonicClock};
use crate::leak::{LeakDetector, LeakDetectorBuilder, LeakReport, SampleError, SampleErrorKind};

/// One snapshot in the monitor's ring, with its time in seconds since the monitor started.
///
/// ```
/// use pool_metrics::{MemoryMonitor, MemorySnapshot};
///
/// let m = MemoryMonitor::builder().build()?;
/// let memory = MemorySnapshot { rss_bytes: 900, virtual_bytes: 2_000, allocated_bytes: Some(700) };
/// m.record(1.5, memory)?;
/// let sample = m.samples()[0];
/// assert_eq!((sample.t_secs, sample.memory.used_bytes()), (1.5, 700)); // allocator bytes win
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MemorySample {
    /// Seconds since the monitor was built.
    pub t_secs: f64,
    /// The figures.
    pub memory: MemorySnapshot,
}

/// What crossed a threshold. Alerts are edge-triggered: one when the condition starts, again
/// only after it has cleared.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use pool_metrics::{MemoryAlertKind, MemoryMonitor, MemorySnapshot};
///
/// let m = MemoryMonitor::builder().limit_bytes(1_000).build()?;
/// let kinds = Arc::new(Mutex::new(Vec::new()));
/// let sink = kinds.clone();
/// let _alerts = m.on_alert(move |a| sink.lock().unwrap().push(a.kind.clone()));
/// m.record(0.0, MemorySnapshot { rss_bytes: 1_200, ..Default::default() })?;
/// assert!(kinds.lock().unwrap().contains(&MemoryAlertKind::AboveLimit {
///     used_bytes: 1_200,
///     limit_bytes: 1_000,
/// }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MemoryAlertKind {
    /// Used bytes reached the hard limit.
    AboveLimit {
        /// Bytes in use.
        used_bytes: u64,
        /// The configured limit.
        limit_bytes: u64,
    },
    /// Used bytes grew faster than allowed over the ring's window.
    FastGrowth {
        /// Growth over the ring, bytes/s.
        bytes_per_sec: f64,
        /// The configured limit, bytes/s.
        limit_bytes_per_sec: f64,
    },
    /// The leak detector raised its alarm.
    Leak {
        /// Its robust slope, bytes/s.
        slope_bytes_per_sec: f64,
    },
    /// The pressure level changed.
    Pressure {
        /// The new level.
        level: PressureLevel,
    },
}

/// An alert with the time it was raised.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use pool_metrics::{MemoryAlertKind, MemoryMonitor, MemorySnapshot, PressureLevel};
///
/// let m = MemoryMonitor::builder().high_bytes(100).build()?;
/// let alerts = Arc::new(Mutex::new(Vec::new()));
/// let sink = alerts.clone();
/// let _subscription = m.on_alert(move |a| sink.lock().unwrap().push(a.clone()));
/// m.record(3.0, MemorySnapshot { rss_bytes: 150, ..Default::default() })?;
/// let alerts = alerts.lock().unwrap();
/// assert_eq!(alerts[0].t_secs, 3.0);
/// assert_eq!(alerts[0].kind, MemoryAlertKind::Pressure { level: PressureLevel::High });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryAlert {
    /// Seconds since the monitor was built.
    pub t_secs: f64,
    /// What happened.
    pub kind: MemoryAlertKind,
}

/// Settings of a [`MemoryMonitor`]; start from [`MemoryMonitor::builder`].
///
/// ```
/// use std::time::Duration;
/// use pool_metrics::{LeakDetector, MemoryMonitor};
///
/// // A monitor for a two-minute soak test: a leak detector scaled down from its defaults
/// // (see `LeakDetectorBuilder`'s "Settings for short runs").
/// let detector = LeakDetector::builder()
///     .step(Duration::from_secs(1))
///     .floor_window(Duration::from_secs(10))
///     .warmup(Duration::from_secs(5))
///     .min_slope(10e3)
///     .min_growth(500e3)
///     .build()?;
/// let m = MemoryMonitor::builder()
///     .capacity(60)
///     .high_bytes(1 << 30)
///     .limit_bytes(2 << 30)
///     .leak_detector(detector)
///     .build()?;
/// assert_eq!(m.capacity(), 60);
/// assert_eq!(m.leak_report().map(|r| r.samples), Some(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct MemoryMonitorBuilder {
    capacity: usize,
    high_bytes: Option<u64>,
    limit_bytes: Option<u64>,
    max_growth: Option<f64>,
    allocator: Option<&'static CountingAlloc>,
    leak: Option<LeakDetectorBuilder>,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for MemoryMonitorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryMonitorBuilder")
            .field("capacity", &self.capacity)
            .field("high_bytes", &self.high_bytes)
            .field("limit_bytes", &self.limit_bytes)
            .field("max_growth", &self.max_growth)
            .field("allocator", &self.allocator.is_some())
            .field("leak", &self.leak)
            .field("clock", &self.clock.as_ref().map_or("monotonic", |_| "custom"))
            .finish()
    }
}

impl Default for MemoryMonitorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryMonitorBuilder {
    /// 600 snapshots: ten minutes at one a second, 600 x 40 B = 24 KB.
    pub const DEFAULT_CAPACITY: usize = 600;

    /// The defaults: no thresholds, no allocator, leak detection on with the detector's
    /// default parameters, the monotonic clock.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitorBuilder::new().build()?;
    /// assert_eq!(m.capacity(), pool_metrics::MemoryMonitorBuilder::DEFAULT_CAPACITY);
    /// assert!(m.leak_report().is_some());
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn new() -> Self {
        Self {
            capacity: Self::DEFAULT_CAPACITY,
            high_bytes: None,
            limit_bytes: None,
            max_growth: None,
            allocator: None,
            leak: Some(LeakDetectorBuilder::new()),
            clock: None,
        }
    }

    /// Snapshots kept in the ring (> 0); the growth rate is measured across it.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().capacity(2).build()?;
    /// for t in 0..5 {
    ///     m.record(f64::from(t), Default::default())?;
    /// }
    /// assert_eq!(m.samples().len(), 2); // the oldest fell out
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Soft threshold: at or above it the pressure is [`PressureLevel::High`].
    ///
    /// ```
    /// use pool_metrics::{MemoryMonitor, MemorySnapshot, PressureLevel};
    ///
    /// let m = MemoryMonitor::builder().high_bytes(1 << 20).build()?;
    /// m.record(0.0, MemorySnapshot { rss_bytes: 2 << 20, ..Default::default() })?;
    /// assert_eq!(m.pressure().level(), PressureLevel::High);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn high_bytes(mut self, bytes: u64) -> Self {
        self.high_bytes = Some(bytes);
        self
    }

    /// Hard limit: at or above it an alert fires and the pressure is
    /// [`PressureLevel::Critical`].
    ///
    /// ```
    /// use pool_metrics::{MemoryMonitor, MemorySnapshot, PressureLevel};
    ///
    /// let m = MemoryMonitor::builder().limit_bytes(1 << 30).build()?;
    /// m.record(0.0, MemorySnapshot { rss_bytes: 1 << 30, ..Default::default() })?;
    /// assert_eq!(m.pressure().level(), PressureLevel::Critical);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn limit_bytes(mut self, bytes: u64) -> Self {
        self.limit_bytes = Some(bytes);
        self
    }

    /// Alert when used bytes grow faster than this many bytes/s across the ring. Must be
    /// finite and > 0.
    ///
    /// ```
    /// use pool_metrics::{MemoryMonitor, MemoryMonitorBuildErrorKind};
    ///
    /// let err = MemoryMonitor::builder().max_growth(-1.0).build().unwrap_err();
    /// assert_eq!(err.kind(), MemoryMonitorBuildErrorKind::MaxGrowth);
    /// ```
    pub fn max_growth(mut self, bytes_per_sec: f64) -> Self {
        self.max_growth = Some(bytes_per_sec);
        self
    }

    /// Read live heap bytes from this installed counting allocator.
    ///
    /// ```
    /// static A: pool_metrics::CountingAlloc = pool_metrics::CountingAlloc::system();
    ///
    /// let m = pool_metrics::MemoryMonitor::builder().allocator(&A).build()?;
    /// match m.sample() {
    ///     // Not installed here, so it counted nothing; a sample carries its figure.
    ///     Ok(s) => assert_eq!(s.memory.allocated_bytes, Some(0)),
    ///     Err(e) => assert_eq!(e.kind(), pool_metrics::MemoryErrorKind::Unsupported),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocator(mut self, allocator: &'static CountingAlloc) -> Self {
        self.allocator = Some(allocator);
        self
    }

    /// Feed every snapshot to a [`LeakDetector`] with default parameters (on by default), or
    /// to none.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().detect_leaks(false).build()?;
    /// assert!(m.leak_report().is_none());
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn detect_leaks(mut self, on: bool) -> Self {
        self.leak = on.then(LeakDetectorBuilder::new);
        self
    }

    /// Feed every snapshot to a leak detector with `detector`'s parameters (turns leak
    /// detection on). The monitor starts a fresh detector from
    /// [`detector.config()`](LeakDetector::config): samples `detector` has already seen are
    /// not carried over, since the monitor's times start at zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pool_metrics::{LeakDetector, MemoryMonitor};
    ///
    /// let detector = LeakDetector::builder().warmup(Duration::ZERO).confirm(1).build()?;
    /// let m = MemoryMonitor::builder().leak_detector(detector).build()?;
    /// assert_eq!(m.leak_detector_config().map(|c| c.get_confirm()), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn leak_detector(mut self, detector: LeakDetector) -> Self {
        self.leak = Some(*detector.config());
        self
    }

    /// The time source behind [`MemoryMonitor::sample`]'s timestamps (the monotonic clock by
    /// default); tests pass a [`ManualClock`](crate::ManualClock).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use pool_metrics::{ManualClock, MemoryMonitor};
    ///
    /// let clock = Arc::new(ManualClock::new());
    /// let m = MemoryMonitor::builder().clock(clock.clone()).build()?;
    /// clock.advance(Duration::from_secs(90));
    /// if let Ok(s) = m.sample() {
    ///     assert_eq!(s.t_secs, 90.0);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the settings and builds the monitor. The probe is opened lazily: on platforms
    /// without `/proc`, [`MemoryMonitor::sample`] returns the "unsupported" error, while
    /// [`MemoryMonitor::record`] still works.
    ///
    /// # Errors
    ///
    /// [`MemoryMonitorBuildError`] when `capacity` is 0, `high_bytes > limit_bytes`, or
    /// `max_growth` is not finite and positive.
    ///
    /// ```
    /// let err = pool_metrics::MemoryMonitor::builder().high_bytes(10).limit_bytes(5).build();
    /// assert_eq!(err.unwrap_err().to_string(), "high_bytes must be <= limit_bytes (5), got 10");
    /// ```
    pub fn build(self) -> Result<MemoryMonitor, MemoryMonitorBuildError> {
        use MemoryMonitorBuildErrorKind as Kind;
        if self.capacity == 0 {
            return Err(MemoryMonitorBuildError::new(
                Kind::Capacity,
                "capacity must be > 0, got 0".to_owned(),
            ));
        }
        if let (Some(high), Some(limit)) = (self.high_bytes, self.limit_bytes)
            && high > limit
        {
            return Err(MemoryMonitorBuildError::new(
                Kind::Thresholds,
                format!("high_bytes must be <= limit_bytes ({limit}), got {high}"),
            ));
        }
        if let Some(g) = self.max_growth
            && !(g.is_finite() && g > 0.0)
        {
            return Err(MemoryMonitorBuildError::new(
                Kind::MaxGrowth,
                format!("max_growth must be finite and > 0, got {g}"),
            ));
        }
        let clock: Arc<dyn Clock> = match &self.clock {
            Some(c) => c.clone(),
            None => Arc::new(MonotonicClock::new()),
        };
        Ok(MemoryMonitor {
            start_nanos: clock.now_nanos(),
            clock,
            probe: MemoryProbe::new(),
            pressure: MemoryPressure::new(),
            state: Mutex::new(State {
                ring: VecDeque::with_capacity(self.capacity),
                leak: self.leak.map(LeakDetector::from_builder),
                above_limit: false,
                fast_growth: false,
                leak_alarmed: false,
            }),
            listeners: Listeners::new(),
            config: self,
        })
    }
}

struct State {
    ring: VecDeque<MemorySample>,
    leak: Option<LeakDetector>,
    above_limit: bool,
    fast_growth: bool,
    leak_alarmed: bool,
}

type Listener = dyn Fn(&MemoryAlert) + Send + Sync;

/// Watches the process's memory: keeps a bounded ring of snapshots, raises alerts on an
/// absolute limit, fast growth and leaks, and drives a [`MemoryPressure`] signal that caches
/// and pools subscribe to (the seeds' memory-optimized pool: shrink when memory is short).
///
/// Call [`sample`](Self::sample) on your own schedule, or [`spawn`](Self::spawn) a sampler
/// thread. [`record`](Self::record) feeds figures you measured yourself (and makes tests
/// deterministic).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use pool_metrics::{MemoryMonitor, MemorySnapshot, PressureLevel};
///
/// let monitor = MemoryMonitor::builder().high_bytes(800).limit_bytes(1_000).build()?;
/// let alerts = Arc::new(Mutex::new(Vec::new()));
/// let sink = alerts.clone();
/// let _subscription = monitor.on_alert(move |a| sink.lock().unwrap().push(a.kind.clone()));
/// let pressure = monitor.pressure(); // hand this to caches and pools
///
/// let mem = |b| MemorySnapshot { rss_bytes: b, virtual_bytes: b, allocated_bytes: None };
/// monitor.record(0.0, mem(500))?;
/// monitor.record(1.0, mem(900))?;
/// assert_eq!(pressure.level(), PressureLevel::High);
/// monitor.record(2.0, mem(1_200))?;
/// assert_eq!(pressure.level(), PressureLevel::Critical);
/// assert_eq!(alerts.lock().unwrap().len(), 3); // high, critical, above limit
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryMonitor {
    config: MemoryMonitorBuilder,
    clock: Arc<dyn Clock>,
    start_nanos: u64,
    probe: Result<MemoryProbe, MemoryError>,
    pressure: MemoryPressure,
    state: Mutex<State>,
    listeners: Listeners<Listener>,
}

impl fmt::Debug for MemoryMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryMonitor")
            .field("config", &self.config)
            .field("pressure", &self.pressure)
            .finish_non_exhaustive()
    }
}

impl MemoryMonitor {
    /// A builder.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert!(m.samples().is_empty());
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn builder() -> MemoryMonitorBuilder {
        MemoryMonitorBuilder::new()
    }

    /// The ring's capacity.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert_eq!(m.capacity(), 600);
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.config.capacity
    }

    /// The pressure signal this monitor drives (a shared handle).
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert_eq!(m.pressure().level(), pool_metrics::PressureLevel::Normal);
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn pressure(&self) -> MemoryPressure {
        self.pressure.clone()
    }

    /// Calls `listener` for every alert, on the thread that recorded the sample, with no lock
    /// held (so it may record, subscribe or unsubscribe itself), until the returned
    /// [`Subscription`] is dropped (or for good after [`Subscription::detach`]).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use pool_metrics::{MemoryMonitor, MemorySnapshot};
    ///
    /// let m = MemoryMonitor::builder().limit_bytes(100).build()?;
    /// let count = Arc::new(Mutex::new(0));
    /// let c = count.clone();
    /// let subscription = m.on_alert(move |_| *c.lock().unwrap() += 1);
    /// m.record(0.0, MemorySnapshot { rss_bytes: 200, ..Default::default() })?;
    /// let seen = *count.lock().unwrap();
    /// assert_eq!(seen, 2); // pressure critical, above limit
    /// drop(subscription);
    /// m.record(1.0, MemorySnapshot::default())?; // pressure back to normal: nobody told
    /// assert_eq!(*count.lock().unwrap(), seen);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_alert(
        &self,
        listener: impl Fn(&MemoryAlert) + Send + Sync + 'static,
    ) -> Subscription {
        self.listeners.add(Arc::new(listener))
    }

    /// Reads the process's memory now (and the allocator's live bytes, if configured) and
    /// records it.
    ///
    /// # Errors
    ///
    /// [`MemoryError`] with kind `Unsupported` on platforms without `/proc`, or the read error.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// match m.sample() {
    ///     Ok(s) => assert!(s.memory.rss_bytes > 0),
    ///     Err(e) => assert_eq!(e.kind(), pool_metrics::MemoryErrorKind::Unsupported),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sample(&self) -> Result<MemorySample, MemoryError> {
        let probe = self.probe.as_ref().map_err(Clone::clone)?;
        let mut memory = probe.snapshot()?;
        memory.allocated_bytes = self.config.allocator.map(CountingAlloc::live_bytes);
        let t_secs = self.clock.now_nanos().saturating_sub(self.start_nanos) as f64 / 1e9;
        // Monotonic clock: time cannot go backwards, and the figures are valid.
        let _ = self.record(t_secs, memory);
        Ok(MemorySample { t_secs, memory })
    }

    /// Records figures measured elsewhere at `t_secs` (seconds, never decreasing): updates
    /// the ring, the pressure level and the leak detector, and fires alerts.
    ///
    /// # Errors
    ///
    /// [`SampleError`] when `t_secs` is not finite or earlier than the previous record; the
    /// sample is ignored.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// m.record(5.0, Default::default())?;
    /// assert!(m.record(4.0, Default::default()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record(&self, t_secs: f64, memory: MemorySnapshot) -> Result<(), SampleError> {
        let used = memory.used_bytes();
        let mut alerts = Vec::new();
        let level;
        {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if !t_secs.is_finite() {
                return Err(SampleError::new(
                    SampleErrorKind::InvalidTime,
                    format!("sample time must be finite, got {t_secs}"),
                ));
            }
            if let Some(last) = st.ring.back().map(|s| s.t_secs)
                && t_secs < last
            {
                return Err(SampleError::new(
                    SampleErrorKind::TimeWentBackwards,
                    format!("sample time must not go backwards: got {t_secs} after {last}"),
                ));
            }
            if let Some(leak) = st.leak.as_mut() {
                leak.push(t_secs, used as f64)?;
                let report = leak.report();
                if report.leaking && !st.leak_alarmed {
                    st.leak_alarmed = true;
                    alerts.push(MemoryAlertKind::Leak {
                        slope_bytes_per_sec: report.slope_bytes_per_sec,
                    });
                }
            }
            if st.ring.len() == self.config.capacity {
                st.ring.pop_front();
            }
            st.ring.push_back(MemorySample { t_secs, memory });

            let above = self.config.limit_bytes.is_some_and(|l| used >= l);
            if above && !st.above_limit {
                alerts.push(MemoryAlertKind::AboveLimit {
                    used_bytes: used,
                    limit_bytes: self.config.limit_bytes.unwrap_or(0),
                });
            }
            st.above_limit = above;

            if let (Some(limit), Some(first), Some(last)) =
                (self.config.max_growth, st.ring.front(), st.ring.back())
            {
                let dt = last.t_secs - first.t_secs;
                let rate = if dt > 0.0 {
                    (last.memory.used_bytes() as f64 - first.memory.used_bytes() as f64) / dt
                } else {
                    0.0
                };
                let fast = rate > limit;
                if fast && !st.fast_growth {
                    alerts.push(MemoryAlertKind::FastGrowth {
                        bytes_per_sec: rate,
                        limit_bytes_per_sec: limit,
                    });
                }
                st.fast_growth = fast;
            }
            level = if above {
                PressureLevel::Critical
            } else if self.config.high_bytes.is_some_and(|h| used >= h) {
                PressureLevel::High
            } else {
                PressureLevel::Normal
            };
        }
        if self.pressure.set(level) {
            alerts.insert(0, MemoryAlertKind::Pressure { level });
        }
        if !alerts.is_empty() {
            // A copy of the list, so no lock is held while listeners run.
            let listeners = self.listeners.snapshot();
            for kind in alerts {
                let alert = MemoryAlert { t_secs, kind };
                for l in &listeners {
                    l(&alert);
                }
            }
        }
        Ok(())
    }

    /// The ring's snapshots, oldest first.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().capacity(2).build()?;
    /// for t in 0..5 {
    ///     m.record(f64::from(t), Default::default())?;
    /// }
    /// assert_eq!(m.samples().iter().map(|s| s.t_secs).collect::<Vec<_>>(), [3.0, 4.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn samples(&self) -> Vec<MemorySample> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).ring.iter().copied().collect()
    }

    /// The leak detector's report, if leak detection is on.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert_eq!(m.leak_report().map(|r| r.samples), Some(0));
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn leak_report(&self) -> Option<LeakReport> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).leak.as_ref().map(|d| d.report())
    }

    /// The shortest interval [`spawn`](Self::spawn) accepts: 1 ms. Reading `/proc/self/statm`
    /// takes microseconds, so a shorter interval would keep a core busy sampling, and no
    /// memory figure changes meaningfully faster.
    pub const MIN_SAMPLE_INTERVAL: Duration = Duration::from_millis(1);

    /// The parameters of the monitor's leak detector, if leak detection is on.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert_eq!(m.leak_detector_config().map(|c| c.get_step().as_secs()), Some(30));
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn leak_detector_config(&self) -> Option<LeakDetectorBuilder> {
        self.config.leak
    }

    /// Samples every `interval` on a background thread until the returned handle is dropped:
    /// once as soon as the thread starts, then after each interval. The thread ends on its own
    /// if sampling is unsupported (no `/proc`).
    ///
    /// # Errors
    ///
    /// [`SpawnSamplerError`] of kind [`Interval`](SpawnSamplerErrorKind::Interval) when
    /// `interval` is shorter than [`MIN_SAMPLE_INTERVAL`](Self::MIN_SAMPLE_INTERVAL), or
    /// [`Thread`](SpawnSamplerErrorKind::Thread) when the thread cannot be started.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let m = Arc::new(pool_metrics::MemoryMonitor::builder().build()?);
    /// let sampler = m.clone().spawn(Duration::from_millis(10))?;
    /// drop(sampler); // stops and joins the thread
    /// // The thread samples once before its first wait, even when stopped at once.
    /// # #[cfg(target_os = "linux")]
    /// assert!(!m.samples().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(self: Arc<Self>, interval: Duration) -> Result<MemorySampler, SpawnSamplerError> {
        if interval < Self::MIN_SAMPLE_INTERVAL {
            return Err(SpawnSamplerError::new(
                SpawnSamplerErrorKind::Interval,
                format!(
                    "sampling interval must be >= {:?}, got {interval:?}",
                    Self::MIN_SAMPLE_INTERVAL
                ),
            ));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pool-metrics-memory".to_owned())
            .spawn(move || {
                // One sample as soon as the thread runs, even if it is stopped at once.
                // Errors (no /proc) end the thread: nothing will change on a later try.
                while self.sample().is_ok() && !flag.load(Relaxed) {
                    // Parks may wake early (spuriously, or on stop): at most one extra sample.
                    std::thread::park_timeout(interval);
                    if flag.load(Relaxed) {
                        break;
                    }
                }
            })
            .map_err(|e| {
                SpawnSamplerError::new(
                    SpawnSamplerErrorKind::Thread,
                    format!("cannot start the memory sampler thread: {e}"),
                )
            })?;
        Ok(MemorySampler { stop, thread: Some(thread) })
    }
}

/// The background sampler started by [`MemoryMonitor::spawn`]; dropping it stops the thread.
///
/// ```
/// use std::sync::Arc;
/// let m = Arc::new(pool_metrics::MemoryMonitor::builder().build()?);
/// let s = m.spawn(std::time::Duration::from_secs(3_600))?;
/// drop(s); // returns at once: the drop wakes the thread from its hour-long wait
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MemorySampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for MemorySampler {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

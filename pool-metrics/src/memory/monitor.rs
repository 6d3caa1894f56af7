//! The memory monitor: a bounded ring of snapshots, thresholds, alerts, pressure and leaks.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::alloc::CountingAlloc;
use super::error::{MemoryError, MonitorBuildError};
use super::pressure::{MemoryPressure, PressureLevel};
use super::probe::{MemoryProbe, MemorySnapshot};
use crate::leak::{LeakDetector, LeakReport, SampleError, SampleErrorKind};

/// One snapshot in the monitor's ring, with its time in seconds since the monitor started.
///
/// ```
/// let s = pool_metrics::MemorySample { t_secs: 1.0, memory: Default::default() };
/// assert_eq!(s.memory.used_bytes(), 0);
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
/// use pool_metrics::MemoryAlertKind;
/// let k = MemoryAlertKind::AboveLimit { used_bytes: 2, limit_bytes: 1 };
/// assert!(matches!(k, MemoryAlertKind::AboveLimit { .. }));
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
/// use pool_metrics::{MemoryAlert, PressureLevel, MemoryAlertKind};
/// let a = MemoryAlert { t_secs: 3.0, kind: MemoryAlertKind::Pressure { level: PressureLevel::High } };
/// assert_eq!(a.t_secs, 3.0);
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
/// let m = pool_metrics::MemoryMonitor::builder()
///     .capacity(60)
///     .high_bytes(1 << 30)
///     .limit_bytes(2 << 30)
///     .max_growth(1e6)
///     .build()?;
/// assert_eq!(m.capacity(), 60);
/// # Ok::<(), pool_metrics::MonitorBuildError>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct MemoryMonitorBuilder {
    capacity: usize,
    high_bytes: Option<u64>,
    limit_bytes: Option<u64>,
    max_growth: Option<f64>,
    allocator: Option<&'static CountingAlloc>,
    detect_leaks: bool,
}

impl Default for MemoryMonitorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryMonitorBuilder {
    /// 600 snapshots: ten minutes at one a second, 600 x 40 B = 24 KB.
    pub const DEFAULT_CAPACITY: usize = 600;

    /// The defaults: no thresholds, no allocator, leak detection on.
    ///
    /// ```
    /// let b = pool_metrics::MemoryMonitorBuilder::new();
    /// assert!(b.build().is_ok());
    /// ```
    pub fn new() -> Self {
        Self {
            capacity: Self::DEFAULT_CAPACITY,
            high_bytes: None,
            limit_bytes: None,
            max_growth: None,
            allocator: None,
            detect_leaks: true,
        }
    }

    /// Snapshots kept in the ring (> 0); the growth rate is measured across it.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().capacity(5).build()?;
    /// assert_eq!(m.capacity(), 5);
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Soft threshold: at or above it the pressure is [`PressureLevel::High`].
    ///
    /// ```
    /// assert!(pool_metrics::MemoryMonitor::builder().high_bytes(1 << 20).build().is_ok());
    /// ```
    pub fn high_bytes(mut self, bytes: u64) -> Self {
        self.high_bytes = Some(bytes);
        self
    }

    /// Hard limit: at or above it an alert fires and the pressure is
    /// [`PressureLevel::Critical`].
    ///
    /// ```
    /// assert!(pool_metrics::MemoryMonitor::builder().limit_bytes(1 << 30).build().is_ok());
    /// ```
    pub fn limit_bytes(mut self, bytes: u64) -> Self {
        self.limit_bytes = Some(bytes);
        self
    }

    /// Alert when used bytes grow faster than this many bytes/s across the ring.
    ///
    /// ```
    /// assert!(pool_metrics::MemoryMonitor::builder().max_growth(-1.0).build().is_err());
    /// ```
    pub fn max_growth(mut self, bytes_per_sec: f64) -> Self {
        self.max_growth = Some(bytes_per_sec);
        self
    }

    /// Read live heap bytes from this installed counting allocator.
    ///
    /// ```
    /// static A: pool_metrics::CountingAlloc = pool_metrics::CountingAlloc::system();
    /// assert!(pool_metrics::MemoryMonitor::builder().allocator(&A).build().is_ok());
    /// ```
    pub fn allocator(mut self, allocator: &'static CountingAlloc) -> Self {
        self.allocator = Some(allocator);
        self
    }

    /// Feed every snapshot to a [`LeakDetector`] with default parameters (on by default).
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().detect_leaks(false).build()?;
    /// assert!(m.leak_report().is_none());
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn detect_leaks(mut self, on: bool) -> Self {
        self.detect_leaks = on;
        self
    }

    /// Checks the settings and builds the monitor. The probe is opened lazily: on platforms
    /// without `/proc`, [`MemoryMonitor::sample`] returns the "unsupported" error, while
    /// [`MemoryMonitor::record`] still works.
    ///
    /// # Errors
    ///
    /// [`MonitorBuildError`] when `capacity` is 0, `high_bytes > limit_bytes`, or `max_growth`
    /// is not finite and positive.
    ///
    /// ```
    /// let err = pool_metrics::MemoryMonitor::builder().high_bytes(10).limit_bytes(5).build();
    /// assert_eq!(err.unwrap_err().to_string(), "high_bytes must be <= limit_bytes (5), got 10");
    /// ```
    pub fn build(self) -> Result<MemoryMonitor, MonitorBuildError> {
        if self.capacity == 0 {
            return Err(MonitorBuildError::new("capacity must be > 0, got 0".to_owned()));
        }
        if let (Some(high), Some(limit)) = (self.high_bytes, self.limit_bytes)
            && high > limit
        {
            return Err(MonitorBuildError::new(format!(
                "high_bytes must be <= limit_bytes ({limit}), got {high}"
            )));
        }
        if let Some(g) = self.max_growth
            && !(g.is_finite() && g > 0.0)
        {
            return Err(MonitorBuildError::new(format!(
                "max_growth must be finite and > 0, got {g}"
            )));
        }
        Ok(MemoryMonitor {
            config: self,
            start: Instant::now(),
            probe: MemoryProbe::new(),
            pressure: MemoryPressure::new(),
            state: Mutex::new(State {
                ring: VecDeque::with_capacity(self.capacity),
                leak: self.detect_leaks.then(LeakDetector::new),
                above_limit: false,
                fast_growth: false,
                leak_alarmed: false,
            }),
            listeners: Mutex::new(Vec::new()),
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

type Listener = Box<dyn Fn(&MemoryAlert) + Send + Sync>;

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
/// monitor.on_alert(move |a| sink.lock().unwrap().push(a.kind.clone()));
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
    start: Instant,
    probe: Result<MemoryProbe, MemoryError>,
    pressure: MemoryPressure,
    state: Mutex<State>,
    listeners: Mutex<Vec<Listener>>,
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
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn builder() -> MemoryMonitorBuilder {
        MemoryMonitorBuilder::new()
    }

    /// The ring's capacity.
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert_eq!(m.capacity(), 600);
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.config.capacity
    }

    /// The pressure signal this monitor drives (a shared handle).
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// assert_eq!(m.pressure().level(), pool_metrics::PressureLevel::Normal);
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn pressure(&self) -> MemoryPressure {
        self.pressure.clone()
    }

    /// Calls `listener` for every alert, on the sampling thread, after the monitor's lock is
    /// released (so it may call back into the monitor).
    ///
    /// ```
    /// let m = pool_metrics::MemoryMonitor::builder().build()?;
    /// m.on_alert(|alert| eprintln!("memory alert: {alert:?}"));
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn on_alert(&self, listener: impl Fn(&MemoryAlert) + Send + Sync + 'static) {
        self.listeners.lock().unwrap_or_else(PoisonError::into_inner).push(Box::new(listener));
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
        let t_secs = self.start.elapsed().as_secs_f64();
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
            let listeners = self.listeners.lock().unwrap_or_else(PoisonError::into_inner);
            for kind in alerts {
                let alert = MemoryAlert { t_secs, kind };
                for l in listeners.iter() {
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
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn leak_report(&self) -> Option<LeakReport> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).leak.as_ref().map(|d| d.report())
    }

    /// Samples every `interval` on a background thread until the returned handle is dropped.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let m = Arc::new(pool_metrics::MemoryMonitor::builder().build()?);
    /// let sampler = m.clone().spawn(Duration::from_millis(10));
    /// drop(sampler); // stops and joins the thread
    /// # Ok::<(), pool_metrics::MonitorBuildError>(())
    /// ```
    pub fn spawn(self: Arc<Self>, interval: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pool-metrics-memory".to_owned())
            .spawn(move || {
                while !flag.load(Relaxed) {
                    // Errors (no /proc) end the thread: nothing will change on a later try.
                    if self.sample().is_err() {
                        break;
                    }
                    std::thread::park_timeout(interval);
                }
            })
            .ok();
        Sampler { stop, thread }
    }
}

/// The background sampler started by [`MemoryMonitor::spawn`]; dropping it stops the thread.
///
/// ```
/// use std::sync::Arc;
/// let m = Arc::new(pool_metrics::MemoryMonitor::builder().build()?);
/// let s = m.spawn(std::time::Duration::from_secs(1));
/// drop(s);
/// # Ok::<(), pool_metrics::MonitorBuildError>(())
/// ```
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

//! Errors of reading process memory and building the monitor.

use std::fmt;

/// Reading the process's memory or CPU figures failed.
///
/// ```
/// use pool_metrics::{MemoryErrorKind, MemoryProbe};
///
/// match MemoryProbe::new() {
///     Ok(probe) => assert!(probe.snapshot()?.rss_bytes > 0),
///     Err(e) => assert_eq!(e.kind(), MemoryErrorKind::Unsupported),
/// }
/// # Ok::<(), pool_metrics::MemoryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryError {
    kind: MemoryErrorKind,
    message: String,
}

/// What went wrong reading memory figures.
///
/// ```
/// use pool_metrics::{MemoryErrorKind, MemoryProbe};
///
/// // Every failure has one of these kinds; on Linux the probe opens.
/// if let Err(e) = MemoryProbe::new() {
///     assert!(matches!(e.kind(), MemoryErrorKind::Unsupported | MemoryErrorKind::Io));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryErrorKind {
    /// This platform has no `/proc/self/statm` (not Linux, or /proc not mounted).
    Unsupported,
    /// Reading the file failed.
    Io,
    /// The file's contents were not what the kernel documents.
    Parse,
}

impl MemoryError {
    pub(crate) fn new(kind: MemoryErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What went wrong.
    ///
    /// ```
    /// use pool_metrics::{MemoryErrorKind, MemoryProbe};
    /// if let Err(e) = MemoryProbe::new() {
    ///     assert_eq!(e.kind(), MemoryErrorKind::Unsupported);
    /// }
    /// ```
    pub fn kind(&self) -> MemoryErrorKind {
        self.kind
    }
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MemoryError {}

/// Why [`MemoryMonitorBuilder::build`](crate::MemoryMonitorBuilder::build) refused its
/// settings: which setting ([`kind`](Self::kind)) and a message saying what to fix.
///
/// ```
/// use pool_metrics::{MemoryMonitor, MemoryMonitorBuildErrorKind};
///
/// let err = MemoryMonitor::builder().capacity(0).build().unwrap_err();
/// assert_eq!(err.kind(), MemoryMonitorBuildErrorKind::Capacity);
/// assert_eq!(err.to_string(), "capacity must be > 0, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryMonitorBuildError {
    kind: MemoryMonitorBuildErrorKind,
    message: String,
}

/// Which setting of a [`MemoryMonitorBuilder`](crate::MemoryMonitorBuilder) was wrong.
///
/// ```
/// use pool_metrics::{MemoryMonitor, MemoryMonitorBuildErrorKind};
///
/// let err = MemoryMonitor::builder().high_bytes(10).limit_bytes(5).build().unwrap_err();
/// assert_eq!(err.kind(), MemoryMonitorBuildErrorKind::Thresholds);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryMonitorBuildErrorKind {
    /// `capacity` was zero.
    Capacity,
    /// `high_bytes` was above `limit_bytes`.
    Thresholds,
    /// `max_growth` was not finite and > 0.
    MaxGrowth,
}

impl MemoryMonitorBuildError {
    pub(crate) fn new(kind: MemoryMonitorBuildErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// Which setting was wrong.
    ///
    /// ```
    /// use pool_metrics::{MemoryMonitor, MemoryMonitorBuildErrorKind};
    ///
    /// let err = MemoryMonitor::builder().max_growth(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.kind(), MemoryMonitorBuildErrorKind::MaxGrowth);
    /// ```
    pub fn kind(&self) -> MemoryMonitorBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for MemoryMonitorBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MemoryMonitorBuildError {}

/// Why [`MemoryMonitor::spawn`](crate::MemoryMonitor::spawn) started no sampler thread.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use pool_metrics::{MemoryMonitor, SpawnSamplerErrorKind};
///
/// let monitor = Arc::new(MemoryMonitor::builder().build()?);
/// let err = monitor.spawn(Duration::ZERO).unwrap_err();
/// assert_eq!(err.kind(), SpawnSamplerErrorKind::Interval);
/// assert_eq!(err.to_string(), "sampling interval must be >= 1ms, got 0ns");
/// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
/// ```
#[derive(Debug)]
pub struct SpawnSamplerError {
    kind: SpawnSamplerErrorKind,
    message: String,
}

/// What kept the sampler thread from starting.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use pool_metrics::{MemoryMonitor, SpawnSamplerErrorKind};
///
/// let monitor = Arc::new(MemoryMonitor::builder().build()?);
/// let err = monitor.spawn(Duration::from_micros(10)).unwrap_err();
/// assert_eq!(err.kind(), SpawnSamplerErrorKind::Interval);
/// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnSamplerErrorKind {
    /// The interval was shorter than
    /// [`MemoryMonitor::MIN_SAMPLE_INTERVAL`](crate::MemoryMonitor::MIN_SAMPLE_INTERVAL).
    Interval,
    /// The operating system refused to start the thread.
    Thread,
}

impl SpawnSamplerError {
    pub(crate) fn new(kind: SpawnSamplerErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What kept the thread from starting.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use pool_metrics::{MemoryMonitor, SpawnSamplerErrorKind};
    ///
    /// let monitor = Arc::new(MemoryMonitor::builder().build()?);
    /// assert_eq!(
    ///     monitor.spawn(Duration::from_nanos(1)).unwrap_err().kind(),
    ///     SpawnSamplerErrorKind::Interval
    /// );
    /// # Ok::<(), pool_metrics::MemoryMonitorBuildError>(())
    /// ```
    pub fn kind(&self) -> SpawnSamplerErrorKind {
        self.kind
    }
}

impl fmt::Display for SpawnSamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SpawnSamplerError {}

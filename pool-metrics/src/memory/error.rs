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
/// use pool_metrics::MemoryErrorKind;
/// assert_ne!(MemoryErrorKind::Unsupported, MemoryErrorKind::Io);
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

/// Why [`MemoryMonitorBuilder::build`](crate::MemoryMonitorBuilder::build) refused its settings.
///
/// ```
/// let err = pool_metrics::MemoryMonitor::builder().capacity(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "capacity must be > 0, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorBuildError {
    message: String,
}

impl MonitorBuildError {
    pub(crate) fn new(message: String) -> Self {
        Self { message }
    }
}

impl fmt::Display for MonitorBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MonitorBuildError {}

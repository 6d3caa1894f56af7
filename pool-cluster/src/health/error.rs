//! Errors of the health layer: a refused [`HealthConfig`](super::HealthConfig) and a node id
//! that is already watched.

use std::fmt;

/// Why a [`HealthConfigBuilder`](super::HealthConfigBuilder) refused to build.
///
/// ```
/// use pool_cluster::{HealthConfig, HealthBuildErrorKind};
///
/// let err = HealthConfig::builder().failure_threshold(0).build().unwrap_err();
/// assert_eq!(err.kind(), HealthBuildErrorKind::ZeroThreshold);
/// assert_eq!(err.to_string(), "failure_threshold must be > 0, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthBuildError {
    kind: HealthBuildErrorKind,
    message: String,
}

/// The kind of a [`HealthBuildError`].
///
/// ```
/// assert_ne!(
///     pool_cluster::HealthBuildErrorKind::ZeroDuration,
///     pool_cluster::HealthBuildErrorKind::ZeroThreshold
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HealthBuildErrorKind {
    /// A probe interval, probe timeout or breaker wait of zero.
    ZeroDuration,
    /// A failure or recovery threshold of zero.
    ZeroThreshold,
    /// The breaker settings were refused by pool-core's `CircuitBreakerBuilder`.
    Breaker,
}

impl HealthBuildError {
    pub(crate) fn new(kind: HealthBuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_cluster::{HealthConfig, HealthBuildErrorKind};
    /// use std::time::Duration;
    ///
    /// let err = HealthConfig::builder().interval(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.kind(), HealthBuildErrorKind::ZeroDuration);
    /// ```
    #[must_use]
    pub fn kind(&self) -> HealthBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for HealthBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HealthBuildError {}

/// A node with this id is already watched; nothing changed.
///
/// ```
/// use pool_cluster::{HealthConfig, HealthMonitor};
///
/// let monitor = HealthMonitor::new(HealthConfig::default());
/// monitor.add("a")?;
/// let err = monitor.add("a").unwrap_err();
/// assert_eq!(err.id(), "a");
/// assert_eq!(err.to_string(), "node a is already watched: remove it first or use another id");
/// # Ok::<(), pool_cluster::DuplicateNodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateNodeError {
    pub(crate) id: String,
}

impl DuplicateNodeError {
    /// The id given twice.
    ///
    /// ```
    /// let m = pool_cluster::HealthMonitor::new(Default::default());
    /// m.add("x")?;
    /// assert_eq!(m.add("x").unwrap_err().id(), "x");
    /// # Ok::<(), pool_cluster::DuplicateNodeError>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for DuplicateNodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {} is already watched: remove it first or use another id", self.id)
    }
}

impl std::error::Error for DuplicateNodeError {}

//! Errors of the concurrency controller: a rejected configuration, a call that produced no value.

use std::fmt;
use std::time::Duration;

/// Why a controlled call did not produce a value.
///
/// `#[non_exhaustive]`: the controller may learn new ways to refuse a call (a cancelled call,
/// say), so a `match` needs a `_` arm.
///
/// # Examples
///
/// ```
/// use pool_core::{ConcurrencyController, ConcurrencyError};
/// let c = ConcurrencyController::new(1)?;
/// assert!(matches!(c.run(|| Err::<(), _>("no")), Err(ConcurrencyError::Inner("no"))));
/// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConcurrencyError<E> {
    /// Every permit was taken and `max_queued` callers were already waiting.
    QueueFull,
    /// The call's timeout passed while waiting (or, for async calls, while running).
    TimedOut {
        /// Time from submission to giving up, as read from the controller's clock.
        waited: Duration,
    },
    /// The call ran and failed (after any retries); its last error.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for ConcurrencyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueFull => f.write_str(
                "too many calls waiting; raise max_queued or max_concurrent, or shed load",
            ),
            Self::TimedOut { waited } => write!(f, "call timed out after {waited:?}"),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ConcurrencyError<E> {}

/// What is wrong with a controller configuration; [`kind`](Self::kind) says which knob.
///
/// # Examples
///
/// ```
/// let err = pool_core::ConcurrencyController::builder().max_concurrent(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "max_concurrent must be > 0, got 0");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConcurrencyControllerBuildError {
    pub(super) kind: ConcurrencyControllerBuildErrorKind,
}

/// The kind of a [`ConcurrencyControllerBuildError`].
///
/// # Examples
///
/// ```
/// use pool_core::{ConcurrencyController, ConcurrencyControllerBuildErrorKind};
/// let err = ConcurrencyController::builder().retry_budget_ratio(-1.0).build().unwrap_err();
/// assert_eq!(err.kind(), &ConcurrencyControllerBuildErrorKind::BudgetRatio(-1.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConcurrencyControllerBuildErrorKind {
    /// `max_concurrent` was 0.
    ZeroMaxConcurrent,
    /// A timeout or backoff was zero; the field is named.
    ZeroDuration(&'static str),
    /// `base_backoff` was larger than `max_backoff`.
    BackoffOrder {
        /// The requested base.
        base: Duration,
        /// The requested cap.
        max: Duration,
    },
    /// The retry-budget ratio was negative, NaN or infinite.
    BudgetRatio(f64),
}

impl ConcurrencyControllerBuildError {
    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ConcurrencyController, ConcurrencyControllerBuildErrorKind};
    /// let err = ConcurrencyController::new(0).unwrap_err();
    /// assert_eq!(err.kind(), &ConcurrencyControllerBuildErrorKind::ZeroMaxConcurrent);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ConcurrencyControllerBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for ConcurrencyControllerBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConcurrencyControllerBuildErrorKind as K;
        match &self.kind {
            K::ZeroMaxConcurrent => f.write_str("max_concurrent must be > 0, got 0"),
            K::ZeroDuration(name) => write!(f, "{name} must be > 0, got 0ns"),
            K::BackoffOrder { base, max } => {
                write!(f, "base_backoff ({base:?}) must be <= max_backoff ({max:?})")
            }
            K::BudgetRatio(r) => {
                write!(f, "retry budget ratio must be >= 0 and finite, got {r}")
            }
        }
    }
}

impl std::error::Error for ConcurrencyControllerBuildError {}

//! Errors of the circuit breaker: a rejected configuration, a refused call, a failed call.

use std::fmt;

use super::state::CircuitState;
use crate::limit::window::MAX_WINDOW;

/// What is wrong with a breaker configuration.
///
/// # Examples
///
/// ```
/// let err = pool_core::CircuitBreaker::builder().failure_rate_threshold(f64::NAN).build().unwrap_err();
/// assert_eq!(err.to_string(), "failure_rate_threshold must be in (0, 100], got NaN");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CircuitBreakerBuildError {
    pub(super) kind: CircuitBreakerBuildErrorKind,
}

/// The kind of a [`CircuitBreakerBuildError`].
///
/// # Examples
///
/// ```
/// use pool_core::{CircuitBreakerBuildErrorKind, CircuitBreaker};
/// let err = CircuitBreaker::builder().permitted_calls_in_half_open(0).build().unwrap_err();
/// assert_eq!(err.kind(), &CircuitBreakerBuildErrorKind::ZeroPermittedCallsInHalfOpen);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CircuitBreakerBuildErrorKind {
    /// A window of zero calls or seconds, or one above 2^21 − 1.
    WindowSize(u32),
    /// `minimum_calls` was 0.
    ZeroMinimumCalls,
    /// The failure-rate threshold is NaN or outside (0, 100].
    FailureRateThreshold(f64),
    /// The slow-call-rate threshold is NaN or outside (0, 100].
    SlowCallRateThreshold(f64),
    /// The slow-call duration was zero.
    ZeroSlowCallDuration,
    /// The wait in open was zero.
    ZeroWaitInOpen,
    /// No probe calls in half-open.
    ZeroPermittedCallsInHalfOpen,
    /// More than 65 535 probe calls in half-open.
    TooManyPermittedCallsInHalfOpen(u32),
    /// An explicit `minimum_calls` above a count-based window's size: the window can never
    /// hold that many calls, so the breaker would never evaluate its rates.
    MinimumCallsAboveWindow {
        /// The requested minimum.
        minimum_calls: u32,
        /// The count window's size.
        window: u32,
    },
}

impl CircuitBreakerBuildError {
    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::CircuitBreaker::builder().minimum_calls(0).build().unwrap_err();
    /// assert_eq!(err.kind(), &pool_core::CircuitBreakerBuildErrorKind::ZeroMinimumCalls);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &CircuitBreakerBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for CircuitBreakerBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CircuitBreakerBuildErrorKind as K;
        match &self.kind {
            K::WindowSize(n) => {
                write!(f, "sliding window size must be in 1..={MAX_WINDOW}, got {n}")
            }
            K::ZeroMinimumCalls => f.write_str("minimum_calls must be > 0, got 0"),
            K::FailureRateThreshold(t) => {
                write!(f, "failure_rate_threshold must be in (0, 100], got {t}")
            }
            K::SlowCallRateThreshold(t) => {
                write!(f, "slow_call_rate_threshold must be in (0, 100], got {t}")
            }
            K::ZeroSlowCallDuration => f.write_str("slow_call_duration must be > 0, got 0ns"),
            K::ZeroWaitInOpen => f.write_str("wait_in_open must be > 0, got 0ns"),
            K::ZeroPermittedCallsInHalfOpen => {
                f.write_str("permitted_calls_in_half_open must be > 0, got 0")
            }
            K::TooManyPermittedCallsInHalfOpen(n) => {
                write!(f, "permitted_calls_in_half_open must be <= 65535, got {n}")
            }
            K::MinimumCallsAboveWindow { minimum_calls, window } => write!(
                f,
                "minimum_calls ({minimum_calls}) must be <= the count window's size ({window}); \
                 lower minimum_calls or widen the window"
            ),
        }
    }
}

impl std::error::Error for CircuitBreakerBuildError {}

/// The breaker refused the call (open, or half-open with every probe permit taken).
///
/// # Examples
///
/// ```
/// let b = pool_core::CircuitBreaker::new();
/// b.force_open();
/// let err = b.try_acquire().unwrap_err();
/// assert_eq!(err.to_string(), "circuit breaker is open; call not permitted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallNotPermitted {
    pub(super) state: CircuitState,
}

impl CallNotPermitted {
    /// The state that refused the call.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::CircuitBreaker::new();
    /// b.force_open();
    /// assert_eq!(b.try_acquire().unwrap_err().state(), pool_core::CircuitState::Open);
    /// ```
    #[must_use]
    pub fn state(&self) -> CircuitState {
        self.state
    }
}

impl fmt::Display for CallNotPermitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            CircuitState::HalfOpen => f.write_str(
                "circuit breaker is half-open and its probe calls are taken; call not permitted",
            ),
            _ => f.write_str("circuit breaker is open; call not permitted"),
        }
    }
}

impl std::error::Error for CallNotPermitted {}

/// The result of [`CircuitBreaker::call`](crate::CircuitBreaker::call): refused, or the call's own error.
///
/// Exhaustive on purpose: a breaker either refuses a call or runs it, so these two variants are
/// the whole story and a two-arm `match` compiles (no `_` arm needed).
///
/// # Examples
///
/// ```
/// use pool_core::{CallError, CircuitBreaker};
/// let b = CircuitBreaker::new();
/// let message = match b.call(|| Err::<(), _>(7)) {
///     Ok(()) => "ok".to_string(),
///     Err(CallError::NotPermitted(refused)) => refused.to_string(),
///     Err(CallError::Inner(e)) => format!("failed with {e}"),
/// };
/// assert_eq!(message, "failed with 7");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker did not run the call.
    NotPermitted(CallNotPermitted),
    /// The call ran and failed.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted(e) => e.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for CallError<E> {}

//! Errors of load balancing: a refused build, no endpoint to call, and a client call that
//! failed after its retries.

use std::fmt;
use std::time::Duration;

/// Why a [`LoadBalancerBuilder`](super::LoadBalancerBuilder) or
/// [`RetryClientBuilder`](super::RetryClientBuilder) refused to build.
///
/// ```
/// use pool_cluster::{BalanceBuildErrorKind, LoadBalancer};
///
/// let err = LoadBalancer::<u32>::builder().build().unwrap_err();
/// assert_eq!(err.kind(), &BalanceBuildErrorKind::NoEndpoints);
/// assert_eq!(err.to_string(), "a load balancer needs at least one endpoint");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceBuildError {
    kind: BalanceBuildErrorKind,
    message: String,
}

/// The kind of a [`BalanceBuildError`].
///
/// ```
/// use pool_cluster::{BalanceBuildErrorKind, LoadBalancer};
///
/// let err = LoadBalancer::<u32>::builder().build().unwrap_err();
/// let fix = match err.kind() {
///     BalanceBuildErrorKind::NoEndpoints => "add an endpoint",
///     BalanceBuildErrorKind::DuplicateEndpoint { .. } => "give each endpoint its own id",
///     _ => "see the message",
/// };
/// assert_eq!(fix, "add an endpoint");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BalanceBuildErrorKind {
    /// No endpoint was given.
    NoEndpoints,
    /// Two endpoints with the same id.
    DuplicateEndpoint {
        /// The id given twice.
        id: String,
    },
    /// `max_attempts` of zero.
    ZeroAttempts,
    /// A backoff with a zero base, or a cap below the base.
    InvalidBackoff,
    /// A retry budget ratio that is NaN, negative or infinite.
    InvalidBudget,
    /// A zero attempt timeout.
    ZeroTimeout,
}

impl BalanceBuildError {
    pub(crate) fn new(kind: BalanceBuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_cluster::{BalanceBuildErrorKind, LoadBalancer};
    /// let err = LoadBalancer::builder().endpoint("a", 1).endpoint("a", 2).build().unwrap_err();
    /// assert_eq!(err.kind(), &BalanceBuildErrorKind::DuplicateEndpoint { id: "a".into() });
    /// ```
    #[must_use]
    pub fn kind(&self) -> &BalanceBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for BalanceBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BalanceBuildError {}

/// Every endpoint is down or has its breaker open.
///
/// ```
/// let e = pool_cluster::NoHealthyEndpoint;
/// assert_eq!(e.to_string(), "no endpoint is available: every one is down or its breaker is open");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoHealthyEndpoint;

impl fmt::Display for NoHealthyEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no endpoint is available: every one is down or its breaker is open")
    }
}

impl std::error::Error for NoHealthyEndpoint {}

/// How one attempt of a [`RetryClient`](super::RetryClient) call failed.
///
/// ```
/// let a: pool_cluster::AttemptError<&str> = pool_cluster::AttemptError::Failed("refused");
/// assert_eq!(a.to_string(), "refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptError<E> {
    /// The call returned this error.
    Failed(E),
    /// The call did not finish within the attempt timeout.
    TimedOut(Duration),
}

impl<E: fmt::Display> fmt::Display for AttemptError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(e) => e.fmt(f),
            Self::TimedOut(d) => write!(f, "the call did not finish within {d:?}"),
        }
    }
}

/// Why a [`RetryClient`](super::RetryClient) call failed.
///
/// ```
/// use pool_cluster::{AttemptError, ClientError};
/// let e: ClientError<&str> = ClientError::Exhausted { attempts: 3, last: AttemptError::Failed("refused") };
/// assert_eq!(e.to_string(), "the call failed 3 times; last: refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError<E> {
    /// No endpoint was available for the first attempt.
    NoHealthyEndpoint,
    /// Every attempt failed (`max_attempts` reached, or no endpoint left for a retry).
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        last: AttemptError<E>,
    },
    /// The retry budget had no retry left, so the failure is returned without retrying.
    BudgetExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        last: AttemptError<E>,
    },
}

impl<E: fmt::Display> fmt::Display for ClientError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoHealthyEndpoint => NoHealthyEndpoint.fmt(f),
            Self::Exhausted { attempts, last } => {
                write!(f, "the call failed {attempts} times; last: {last}")
            }
            Self::BudgetExhausted { attempts, last } => write!(
                f,
                "the call failed {attempts} times and the retry budget is spent; last: {last}"
            ),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ClientError<E> {}

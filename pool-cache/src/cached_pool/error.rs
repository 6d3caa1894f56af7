//! The errors of [`CachedPool`](crate::CachedPool).

use std::error::Error as StdError;
use std::fmt;

/// Why a [`CachedPoolBuilder`](crate::CachedPoolBuilder) refused to build.
///
/// ```
/// use pool_cache::{CachedPool, CachedPoolBuildErrorKind};
/// use std::time::Duration;
///
/// let pool = pool_core::ComputePool::new(1)?;
/// let err = CachedPool::builder(pool, "square", |x: &u64| x * x)
///     .lease_ttl(Duration::ZERO)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.kind(), CachedPoolBuildErrorKind::Duration);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CachedPoolBuildError {
    kind: CachedPoolBuildErrorKind,
    message: String,
}

/// What was wrong with a [`CachedPoolBuilder`](crate::CachedPoolBuilder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CachedPoolBuildErrorKind {
    /// The function name is empty or holds a `:`.
    Name,
    /// A duration that must be positive is zero (the lease TTL, say).
    Duration,
    /// The tiered cache under the pool refused its settings.
    Cache,
}

impl CachedPoolBuildError {
    pub(crate) fn new(kind: CachedPoolBuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What was wrong.
    ///
    /// ```
    /// # use pool_cache::{CachedPool, CachedPoolBuildErrorKind};
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let err = CachedPool::builder(pool, "", |x: &u64| *x).build().unwrap_err();
    /// assert_eq!(err.kind(), CachedPoolBuildErrorKind::Name);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> CachedPoolBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for CachedPoolBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CachedPoolBuildError {}

/// Why a [`CachedPool::call`](crate::CachedPool::call) gave no value. Every waiter of one
/// computation gets the same error; nothing is cached and the next call computes again.
///
/// ```
/// use pool_cache::{CachedPool, CallErrorKind};
///
/// let pool = pool_core::ComputePool::new(1)?;
/// let memo = CachedPool::builder(pool, "boom", |_: &u64| -> u64 { panic!("no") }).build()?;
/// assert_eq!(memo.call(&1).unwrap_err().kind(), CallErrorKind::Compute);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CallError {
    kind: CallErrorKind,
    message: String,
}

/// What went wrong in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallErrorKind {
    /// The input could not be serialized for its content key. Nothing was computed.
    Input,
    /// The function panicked on the compute pool.
    Compute,
    /// The compute pool refused the task (shut down, or its queue full).
    Submit,
    /// This caller waited too long for another caller's computation of the same input.
    Timeout,
    /// The L2 call failed ([`CachedPool::forget`](crate::CachedPool::forget) and
    /// [`forget_all`](crate::CachedPool::forget_all) only: calls fall back to computing here).
    L2,
}

impl CallError {
    pub(crate) fn new(kind: CallErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What went wrong.
    ///
    /// ```
    /// # use pool_cache::{CachedPool, CallErrorKind};
    /// let pool = pool_core::ComputePool::new(1)?;
    /// let memo = CachedPool::builder(pool, "f", |_: &u64| -> u64 { panic!("no") }).build()?;
    /// assert_eq!(memo.call(&1).unwrap_err().kind(), CallErrorKind::Compute);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> CallErrorKind {
        self.kind
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CallError {}

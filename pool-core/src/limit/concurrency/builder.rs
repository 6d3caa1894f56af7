//! `ConcurrencyControllerBuilder` and the effective `ConcurrencyControllerConfig`.

use std::sync::Arc;
use std::time::Duration;

use pool_metrics::{Clock, MonotonicClock};

use super::controller::ConcurrencyController;
use super::error::{ConcurrencyControllerBuildError, ConcurrencyControllerBuildErrorKind};

/// The controller's effective configuration, and its defaults as associated constants.
///
/// # Examples
///
/// ```
/// use pool_core::{ConcurrencyController, ConcurrencyControllerConfig};
/// let c = ConcurrencyController::new(4)?;
/// assert_eq!(c.config().max_concurrent, 4);
/// assert_eq!(c.config().max_queued, ConcurrencyControllerConfig::DEFAULT_MAX_QUEUED);
/// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConcurrencyControllerConfig {
    /// Calls running at once.
    pub max_concurrent: usize,
    /// Calls waiting for a permit; one more is refused with `QueueFull` (0: never queue).
    pub max_queued: usize,
    /// Per-call timeout; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubled per retry.
    pub base_backoff: Duration,
    /// Cap on one backoff.
    pub max_backoff: Duration,
    /// Fraction of first attempts that retries may add.
    pub retry_budget_ratio: f64,
    /// Retries allowed before any first attempt has earned budget.
    pub retry_budget_reserve: u32,
}

impl ConcurrencyControllerConfig {
    /// Default calls running at once.
    pub const DEFAULT_MAX_CONCURRENT: usize = 16;
    /// Default calls allowed to wait for a permit.
    pub const DEFAULT_MAX_QUEUED: usize = 256;
    /// Default retries after the first attempt.
    pub const DEFAULT_MAX_RETRIES: u32 = 0;
    /// Default first backoff (doubled per retry, capped at [`Self::DEFAULT_MAX_BACKOFF`]).
    pub const DEFAULT_BASE_BACKOFF: Duration = Duration::from_millis(10);
    /// Default cap on one backoff.
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(1);
    /// Default retry budget: retries may add at most this fraction of first attempts (as
    /// Finagle's `RetryBudget`), on top of [`Self::DEFAULT_RETRY_BUDGET_RESERVE`].
    pub const DEFAULT_RETRY_BUDGET_RATIO: f64 = 0.2;
    /// Default retries allowed before any first attempt has earned budget.
    pub const DEFAULT_RETRY_BUDGET_RESERVE: u32 = 10;

    fn defaults() -> Self {
        Self {
            max_concurrent: Self::DEFAULT_MAX_CONCURRENT,
            max_queued: Self::DEFAULT_MAX_QUEUED,
            timeout: None,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            base_backoff: Self::DEFAULT_BASE_BACKOFF,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            retry_budget_ratio: Self::DEFAULT_RETRY_BUDGET_RATIO,
            retry_budget_reserve: Self::DEFAULT_RETRY_BUDGET_RESERVE,
        }
    }
}

/// Builder for [`ConcurrencyController`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let c = pool_core::ConcurrencyController::builder()
///     .max_concurrent(4)
///     .max_queued(100)
///     .timeout(Duration::from_secs(2))
///     .max_retries(3)
///     .build()?;
/// assert_eq!(c.config().max_retries, 3);
/// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
/// ```
#[must_use]
#[derive(Clone)]
pub struct ConcurrencyControllerBuilder {
    config: ConcurrencyControllerConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ConcurrencyControllerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurrencyControllerBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

macro_rules! knob {
    ($(#[$doc:meta])* $name:ident: $ty:ty => $field:ident = $val:expr) => {
        $(#[$doc])*
        pub fn $name(mut self, v: $ty) -> Self {
            self.config.$field = $val(v);
            self
        }
    };
}

impl ConcurrencyControllerBuilder {
    pub(super) fn new() -> Self {
        Self {
            config: ConcurrencyControllerConfig::defaults(),
            clock: Arc::new(MonotonicClock::new()),
        }
    }

    knob!(
        /// Calls running at once (default
        /// [`ConcurrencyControllerConfig::DEFAULT_MAX_CONCURRENT`]).
        ///
        /// # Examples
        ///
        /// ```
        /// let c = pool_core::ConcurrencyController::builder().max_concurrent(2).build()?;
        /// assert_eq!(c.config().max_concurrent, 2);
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        max_concurrent: usize => max_concurrent = std::convert::identity
    );
    knob!(
        /// Calls allowed to wait (default [`ConcurrencyControllerConfig::DEFAULT_MAX_QUEUED`]).
        ///
        /// # Examples
        ///
        /// ```
        /// use pool_core::{ConcurrencyController, ConcurrencyError};
        /// let c = ConcurrencyController::builder().max_concurrent(1).max_queued(0).build()?;
        /// // From inside the one running call, a second call finds no room to wait.
        /// let inner = c.run(|| Ok::<_, ()>(c.run(|| Ok::<_, ()>(()))));
        /// assert_eq!(inner, Ok(Err(ConcurrencyError::QueueFull)));
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        max_queued: usize => max_queued = std::convert::identity
    );
    knob!(
        /// Per-call timeout (default none).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// let c = pool_core::ConcurrencyController::builder().timeout(Duration::from_secs(1)).build()?;
        /// assert_eq!(c.config().timeout, Some(Duration::from_secs(1)));
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        timeout: Duration => timeout = Some
    );
    knob!(
        /// Retries after the first attempt (default 0).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// let c = pool_core::ConcurrencyController::builder()
        ///     .max_retries(2)
        ///     .base_backoff(Duration::from_micros(1))
        ///     .build()?;
        /// let mut attempts = 0;
        /// let _ = c.run(|| { attempts += 1; Err::<(), _>(()) });
        /// assert_eq!(attempts, 3);
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        max_retries: u32 => max_retries = std::convert::identity
    );
    knob!(
        /// First backoff (default [`ConcurrencyControllerConfig::DEFAULT_BASE_BACKOFF`]).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// let c = pool_core::ConcurrencyController::builder().base_backoff(Duration::from_millis(1)).build()?;
        /// assert_eq!(c.config().base_backoff, Duration::from_millis(1));
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        base_backoff: Duration => base_backoff = std::convert::identity
    );
    knob!(
        /// Cap on one backoff (default [`ConcurrencyControllerConfig::DEFAULT_MAX_BACKOFF`]).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// let c = pool_core::ConcurrencyController::builder().max_backoff(Duration::from_secs(5)).build()?;
        /// assert_eq!(c.config().max_backoff, Duration::from_secs(5));
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        max_backoff: Duration => max_backoff = std::convert::identity
    );
    knob!(
        /// Retry budget: fraction of first attempts retries may add (default
        /// [`ConcurrencyControllerConfig::DEFAULT_RETRY_BUDGET_RATIO`]).
        ///
        /// # Examples
        ///
        /// ```
        /// let c = pool_core::ConcurrencyController::builder().retry_budget_ratio(0.1).build()?;
        /// assert_eq!(c.config().retry_budget_ratio, 0.1);
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        retry_budget_ratio: f64 => retry_budget_ratio = std::convert::identity
    );
    knob!(
        /// Retries allowed before first attempts earn budget (default
        /// [`ConcurrencyControllerConfig::DEFAULT_RETRY_BUDGET_RESERVE`]).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// let c = pool_core::ConcurrencyController::builder()
        ///     .retry_budget_reserve(0)
        ///     .retry_budget_ratio(0.0)
        ///     .max_retries(3)
        ///     .base_backoff(Duration::from_micros(1))
        ///     .build()?;
        /// let _ = c.run(|| Err::<(), _>(()));
        /// assert_eq!((c.stats().retries, c.stats().retries_denied), (0, 1));
        /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
        /// ```
        retry_budget_reserve: u32 => retry_budget_reserve = std::convert::identity
    );

    /// Reads time from `clock` (default [`MonotonicClock`]) for timeouts and for the `waited`
    /// it reports; tests pass a [`ManualClock`](crate::ManualClock). Blocking waits still park
    /// on the OS for the remaining time read from this clock, and notice a manual clock's
    /// advance when they next wake; retry backoff sleeps on the OS clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ConcurrencyController, ManualClock};
    /// let c = ConcurrencyController::builder().clock(ManualClock::new()).build()?;
    /// assert_eq!(c.run(|| Ok::<_, ()>(1)), Ok(1));
    /// # Ok::<(), pool_core::ConcurrencyControllerBuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// [`ConcurrencyControllerBuildError`] for zero `max_concurrent`, a zero timeout or
    /// backoff, `base_backoff > max_backoff`, or a negative / NaN budget ratio.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::ConcurrencyController::builder()
    ///     .timeout(std::time::Duration::ZERO)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "timeout must be > 0, got 0ns");
    /// ```
    pub fn build(self) -> Result<ConcurrencyController, ConcurrencyControllerBuildError> {
        use ConcurrencyControllerBuildErrorKind as K;
        let c = &self.config;
        let err = |kind| Err(ConcurrencyControllerBuildError { kind });
        if c.max_concurrent == 0 {
            return err(K::ZeroMaxConcurrent);
        }
        if c.timeout == Some(Duration::ZERO) {
            return err(K::ZeroDuration("timeout"));
        }
        if c.base_backoff.is_zero() {
            return err(K::ZeroDuration("base_backoff"));
        }
        if c.base_backoff > c.max_backoff {
            return err(K::BackoffOrder { base: c.base_backoff, max: c.max_backoff });
        }
        if !(c.retry_budget_ratio.is_finite() && c.retry_budget_ratio >= 0.0) {
            return err(K::BudgetRatio(c.retry_budget_ratio));
        }
        Ok(ConcurrencyController::from_parts(self.config, self.clock))
    }
}

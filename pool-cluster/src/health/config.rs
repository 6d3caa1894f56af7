//! [`HealthConfig`]: how often nodes are probed, when they count as down or up again, and the
//! settings of each node's circuit breaker.

use super::error::{HealthBuildError, HealthBuildErrorKind};
use pool_core::{CircuitBreaker, SlidingWindow};
use pool_metrics::{Clock, MonotonicClock};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Settings of a [`HealthMonitor`](super::HealthMonitor), validated by
/// [`HealthConfigBuilder::build`].
///
/// ```
/// use pool_cluster::HealthConfig;
/// use std::time::Duration;
///
/// let cfg = HealthConfig::builder().interval(Duration::from_millis(100)).build()?;
/// assert_eq!(cfg.interval(), Duration::from_millis(100));
/// assert_eq!(cfg.failure_threshold(), HealthConfig::DEFAULT_FAILURE_THRESHOLD);
/// # Ok::<(), pool_cluster::HealthBuildError>(())
/// ```
#[derive(Clone)]
pub struct HealthConfig {
    pub(crate) interval: Duration,
    pub(crate) probe_timeout: Duration,
    pub(crate) failure_threshold: u32,
    pub(crate) recovery_threshold: u32,
    pub(crate) breaker_window: u32,
    pub(crate) breaker_minimum_calls: u32,
    pub(crate) breaker_failure_rate: f64,
    pub(crate) breaker_wait: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

impl fmt::Debug for HealthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthConfig")
            .field("interval", &self.interval)
            .field("probe_timeout", &self.probe_timeout)
            .field("failure_threshold", &self.failure_threshold)
            .field("recovery_threshold", &self.recovery_threshold)
            .field("breaker_window", &self.breaker_window)
            .field("breaker_minimum_calls", &self.breaker_minimum_calls)
            .field("breaker_failure_rate", &self.breaker_failure_rate)
            .field("breaker_wait", &self.breaker_wait)
            .finish_non_exhaustive()
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            interval: Self::DEFAULT_INTERVAL,
            probe_timeout: Self::DEFAULT_PROBE_TIMEOUT,
            failure_threshold: Self::DEFAULT_FAILURE_THRESHOLD,
            recovery_threshold: Self::DEFAULT_RECOVERY_THRESHOLD,
            breaker_window: Self::DEFAULT_BREAKER_WINDOW,
            breaker_minimum_calls: Self::DEFAULT_BREAKER_MINIMUM_CALLS,
            breaker_failure_rate: Self::DEFAULT_BREAKER_FAILURE_RATE,
            breaker_wait: Self::DEFAULT_BREAKER_WAIT,
            clock: Arc::new(MonotonicClock::new()),
        }
    }
}

impl HealthConfig {
    /// Time between two probes of a node: 250 ms. With the default threshold of 2 and probe
    /// timeout of 250 ms a dead node is marked down within about 1 s.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(250);
    /// How long a probe may take before it counts as failed: 250 ms.
    pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_millis(250);
    /// Failed probes in a row that mark a node down: 2.
    pub const DEFAULT_FAILURE_THRESHOLD: u32 = 2;
    /// Successful probes in a row that bring a down node back: 2.
    pub const DEFAULT_RECOVERY_THRESHOLD: u32 = 2;
    /// Calls in each node breaker's count-based window: 20.
    pub const DEFAULT_BREAKER_WINDOW: u32 = 20;
    /// Calls a breaker needs before its failure rate counts: 5, so a dead node's breaker opens
    /// after a handful of failed calls, before the prober has made up its mind.
    pub const DEFAULT_BREAKER_MINIMUM_CALLS: u32 = 5;
    /// Failure rate (percent) that opens a node's breaker: 50.
    pub const DEFAULT_BREAKER_FAILURE_RATE: f64 = 50.0;
    /// How long an opened breaker refuses calls before letting probes through: 1 s.
    pub const DEFAULT_BREAKER_WAIT: Duration = Duration::from_secs(1);

    /// A builder starting from the defaults.
    ///
    /// ```
    /// let cfg = pool_cluster::HealthConfig::builder().recovery_threshold(3).build()?;
    /// assert_eq!(cfg.recovery_threshold(), 3);
    /// # Ok::<(), pool_cluster::HealthBuildError>(())
    /// ```
    pub fn builder() -> HealthConfigBuilder {
        HealthConfigBuilder { config: Self::default() }
    }

    /// Time between two probes of a node.
    ///
    /// ```
    /// let cfg = pool_cluster::HealthConfig::default();
    /// assert_eq!(cfg.interval(), pool_cluster::HealthConfig::DEFAULT_INTERVAL);
    /// ```
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long one probe may take.
    ///
    /// ```
    /// let cfg = pool_cluster::HealthConfig::default();
    /// assert_eq!(cfg.probe_timeout(), pool_cluster::HealthConfig::DEFAULT_PROBE_TIMEOUT);
    /// ```
    #[must_use]
    pub fn probe_timeout(&self) -> Duration {
        self.probe_timeout
    }

    /// Failed probes in a row that mark a node down.
    ///
    /// ```
    /// assert_eq!(pool_cluster::HealthConfig::default().failure_threshold(), 2);
    /// ```
    #[must_use]
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// Successful probes in a row that bring a down node back.
    ///
    /// ```
    /// assert_eq!(pool_cluster::HealthConfig::default().recovery_threshold(), 2);
    /// ```
    #[must_use]
    pub fn recovery_threshold(&self) -> u32 {
        self.recovery_threshold
    }

    pub(crate) fn breaker(&self) -> Result<CircuitBreaker, HealthBuildError> {
        CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(self.breaker_window))
            .minimum_calls(self.breaker_minimum_calls)
            .failure_rate_threshold(self.breaker_failure_rate)
            .wait_in_open(self.breaker_wait)
            .permitted_calls_in_half_open(1)
            .clock(self.clock.clone())
            .build()
            .map_err(|e| {
                HealthBuildError::new(
                    HealthBuildErrorKind::Breaker,
                    format!("node circuit breaker settings refused: {e}"),
                )
            })
    }
}

/// Builds a [`HealthConfig`]; by value, validated in [`build`](Self::build).
///
/// ```
/// use pool_cluster::{HealthConfig, ManualClock};
/// use std::time::Duration;
///
/// let cfg = HealthConfig::builder()
///     .interval(Duration::from_millis(50))
///     .probe_timeout(Duration::from_millis(100))
///     .failure_threshold(3)
///     .recovery_threshold(2)
///     .clock(ManualClock::new())
///     .build()?;
/// assert_eq!(cfg.failure_threshold(), 3);
/// # Ok::<(), pool_cluster::HealthBuildError>(())
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct HealthConfigBuilder {
    config: HealthConfig,
}

impl HealthConfigBuilder {
    /// Time between two probes ([`HealthConfig::DEFAULT_INTERVAL`]); must be > 0.
    ///
    /// ```
    /// let b = pool_cluster::HealthConfig::builder().interval(std::time::Duration::from_secs(1));
    /// assert!(b.build().is_ok());
    /// ```
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.interval = interval;
        self
    }

    /// How long one probe may take ([`HealthConfig::DEFAULT_PROBE_TIMEOUT`]); must be > 0.
    ///
    /// ```
    /// let b = pool_cluster::HealthConfig::builder().probe_timeout(std::time::Duration::ZERO);
    /// assert!(b.build().is_err());
    /// ```
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.config.probe_timeout = timeout;
        self
    }

    /// Failed probes in a row that mark a node down; must be > 0.
    ///
    /// ```
    /// assert!(pool_cluster::HealthConfig::builder().failure_threshold(1).build().is_ok());
    /// ```
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.config.failure_threshold = n;
        self
    }

    /// Successful probes in a row that bring a down node back; must be > 0.
    ///
    /// ```
    /// assert!(pool_cluster::HealthConfig::builder().recovery_threshold(0).build().is_err());
    /// ```
    pub fn recovery_threshold(mut self, n: u32) -> Self {
        self.config.recovery_threshold = n;
        self
    }

    /// Each node breaker's window and minimum calls (defaults 20 and 5); checked by pool-core.
    ///
    /// ```
    /// assert!(pool_cluster::HealthConfig::builder().breaker_window(10, 20).build().is_err());
    /// ```
    pub fn breaker_window(mut self, window: u32, minimum_calls: u32) -> Self {
        self.config.breaker_window = window;
        self.config.breaker_minimum_calls = minimum_calls;
        self
    }

    /// The failure rate (percent, in (0, 100]) that opens a node's breaker.
    ///
    /// ```
    /// assert!(pool_cluster::HealthConfig::builder().breaker_failure_rate(f64::NAN).build().is_err());
    /// ```
    pub fn breaker_failure_rate(mut self, percent: f64) -> Self {
        self.config.breaker_failure_rate = percent;
        self
    }

    /// How long an opened breaker refuses calls; must be > 0.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(pool_cluster::HealthConfig::builder().breaker_wait(Duration::ZERO).build().is_err());
    /// ```
    pub fn breaker_wait(mut self, wait: Duration) -> Self {
        self.config.breaker_wait = wait;
        self
    }

    /// The clock the breakers and the monitor's timestamps read (default: [`MonotonicClock`]).
    ///
    /// ```
    /// let cfg = pool_cluster::HealthConfig::builder().clock(pool_cluster::ManualClock::new());
    /// assert!(cfg.build().is_ok());
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`HealthBuildError`] for a zero interval, probe timeout or breaker wait, a zero
    /// threshold, or breaker settings pool-core refuses.
    ///
    /// ```
    /// assert!(pool_cluster::HealthConfig::builder().build().is_ok());
    /// ```
    pub fn build(self) -> Result<HealthConfig, HealthBuildError> {
        let c = self.config;
        for (name, d) in [
            ("interval", c.interval),
            ("probe_timeout", c.probe_timeout),
            ("breaker_wait", c.breaker_wait),
        ] {
            if d.is_zero() {
                return Err(HealthBuildError::new(
                    HealthBuildErrorKind::ZeroDuration,
                    format!("{name} must be > 0, got 0"),
                ));
            }
        }
        for (name, n) in [
            ("failure_threshold", c.failure_threshold),
            ("recovery_threshold", c.recovery_threshold),
        ] {
            if n == 0 {
                return Err(HealthBuildError::new(
                    HealthBuildErrorKind::ZeroThreshold,
                    format!("{name} must be > 0, got 0"),
                ));
            }
        }
        c.breaker()?;
        Ok(c)
    }
}

//! [`Backoff`]: exponential delays with full jitter between retries.

use std::time::Duration;

/// Exponential backoff with full jitter (the "Exponential Backoff And Jitter" scheme of the
/// AWS architecture blog): before retry `n` (0-based) wait a uniformly random time in
/// `[0, min(max, base * 2^n)]`, so clients that failed together do not retry together.
///
/// ```
/// use pool_cluster::Backoff;
/// use std::time::Duration;
///
/// let b = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
/// assert_eq!(b.cap(0), Duration::from_millis(10));
/// assert_eq!(b.cap(3), Duration::from_millis(80));
/// assert_eq!(b.cap(10), Duration::from_millis(100));
/// assert!(b.delay(2) <= Duration::from_millis(40));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Self::DEFAULT_BASE, Self::DEFAULT_MAX)
    }
}

impl Backoff {
    /// Base delay unless told otherwise: 10 ms.
    pub const DEFAULT_BASE: Duration = Duration::from_millis(10);
    /// Longest delay unless told otherwise: 1 s.
    pub const DEFAULT_MAX: Duration = Duration::from_secs(1);

    /// Delays start at `base` and double up to `max` (checked where the backoff is used:
    /// [`RetryClientBuilder::build`](super::RetryClientBuilder::build) refuses a zero base or
    /// a `max` below it).
    ///
    /// ```
    /// let b = pool_cluster::Backoff::new(std::time::Duration::from_millis(1), std::time::Duration::from_millis(8));
    /// assert_eq!(b.cap(5), std::time::Duration::from_millis(8));
    /// ```
    #[must_use]
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The first delay's cap, and the longest cap (for error messages).
    pub(crate) fn bounds(&self) -> (Duration, Duration) {
        (self.base, self.max)
    }

    pub(crate) fn is_valid(&self) -> bool {
        !self.base.is_zero() && self.max >= self.base
    }

    /// The largest delay before retry `retry` (0-based): `min(max, base * 2^retry)`.
    ///
    /// ```
    /// let b = pool_cluster::Backoff::default();
    /// assert_eq!(b.cap(1), std::time::Duration::from_millis(20));
    /// ```
    #[must_use]
    pub fn cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random delay in `[0, cap(retry)]`.
    ///
    /// ```
    /// let b = pool_cluster::Backoff::default();
    /// assert!(b.delay(0) <= b.cap(0));
    /// ```
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self.cap(retry).as_nanos().min(u128::from(u64::MAX));
        let cap = u64::try_from(cap).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=cap))
    }
}

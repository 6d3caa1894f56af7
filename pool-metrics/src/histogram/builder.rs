//! Builder for histograms with another range, precision or shard count.

use super::error::{HistogramBuildError, HistogramBuildErrorKind};
use super::layout::Layout;
use super::sharded::Histogram;

/// Settings for a [`Histogram`]; start from [`Histogram::builder`].
///
/// ```
/// use pool_metrics::{Histogram, HistogramBuilder};
///
/// let b = Histogram::builder().highest(60_000_000_000).max_relative_error(0.01).shards(2);
/// let h = b.build()?;
/// assert!(h.max_relative_error() <= 0.01);
/// h.record(120_000_000_000); // above `highest`: saturates
/// assert_eq!(h.snapshot().max, 60_000_000_000);
/// # Ok::<(), pool_metrics::HistogramBuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct HistogramBuilder {
    highest: u64,
    max_relative_error: f64,
    shards: usize,
}

impl Default for HistogramBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HistogramBuilder {
    /// One hour in nanoseconds: the default largest value recorded as itself.
    pub const DEFAULT_HIGHEST: u64 = 3_600_000_000_000;
    /// 0.1 %: the default bound on a quantile's relative error.
    pub const DEFAULT_MAX_RELATIVE_ERROR: f64 = 0.001;
    /// Four shards: up to four threads (more when threads come and go) record with plain
    /// stores; further threads share a fallback shard with atomic adds. Only shards in use
    /// hold pages: 1 KiB per touched octave, so four threads recording latencies over six
    /// octaves hold 4 x 6 KiB = 24 KiB, and one thread over the whole 1 ns ..= 1 h, 34 KiB.
    pub const DEFAULT_SHARDS: usize = 4;

    /// The defaults.
    ///
    /// ```
    /// let b = pool_metrics::HistogramBuilder::new();
    /// assert_eq!(b.get_highest(), pool_metrics::HistogramBuilder::DEFAULT_HIGHEST);
    /// ```
    pub fn new() -> Self {
        Self {
            highest: Self::DEFAULT_HIGHEST,
            max_relative_error: Self::DEFAULT_MAX_RELATIVE_ERROR,
            shards: Self::DEFAULT_SHARDS,
        }
    }

    /// The largest value recorded as itself (larger ones saturate to it). Must be >= 1.
    ///
    /// ```
    /// let h = pool_metrics::Histogram::builder().highest(100).build()?;
    /// assert_eq!(h.highest(), 100);
    /// # Ok::<(), pool_metrics::HistogramBuildError>(())
    /// ```
    pub fn highest(mut self, highest: u64) -> Self {
        self.highest = highest;
        self
    }

    /// The bound on a reported quantile's relative error, in `[1e-5, 0.5]`. The histogram
    /// rounds it down to the next power of two (`2^-(bits+1)`).
    ///
    /// ```
    /// let h = pool_metrics::Histogram::builder().max_relative_error(0.05).build()?;
    /// assert_eq!(h.max_relative_error(), 1.0 / 32.0);
    /// # Ok::<(), pool_metrics::HistogramBuildError>(())
    /// ```
    pub fn max_relative_error(mut self, max_relative_error: f64) -> Self {
        self.max_relative_error = max_relative_error;
        self
    }

    /// Number of shards, a power of two in `1..=64`. More shards mean less sharing between
    /// recording threads and more memory.
    ///
    /// ```
    /// let h = pool_metrics::Histogram::builder().shards(1).build()?;
    /// assert_eq!(h.shards(), 1);
    /// # Ok::<(), pool_metrics::HistogramBuildError>(())
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// The configured `highest`.
    ///
    /// ```
    /// assert_eq!(pool_metrics::Histogram::builder().get_highest(), 3_600_000_000_000); // 1 h in ns
    /// ```
    pub fn get_highest(&self) -> u64 {
        self.highest
    }

    /// The configured relative error bound.
    ///
    /// ```
    /// assert_eq!(pool_metrics::Histogram::builder().get_max_relative_error(), 0.001);
    /// ```
    pub fn get_max_relative_error(&self) -> f64 {
        self.max_relative_error
    }

    /// The configured shard count.
    ///
    /// ```
    /// assert_eq!(pool_metrics::Histogram::builder().get_shards(), 4);
    /// ```
    pub fn get_shards(&self) -> usize {
        self.shards
    }

    /// Checks the settings and builds the histogram.
    ///
    /// # Errors
    ///
    /// [`HistogramBuildError`] naming the setting when `highest` is 0, the relative error is
    /// not finite or outside `[1e-5, 0.5]`, or `shards` is not a power of two in `1..=64`.
    ///
    /// ```
    /// let err = pool_metrics::Histogram::builder().max_relative_error(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.to_string(), "max_relative_error must be in [1e-5, 0.5], got NaN");
    /// ```
    pub fn build(self) -> Result<Histogram, HistogramBuildError> {
        if self.highest == 0 {
            return Err(HistogramBuildError::new(
                HistogramBuildErrorKind::Highest,
                "highest must be >= 1, got 0".to_owned(),
            ));
        }
        if !(1e-5..=0.5).contains(&self.max_relative_error) {
            return Err(HistogramBuildError::new(
                HistogramBuildErrorKind::Precision,
                format!(
                    "max_relative_error must be in [1e-5, 0.5], got {}",
                    self.max_relative_error
                ),
            ));
        }
        if !self.shards.is_power_of_two() || self.shards > 64 {
            return Err(HistogramBuildError::new(
                HistogramBuildErrorKind::Shards,
                format!("shards must be a power of two in 1..=64, got {}", self.shards),
            ));
        }
        let bits = Layout::bits_for_error(self.max_relative_error);
        Ok(Histogram::from_parts(self.highest, bits, self.shards))
    }
}

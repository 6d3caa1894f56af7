//! Errors of building and merging histograms.

use std::fmt;

/// Why [`HistogramBuilder::build`](crate::HistogramBuilder::build) refused its settings.
///
/// ```
/// use pool_metrics::{Histogram, HistogramBuildErrorKind};
///
/// let err = Histogram::builder().shards(3).build().unwrap_err();
/// assert_eq!(err.kind(), HistogramBuildErrorKind::Shards);
/// assert_eq!(err.to_string(), "shards must be a power of two in 1..=64, got 3");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramBuildError {
    kind: HistogramBuildErrorKind,
    message: String,
}

/// Which setting of a [`HistogramBuilder`](crate::HistogramBuilder) was wrong.
///
/// ```
/// use pool_metrics::{Histogram, HistogramBuildErrorKind};
///
/// let err = Histogram::builder().max_relative_error(0.9).build().unwrap_err();
/// assert_eq!(err.kind(), HistogramBuildErrorKind::Precision);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistogramBuildErrorKind {
    /// `highest` was below 1.
    Highest,
    /// `max_relative_error` was not a finite number in `[1e-5, 0.5]`.
    Precision,
    /// `shards` was not a power of two in `1..=64`.
    Shards,
}

impl HistogramBuildError {
    pub(crate) fn new(kind: HistogramBuildErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// Which setting was wrong.
    ///
    /// ```
    /// use pool_metrics::{Histogram, HistogramBuildErrorKind};
    ///
    /// let err = Histogram::builder().highest(0).build().unwrap_err();
    /// assert_eq!(err.kind(), HistogramBuildErrorKind::Highest);
    /// ```
    pub fn kind(&self) -> HistogramBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for HistogramBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HistogramBuildError {}

/// [`Histogram::merge`](crate::Histogram::merge) was given a histogram with another bucket
/// layout (another `highest` or precision), whose buckets cannot be added one to one.
///
/// ```
/// use pool_metrics::Histogram;
///
/// let a = Histogram::new();
/// let b = Histogram::builder().highest(1_000).build()?;
/// let err = a.merge(&b).unwrap_err();
/// assert!(err.to_string().contains("same highest and precision"));
/// # Ok::<(), pool_metrics::HistogramBuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError {
    pub(crate) ours: (u32, u64),
    pub(crate) theirs: (u32, u64),
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "can only merge histograms with the same highest and precision: \
             this one has highest {} with {} sub-bucket bits, the other highest {} with {}",
            self.ours.1, self.ours.0, self.theirs.1, self.theirs.0
        )
    }
}

impl std::error::Error for MergeError {}

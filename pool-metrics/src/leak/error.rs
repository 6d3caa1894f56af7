//! Errors of feeding and building the leak detector.

use std::fmt;

/// Why [`LeakDetector::push`](crate::LeakDetector::push) refused a sample. The detector's
/// state is unchanged by a refused sample.
///
/// ```
/// use pool_metrics::{LeakDetector, SampleErrorKind};
///
/// let mut d = LeakDetector::new();
/// d.push(10.0, 1e6)?;
/// let err = d.push(9.0, 1e6).unwrap_err();
/// assert_eq!(err.kind(), SampleErrorKind::TimeWentBackwards);
/// assert_eq!(err.to_string(), "sample time must not go backwards: got 9 after 10");
/// # Ok::<(), pool_metrics::SampleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SampleError {
    kind: SampleErrorKind,
    message: String,
}

/// What was wrong with a sample.
///
/// ```
/// use pool_metrics::{LeakDetector, SampleErrorKind};
///
/// let err = LeakDetector::new().push(0.0, f64::NAN).unwrap_err();
/// assert_eq!(err.kind(), SampleErrorKind::InvalidBytes);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleErrorKind {
    /// The time was NaN or infinite.
    InvalidTime,
    /// The byte count was NaN, infinite or negative.
    InvalidBytes,
    /// The time was earlier than the previous sample's.
    TimeWentBackwards,
}

impl SampleError {
    pub(crate) fn new(kind: SampleErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, SampleErrorKind};
    ///
    /// let err = LeakDetector::new().push(f64::INFINITY, 1.0).unwrap_err();
    /// assert_eq!(err.kind(), SampleErrorKind::InvalidTime);
    /// ```
    pub fn kind(&self) -> SampleErrorKind {
        self.kind
    }
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SampleError {}

/// Why [`LeakDetectorBuilder::build`](crate::LeakDetectorBuilder::build) refused its
/// settings: which setting ([`kind`](Self::kind)) and a message saying what to fix.
///
/// ```
/// use std::time::Duration;
/// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
///
/// let err = LeakDetector::builder().step(Duration::ZERO).build().unwrap_err();
/// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::Step);
/// assert_eq!(err.to_string(), "step must be > 0, got 0ns");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakDetectorBuildError {
    kind: LeakDetectorBuildErrorKind,
    message: String,
}

/// Which setting of a [`LeakDetectorBuilder`](crate::LeakDetectorBuilder) was wrong.
///
/// ```
/// use std::time::Duration;
/// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
///
/// // A 1 µs step under the default 5 min floor window would keep 1.8 billion tick minima.
/// let err = LeakDetector::builder().step(Duration::from_micros(1)).build().unwrap_err();
/// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::FloorWindow);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeakDetectorBuildErrorKind {
    /// `step` was zero.
    Step,
    /// `floor_window` was shorter than `step`, or longer than
    /// [`MAX_FLOOR_STEPS`](crate::LeakDetectorBuilder::MAX_FLOOR_STEPS) steps.
    FloorWindow,
    /// `min_points` was below 3.
    MinPoints,
    /// `window_points` was outside `min_points..=1000`.
    WindowPoints,
    /// `min_slope` was not finite and > 0.
    MinSlope,
    /// `min_z` was not finite and > 0.
    MinZ,
    /// `min_growth` was not finite and >= 0.
    MinGrowth,
    /// `confirm` was zero.
    Confirm,
}

impl LeakDetectorBuildError {
    pub(crate) fn new(kind: LeakDetectorBuildErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// Which setting was wrong.
    ///
    /// ```
    /// use pool_metrics::{LeakDetector, LeakDetectorBuildErrorKind};
    ///
    /// let err = LeakDetector::builder().confirm(0).build().unwrap_err();
    /// assert_eq!(err.kind(), LeakDetectorBuildErrorKind::Confirm);
    /// ```
    pub fn kind(&self) -> LeakDetectorBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for LeakDetectorBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LeakDetectorBuildError {}

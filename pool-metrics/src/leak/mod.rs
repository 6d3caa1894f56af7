//! Robust memory-leak detection over a stream of `(t, bytes)` samples. The method and its
//! parameters are documented in `README.md` beside this file.

mod builder;
mod detector;
mod error;
mod report;
mod stats;

pub use builder::LeakDetectorBuilder;
pub use detector::LeakDetector;
pub use error::{LeakDetectorBuildError, LeakDetectorBuildErrorKind, SampleError, SampleErrorKind};
pub use report::{LeakReport, LeakVerdict};

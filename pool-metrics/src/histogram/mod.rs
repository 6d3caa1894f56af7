//! Bounded-memory, mergeable latency histograms.

mod builder;
mod error;
mod layout;
mod sharded;
mod snapshot;

pub use builder::HistogramBuilder;
pub use error::{HistogramBuildError, HistogramBuildErrorKind, MergeError};
pub use sharded::Histogram;
pub use snapshot::HistogramSnapshot;

//! The tiered cache: an L1 [`Cache`](crate::Cache) over an [`L2`](crate::L2).

#[cfg(feature = "redis")]
mod broadcast;
mod builder;
mod cache;
mod epoch;
mod error;
mod flight;
mod key;
mod pressure;
mod queue;
mod read;
mod stats;
#[cfg(test)]
mod tests;
mod write;

pub use builder::{
    DEFAULT_DRAIN_TIMEOUT, DEFAULT_LOAD_WAIT, DEFAULT_QUEUE_CAPACITY, DEFAULT_RETRY_BACKOFF,
    DEFAULT_WRITE_BATCH, DEFAULT_WRITE_TIMEOUT, TieredCacheBuilder, WriteMode,
};
pub use cache::TieredCache;
#[cfg_attr(not(feature = "compute"), allow(unused_imports))]
pub(crate) use cache::{Entry, Loaded};
pub use error::{
    FlushError, LoadError, TieredBuildError, TieredBuildErrorKind, WriteError, WriteErrorKind,
};
pub use key::TieredKey;
pub use pressure::{PressureError, ShrinkOnPressure};
#[cfg_attr(not(feature = "compute"), allow(unused_imports))]
pub(crate) use read::Via;
pub use stats::TieredStats;

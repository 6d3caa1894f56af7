//! The rayon-backed compute pool.

mod adaptive;
mod admission;
mod builder;
mod cancel;
mod error;
mod export;
mod handle;
mod map;
mod pool;
mod queue;
mod shared;
mod stats;
mod task;

pub use adaptive::AdaptiveConfig;
pub use builder::{
    ComputePoolBuildError, ComputePoolBuildErrorKind, ComputePoolBuilder, ComputePoolConfig,
    QueueFullPolicy, WorkloadKind,
};
pub use cancel::CancellationToken;
pub(crate) use error::panic_message;
pub use error::{SubmitError, SubmitErrorKind, TaskError};
pub use handle::TaskHandle;
pub use map::MapIter;
pub use pool::ComputePool;
pub use stats::ComputePoolStats;

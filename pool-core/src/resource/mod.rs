//! `ResourcePool`: a pool of expensive resources created by a `Manager`.

mod builder;
mod error;
mod guard;
mod manager;
mod pool;
mod stats;
#[cfg(feature = "async")]
mod wait;

pub use builder::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_CREATE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_LIFETIME,
    DEFAULT_MAX_SIZE, DEFAULT_MAX_USES, DEFAULT_MIN_IDLE, ResourcePoolBuildError,
    ResourcePoolBuildErrorKind, ResourcePoolBuilder, ResourcePoolConfig,
};
pub use error::GetError;
pub use guard::Pooled;
pub use manager::{DestroyReason, Manager};
pub use pool::ResourcePool;
pub use stats::ResourcePoolStats;
#[cfg(feature = "async")]
pub use wait::GetFuture;

//! `ResourcePool`: a pool of expensive resources created by a `Manager`.

mod builder;
mod error;
mod export;
mod guard;
mod manager;
mod pool;
mod pressure;
mod stats;
#[cfg(feature = "async")]
mod wait;

pub use builder::{
    ResourcePoolBuildError, ResourcePoolBuildErrorKind, ResourcePoolBuilder, ResourcePoolConfig,
};
pub use error::GetError;
pub use guard::Pooled;
pub use manager::{DestroyReason, Manager};
pub use pool::ResourcePool;
pub use stats::ResourcePoolStats;
#[cfg(feature = "async")]
pub use wait::GetFuture;

//! Object pools: a shared, bounded `ObjectPool` and a lock-free single-thread `LocalObjectPool`.

mod local;
mod pool;

pub use local::{LocalObjectPool, LocalPooled};
pub use pool::{
    DEFAULT_MAX_RETAINED, ObjectPool, ObjectPoolBuildError, ObjectPoolBuilder, ObjectPoolStats,
    PooledObject,
};

//! Object pools: a shared, bounded `ObjectPool` and a lock-free single-thread `LocalObjectPool`.

mod local;
mod pool;

pub use local::{LocalObjectPool, LocalPooled};
pub use pool::{
    ObjectPool, ObjectPoolBuildError, ObjectPoolBuildErrorKind, ObjectPoolBuilder,
    ObjectPoolConfig, ObjectPoolStats, PooledObject,
};

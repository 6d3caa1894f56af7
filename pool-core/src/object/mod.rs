//! Object pools: a shared, bounded `ObjectPool` and a lock-free single-thread `LocalObjectPool`.

mod local;
mod pool;
mod pressure;

pub use local::{LocalObjectPool, LocalPooled};
pub use pool::{
    ObjectPool, ObjectPoolBuildError, ObjectPoolBuildErrorKind, ObjectPoolBuilder,
    ObjectPoolConfig, ObjectPoolStats, PooledObject,
};

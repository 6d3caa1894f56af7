//! # pool-core
//!
//! A rayon-backed compute pool with result handles, a bounded queue, deadlines, cancellation and
//! panic isolation; resource and object pools; concurrency control, rate limiting, circuit
//! breaking, batching and single-flight.
//!
//! ## Where it sits
//!
//! Above `pool-metrics` (its statistics are recorded there); below `pool-cache`, whose
//! `CachedPool` memoizes a compute pool's results.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `async` | no | `async` acquire / wait variants (runtime-agnostic futures) |
//! | `shuttle` | no | with `RUSTFLAGS="--cfg shuttle"`: shuttle's model-checked locks and atomics, for tests only |

#![forbid(unsafe_code)]

mod sync;

// --- compute pool, single-flight (issue 4) ---
mod compute;
mod single_flight;

pub use compute::{
    AdaptiveConfig, CancellationToken, ComputePool, ComputePoolBuildError,
    ComputePoolBuildErrorKind, ComputePoolBuilder, ComputePoolConfig, ComputePoolStats,
    DEFAULT_QUEUE_CAPACITY, DEFAULT_THREAD_NAME_PREFIX, MIN_STACK_SIZE, MapIter, QueueFullPolicy,
    SubmitError, SubmitErrorKind, TaskError, TaskHandle, WorkloadKind,
};
pub use single_flight::{SingleFlight, SingleFlightError};

// --- resource and object pools, limits, breaker, batcher (issue 5) ---
mod limit;
mod object;
mod resource;

pub use limit::*;
pub use object::{
    DEFAULT_MAX_RETAINED, LocalObjectPool, LocalPooled, ObjectPool, ObjectPoolBuildError,
    ObjectPoolBuilder, ObjectPoolStats, PooledObject,
};
pub use pool_metrics::{Clock, ManualClock, MonotonicClock};
pub use resource::*;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

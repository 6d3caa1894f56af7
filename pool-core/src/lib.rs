//! # pool-core
//!
//! A rayon-backed compute pool with result handles, a bounded queue, deadlines, cancellation and
//! panic isolation; resource and object pools; concurrency control, rate limiting, circuit
//! breaking, batching and single-flight.
//!
//! ## Where it sits
//!
//! Above `pool-metrics` (its clocks, counters and histograms, and the `Registry` every component
//! exports to); below `pool-cache`, which builds on it.
//!
//! ## One shape for every component
//!
//! The compute pool, resource pool, object pool, concurrency controller, rate limiter, circuit
//! breaker and batcher follow the same rules, so learning one teaches the others:
//!
//! - **Constructors never panic on bad input.** A shortcut constructor is either infallible by
//!   type, because every input it takes is valid ([`ResourcePool::new`], [`ObjectPool::new`],
//!   [`CircuitBreaker::new`]), or returns the builder's `Result` ([`ComputePool::new`],
//!   [`ConcurrencyController::new`], [`RateLimiter::per_second`], [`Batcher::new`]).
//! - **Builders** are by value and `#[must_use]`, and validate in `build()`. A build error is a
//!   struct whose `kind()` is a `#[non_exhaustive]` enum (`ComputePoolBuildError` +
//!   `ComputePoolBuildErrorKind`, and the same pair for every other component); its message is
//!   lowercase and says what to fix.
//! - **Defaults** are associated constants of the component's effective configuration, the
//!   struct `config()` reads back: [`ComputePoolConfig::DEFAULT_QUEUE_CAPACITY`],
//!   [`CircuitBreakerConfig::DEFAULT_MINIMUM_CALLS`], and so on.
//! - **Sharing.** Every handle a user shares across threads is a cheap `Clone` around one `Arc`:
//!   clone it instead of wrapping it in another `Arc`. Guards and permits borrow their handle.
//! - **Time.** Every time-dependent type reads time through an injectable [`Clock`], set with a
//!   `.clock(..)` builder method that takes any `impl Clock` and holds it as an
//!   `Arc<dyn Clock>`, as `pool-cache` does (the rate limiters call the default clock directly,
//!   since its read is most of a `check`). Tests drive a [`ManualClock`] instead of sleeping.
//!   Blocking waits park on the OS for the time left on that clock; while a clock lags the OS
//!   (a manual one that has not been advanced), they look again no more than once a
//!   millisecond, so a lagging clock never turns a wait into a spin.
//! - **Metrics.** Every component with statistics has `export_metrics(&Registry, name)`: each
//!   call adds to the registry's counters what happened since the previous call and sets its
//!   gauges, as `pool_cache::Cache::export_metrics` does.
//! - **No hangs.** No user callback runs under one of this crate's locks, every wait is bounded
//!   by a timeout or by the caller's own work, and a `Duration::MAX` timeout means "wait
//!   forever", never an overflow panic.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `async` | no | `async` acquire / wait variants (runtime-agnostic futures) |
//! | `shuttle` | no | with `RUSTFLAGS="--cfg shuttle"`: shuttle's model-checked locks and atomics, for tests only |
#![forbid(unsafe_code)]

mod sync;
mod waiters;

mod compute;
mod limit;
mod object;
mod resource;
mod single_flight;

pub use compute::{
    AdaptiveConfig, CancellationToken, ComputePool, ComputePoolBuildError,
    ComputePoolBuildErrorKind, ComputePoolBuilder, ComputePoolConfig, ComputePoolStats, MapIter,
    QueueFullPolicy, SubmitError, SubmitErrorKind, TaskError, TaskHandle, WorkloadKind,
};
pub use limit::{
    AcquireRateError, BatchError, Batcher, BatcherBuildError, BatcherBuildErrorKind,
    BatcherBuilder, BatcherConfig, BreakerPermit, CallError, CallNotPermitted, CircuitBreaker,
    CircuitBreakerBuildError, CircuitBreakerBuildErrorKind, CircuitBreakerBuilder,
    CircuitBreakerConfig, CircuitBreakerMetrics, CircuitState, ConcurrencyController,
    ConcurrencyControllerBuildError, ConcurrencyControllerBuildErrorKind,
    ConcurrencyControllerBuilder, ConcurrencyControllerConfig, ConcurrencyControllerStats,
    ConcurrencyError, KeyedRateLimitError, KeyedRateLimiter, RateLimited, RateLimiter,
    RateLimiterBuildError, RateLimiterBuildErrorKind, RateLimiterBuilder, SlidingWindow,
    StateTransition,
};
pub use object::{
    LocalObjectPool, LocalPooled, ObjectPool, ObjectPoolBuildError, ObjectPoolBuildErrorKind,
    ObjectPoolBuilder, ObjectPoolConfig, ObjectPoolStats, PooledObject,
};
pub use pool_metrics::{Clock, ManualClock, MonotonicClock};
#[cfg(feature = "async")]
pub use resource::GetFuture;
pub use resource::{
    DestroyReason, GetError, Manager, Pooled, ResourcePool, ResourcePoolBuildError,
    ResourcePoolBuildErrorKind, ResourcePoolBuilder, ResourcePoolConfig, ResourcePoolStats,
};
pub use single_flight::{SingleFlight, SingleFlightError};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

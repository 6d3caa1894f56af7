//! The tiered cache and the memoizing pool, with real parts: redb files reopened, Redis
//! servers killed and restarted, child processes racing for one key.
#![allow(clippy::unwrap_used, missing_docs)]

mod alloc;
#[cfg(feature = "compute")]
mod cached_pool;
#[cfg(feature = "disk")]
mod disk;
mod flaky;
mod model;
mod pressure;
mod read;
#[cfg(all(feature = "redis", feature = "compute"))]
mod redis;
mod write;

/// Counts allocations per thread: the L1-hit path through the tiered cache must make none.
#[global_allocator]
static ALLOC: pool_metrics::CountingAlloc = pool_metrics::CountingAlloc::system();

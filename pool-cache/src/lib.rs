//! # pool-cache
//!
//! A concurrent in-memory L1 cache: sharded, bounded by entry count or weight, with a choice of
//! eviction policy (exact LRU, O(1) LFU, or W-TinyLFU as in Caffeine), time-to-live,
//! time-to-idle and per-entry expiry, single-flight loading, a removal listener and cheap
//! striped statistics. No background thread and no `unsafe`.
//!
//! ```
//! use pool_cache::{Cache, Policy};
//!
//! let cache: Cache<u64, String> = Cache::builder(10_000).policy(Policy::TinyLfu).build()?;
//! let v = cache.get_or_insert_with(42, || "expensive".to_string());
//! assert_eq!(cache.get(&42), Some(v));
//! # Ok::<(), pool_cache::BuildError>(())
//! ```
//!
//! ## Where it sits
//!
//! Above `pool-metrics` (stats) and `pool-core` (the compute pool it memoizes); `pool-cluster`
//! shards its L2 trait over many servers. The L2 backends, the tiered cache and the memoizing
//! pool land in later issues.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `shuttle` | no | builds the locks and atomics of the `sync` shim from shuttle under `--cfg shuttle`, for the model-checked tests |
#![deny(unsafe_code)] // one exception: the shard lock (`lock.rs`)

mod builder;
mod error;
mod l1;
#[allow(unsafe_code)]
mod lock;
mod sync;

pub use builder::{
    CacheBuilder, DEFAULT_MIN_SHARD_CAPACITY, DEFAULT_POLICY, DEFAULT_SHARDS_PER_CORE, MIN_WEIGHT,
};
pub use error::{BuildError, BuildErrorKind, InsertError, InsertErrorKind};
pub use l1::{
    Cache, CachePolicy, CacheStats, Expiry, Namespaces, NsKey, ParsePolicyError, Policy,
    RemovalCause,
};
/// The time source for expiry, shared with `pool-core`: [`MonotonicClock`] by default,
/// [`ManualClock`] in tests.
pub use pool_metrics::{Clock, ManualClock, MonotonicClock};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

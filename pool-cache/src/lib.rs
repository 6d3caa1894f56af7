//! # pool-cache
//!
//! A concurrent in-memory L1 cache: sharded, bounded by entry count or weight, with a choice of
//! eviction policy (exact LRU, O(1) LFU, or W-TinyLFU as in Caffeine), time-to-live,
//! time-to-idle and per-entry expiry, single-flight loading, a removal listener and cheap
//! striped statistics. The L1 runs no background thread. Its only `unsafe` is the striped
//! shard lock (`lock.rs`): fenced, a `// SAFETY:` comment on each block, tested under miri and
//! shuttle; every other module is `deny(unsafe_code)`.
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
//! Above `pool-metrics` (stats), and above `pool-core` only with the `compute` feature (the
//! compute pool `CachedPool` memoizes); `pool-cluster` shards its L2 trait over many servers. Below the L1: the `L2` trait and its backends, the
//! [`TieredCache`] (an L1 over any L2: read-through, backfill, write-through or write-behind)
//! and, with the `compute` feature, `CachedPool` (a memoized `ComputePool` computed once across
//! processes through L2 leases).
//!
//! ## The L2 tier
//!
//! [`L2`] is the second level behind the L1: an async, object-safe byte store with per-key
//! TTL (`Arc<dyn L2>`), with three backends: [`MemoryL2`] (in process, bounded by bytes),
//! `DiskL2` (one redb file, feature `disk`) and `RedisL2` (feature `redis`). [`ValueCodec`]
//! turns typed values into bytes behind a versioned header, [`L2Namespace`] versions key
//! spaces inside the key, and [`BlockingL2`] serves sync callers.
//!
//! ```
//! use pool_cache::{L2, L2Namespace, MemoryL2, ValueCodec};
//! use std::time::Duration;
//!
//! # futures::executor::block_on(async {
//! let l2 = MemoryL2::new(64 << 20)?;
//! let users = L2Namespace::new("user", 1)?;
//! let codec = ValueCodec::new();
//! l2.set(&users.key("42"), &codec.encode(&("Ada", 36u8))?, Duration::from_secs(60)).await?;
//! let hit = l2.get(&users.key("42")).await?.and_then(|e| codec.read::<(String, u8)>(&e.value));
//! assert_eq!(hit, Some(("Ada".to_string(), 36)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `disk` | no | `DiskL2`: an L2 in one redb file, checksummed records, group commit |
//! | `redis` | no | `RedisL2`: an L2 on Redis through redis-rs on tokio |
//! | `compute` | no | `CachedPool`: memoized compute on a `pool-core` `ComputePool`, computed once across processes through L2 leases (pulls in `pool-core` and `blake3`) |
//! | `redis-tls` | no | `rediss://` URLs for `RedisL2`, through rustls |
//! | `shuttle` | no | builds the locks and atomics of the `sync` shim from shuttle under `--cfg shuttle`, for the model-checked tests |
#![deny(unsafe_code)] // one exception: the shard lock (`lock.rs`)

mod builder;
#[cfg(feature = "compute")]
mod cached_pool;
mod codec;
mod error;
mod l1;
mod l2;
#[allow(unsafe_code)]
mod lock;
#[cfg(feature = "compute")]
mod striped;
mod sync;
mod tiered;

pub use builder::{
    CacheBuilder, DEFAULT_MIN_SHARD_CAPACITY, DEFAULT_POLICY, DEFAULT_SHARDS_PER_CORE,
    FIXED_BYTES_FLOOR, FIXED_BYTES_PER_CAPACITY, MAX_CORES, MIN_STRIPES, MIN_WEIGHT,
};
#[cfg(feature = "compute")]
pub use cached_pool::{
    CachedPool, CachedPoolBuildError, CachedPoolBuildErrorKind, CachedPoolBuilder, CachedPoolStats,
    CallError, CallErrorKind, DEFAULT_LEASE_TTL, DEFAULT_MAX_WAIT, DEFAULT_MEMO_CAPACITY,
    DEFAULT_POLL_BACKOFF, Source, Traced,
};
pub use codec::{
    CODEC_HEADER_LEN, Codec, CodecError, CodecErrorKind, DEFAULT_COMPRESS_THRESHOLD,
    DEFAULT_MAX_DECODED_SIZE, Json, Postcard, ValueCodec,
};
pub use error::{BuildError, BuildErrorKind, InsertError, InsertErrorKind};
pub use l1::{
    Cache, CacheConfig, CacheStats, Expiry, Namespaces, NsKey, ParsePolicyError, Policy,
    RemovalCause,
};
pub use l2::{
    BlockingL2, DEFAULT_BLOCKING_TIMEOUT, DEFAULT_MAX_VALUE_SIZE, L2, L2BuildError,
    L2BuildErrorKind, L2Entry, L2Error, L2ErrorKind, L2Future, L2Namespace, L2Stats, MAX_TTL,
    MEMORY_RECORD_OVERHEAD, MemoryL2, MemoryL2Builder, Put, RuntimeLocal, UnixClock,
};
#[cfg(feature = "disk")]
pub use l2::{
    DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_DISK_MAX_BYTES, DEFAULT_RECLAIM_BATCH, DiskDurability,
    DiskL2, DiskL2Builder, RECORD_HEADER_LEN,
};
#[cfg(feature = "redis")]
pub use l2::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, DEFAULT_SCAN_COUNT, REDIS_VALUE_HEADER_LEN,
    RedisL2, RedisL2Builder,
};
/// The time source for expiry, shared with `pool-core`: [`MonotonicClock`] by default,
/// [`ManualClock`] in tests.
pub use pool_metrics::{Clock, ManualClock, MonotonicClock};
pub use tiered::{
    DEFAULT_DRAIN_TIMEOUT, DEFAULT_LOAD_WAIT, DEFAULT_QUEUE_CAPACITY, DEFAULT_RETRY_BACKOFF,
    DEFAULT_WRITE_BATCH, DEFAULT_WRITE_TIMEOUT, FlushError, LoadError, PressureError,
    ShrinkOnPressure, TieredBuildError, TieredBuildErrorKind, TieredCache, TieredCacheBuilder,
    TieredKey, TieredStats, WriteError, WriteErrorKind, WriteMode,
};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

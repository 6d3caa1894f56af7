//! # pool-cluster
//!
//! Decides which node owns a key: a consistent-hash ring with virtual nodes, weights, distinct
//! replicas and bounded loads, beside the other classic placements (jump consistent hash,
//! rendezvous, Redis Cluster slots, hash ranges, random), all behind one [`Sharding`] trait.
//!
//! ## Where it sits
//!
//! The top of the workspace graph, but the ring stands alone: it needs neither rayon nor Redis
//! nor tokio, only `xxhash-rust` (keys), `blake3` (node points) and `arc-swap` (snapshots).
//! Node health, load balancing and the sharded L2 over many Redis servers sit behind the
//! `cache` feature.
//!
//! ## What to reach for
//!
//! - [`HashRing`]: the ring as a value. [`get`](HashRing::get),
//!   [`get_n`](HashRing::get_n) into a caller's buffer (distinct physical nodes),
//!   [`get_n_filtered`](HashRing::get_n_filtered) for health-aware fallbacks;
//!   [`add`](HashRing::add) / [`remove`](HashRing::remove) / [`set_weight`](HashRing::set_weight)
//!   merge instead of re-sorting.
//! - [`SharedRing`]: a ring that readers use while writers change it; readers load an
//!   immutable snapshot without locking.
//! - [`RingDiff`]: the hash ranges ([`MovedRange`]) that change owner between two rings, and a
//!   `moves(key)` predicate, for rebalancing.
//! - [`BoundedLoads`]: consistent hashing with bounded loads, for balancing inside one process.
//! - [`key_hash`]: the key hash every lookup uses (xxh3-64, fixed seed [`KEY_SEED`]).
//! - Strategies: [`JumpHash`], [`Rendezvous`], [`RedisSlots`] ([`key_slot`]),
//!   [`RangeSharding`], [`RandomPlacement`]; each documents what moves on a join or a leave.
//! - With `cache`: `HealthMonitor` (probe thresholds, a breaker per node, change events),
//!   `LoadBalancer` + `RetryClient`, `ShardedL2` (an `L2` over many L2 nodes with replication,
//!   read-repair, failover and rebalancing) and `RedisClusterL2` (an `L2` on a Redis Cluster).
//!
//! ```
//! use pool_cluster::HashRing;
//!
//! let ring = HashRing::new(["10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"])?;
//! let mut replicas = Vec::with_capacity(2);
//! ring.get_n("session:9f2c", 2, &mut replicas)?;
//! assert_eq!(replicas.len(), 2);
//! assert_ne!(replicas[0], replicas[1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `cache` | no | node health (`HealthMonitor`), `LoadBalancer` and its retrying client, `ShardedL2` over many L2 nodes and `RedisClusterL2` on redis-rs `cluster-async`; pulls pool-core, pool-cache (with `redis`), tokio and redis |
//! | `shuttle` | no | builds the `sync` shim on shuttle; with `RUSTFLAGS="--cfg shuttle"`, the snapshot-swap model tests run under shuttle's scheduler |
#![forbid(unsafe_code)]

#[cfg(feature = "cache")]
mod balance;
mod error;
mod hash;
#[cfg(feature = "cache")]
mod health;
#[cfg(feature = "cache")]
mod redis_cluster;
mod ring;
#[cfg(feature = "cache")]
mod sharded;
mod strategy;
mod sync;

#[cfg(feature = "cache")]
pub use balance::{
    AttemptError, Backoff, BalanceBuildError, BalanceBuildErrorKind, ClientError, LoadBalancer,
    LoadBalancerBuilder, NoHealthyEndpoint, Pick, RetryBudget, RetryClient, RetryClientBuilder,
    Strategy,
};
pub use error::{
    BoundedLoadsError, BoundedLoadsErrorKind, NoNodesError, NodeError, NodeErrorKind,
    RingBuildError, RingBuildErrorKind,
};
pub use hash::{KEY_SEED, key_hash};
#[cfg(feature = "cache")]
pub use health::{
    DuplicateNodeError, HealthBuildError, HealthBuildErrorKind, HealthConfig, HealthConfigBuilder,
    HealthEvent, HealthEventKind, HealthMonitor, NodeHealth, PROBER_TICK, ProberHandle,
    Subscription,
};
#[cfg(feature = "cache")]
pub use pool_metrics::{Clock, ManualClock, MonotonicClock};
#[cfg(feature = "cache")]
pub use redis_cluster::{
    RedisClusterBuildError, RedisClusterBuildErrorKind, RedisClusterL2, RedisClusterL2Builder,
};
pub use ring::{
    BoundedLoads, HashRing, HashRingBuilder, MovedRange, RingDiff, RingSnapshot, SharedRing,
};
#[cfg(feature = "cache")]
pub use sharded::{
    CopyReport, Rebalance, ShardedL2, ShardedL2BuildError, ShardedL2BuildErrorKind,
    ShardedL2Builder, ShardedStats, TopologyError, TopologyErrorKind,
};
pub use strategy::{
    JumpHash, RandomPlacement, RangeSharding, RedisSlots, Rendezvous, SLOT_COUNT, Sharding, crc16,
    jump_hash, key_slot,
};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

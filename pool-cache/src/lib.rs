//! # pool-cache
//!
//! A concurrent in-memory L1 cache (LRU, LFU, W-TinyLFU; TTL/TTI; weigher; listeners; stats), an
//! L2 trait with in-memory, on-disk (redb) and Redis backends, a tiered cache, and a memoizing
//! `CachedPool` over the compute pool.
//!
//! ## Where it sits
//!
//! Above `pool-metrics` (stats) and `pool-core` (the compute pool it memoizes); `pool-cluster`
//! shards its L2 trait over many servers.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | *(none yet)* | | |

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

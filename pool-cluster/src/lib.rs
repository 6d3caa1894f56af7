//! # pool-cluster
//!
//! A consistent-hash ring (virtual nodes, weights, distinct replicas, bounded loads), node health,
//! load balancing, and a sharded L2 across many Redis servers with replication and failover.
//!
//! ## Where it sits
//!
//! The top of the workspace. The ring alone needs neither rayon nor Redis; the sharded L2 uses
//! `pool-cache`'s L2 trait behind the `cache` feature.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | *(none yet)* | | |

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

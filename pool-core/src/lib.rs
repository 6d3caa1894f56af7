//! # pool-core
//!
//! A rayon-backed compute pool with result handles, a bounded queue, deadlines, cancellation and
//! panic isolation; resource and object pools; concurrency control, rate limiting, circuit
//! breaking, batching and single-flight.
//!
//! ## Where it sits
//!
//! Above `pool-metrics` (its statistics are recorded there); below `pool-cache`, whose
//! `CachedPool` memoizes a [`ComputePool`](https://docs.rs/pool-core)'s results.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | *(none yet)* | | |

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

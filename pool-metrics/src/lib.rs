//! # pool-metrics
//!
//! Cheap, bounded-memory measurements for services that do expensive work: latency histograms
//! (p50/p95/p99/p999), counters and gauges in a labelled registry, timers, a bottleneck report,
//! a memory monitor with alerts, and a leak detector, exported as JSON and Prometheus text.
//!
//! ## Where it sits
//!
//! The leaf of the workspace: `pool-core`, `pool-cache` and `pool-cluster` record into it; it
//! depends on none of them.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | *(none yet)* | | |

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

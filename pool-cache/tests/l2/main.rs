//! Integration tests of the L2 tier: one conformance suite run against every backend,
//! proptest models of each backend against a `HashMap` with TTL, the codec, the blocking
//! facade, and each backend's real parts (redb files reopened and killed mid-write, real
//! `redis-server`s killed and restarted).
#![allow(clippy::unwrap_used)] // tests may unwrap

mod blocking;
mod codec;
mod conformance;
#[cfg(feature = "disk")]
mod disk;
mod memory;
mod model;
#[cfg(feature = "redis")]
mod redis;

//! Integration tests for the resource pool, rate limiter, circuit breaker and the other limits.
//!
//! The shuttle model of the breaker's half-open admission runs only under
//! `RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle cargo test -p pool-core --features shuttle --lib --test limits shuttle`
//! (which runs the compute pool's shuttle models too).

#![allow(clippy::unwrap_used)] // tests may unwrap, helpers included

mod alloc;
mod batch;
mod breaker;
mod concurrency;
mod durations;
mod rate;
mod resource;
#[cfg(feature = "async")]
mod resource_async;
#[cfg(shuttle)]
mod shuttle_breaker;

//! Integration tests of the L1 cache: reference models (proptest), invariants, expiry under a
//! mock clock, single-flight loading, listener and bad input; shuttle models under
//! `--cfg shuttle`.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod api;
mod expiry;
mod loader;
mod model;
mod regret;
#[cfg(shuttle)]
mod shuttle_models;

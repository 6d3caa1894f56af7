//! Integration tests of pool-metrics, one binary with a module per area.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod alloc;
#[cfg(feature = "prometheus")]
mod export;
mod histogram;
mod leak;
mod leakgen;
mod memory;
mod models;

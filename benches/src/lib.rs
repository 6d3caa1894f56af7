//! Shared helpers for the workspace's criterion benches and the `cachesim`, `ringsim` and
//! `leakcheck` command-line tools.

#![forbid(unsafe_code)]

pub mod ringsim;
pub mod sim;
pub mod trace;

//! Examples for the pool workspace: run them with `cargo run -p pool-examples --example NAME`
//! (the list is in `examples/README.md`).
//!
//! The library part holds the flagship [`pipeline`]: the `pipeline` example is its command
//! line, and the integration tests in `tests/` run that binary end to end.
#![forbid(unsafe_code)]

pub mod pipeline;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

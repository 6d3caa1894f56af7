//! Integration tests for the compute pool and single-flight (one binary, one module per area).

// Tests may unwrap (the developers' guide); the lint only exempts `#[test]` functions themselves,
// not the helpers and closures they call.
#![allow(clippy::unwrap_used)]

mod adaptive;
mod alloc;
mod basics;
mod bulk;
mod cancel;
mod nested;
mod queue;
mod shutdown;
mod single_flight;
mod stats;
mod util;

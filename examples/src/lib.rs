//! Examples for the pool workspace: run them with `cargo run -p pool-examples --example NAME`.

//! Integration tests for `cachesim`: the trace parser on every format and codec, the simulator
//! against Belady's bound and a known LRU figure, and the command line's contract.
#![allow(clippy::unwrap_used)] // tests may unwrap, helpers included

mod cli;
mod parser;
mod sim;

use std::path::PathBuf;

/// The shared trace set (`../shared/traces` beside the repository), if it is there.
fn shared_trace(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces").join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} is not there", path.display());
        None
    }
}

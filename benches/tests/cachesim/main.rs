//! Integration tests for `cachesim`: the trace parser on every format and codec, the simulator
//! against Belady's bound and a known LRU figure, and the command line's contract.
#![allow(clippy::unwrap_used)] // tests may unwrap, helpers included

mod cli;
mod families;
mod parser;
mod sim;

use std::path::PathBuf;

/// The shared trace set (`../shared/traces` beside the repository, or `$POOL_TRACES`), if it
/// is there. A missing trace skips the test with a notice, except under `CI=true`, where it
/// fails: CI must not pass by skipping every replay.
fn shared_trace(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("POOL_TRACES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces"),
        PathBuf::from,
    );
    let path = dir.join(name);
    if path.exists() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(
        !ci,
        "{} is not there and CI=true: put the shared traces beside the repository or set POOL_TRACES",
        path.display()
    );
    eprintln!("SKIPPED: {} is not there (set POOL_TRACES to the trace folder)", path.display());
    None
}

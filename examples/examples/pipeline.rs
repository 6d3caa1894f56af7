//! The flagship pipeline: CPU-heavy work memoized in an L1 over a persistent L2 (a redb file,
//! or Redis servers sharded by the hash ring), computed on the compute pool, watched by metrics.
//!
//! ```sh
//! cargo run --release -p pool-examples --example pipeline                  # cold, then warm
//! cargo run --release -p pool-examples --example pipeline -- --fresh      # cold again
//! cargo run --release -p pool-examples --example pipeline -- --json       # one JSON object
//! cargo run --release -p pool-examples --example pipeline -- --redis redis://127.0.0.1:6379
//! ```
//!
//! Every flag is described by `-- --help`; the parts are in `pool_examples::pipeline`. Exit
//! status: 0 when every request was answered, 1 when some failed, 2 for unusable flags or an
//! unusable data directory (reported before any work starts).

use std::process::ExitCode;

use clap::Parser;
use pool_examples::pipeline::{Args, run};
use pool_metrics::CountingAlloc;

// Counts live heap bytes, so the memory trend and the leak verdict follow the heap, not RSS.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

fn main() -> ExitCode {
    let settings = match Args::parse().settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match run(&settings, Some(&ALLOC)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if settings.json {
        match serde_json::to_string(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot write the report as JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{report}");
    }
    if report.errors > 0 {
        eprintln!("error: {} of {} requests failed", report.errors, report.requests);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

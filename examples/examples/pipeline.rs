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
//! Every flag is described by `-- --help`; the parts are in `pool_examples::pipeline`.

use clap::Parser;
use pool_examples::pipeline::{Args, run};
use pool_metrics::CountingAlloc;

// Counts live heap bytes, so the memory trend and the leak verdict follow the heap, not RSS.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

fn main() -> anyhow::Result<()> {
    let settings = Args::parse().settings()?;
    let report = run(&settings, Some(&ALLOC))?;
    if settings.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{report}");
    }
    anyhow::ensure!(report.errors == 0, "{} requests failed", report.errors);
    Ok(())
}

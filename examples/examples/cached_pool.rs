//! `CachedPool`: a memoizing compute pool. Eight threads ask for the same expensive result
//! and it is computed once; a restart reads it back from the redb file instead of computing.
//! It checks its own results.
//!
//! `cargo run -p pool-examples --example cached_pool`

use std::sync::Arc;

use anyhow::ensure;
use pool_cache::{CachedPool, DiskL2, L2};
use pool_core::ComputePool;

/// The expensive function: deliberately slow Fibonacci.
fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("pool-cached-pool-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("memo.redb");
    let pool = ComputePool::new(2)?;

    {
        let disk = Arc::new(DiskL2::open(&path)?);
        // Results are keyed by blake3(name, version, input): bump the version when `fib`
        // changes and old results are not read.
        let memo = CachedPool::builder(pool.clone(), "fib", |n: &u64| fib(*n))
            .version(1)
            .shared_l2(disk.clone() as Arc<dyn L2>)
            // redb locks its file to this process: no other process to share a lease with,
            // so skip the lease's three L2 calls per computation (keep them on Redis).
            .leases(false)
            .build()?;
        let answers: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| memo.call(&30))).collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect::<Result<_, _>>()
        })?;
        let st = memo.stats();
        println!(
            "8 callers: {} computation, {} saved ({:?} of compute saved)",
            st.computations, st.computations_saved, st.compute_time_saved
        );
        ensure!(answers.len() == 8 && answers.iter().all(|&a| a == 832_040), "wrong answers");
        ensure!(st.computations == 1, "computed {} times", st.computations);
        disk.checkpoint()?;
    } // restart

    let memo = CachedPool::builder(pool.clone(), "fib", |n: &u64| fib(*n))
        .version(1)
        .l2(DiskL2::open(&path)?)
        .leases(false)
        .build()?;
    ensure!(memo.call(&30)? == 832_040, "wrong answer after the restart");
    let st = memo.stats();
    println!("after a restart: {} computations, {} L2 hit", st.computations, st.l2_hits);
    ensure!(st.computations == 0 && st.l2_hits == 1, "the restart computed again: {st:?}");
    drop(memo);
    pool.shutdown();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

//! A weighted cache's memory follows its entries, not its budget: every allocation is counted
//! (a counting global allocator, so this is its own test binary).
#![allow(clippy::unwrap_used)] // tests may unwrap

use pool_cache::{Cache, Policy};
use pool_metrics::CountingAlloc;
use std::sync::{Mutex, MutexGuard};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

/// The allocator counts the whole process: the tests take turns so none counts another's.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Live bytes after building a cache with a `budget`-byte weigher and filling it with values
/// of `value_len` bytes until `budget` is reached `rounds` times over (so it also evicts).
fn live_after_fill(policy: Policy, budget: u64, value_len: usize, rounds: u64) -> (u64, u64) {
    let before = ALLOC.live_bytes();
    let cache: Cache<u64, Vec<u8>> = Cache::builder(budget)
        .policy(policy)
        .seed(1)
        .weigher(|_, v: &Vec<u8>| v.len() as u64)
        .build()
        .unwrap();
    let built = ALLOC.live_bytes() - before;
    let n = budget / value_len as u64 * rounds;
    let mut peak = 0;
    for k in 0..n {
        cache.insert(k, vec![0u8; value_len]);
        if k % 1024 == 0 {
            peak = peak.max(ALLOC.live_bytes() - before);
        }
    }
    cache.run_pending_tasks();
    assert!(cache.weighted_size() <= budget);
    let live = ALLOC.live_bytes() - before;
    drop(cache);
    (built, peak.max(live))
}

/// The case: a 64 MiB budget of 4 KiB values reserved 516 MiB (a sketch sized as if
/// every byte were an entry). Everything the cache holds, values included, now stays within
/// 1.25 × the budget, and an empty cache costs almost nothing.
#[test]
fn a_weighted_cache_allocates_within_a_small_factor_of_its_budget() {
    let _turn = serial();
    let budget = 64 << 20;
    for policy in [Policy::TinyLfu, Policy::Lru] {
        let (built, peak) = live_after_fill(policy, budget, 4096, 2);
        eprintln!(
            "{policy}: empty {built} B, peak {:.3} x the budget",
            peak as f64 / budget as f64
        );
        assert!(built < 1 << 20, "{policy}: an empty cache of a 64 MiB budget took {built} B");
        assert!(
            peak <= budget + budget / 4,
            "{policy}: {peak} B live for a budget of {budget} B ({:.2}x)",
            peak as f64 / budget as f64
        );
    }
}

/// Budgets far beyond memory cost nothing up front: a 1 TiB budget aborted the process.
#[test]
fn a_budget_beyond_memory_allocates_only_for_its_entries() {
    let _turn = serial();
    let before = ALLOC.live_bytes();
    let cache: Cache<u64, Vec<u8>> =
        Cache::builder(1 << 40).weigher(|_, v: &Vec<u8>| v.len() as u64).build().unwrap();
    for k in 0..1000 {
        cache.insert(k, vec![0u8; 100]);
    }
    let live = ALLOC.live_bytes() - before;
    assert_eq!(cache.len(), 1000);
    assert!(live < 4 << 20, "1000 entries of 100 B in a 1 TiB cache took {live} B");
}

/// `Cache::builder(u64::MAX)` builds (it panicked with "capacity overflow") and behaves as an
/// unbounded cache of small memory.
#[test]
fn the_largest_capacity_builds_and_allocates_only_for_its_entries() {
    let _turn = serial();
    let before = ALLOC.live_bytes();
    let cache: Cache<u64, u64> = Cache::builder(u64::MAX).build().unwrap();
    for k in 0..10_000 {
        cache.insert(k, k);
    }
    assert_eq!(cache.len(), 10_000);
    assert_eq!(cache.get(&7), Some(7));
    let live = ALLOC.live_bytes() - before;
    assert!(live < 8 << 20, "10k u64 entries in a u64::MAX cache took {live} B");
}

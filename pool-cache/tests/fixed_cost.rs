//! A cache's fixed cost (everything not proportional to its entries: shards, their locks'
//! per-thread stripes, per-shard floors) stays within 10% of what its entries take, also when
//! built as on a 64-core server. A test binary of its own with one test, so no other test's
//! allocations reach the global count.
#![allow(clippy::unwrap_used)] // tests may unwrap

use pool_cache::{Cache, CacheBuilder};
use pool_metrics::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

const ENTRIES: u64 = 100_000;

/// Live bytes of a cache built from `b` and filled with `ENTRIES` u64 → u64 entries.
fn footprint(b: CacheBuilder<u64, u64>) -> (u64, usize) {
    let before = ALLOC.live_bytes();
    let cache = b.seed(7).build().unwrap();
    for k in 0..ENTRIES {
        cache.insert(k, k);
    }
    let bytes = ALLOC.live_bytes() - before;
    (bytes, cache.config().shards())
}

#[test]
fn fixed_cost_on_64_cores_is_within_a_tenth_of_the_entries() {
    // The entries' cost: one shard, one core, so next to nothing is fixed.
    let (entries, _) = footprint(Cache::builder(ENTRIES).cores(1).shards(1));
    for cores in [64, 256] {
        let (bytes, shards) = footprint(Cache::builder(ENTRIES).cores(cores));
        let fixed = bytes.saturating_sub(entries);
        eprintln!(
            "{cores} cores: {shards} shards, {bytes} B, fixed {fixed} B = {:.1}% of the entries' {entries} B",
            fixed as f64 * 100.0 / entries as f64
        );
        assert!(
            fixed * 10 <= entries,
            "{cores} cores, {shards} shards: {bytes} B against {entries} B for the entries \
             alone; fixed {fixed} B is over 10%"
        );
    }
    assert!(entries / ENTRIES < 64, "entries cost {} B each", entries / ENTRIES);
}

//! Once warm, the cache's hot paths allocate nothing: hits, misses, inserts that evict,
//! replacements and removals, for every policy (no expiry, no listener). A test binary of its
//! own with one test, so no other test's allocations reach the global count.
#![allow(clippy::unwrap_used)] // tests may unwrap

use pool_cache::{Cache, Policy};
use pool_metrics::CountingAlloc;
use std::hint::black_box;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

/// Bytes allocated while `f` runs.
fn allocated(f: impl FnOnce()) -> u64 {
    let before = ALLOC.allocated_bytes();
    f();
    ALLOC.allocated_bytes() - before
}

#[test]
fn hot_paths_allocate_nothing_once_warm() {
    for policy in [Policy::TinyLfu, Policy::Lru, Policy::Lfu] {
        let cache: Cache<u64, u64> =
            Cache::builder(1_000).policy(policy).shards(4).seed(1).build().unwrap();
        // Warm up: fill every shard (its slab and policy vectors then stay at full size), then
        // run the same mix (the tables' tombstones from removals make them grow once or twice),
        // and claim this thread's lock stripe.
        let mix = |from: u64, hits: &mut u64| {
            for k in from..from + 20_000 {
                *hits += u64::from(cache.get(&(k - 1)).is_some());
                black_box(cache.get(&(k % 1_500)));
                if cache.get(&k).is_none() {
                    cache.insert(k, k);
                }
                cache.insert(k, k + 1);
                black_box(cache.remove(&(k - 3)));
                black_box(cache.peek(&(k - 1)));
            }
            cache.run_pending_tasks();
        };
        for k in 0..5_000 {
            cache.insert(k, k);
        }
        let mut hits = 0;
        mix(5, &mut hits);
        mix(50_000, &mut hits);
        hits = 0;
        let n = allocated(|| mix(100_000, &mut hits));
        assert_eq!(n, 0, "{policy}: the hot paths allocated {n} bytes once warm");
        assert!(hits > 0 && cache.len() <= 1_000, "{policy}: the loop did real work");
    }
}

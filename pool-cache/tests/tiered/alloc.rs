//! An L1 hit through the tiered cache allocates nothing and reads no clock.

use crate::ALLOC;
use pool_cache::{Clock, MemoryL2, TieredCache};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default, Clone)]
struct CountingClock(Arc<AtomicU64>);

impl Clock for CountingClock {
    fn now_nanos(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

#[test]
fn an_l1_hit_allocates_nothing_and_reads_no_clock() {
    let clock = CountingClock::default();
    let cache: TieredCache<u64, u64> = TieredCache::builder(1000)
        .l2(MemoryL2::new(1 << 20).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    for k in 0..100 {
        cache.insert(k, k * 2).unwrap();
    }
    assert_eq!(cache.get(&7), Some(14)); // warm
    let reads_before = clock.0.load(Ordering::SeqCst);
    let (sum, allocations) = ALLOC.count_thread(|| {
        let mut sum = 0;
        for i in 0..10_000u64 {
            sum += black_box(cache.get(&(i % 100))).unwrap_or(0);
        }
        sum
    });
    assert_eq!(sum, (0..10_000u64).map(|i| (i % 100) * 2).sum::<u64>());
    assert_eq!(allocations, 0, "an L1 hit through TieredCache allocated");
    assert_eq!(clock.0.load(Ordering::SeqCst), reads_before, "an L1 hit read the clock");
    // The counter is live: a miss that goes to the L2 does allocate (its key bytes).
    let (_, miss_allocations) = ALLOC.count_thread(|| cache.get(&5_000));
    assert!(miss_allocations > 0);
}

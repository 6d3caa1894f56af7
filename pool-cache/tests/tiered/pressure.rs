//! Memory pressure, driven by a fake probe: a monitor fed made-up memory samples.

use pool_cache::{Cache, ShrinkOnPressure, TieredCache};
use pool_metrics::{MemoryMonitor, MemorySnapshot, PressureLevel};

fn sample(monitor: &MemoryMonitor, t: f64, bytes: u64) {
    let snap = MemorySnapshot { rss_bytes: bytes, virtual_bytes: bytes, allocated_bytes: None };
    monitor.record(t, snap).unwrap();
}

#[test]
fn an_l1_shrinks_at_high_sheds_at_critical_and_recovers_at_normal() {
    let monitor = MemoryMonitor::builder().high_bytes(1_000).limit_bytes(2_000).build().unwrap();
    let pressure = monitor.pressure();
    let cache: Cache<u64, u64> = Cache::builder(1024).shards(4).build().unwrap();
    let tiered: TieredCache<u64, u64> = TieredCache::builder(1024).shards(4).build().unwrap();
    let guard = cache.shrink_on_pressure(&pressure, ShrinkOnPressure::new(0.25).unwrap());
    let _tiered_guard = tiered.shrink_on_pressure(&pressure, ShrinkOnPressure::new(0.5).unwrap());
    for k in 0..1024 {
        cache.insert(k, k);
        tiered.insert(k, k).unwrap();
    }
    sample(&monitor, 1.0, 1_500);
    assert_eq!(pressure.level(), PressureLevel::High);
    assert_eq!(cache.config().capacity(), 256);
    assert!(cache.len() <= 256);
    assert!(tiered.stats().l1.evictions >= 512);
    sample(&monitor, 2.0, 2_500);
    assert_eq!(pressure.level(), PressureLevel::Critical);
    assert_eq!(cache.config().capacity(), 4, "the floor is the shard count");
    assert!(cache.len() <= 4);
    sample(&monitor, 3.0, 10);
    assert_eq!(pressure.level(), PressureLevel::Normal);
    assert_eq!(cache.config().capacity(), 1024);
    drop(guard);
    sample(&monitor, 4.0, 1_500);
    assert_eq!(cache.config().capacity(), 1024, "unsubscribed by the guard's drop");
}

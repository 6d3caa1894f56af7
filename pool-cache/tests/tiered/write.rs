//! Writes: write-behind (bounded, coalesced, retried, drained), write-on-eviction, TTLs and
//! invalidation across both tiers.

use crate::flaky::Flaky;
use pool_cache::{
    L2, L2Namespace, ManualClock, MemoryL2, Policy, TieredCache, WriteErrorKind, WriteMode,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(f)
}

fn behind(l2: Arc<Flaky>, queue: usize) -> TieredCache<u64, u64> {
    TieredCache::builder(1000)
        .shared_l2(l2)
        .write_mode(WriteMode::Behind)
        .queue_capacity(queue)
        .write_timeout(Duration::from_millis(50))
        .drain_timeout(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(20))
        .l2_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

#[test]
fn write_behind_delivers_everything_on_flush() {
    let l2 = Flaky::new();
    let cache = behind(l2.clone(), 10_000);
    for k in 0..500 {
        cache.insert(k, k + 1).unwrap();
    }
    cache.flush().unwrap();
    assert_eq!(cache.stats().queue_delivered, 500);
    for k in 0..500u64 {
        assert!(block(l2.get(k.to_string().as_bytes())).unwrap().is_some());
    }
}

#[test]
fn a_full_queue_hands_the_write_back_after_the_write_timeout() {
    let l2 = Flaky::new();
    l2.writes_down.store(true, Ordering::SeqCst);
    let cache = behind(l2.clone(), 2);
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    cache.insert(1, 10).unwrap(); // coalesced with the queued write of key 1: no room needed
    let start = Instant::now();
    let err = cache.insert(3, 3).unwrap_err();
    assert!(matches!(err.kind(), WriteErrorKind::QueueFull(_)), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(start.elapsed() < Duration::from_secs(10), "the wait is bounded");
    assert_eq!(err.into_inner(), (3, 3));
    assert_eq!(cache.get(&3), None, "a refused write is not in the L1 either");
    // While the L2 is down the writes are retried and kept...
    assert!(cache.flush().is_err());
    assert!(cache.stats().queue_retries >= 1);
    assert_eq!(cache.stats().queue_depth, 2);
    // ...and delivered once it is back, the coalesced key with its last value.
    l2.writes_down.store(false, Ordering::SeqCst);
    cache.flush().unwrap();
    let v = block(l2.get(b"1")).unwrap().unwrap();
    assert_eq!(pool_cache::ValueCodec::new().decode::<u64>(&v.value).unwrap(), 10);
}

#[test]
fn close_hands_back_what_it_could_not_deliver_in_order() {
    let l2 = Flaky::new();
    l2.writes_down.store(true, Ordering::SeqCst);
    let cache = behind(l2.clone(), 100);
    for k in 0..5 {
        cache.insert(k, k).unwrap();
    }
    let left = cache.close();
    assert_eq!(left, vec![(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]);
    let err = cache.insert(9, 9).unwrap_err();
    assert!(matches!(err.kind(), WriteErrorKind::Closed));
    assert_eq!(cache.get(&4), Some(4), "reads keep working after close");
}

#[test]
fn dropping_the_cache_drains_the_queue() {
    let l2 = Flaky::new();
    let cache = behind(l2.clone(), 10_000);
    for k in 0..200 {
        cache.insert(k, k).unwrap();
    }
    drop(cache);
    for k in 0..200u64 {
        assert!(block(l2.get(k.to_string().as_bytes())).unwrap().is_some(), "key {k} lost");
    }
}

#[test]
fn dropping_with_the_l2_down_gives_up_after_the_drain_timeout() {
    let l2 = Flaky::new();
    l2.writes_down.store(true, Ordering::SeqCst);
    let cache = behind(l2.clone(), 100);
    cache.insert(1, 1).unwrap();
    let start = Instant::now();
    drop(cache); // logs the abandoned write
    assert!(start.elapsed() < Duration::from_secs(10), "drop is bounded");
    assert!(block(l2.inner.get(b"1")).unwrap().is_none());
}

#[test]
fn invalidate_removes_a_queued_write_too() {
    let l2 = Flaky::new();
    l2.writes_down.store(true, Ordering::SeqCst);
    let cache = behind(l2.clone(), 100);
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    cache.invalidate(&1).unwrap();
    assert_eq!(cache.get(&1), None);
    l2.writes_down.store(false, Ordering::SeqCst);
    cache.flush().unwrap();
    assert!(block(l2.get(b"1")).unwrap().is_none(), "the queued write of key 1 was dropped");
    assert!(block(l2.get(b"2")).unwrap().is_some());
    assert_eq!(cache.get(&1), None);
}

#[test]
fn write_on_eviction_moves_evicted_entries_to_the_l2() {
    let l2 = Flaky::new();
    let cache: TieredCache<u64, u64> = TieredCache::builder(4)
        .shards(1)
        .policy(Policy::Lru)
        .shared_l2(l2.clone())
        .write_mode(WriteMode::OnEviction)
        .build()
        .unwrap();
    for k in 0..10 {
        cache.insert(k, k * 10).unwrap();
    }
    assert!(block(l2.get(b"9")).unwrap().is_none(), "a resident entry is not written");
    cache.flush().unwrap();
    assert_eq!(cache.stats().evictions_written, 6);
    for k in 0..6u64 {
        assert!(block(l2.get(k.to_string().as_bytes())).unwrap().is_some(), "evicted {k} lost");
    }
    // And it reads back through the tiers.
    assert_eq!(cache.get(&0), Some(0));
}

#[test]
fn one_ttl_reaches_both_tiers() {
    let clock = ManualClock::new();
    let l2 = Arc::new(MemoryL2::builder(1 << 20).clock(clock.clone()).build().unwrap());
    let cache: TieredCache<u64, u64> = TieredCache::builder(10)
        .shared_l2(l2.clone())
        .time_to_live(Duration::from_secs(5))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    cache.insert_with_ttl(2, 2, Duration::from_secs(1)).unwrap();
    assert_eq!(block(l2.get(b"1")).unwrap().unwrap().ttl, Some(Duration::from_secs(5)));
    assert_eq!(block(l2.get(b"2")).unwrap().unwrap().ttl, Some(Duration::from_secs(1)));
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get(&2), None, "expired in the L1 and the L2");
    clock.advance(Duration::from_secs(4));
    assert_eq!(cache.get(&1), None);
}

#[test]
fn prefix_and_namespace_invalidation_clear_both_tiers() {
    let l2 = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let ns = L2Namespace::new("app", 1).unwrap();
    let cache: TieredCache<String, u64> =
        TieredCache::builder(100).shared_l2(l2.clone()).namespace(ns.clone()).build().unwrap();
    let other: TieredCache<String, u64> = TieredCache::builder(100)
        .shared_l2(l2.clone())
        .namespace(L2Namespace::new("other", 1).unwrap())
        .build()
        .unwrap();
    cache.insert("user:1".into(), 1).unwrap();
    cache.insert("user:2".into(), 2).unwrap();
    cache.insert("order:1".into(), 3).unwrap();
    other.insert("user:1".into(), 9).unwrap();
    cache.invalidate_prefix("user:").unwrap();
    assert_eq!(cache.get(&"user:1".to_string()), None);
    assert!(block(l2.get(&ns.key(b"user:2"))).unwrap().is_none());
    assert_eq!(cache.get(&"order:1".to_string()), Some(3));
    cache.invalidate_all().unwrap();
    assert_eq!(cache.get(&"order:1".to_string()), None);
    assert!(block(l2.get(&ns.key(b"order:1"))).unwrap().is_none());
    assert_eq!(other.get(&"user:1".to_string()), Some(9), "another namespace is untouched");
}

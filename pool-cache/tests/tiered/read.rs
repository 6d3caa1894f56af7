//! The read path: L1 -> L2 -> loader, backfill TTLs, negative caching, bad input.

use crate::flaky::Flaky;
use pool_cache::{
    L2, LoadError, ManualClock, MemoryL2, TieredBuildErrorKind, TieredCache, ValueCodec,
    WriteErrorKind,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(f)
}

#[test]
fn an_l2_hit_backfills_the_l1_for_at_most_the_records_remaining_ttl() {
    let clock = ManualClock::new();
    let l2 = Arc::new(MemoryL2::builder(1 << 20).clock(clock.clone()).build().unwrap());
    let writer: TieredCache<u64, u64> = TieredCache::builder(100)
        .shared_l2(l2.clone())
        .time_to_live(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    writer.insert(1, 11).unwrap();
    clock.advance(Duration::from_secs(6)); // 4 s left in the L2
    let reader: TieredCache<u64, u64> = TieredCache::builder(100)
        .shared_l2(l2.clone())
        .time_to_live(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(reader.get(&1), Some(11));
    assert_eq!(reader.stats().l2_hits, 1);
    assert_eq!(reader.get(&1), Some(11)); // now from the L1
    assert_eq!(reader.stats().l2_hits, 1);
    assert_eq!(reader.stats().l1.hits, 1);
    clock.advance(Duration::from_secs(4));
    // Not the 10 s TTL of the cache: the copy expired with the record.
    assert_eq!(reader.get(&1), None);
}

#[test]
fn a_loader_runs_on_a_miss_in_both_tiers_and_fills_both() {
    let l2 = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let cache: TieredCache<String, String> =
        TieredCache::builder(100).shared_l2(l2.clone()).build().unwrap();
    let v = cache.try_get_with("a".into(), || Ok::<_, std::io::Error>("A".to_string())).unwrap();
    assert_eq!(v, "A");
    assert!(block(l2.get(b"a")).unwrap().is_some(), "the loaded value reached the l2");
    let other: TieredCache<String, String> =
        TieredCache::builder(100).shared_l2(l2).build().unwrap();
    let v = other
        .try_get_with("a".into(), || -> Result<String, std::io::Error> { panic!("must not load") });
    assert_eq!(v.unwrap(), "A");
}

#[test]
fn a_failing_loader_reaches_its_caller_and_the_next_call_retries() {
    let cache: TieredCache<u64, u64> = TieredCache::builder(10).build().unwrap();
    let calls = AtomicU64::new(0);
    let fail = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Err::<u64, _>("down")
    };
    assert!(matches!(cache.try_get_with(1, fail), Err(LoadError::Loader(e)) if *e == "down"));
    assert!(cache.try_get_with(1, fail).is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 2, "nothing cached: each call retried");
    assert_eq!(cache.try_get_with(1, || Ok::<_, &str>(5)).unwrap(), 5);
    assert_eq!(cache.stats().load_errors, 2);
}

#[test]
fn a_panicking_loader_is_an_error_and_the_next_call_retries() {
    let cache: TieredCache<u64, u64> = TieredCache::builder(10).build().unwrap();
    let r = cache.try_get_with(1, || -> Result<u64, ()> { panic!("loader exploded") });
    assert!(matches!(r, Err(LoadError::Panicked(ref m)) if m.contains("exploded")), "{r:?}");
    assert_eq!(cache.try_get_with(1, || Ok::<_, ()>(3)).unwrap(), 3);
    let boom = async {
        if cache.get(&99).is_none() {
            panic!("async boom");
        }
        Ok::<u64, ()>(0)
    };
    let r = block(cache.try_get_with_async(2, boom));
    assert!(matches!(r, Err(LoadError::Panicked(ref m)) if m.contains("async boom")), "{r:?}");
    assert_eq!(block(cache.try_get_with_async(2, async { Ok::<_, ()>(4) })).unwrap(), 4);
}

#[test]
fn negative_caching_keeps_not_found_for_its_ttl_in_the_l1_only() {
    let clock = ManualClock::new();
    let cache: TieredCache<u64, u64> = TieredCache::builder(10)
        .l2(MemoryL2::new(1 << 20).unwrap())
        .negative_ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    let calls = AtomicU64::new(0);
    let lookup = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok::<Option<u64>, ()>(None)
    };
    assert_eq!(cache.try_get_optional_with(1, lookup).unwrap(), None);
    assert_eq!(cache.try_get_optional_with(1, lookup).unwrap(), None);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.get(&1), None);
    // A loader that must give a value is not blocked by the cached "not found".
    assert_eq!(cache.try_get_with(1, || Ok::<_, ()>(9)).unwrap(), 9);
    cache.invalidate(&1).unwrap();
    assert_eq!(cache.try_get_optional_with(1, lookup).unwrap(), None);
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.try_get_optional_with(1, lookup).unwrap(), None);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "the negative entry expired");
}

#[test]
fn an_l2_value_of_another_codec_version_is_a_counted_miss_and_recomputed() {
    let l2 = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let old = ValueCodec::new().type_version(1).encode(&"old shape").unwrap();
    block(l2.set(b"k", &old, Duration::MAX)).unwrap();
    let cache: TieredCache<String, u64> =
        TieredCache::builder(10).shared_l2(l2.clone()).type_version(2).build().unwrap();
    assert_eq!(cache.get(&"k".to_string()), None);
    assert_eq!(cache.stats().l2_decode_errors, 1);
    let v = cache.try_get_with("k".into(), || Ok::<_, ()>(42)).unwrap();
    assert_eq!(v, 42);
    let fresh = ValueCodec::new().type_version(2);
    let stored = block(l2.get(b"k")).unwrap().unwrap();
    assert_eq!(fresh.decode::<u64>(&stored.value).unwrap(), 42, "recomputed and rewritten");
}

#[test]
fn a_down_l2_reads_as_a_counted_miss() {
    let l2 = Flaky::new();
    let cache: TieredCache<u64, u64> = TieredCache::builder(10)
        .shared_l2(l2.clone())
        .l2_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    l2.all_down.store(true, Ordering::SeqCst);
    assert_eq!(cache.get(&1), Some(1), "the L1 keeps serving");
    assert_eq!(cache.get(&2), None);
    assert_eq!(cache.try_get_with(3, || Ok::<_, ()>(3)).unwrap(), 3);
    assert!(cache.stats().l2_errors >= 2);
    let err = cache.insert(4, 4).unwrap_err();
    assert!(matches!(err.kind(), WriteErrorKind::L2(_)));
    assert_eq!(err.into_inner(), (4, 4));
}

#[test]
fn bad_settings_are_refused_at_build() {
    let kind = |b: pool_cache::TieredCacheBuilder<u64, u64>| b.build().unwrap_err().kind();
    assert_eq!(kind(TieredCache::builder(0)), TieredBuildErrorKind::Capacity);
    assert_eq!(kind(TieredCache::builder(1).queue_capacity(0)), TieredBuildErrorKind::Capacity);
    assert_eq!(
        kind(TieredCache::builder(1).negative_ttl(Duration::ZERO)),
        TieredBuildErrorKind::Duration
    );
    assert_eq!(
        kind(TieredCache::builder(1).load_wait(Duration::ZERO)),
        TieredBuildErrorKind::Duration
    );
    assert_eq!(
        kind(TieredCache::builder(1).retry_backoff(Duration::from_secs(2), Duration::from_secs(1))),
        TieredBuildErrorKind::Duration
    );
    assert_eq!(kind(TieredCache::builder(1).shards(3)), TieredBuildErrorKind::L1);
}

#[test]
fn a_value_that_cannot_be_encoded_is_refused_and_nothing_is_cached() {
    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Unencodable;
    impl serde::Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("cannot encode this"))
        }
    }
    let cache: TieredCache<u64, Unencodable> =
        TieredCache::builder(10).l2(MemoryL2::new(1 << 20).unwrap()).build().unwrap();
    let err = cache.insert(1, Unencodable).unwrap_err();
    assert!(matches!(err.kind(), WriteErrorKind::Encode(_)));
    assert_eq!(cache.get(&1), None, "nothing cached");
}

#[test]
fn stale_while_revalidate_serves_stale_and_refreshes_once_per_key() {
    let clock = ManualClock::new();
    let l2 = Arc::new(MemoryL2::builder(1 << 20).clock(clock.clone()).build().unwrap());
    let cache: TieredCache<u64, u64> = TieredCache::builder(10)
        .shared_l2(l2.clone())
        .time_to_live(Duration::from_secs(10))
        .stale_while_revalidate(Duration::from_secs(5))
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    clock.advance(Duration::from_secs(12));
    let calls = Arc::new(AtomicU64::new(0));
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(gate));
    for _ in 0..3 {
        let (calls, gate) = (calls.clone(), gate.clone());
        let v = cache
            .try_get_with_refresh(1, move || {
                calls.fetch_add(1, Ordering::SeqCst);
                // Held until the test releases it: the refresh stays in flight meanwhile.
                let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(20));
                Ok::<u64, ()>(2)
            })
            .unwrap();
        assert_eq!(v, 1, "the stale value is served while the refresh runs");
    }
    release.send(()).unwrap();
    // The refresh writes the L1, then the L2: wait for the second.
    let codec = ValueCodec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while block(l2.get(b"1")).unwrap().and_then(|e| codec.read::<u64>(&e.value)) != Some(2) {
        assert!(std::time::Instant::now() < deadline, "the refresh never landed");
        std::thread::yield_now();
    }
    assert_eq!(cache.get(&1), Some(2));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one refresh for the key");
    // Past the window the entry is gone: a plain miss, loaded on the caller's thread.
    clock.advance(Duration::from_secs(16));
    assert_eq!(cache.try_get_with_refresh(1, || Ok::<u64, ()>(3)).unwrap(), 3);
    assert!(
        TieredCache::<u64, u64>::builder(1)
            .stale_while_revalidate(Duration::from_secs(1))
            .build()
            .is_err(),
        "a window without a ttl is refused"
    );
}

#[test]
fn concurrent_loads_of_different_keys_both_keep_their_values() {
    // Regression: one epoch for the whole cache, bumped by a load's own store, made the
    // second of two overlapping loads of different keys drop its value from both tiers.
    let l2 = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let cache: TieredCache<u64, u64> =
        TieredCache::builder(100).shared_l2(l2.clone()).build().unwrap();
    let both_loading = Arc::new(std::sync::Barrier::new(2));
    std::thread::scope(|s| {
        for key in [1u64, 2] {
            let (cache, both_loading) = (&cache, both_loading.clone());
            s.spawn(move || {
                let v = cache.try_get_with(key, || {
                    both_loading.wait(); // the two loads overlap
                    Ok::<_, ()>(key * 10)
                });
                assert_eq!(v.unwrap(), key * 10);
            });
        }
    });
    assert_eq!(cache.stats().loads, 2);
    for key in [1u64, 2] {
        let v = cache.try_get_with(key, || Err::<u64, &str>("loaded again"));
        assert_eq!(v.unwrap(), key * 10, "key {key} is in the L1");
    }
    let reader: TieredCache<u64, u64> = TieredCache::builder(100).shared_l2(l2).build().unwrap();
    assert_eq!((reader.get(&1), reader.get(&2)), (Some(10), Some(20)), "both reached the L2");
}

#[test]
fn an_insert_during_a_load_of_the_same_key_wins_over_the_loaded_value() {
    let cache: TieredCache<u64, u64> =
        TieredCache::builder(100).l2(MemoryL2::new(1 << 20).unwrap()).build().unwrap();
    let v = cache.try_get_with(1, || {
        cache.insert(1, 99).unwrap(); // a newer value lands while the load runs
        Ok::<_, ()>(1)
    });
    assert_eq!(v.unwrap(), 1, "the load's callers get what it loaded");
    assert_eq!(cache.get(&1), Some(99), "the cache keeps the newer write");
}

#[test]
fn a_miss_is_counted_once_in_the_l1() {
    let cache: TieredCache<u64, u64> =
        TieredCache::builder(100).l2(MemoryL2::new(1 << 20).unwrap()).build().unwrap();
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.try_get_with(2, || Ok::<_, ()>(20)).unwrap(), 20);
    let s = cache.stats();
    assert_eq!((s.l1.misses, s.l1.hits), (2, 0), "one L1 lookup counted per call");
}

//! Single-flight loading under real threads.

use pool_cache::Cache;
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// However many threads miss on the same keys at once, each key's loader runs once.
    #[test]
    fn loader_runs_once_per_key(threads in 2usize..6, keys in 1u64..8) {
        let cache: Cache<u64, u64> = Cache::builder(1000).build().unwrap();
        let calls: Arc<Vec<AtomicUsize>> = Arc::new((0..keys).map(|_| AtomicUsize::new(0)).collect());
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (cache, calls, barrier) = (cache.clone(), calls.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..keys {
                        let k = (i + t as u64) % keys;
                        let v = cache.get_or_insert_with(k, || {
                            calls[k as usize].fetch_add(1, Ordering::SeqCst);
                            // Widen the window in which the others can pile up (not a wait).
                            for _ in 0..50 { std::thread::yield_now(); }
                            k * 10
                        });
                        assert_eq!(v, k * 10);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        for (k, c) in calls.iter().enumerate() {
            prop_assert_eq!(c.load(Ordering::SeqCst), 1, "key {} loaded more than once", k);
        }
    }
}

#[test]
fn a_failed_or_panicking_loader_lets_the_next_caller_retry() {
    let cache: Cache<u64, u64> = Cache::builder(10).build().unwrap();
    assert_eq!(cache.try_get_or_insert_with(1, || Err::<u64, _>("down")), Err("down"));
    let r = catch_unwind(AssertUnwindSafe(|| cache.get_or_insert_with(1, || panic!("boom"))));
    assert!(r.is_err());
    assert_eq!(cache.get_or_insert_with(1, || 7), 7);
    assert_eq!(cache.get_or_insert_with(1, || 8), 7);
}

#[test]
fn waiters_take_over_when_the_leader_panics() {
    let cache: Cache<u64, u64> = Cache::builder(10).build().unwrap();
    let started = Arc::new(Barrier::new(2));
    let leader = {
        let (cache, started) = (cache.clone(), started.clone());
        std::thread::spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                cache.get_or_insert_with(1, || {
                    started.wait();
                    panic!("leader fails")
                })
            }))
            .is_err()
        })
    };
    started.wait();
    // Either we wait on the panicking leader and then load ourselves, or it has already
    // failed and we load directly: both end with our value.
    assert_eq!(cache.get_or_insert_with(1, || 5), 5);
    assert!(leader.join().unwrap());
}

#[test]
fn async_loader_runs_once_and_survives_a_dropped_leader() {
    use futures::FutureExt;
    let cache: Cache<u64, u64> = Cache::builder(10).build().unwrap();
    let calls = AtomicUsize::new(0);
    // A leader future polled once and dropped mid-load must not wedge the key.
    let mut leader = Box::pin(cache.get_or_insert_with_async(1, futures::future::pending()));
    assert!((&mut leader).now_or_never().is_none());
    drop(leader);
    let v = futures::executor::block_on(cache.get_or_insert_with_async(1, async {
        calls.fetch_add(1, Ordering::SeqCst);
        3
    }));
    assert_eq!((v, calls.load(Ordering::SeqCst)), (3, 1));
}

/// A loader that asks the cache for its own key would wait for itself forever: it panics with
/// a message naming the mistake instead, and the cache stays usable. Other keys work.
#[test]
fn a_loader_loading_its_own_key_panics_instead_of_deadlocking() {
    let cache: Cache<u64, u64> = Cache::builder(100).build().unwrap();
    let c = cache.clone();
    let other = cache.get_or_insert_with(1, || c.get_or_insert_with(2, || 20) + 1);
    assert_eq!((other, cache.get(&2)), (21, Some(20)));

    let c = cache.clone();
    let err = catch_unwind(AssertUnwindSafe(|| {
        cache.get_or_insert_with(3, || c.get_or_insert_with(3, || 30))
    }))
    .unwrap_err();
    let msg =
        err.downcast_ref::<String>().map(String::as_str).or(err.downcast_ref::<&str>().copied());
    assert!(msg.is_some_and(|m| m.contains("inside its own loader")), "{msg:?}");
    assert_eq!(cache.get(&3), None);
    assert_eq!(cache.get_or_insert_with(3, || 33), 33, "the failed load left nothing in flight");
}

//! Single flight across the tiered read path: one load per key, its error shared by every
//! waiter. The loader holds its flight open until it sees every other caller waiting on it,
//! so the counts below hold under every schedule.
#![allow(clippy::unwrap_used)]

use super::{LoadError, TieredCache};
use crate::l2::MemoryL2;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CALLERS: usize = 16;

/// Blocks until `n` callers wait on `key`'s flight (bounded: fails the test after 20 s).
fn until_waiting(cache: &TieredCache<u64, u64>, key: u64, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while cache.waiters(&key) < n {
        assert!(Instant::now() < deadline, "only {} callers joined", cache.waiters(&key));
        std::thread::yield_now();
    }
}

fn cache() -> TieredCache<u64, u64> {
    TieredCache::builder(100).l2(MemoryL2::new(1 << 20).unwrap()).build().unwrap()
}

/// `CALLERS` threads ask for `key` at once; the loader (`answer`) holds the flight until
/// every other caller waits on it. Returns the loader runs and every caller's result.
fn one_flight(
    cache: &TieredCache<u64, u64>,
    key: u64,
    answer: Result<u64, String>,
) -> (u64, Vec<Result<u64, LoadError<String>>>) {
    let calls = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(CALLERS));
    let threads: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (cache, calls, barrier) = (cache.clone(), calls.clone(), barrier.clone());
            let answer = answer.clone();
            std::thread::spawn(move || {
                barrier.wait();
                cache.try_get_with(key, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    until_waiting(&cache, key, CALLERS - 1);
                    answer
                })
            })
        })
        .collect();
    let results = threads.into_iter().map(|t| t.join().unwrap()).collect();
    (calls.load(Ordering::SeqCst), results)
}

#[test]
fn a_failing_load_runs_once_and_every_waiter_gets_its_error() {
    let cache = cache();
    let (calls, results) = one_flight(&cache, 1, Err("backend down".into()));
    let errors: Vec<Arc<String>> = results
        .into_iter()
        .map(|r| match r {
            Err(LoadError::Loader(e)) => e,
            other => panic!("expected the shared loader error, got {other:?}"),
        })
        .collect();
    assert_eq!(calls, 1, "the backend was asked once");
    assert!(errors.iter().all(|e| Arc::ptr_eq(e, &errors[0])), "one shared error");
    assert_eq!(cache.stats().l2_misses, 1, "and the L2 once");
    // The next call starts a new flight.
    assert_eq!(cache.try_get_with(1, || Ok::<_, String>(5)).unwrap(), 5);
}

#[test]
fn a_successful_load_runs_once_for_every_waiter() {
    let cache = cache();
    let (calls, results) = one_flight(&cache, 2, Ok(22));
    for r in results {
        assert_eq!(r.unwrap(), 22);
    }
    assert_eq!(calls, 1);
}

#[test]
fn async_waiters_share_one_failing_load() {
    let cache = cache();
    let calls = AtomicU64::new(0);
    let futures = (0..CALLERS).map(|_| {
        cache.try_get_with_async(3, async {
            calls.fetch_add(1, Ordering::SeqCst);
            // Let every other caller join (they run on this same thread).
            let deadline = Instant::now() + Duration::from_secs(20);
            while cache.waiters(&3) < CALLERS - 1 && Instant::now() < deadline {
                tokio::task::yield_now().await;
            }
            Err::<u64, &str>("down")
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let results = rt.block_on(futures::future::join_all(futures));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(results.iter().all(|r| matches!(r, Err(LoadError::Loader(e)) if **e == "down")));
}

#[test]
fn an_invalidation_during_a_load_keeps_its_value_out_of_the_l1() {
    let cache = cache();
    let v = cache
        .try_get_with(4, || {
            cache.invalidate(&4).unwrap();
            Ok::<u64, ()>(40)
        })
        .unwrap();
    assert_eq!(v, 40, "the caller still gets its value");
    assert_eq!(cache.get(&4), None, "but no tier serves it after the invalidation");
}

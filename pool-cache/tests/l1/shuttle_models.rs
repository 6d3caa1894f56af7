//! shuttle models of the concurrent paths (`RUSTFLAGS="--cfg shuttle" cargo test -p pool-cache
//! --features shuttle --test l1 shuttle`): the locks and atomics inside the cache are shuttle's,
//! so its randomized scheduler explores interleavings of these small programs.

use pool_cache::{Cache, Policy};
use shuttle::sync::Arc;
use shuttle::sync::atomic::{AtomicUsize, Ordering};
use shuttle::thread;

const ITERATIONS: usize = 2000;

#[test]
fn single_flight_loads_once_under_any_interleaving() {
    shuttle::check_random(
        || {
            let cache: Cache<u64, u64> = Cache::builder(16).shards(1).build().unwrap();
            let calls = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    let (cache, calls) = (cache.clone(), calls.clone());
                    thread::spawn(move || {
                        cache.get_or_insert_with(1, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            thread::yield_now();
                            10
                        })
                    })
                })
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), 10);
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        },
        ITERATIONS,
    );
}

#[test]
fn failed_leader_hands_over_under_any_interleaving() {
    shuttle::check_random(
        || {
            let cache: Cache<u64, u64> = Cache::builder(16).shards(1).build().unwrap();
            let c = cache.clone();
            let failing = thread::spawn(move || c.try_get_or_insert_with(1, || Err::<u64, ()>(())));
            let c = cache.clone();
            let ok = thread::spawn(move || c.try_get_or_insert_with(1, || Ok::<u64, ()>(5)));
            let failed = failing.join().unwrap();
            assert!(failed == Err(()) || failed == Ok(5));
            assert_eq!(ok.join().unwrap(), Ok(5));
            assert_eq!(cache.get(&1), Some(5));
        },
        ITERATIONS,
    );
}

#[test]
fn concurrent_inserts_and_reads_stay_within_capacity() {
    for policy in [Policy::Lru, Policy::Lfu, Policy::TinyLfu] {
        shuttle::check_random(
            move || {
                let cache: Cache<u64, u64> =
                    Cache::builder(4).shards(2).policy(policy).build().unwrap();
                let handles: Vec<_> = (0..2)
                    .map(|t| {
                        let cache = cache.clone();
                        thread::spawn(move || {
                            for k in 0..6 {
                                cache.insert(k * 2 + t, k);
                                if let Some(v) = cache.get(&(k * 2 + t)) {
                                    assert_eq!(v, k);
                                }
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.join().unwrap();
                }
                assert!(cache.len() <= 4);
                let s = cache.stats();
                assert_eq!(s.inserts, 12);
                assert_eq!(s.inserts - s.evictions, cache.len() as u64);
            },
            ITERATIONS / 4,
        );
    }
}

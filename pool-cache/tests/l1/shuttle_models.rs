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

/// The LRU hit buffers (hits recorded under the read lock, applied by the next write lock)
/// against concurrent get, insert and remove. Two readers make more hits than a buffer holds
/// (4 slots under shuttle), so both the buffered and the full-buffer (write lock) paths run, while a writer removes and
/// re-inserts keys (moving entries in the slab). Whatever the interleaving, lookups see only
/// values that were stored, and afterwards the cache is still an exact LRU: a stale buffered
/// index would have relinked the wrong entry, run off the slab, or broken the list.
#[test]
fn lru_hit_buffers_drain_safely_against_concurrent_writes() {
    shuttle::check_random(
        || {
            let evicted = Arc::new(std::sync::Mutex::new(Vec::new()));
            let log = evicted.clone();
            // 16 exclusive stripes: the model's four threads own one each unless the other
            // tests' threads (slots are process-wide) hold more than twelve, so the buffers
            // are used. (Every stripe is a step for shuttle when a writer scans them.)
            let cache: Cache<u64, u64> = Cache::builder(4)
                .shards(1)
                .cores(8)
                .policy(Policy::Lru)
                .removal_listener(move |k, _, cause| {
                    if cause == pool_cache::RemovalCause::Size {
                        log.lock().unwrap().push(k);
                    }
                })
                .build()
                .unwrap();
            for k in 0..4 {
                cache.insert(k, k * 10);
            }
            let readers: Vec<_> = (0..2u64)
                .map(|t| {
                    let cache = cache.clone();
                    thread::spawn(move || {
                        for i in 0..12u64 {
                            let k = (i + t) % 6;
                            if let Some(v) = cache.get(&k) {
                                assert!(v == k * 10 || v == k * 10 + 1, "{k} -> {v}");
                            }
                        }
                    })
                })
                .collect();
            let writer = {
                let cache = cache.clone();
                thread::spawn(move || {
                    cache.remove(&1);
                    cache.insert(4, 40);
                    cache.insert(2, 21);
                    cache.remove(&0);
                    cache.insert(5, 50);
                    cache.insert(1, 11);
                })
            };
            for h in readers {
                h.join().unwrap();
            }
            writer.join().unwrap();
            assert!(cache.len() <= 4);
            // Apply the readers' last buffered hits: they are the oldest now, but hits of
            // different threads that no write separates are applied stripe by stripe, and
            // would otherwise count after this thread's (see `read_buffer.rs`).
            cache.run_pending_tasks();
            // Exact LRU from here on: touch the survivors in a known order, then four new
            // keys must evict exactly them, in that order.
            // (Descending: the keys went in mostly ascending, so an unapplied touch shows.)
            let mut survivors: Vec<u64> = cache.iter().map(|(k, _)| k).collect();
            survivors.sort_unstable_by(|a, b| b.cmp(a));
            for k in &survivors {
                assert!(cache.get(k).is_some());
            }
            evicted.lock().unwrap().clear();
            for k in 100..104 {
                cache.insert(k, k);
            }
            assert_eq!(*evicted.lock().unwrap(), survivors);
            // Once more on keys whose order is known (100..104, as inserted), touched out of
            // that order: an unapplied or misapplied touch changes what goes first.
            for k in [102, 100, 103, 101] {
                assert_eq!(cache.get(&k), Some(k));
            }
            evicted.lock().unwrap().clear();
            for k in 200..204 {
                cache.insert(k, k);
            }
            assert_eq!(*evicted.lock().unwrap(), vec![102, 100, 103, 101]);
        },
        ITERATIONS / 2,
    );
}

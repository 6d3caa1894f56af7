//! Criterion benches for the L1 cache against its anchors (quick_cache, moka, `Mutex<lru>`),
//! all `u64 → u64`, every anchor in the same group so ratios are read off one report:
//!
//! * `get_hit/resident=100k/uniform/threads=T`: hit-only `get` at 100K resident entries, keys
//!   drawn uniformly from the resident ones; `T = 2` reports the aggregate throughput of two
//!   threads sharing the cache.
//! * `zipf_mixed/s=1.0/keys=1M/cap=100k/threads=T`: get, and insert on a miss, keys Zipf(1.0)
//!   over a million, capacity 100K (about 70% hits).
//! * `zipf_miss/s=0.99/keys=1M/cap=10k/threads=T`: the miss-heavy mix, get and insert on a
//!   miss, keys Zipf(0.99) over a million, capacity 10K (about half the requests miss).
//! * `interleaved` (filter `interleaved`): A/B rounds alternating between `pool_cache`,
//!   `pool_cache_lru` and quick_cache on the hit-only and the miss-heavy workloads, printing
//!   median ratios; the way to read a ratio on a shared machine.
//! * memory per entry at 1M entries, counted by a counting global allocator: printed (not
//!   timed) when the filter names `memory`:
//!   `cargo bench -p pool-benches --bench cache -- memory`.
//!
//! `cargo bench -p pool-benches --bench cache -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Operations per thread per criterion iteration: long enough to amortise the thread spawn of
/// the 2-thread runs (~20 µs) below 1%.
const BATCH: usize = 1 << 16;
const SEED: u64 = 0x00C0_FFEE;

/// The caches under test behind one interface.
trait BenchCache: Send + Sync {
    fn get(&self, k: u64) -> Option<u64>;
    fn insert(&self, k: u64, v: u64);
}

struct Ours(pool_cache::Cache<u64, u64>);
struct Quick(quick_cache::sync::Cache<u64, u64>);
struct Moka(moka::sync::Cache<u64, u64>);
struct Lru(Mutex<lru::LruCache<u64, u64>>);

impl BenchCache for Ours {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        self.0.get(&k)
    }
    fn insert(&self, k: u64, v: u64) {
        self.0.insert(k, v);
    }
}

impl BenchCache for Quick {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        self.0.get(&k)
    }
    fn insert(&self, k: u64, v: u64) {
        self.0.insert(k, v);
    }
}

impl BenchCache for Moka {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        self.0.get(&k)
    }
    fn insert(&self, k: u64, v: u64) {
        self.0.insert(k, v);
    }
}

impl BenchCache for Lru {
    #[inline]
    fn get(&self, k: u64) -> Option<u64> {
        self.0.lock().expect("not poisoned").get(&k).copied()
    }
    fn insert(&self, k: u64, v: u64) {
        self.0.lock().expect("not poisoned").put(k, v);
    }
}

fn caches(capacity: usize) -> Vec<(&'static str, Box<dyn BenchCache>)> {
    let mut all = ours_and_quick(capacity);
    let lru = lru::LruCache::new(NonZeroUsize::new(capacity).expect("capacity > 0"));
    all.push(("moka", Box::new(Moka(moka::sync::Cache::new(capacity as u64)))));
    all.push(("mutex_lru", Box::new(Lru(Mutex::new(lru)))));
    all
}

/// Our default (TinyLFU), our `Policy::Lru`, and the anchor.
fn ours_and_quick(capacity: usize) -> Vec<(&'static str, Box<dyn BenchCache>)> {
    let ours = pool_cache::Cache::builder(capacity as u64).build().expect("valid capacity");
    let ours_lru = pool_cache::Cache::builder(capacity as u64)
        .policy(pool_cache::Policy::Lru)
        .build()
        .expect("valid capacity");
    vec![
        ("pool_cache", Box::new(Ours(ours)) as Box<dyn BenchCache>),
        ("pool_cache_lru", Box::new(Ours(ours_lru))),
        ("quick_cache", Box::new(Quick(quick_cache::sync::Cache::new(capacity)))),
    ]
}

/// Runs `per_thread(thread index)` on `threads` threads `iters` times, returning the wall time.
fn timed(threads: usize, iters: u64, per_thread: &(dyn Fn(usize) + Sync)) -> Duration {
    let start = Instant::now();
    if threads == 1 {
        for _ in 0..iters {
            per_thread(0);
        }
    } else {
        std::thread::scope(|s| {
            for t in 0..threads {
                s.spawn(move || {
                    for _ in 0..iters {
                        per_thread(t);
                    }
                });
            }
        });
    }
    start.elapsed()
}

fn get_hit(c: &mut Criterion) {
    const RESIDENT: u64 = 100_000;
    for threads in [1usize, 2] {
        let mut group =
            c.benchmark_group(format!("get_hit/resident=100k/uniform/threads={threads}"));
        group.throughput(Throughput::Elements((BATCH * threads) as u64));
        // Capacity above the resident count so that every anchor keeps all 100K keys.
        for (name, cache) in caches((RESIDENT as usize) * 5 / 4) {
            for k in 0..RESIDENT {
                cache.insert(k, k);
            }
            let resident: Vec<u64> = (0..RESIDENT).filter(|&k| cache.get(k).is_some()).collect();
            assert!(resident.len() as u64 >= RESIDENT * 99 / 100, "{name} kept {}", resident.len());
            let keys: Vec<Vec<u64>> = (0..threads)
                .map(|t| {
                    let mut rng = StdRng::seed_from_u64(SEED + t as u64);
                    (0..BATCH).map(|_| resident[rng.random_range(0..resident.len())]).collect()
                })
                .collect();
            let cache = &*cache;
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| {
                    timed(threads, iters, &|t| {
                        for &k in &keys[t] {
                            black_box(cache.get(k));
                        }
                    })
                })
            });
        }
        group.finish();
    }
}

fn zipf_mixed(c: &mut Criterion) {
    const KEYS: f64 = 1_000_000.0;
    const CAPACITY: usize = 100_000;
    let zipf = Zipf::new(KEYS, 1.0).expect("valid zipf parameters");
    for threads in [1usize, 2] {
        let mut group =
            c.benchmark_group(format!("zipf_mixed/s=1.0/keys=1M/cap=100k/threads={threads}"));
        group.throughput(Throughput::Elements((BATCH * threads) as u64));
        let keys: Vec<Vec<u64>> = (0..threads)
            .map(|t| {
                let mut rng = StdRng::seed_from_u64(SEED + 100 + t as u64);
                (0..BATCH).map(|_| zipf.sample(&mut rng) as u64).collect()
            })
            .collect();
        for (name, cache) in caches(CAPACITY) {
            // Warm up to a steady state before timing.
            let mut rng = StdRng::seed_from_u64(SEED);
            for _ in 0..CAPACITY * 10 {
                let k = zipf.sample(&mut rng) as u64;
                if cache.get(k).is_none() {
                    cache.insert(k, k);
                }
            }
            let cache = &*cache;
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| {
                    timed(threads, iters, &|t| {
                        for &k in &keys[t] {
                            if cache.get(k).is_none() {
                                cache.insert(k, k);
                            }
                        }
                    })
                })
            });
        }
        group.finish();
    }
}

/// The miss-heavy mix of issue 13: Zipf(0.99) over 1M keys, capacity 10K.
const MISS_KEYS: f64 = 1_000_000.0;
const MISS_CAPACITY: usize = 10_000;
const MISS_S: f64 = 0.99;

fn miss_keys(threads: usize) -> Vec<Vec<u64>> {
    let zipf = Zipf::new(MISS_KEYS, MISS_S).expect("valid zipf parameters");
    (0..threads)
        .map(|t| {
            let mut rng = StdRng::seed_from_u64(SEED + 200 + t as u64);
            (0..BATCH).map(|_| zipf.sample(&mut rng) as u64).collect()
        })
        .collect()
}

/// Fills `cache` to a steady state of the miss-heavy mix.
fn miss_warm_up(cache: &dyn BenchCache) {
    let zipf = Zipf::new(MISS_KEYS, MISS_S).expect("valid zipf parameters");
    let mut rng = StdRng::seed_from_u64(SEED);
    for _ in 0..MISS_CAPACITY * 20 {
        let k = zipf.sample(&mut rng) as u64;
        if cache.get(k).is_none() {
            cache.insert(k, k);
        }
    }
}

fn get_or_insert_all(cache: &dyn BenchCache, keys: &[u64]) {
    for &k in keys {
        if cache.get(k).is_none() {
            cache.insert(k, k);
        }
    }
}

fn zipf_miss(c: &mut Criterion) {
    for threads in [1usize, 2] {
        let mut group =
            c.benchmark_group(format!("zipf_miss/s=0.99/keys=1M/cap=10k/threads={threads}"));
        group.throughput(Throughput::Elements((BATCH * threads) as u64));
        let keys = miss_keys(threads);
        for (name, cache) in ours_and_quick(MISS_CAPACITY) {
            miss_warm_up(&*cache);
            let cache = &*cache;
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| {
                    timed(threads, iters, &|t| get_or_insert_all(cache, &keys[t]))
                })
            });
        }
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Memory per entry: pool-metrics' counting allocator, read as live bytes before and after.
// ---------------------------------------------------------------------------------------------

#[global_allocator]
static ALLOCATOR: pool_metrics::CountingAlloc = pool_metrics::CountingAlloc::system();

/// Bytes allocated per resident entry once `n` u64 → u64 entries are inserted into a cache of
/// capacity `n`, everything included (table, slab, policy, sketch, shards).
fn bytes_per_entry(name: &str, n: usize) -> (f64, usize) {
    let base = ALLOCATOR.live_bytes() as i64;
    let (bytes, len) = {
        let (len, keep): (usize, Box<dyn std::any::Any>) = match name {
            "pool_cache" => {
                let c = pool_cache::Cache::<u64, u64>::builder(n as u64).build().expect("valid");
                (0..n as u64).for_each(|k| c.insert(k, k));
                c.run_pending_tasks();
                (c.len(), Box::new(c))
            }
            "quick_cache" => {
                let c = quick_cache::sync::Cache::<u64, u64>::new(n);
                (0..n as u64).for_each(|k| c.insert(k, k));
                (c.len(), Box::new(c))
            }
            "moka" => {
                let c = moka::sync::Cache::<u64, u64>::new(n as u64);
                (0..n as u64).for_each(|k| c.insert(k, k));
                c.run_pending_tasks();
                (c.entry_count() as usize, Box::new(c))
            }
            _ => {
                let mut c = lru::LruCache::<u64, u64>::new(NonZeroUsize::new(n).expect("n > 0"));
                (0..n as u64).for_each(|k| {
                    c.put(k, k);
                });
                (c.len(), Box::new(Mutex::new(c)))
            }
        };
        let bytes = ALLOCATOR.live_bytes() as i64 - base;
        drop(keep);
        (bytes, len)
    };
    (bytes as f64 / len as f64, len)
}

fn memory(_c: &mut Criterion) {
    if !std::env::args().any(|a| a.contains("memory")) {
        return;
    }
    const N: usize = 1_000_000;
    println!("memory/u64_u64/entries=1M (bytes allocated per resident entry, all included)");
    for name in ["pool_cache", "quick_cache", "moka", "mutex_lru"] {
        let (per_entry, len) = bytes_per_entry(name, N);
        println!("memory/u64_u64/entries=1M/{name:<22} {per_entry:>7.1} B/entry ({len} resident)");
    }
}

/// Interleaved A/B timing: rounds alternate between `pool_cache`, `pool_cache_lru` and
/// quick_cache so that load from other processes hits them alike; prints the median over rounds
/// of each cache's ns/op and of the per-round ratio against quick_cache, for hit-only `get`
/// (same keys as `get_hit`) and the miss-heavy mix (as `zipf_miss`). Run with the filter
/// `interleaved` (the CPU here is shared, and criterion's back-to-back runs drift apart);
/// `interleaved_hit` or `interleaved_miss` runs one workload.
fn interleaved(_c: &mut Criterion) {
    let arg = |s: &str| std::env::args().any(|a| a.contains(s));
    if !arg("interleaved") {
        return;
    }
    const RESIDENT: u64 = 100_000;
    let (hit, miss) = match (arg("interleaved_hit"), arg("interleaved_miss")) {
        (false, false) => (true, true),
        other => other,
    };
    for threads in [1usize, 2] {
        if hit {
            let all = ours_and_quick((RESIDENT as usize) * 5 / 4);
            let keys: Vec<Vec<u64>> = (0..threads)
                .map(|t| {
                    let mut rng = StdRng::seed_from_u64(SEED + t as u64);
                    (0..BATCH).map(|_| rng.random_range(0..RESIDENT)).collect()
                })
                .collect();
            for (_, cache) in &all {
                for k in 0..RESIDENT {
                    cache.insert(k, k);
                }
            }
            interleave(
                &format!("get_hit/resident=100k/threads={threads}"),
                &all,
                threads,
                &|c, t| {
                    for &k in &keys[t] {
                        black_box(c.get(k));
                    }
                },
            );
        }
        if miss {
            let all = ours_and_quick(MISS_CAPACITY);
            let keys = miss_keys(threads);
            for (_, cache) in &all {
                miss_warm_up(&**cache);
            }
            interleave(
                &format!("zipf_miss/s=0.99/keys=1M/cap=10k/threads={threads}"),
                &all,
                threads,
                &|c, t| get_or_insert_all(c, &keys[t]),
            );
        }
    }
}

/// Runs `work(cache, thread)` on `threads` threads, alternating caches round by round, and
/// prints the medians (see [`interleaved`]).
fn interleave(
    label: &str,
    all: &[(&'static str, Box<dyn BenchCache>)],
    threads: usize,
    work: &(dyn Fn(&dyn BenchCache, usize) + Sync),
) {
    const ROUNDS: usize = 41;
    const REPS: u64 = 4;
    let quick = all.iter().position(|(n, _)| *n == "quick_cache").expect("quick_cache is benched");
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    let mut ratio: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    for _ in 0..ROUNDS {
        let round: Vec<f64> = all
            .iter()
            .map(|(_, cache)| {
                let cache = &**cache;
                let d = timed(threads, REPS, &|t| work(cache, t));
                // Wall time per operation of one thread: aggregate ns/op is this / threads.
                d.as_secs_f64() * 1e9 / (REPS as usize * BATCH) as f64
            })
            .collect();
        for (i, v) in round.iter().enumerate() {
            ns[i].push(*v);
            ratio[i].push(*v / round[quick]);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (i, (name, _)) in all.iter().enumerate() {
        let t = median(&mut ns[i]);
        let r = median(&mut ratio[i]);
        println!(
            "interleaved/{label}/{name:<16} {t:>8.1} ns/op per thread, {:>7.1} Mops aggregate, ns/op ratio to quick_cache {r:.2} (throughput {:.2}x)",
            threads as f64 * 1e3 / t,
            1.0 / r
        );
    }
}

criterion_group!(benches, memory, interleaved, get_hit, zipf_mixed, zipf_miss);
criterion_main!(benches);

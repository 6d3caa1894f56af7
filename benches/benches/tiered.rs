//! Criterion benches for the tiered cache and the memoizing pool, each next to its anchor in
//! the same group, so ratios are read off one report (medians, same run):
//!
//! * `tiered/l1_hit`: `TieredCache::get` answered by the L1 against a bare `Cache::get` of
//!   the same keys (10K resident `u64 -> u64`, uniform over them).
//! * `tiered/l2_hit_backfill/{redb,redis}`: `TieredCache::get` that misses a one-entry L1,
//!   hits the L2, decodes and backfills, against the same L2 read raw through `BlockingL2::get`
//!   (the floor for any blocking caller).
//! * `tiered/write_1000/redb`: 1000 inserts then `flush`, write-behind against write-through
//!   (the anchor) on one redb file with group commit.
//! * `tiered/cached_pool_hit` (and `/threads=2`): `CachedPool::call` answered by its L1 (blake3 over the
//!   postcard input, then an L1 hit) against a bare `Cache::get`.
//!
//! `cargo bench -p pool-benches --bench tiered`
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pool_cache::{
    BlockingL2, Cache, CachedPool, DiskL2, L2, MemoryL2, RedisL2, TieredCache, WriteMode,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEED: u64 = 0x00C0_FFEE;
const RESIDENT: u64 = 10_000;

fn keys(n: usize, max: u64) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..n).map(|_| rng.random_range(0..max)).collect()
}

fn l1_hit(c: &mut Criterion) {
    let bare: Cache<u64, u64> = Cache::builder(RESIDENT * 2).build().unwrap();
    let tiered: TieredCache<u64, u64> =
        TieredCache::builder(RESIDENT * 2).l2(MemoryL2::new(64 << 20).unwrap()).build().unwrap();
    for k in 0..RESIDENT {
        bare.insert(k, k);
        tiered.insert(k, k).unwrap();
    }
    let ks = keys(4096, RESIDENT);
    let mut g = c.benchmark_group("tiered/l1_hit");
    g.throughput(Throughput::Elements(ks.len() as u64));
    g.bench_function("bare_cache_get", |b| {
        b.iter(|| {
            for k in &ks {
                black_box(bare.get(k));
            }
        });
    });
    g.bench_function("tiered_get", |b| {
        b.iter(|| {
            for k in &ks {
                black_box(tiered.get(k));
            }
        });
    });
    g.finish();
}

fn backfill_group(c: &mut Criterion, name: &str, l2: Arc<dyn L2>) {
    let n = 2_000u64;
    let tiered: TieredCache<u64, Vec<u8>> =
        TieredCache::builder(1).shards(1).shared_l2(l2.clone()).build().unwrap();
    for k in 0..n {
        tiered.insert(k, vec![7; 100]).unwrap();
    }
    let raw = BlockingL2::new(l2).unwrap();
    let mut g = c.benchmark_group(format!("tiered/l2_hit_backfill/{name}"));
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("raw_blocking_l2_get", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(raw.get(i.to_string().as_bytes()).unwrap());
        });
    });
    let mut i = 0u64;
    g.bench_function("tiered_get_l2_hit", |b| {
        b.iter(|| {
            i = (i + 1) % n; // a different key each time: the one-entry L1 always misses
            black_box(tiered.get(&i).unwrap());
        });
    });
    g.finish();
}

fn l2_hit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let disk: Arc<dyn L2> = Arc::new(DiskL2::open(dir.path().join("b.redb")).unwrap());
    backfill_group(c, "redb", disk);
    match pool_testkit::RedisFleet::start(1) {
        Ok(fleet) => {
            let redis: Arc<dyn L2> = Arc::new(RedisL2::new(fleet.url(0)).unwrap());
            backfill_group(c, "redis", redis);
        }
        Err(e) => eprintln!("tiered/l2_hit_backfill/redis: skipped ({e})"),
    }
}

fn writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let disk: Arc<dyn L2> = Arc::new(DiskL2::open(dir.path().join("w.redb")).unwrap());
    let mut g = c.benchmark_group("tiered/write_1000/redb");
    g.throughput(Throughput::Elements(1000));
    g.sample_size(20);
    for mode in [WriteMode::Through, WriteMode::Behind] {
        let cache: TieredCache<u64, Vec<u8>> =
            TieredCache::builder(100_000).shared_l2(disk.clone()).write_mode(mode).build().unwrap();
        let mut base = 0u64;
        g.bench_function(BenchmarkId::from_parameter(format!("{mode:?}")), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for k in base..base + 1000 {
                        cache.insert(k % 50_000, vec![1; 100]).unwrap();
                    }
                    base += 1000;
                    cache.flush().unwrap();
                }
                start.elapsed()
            });
        });
    }
    g.finish();
}

/// A bare cache and a memoizing pool holding the same squares, and the keys to read.
fn resident_squares() -> (Cache<u64, u64>, CachedPool<u64, u64>, Vec<u64>) {
    let bare: Cache<u64, u64> = Cache::builder(RESIDENT * 2).build().unwrap();
    let memo = CachedPool::builder(pool_core::ComputePool::new(1).unwrap(), "sq", |x: &u64| x * x)
        .capacity(RESIDENT * 2)
        .build()
        .unwrap();
    for k in 0..RESIDENT {
        bare.insert(k, k * k);
        memo.call(&k).unwrap();
    }
    (bare, memo, keys(4096, RESIDENT))
}

fn cached_pool_hit(c: &mut Criterion) {
    let (bare, memo, ks) = resident_squares();
    let mut g = c.benchmark_group("tiered/cached_pool_hit");
    g.throughput(Throughput::Elements(ks.len() as u64));
    g.bench_function("bare_cache_get", |b| {
        b.iter(|| {
            for k in &ks {
                black_box(bare.get(k));
            }
        });
    });
    g.bench_function("cached_pool_call", |b| {
        b.iter(|| {
            for k in &ks {
                black_box(memo.call(k).unwrap());
            }
        });
    });
    g.finish();
}

/// The same hits from two threads at once: what the pool's shared counters cost when every
/// core bumps them.
fn cached_pool_hit_two_threads(c: &mut Criterion) {
    let (bare, memo, ks) = resident_squares();
    let mut g = c.benchmark_group("tiered/cached_pool_hit/threads=2");
    g.throughput(Throughput::Elements(2 * ks.len() as u64));
    g.bench_function("bare_cache_get", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        ks.iter().for_each(|k| {
                            black_box(bare.get(k));
                        })
                    });
                }
            });
        });
    });
    g.bench_function("cached_pool_call", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        ks.iter().for_each(|k| {
                            black_box(memo.call(k).unwrap());
                        })
                    });
                }
            });
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = l1_hit, l2_hit, writes, cached_pool_hit, cached_pool_hit_two_threads
}
criterion_main!(benches);

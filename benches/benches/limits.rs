//! Criterion benches for the limits area: resource pool, rate limiter, circuit breaker, object
//! pool, each next to its anchor crate in the same group.
//!
//! Run: `cargo bench -p pool-benches --bench limits -- --warm-up-time 1 --measurement-time 3`
//!
//! The zero-allocation claims (rate-limiter check, breaker call, object-pool pull + return) are
//! tests: `pool-core/tests/limits/alloc.rs`.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)] // benches may unwrap their setup

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pool_core::{CircuitBreaker, Manager, ResourcePool};

// ---- resource pool ------------------------------------------------------------------------

struct OurMgr;
impl Manager for OurMgr {
    type Resource = u64;
    type Error = std::io::Error;
    fn create(&self, _: Duration) -> Result<u64, std::io::Error> {
        Ok(7)
    }
}

struct R2Mgr;
impl r2d2::ManageConnection for R2Mgr {
    type Connection = u64;
    type Error = std::io::Error;
    fn connect(&self) -> Result<u64, std::io::Error> {
        Ok(7)
    }
    fn is_valid(&self, _: &mut u64) -> Result<(), std::io::Error> {
        Ok(())
    }
    fn has_broken(&self, _: &mut u64) -> bool {
        false
    }
}

struct DpMgr;
impl deadpool::managed::Manager for DpMgr {
    type Type = u64;
    type Error = std::io::Error;
    async fn create(&self) -> Result<u64, std::io::Error> {
        Ok(7)
    }
    async fn recycle(
        &self,
        _: &mut u64,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<std::io::Error> {
        Ok(())
    }
}

fn resource_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("resource_pool/uncontended/max_size=4");
    g.throughput(Throughput::Elements(1));

    // Defaults include idle timeout and max lifetime (one clock read on checkout and return).
    let ours = ResourcePool::builder(OurMgr).max_size(4).build().unwrap();
    drop(ours.get().unwrap());
    g.bench_function("pool_core_get_drop", |b| b.iter(|| black_box(*ours.get().unwrap())));
    g.bench_function("pool_core_try_get_drop", |b| b.iter(|| black_box(*ours.try_get().unwrap())));
    let untimed = ResourcePool::builder(OurMgr)
        .max_size(4)
        .idle_timeout(None)
        .max_lifetime(None)
        .build()
        .unwrap();
    drop(untimed.get().unwrap());
    g.bench_function("pool_core_get_drop_no_expiry", |b| {
        b.iter(|| black_box(*untimed.get().unwrap()))
    });

    let dp = deadpool::unmanaged::Pool::from(vec![7u64; 4]);
    g.bench_function("deadpool_unmanaged_try_get_drop", |b| {
        b.iter(|| black_box(*dp.try_get().unwrap()))
    });

    let r2 = r2d2::Pool::builder().max_size(4).test_on_check_out(false).build(R2Mgr).unwrap();
    g.bench_function("r2d2_get_drop", |b| b.iter(|| black_box(*r2.get().unwrap())));
    g.finish();
}

const WAITERS: usize = 16;

fn resource_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("resource_pool/contended/waiters={WAITERS}/max_size=4"));
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);

    let ours = ResourcePool::builder(OurMgr).max_size(4).build().unwrap();
    g.bench_function("pool_core_threads_get_drop", |b| {
        b.iter_custom(|iters| {
            let per = (iters as usize).div_ceil(WAITERS);
            let barrier = Barrier::new(WAITERS + 1);
            std::thread::scope(|s| {
                for _ in 0..WAITERS {
                    s.spawn(|| {
                        barrier.wait();
                        for _ in 0..per {
                            black_box(*ours.get().unwrap());
                        }
                    });
                }
                barrier.wait();
                let start = Instant::now();
                // The scope joins every thread before returning.
                start
            })
            .elapsed()
        })
    });

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let ours_async = ResourcePool::builder(OurMgr).max_size(4).build().unwrap();
    g.bench_function("pool_core_tokio_tasks_get_async_drop", |b| {
        b.iter_custom(|iters| {
            let per = (iters as usize).div_ceil(WAITERS);
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..WAITERS)
                    .map(|_| {
                        let pool = ours_async.clone();
                        tokio::spawn(async move {
                            for _ in 0..per {
                                let g = pool.get_async().await.unwrap();
                                black_box(*g);
                                drop(g);
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        })
    });

    let dp = deadpool::managed::Pool::<DpMgr>::builder(DpMgr).max_size(4).build().unwrap();
    g.bench_function("deadpool_managed_tokio_tasks_get_drop", |b| {
        b.iter_custom(|iters| {
            let per = (iters as usize).div_ceil(WAITERS);
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..WAITERS)
                    .map(|_| {
                        let pool = dp.clone();
                        tokio::spawn(async move {
                            for _ in 0..per {
                                let g = pool.get().await.unwrap();
                                black_box(*g);
                                drop(g);
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

// ---- rate limiter -------------------------------------------------------------------------

fn rate_limiter(c: &mut Criterion) {
    let mut g = c.benchmark_group("rate_limiter/check/admit");
    g.throughput(Throughput::Elements(1));
    let ours = pool_core::RateLimiter::builder().per_second(1e9).burst(u32::MAX).build().unwrap();
    g.bench_function("pool_core_check", |b| b.iter(|| black_box(ours.check()).is_ok()));
    let gov = governor::RateLimiter::direct(governor::Quota::per_second(
        NonZeroU32::new(1_000_000_000).unwrap(),
    ));
    g.bench_function("governor_direct_check", |b| b.iter(|| black_box(gov.check()).is_ok()));
    g.finish();

    let mut g = c.benchmark_group("rate_limiter/check/reject");
    g.throughput(Throughput::Elements(1));
    let ours = pool_core::RateLimiter::per_second(1.0).unwrap();
    let _ = ours.check();
    g.bench_function("pool_core_check", |b| b.iter(|| black_box(ours.check()).is_err()));
    let gov =
        governor::RateLimiter::direct(governor::Quota::per_second(NonZeroU32::new(1).unwrap()));
    let _ = gov.check();
    g.bench_function("governor_direct_check", |b| b.iter(|| black_box(gov.check()).is_err()));
    g.finish();
}

// ---- circuit breaker ----------------------------------------------------------------------

fn breaker(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let mut g = c.benchmark_group("breaker/closed/success");
    g.throughput(Throughput::Elements(1));
    let ours = CircuitBreaker::new();
    g.bench_function("pool_core_call", |b| b.iter(|| ours.call(|| Ok::<_, ()>(black_box(1u64)))));
    g.bench_function("pool_core_is_call_permitted", |b| {
        b.iter(|| black_box(&ours).is_call_permitted())
    });
    let timed =
        CircuitBreaker::builder().slow_call_duration(Duration::from_secs(60)).build().unwrap();
    g.bench_function("pool_core_call_slow_call_tracking", |b| {
        b.iter(|| timed.call(|| Ok::<_, ()>(black_box(1u64))))
    });
    let fs = failsafe::Config::new().build();
    g.bench_function("failsafe_call", |b| b.iter(|| fs.call(|| Ok::<_, ()>(black_box(1u64)))));
    g.finish();
}

// ---- object pool --------------------------------------------------------------------------

fn object_pool(c: &mut Criterion) {
    let mut g = c.benchmark_group("object_pool/pull_return/vec_cap=64");
    g.throughput(Throughput::Elements(1));
    let pool = pool_core::ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .reset(Vec::clear)
        .build()
        .unwrap();
    drop(pool.pull());
    g.bench_function("pool_core_pull_return", |b| {
        b.iter(|| {
            let mut v = pool.pull();
            v.push(1);
            black_box(v.len())
        })
    });
    let local = pool_core::ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .reset(Vec::clear)
        .build_local()
        .unwrap();
    drop(local.pull());
    g.bench_function("pool_core_local_pull_return", |b| {
        b.iter(|| {
            let mut v = local.pull();
            v.push(1);
            black_box(v.len())
        })
    });
    // The floor for any single-thread pool: a bare RefCell<Vec<_>> pop + clear + push.
    let bare = std::cell::RefCell::new(vec![Vec::<u8>::with_capacity(64)]);
    g.bench_function("floor_refcell_vec_pop_push", |b| {
        b.iter(|| {
            let mut v = bare.borrow_mut().pop().unwrap_or_default();
            v.push(1);
            black_box(v.len());
            v.clear();
            bare.borrow_mut().push(v);
        })
    });
    g.bench_function("malloc_new_drop", |b| {
        b.iter(|| {
            let mut v = Vec::<u8>::with_capacity(64);
            v.push(1);
            black_box(v.len())
        })
    });
    g.finish();

    // The crossover: an object whose construction costs `work` rounds of hashing-like arithmetic
    // (standing in for parsing a config, building a regex, warming a buffer).
    let mut g = c.benchmark_group("object_pool/crossover");
    g.throughput(Throughput::Elements(1));
    for work in [0u64, 16, 64, 256, 1024] {
        let build = move || {
            let mut v = Vec::<u64>::with_capacity(16);
            let mut x = 0x9E37_79B9_7F4A_7C15u64;
            for i in 0..work {
                x = x.rotate_left(5).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ i;
            }
            v.push(x);
            v
        };
        let pool = pool_core::ObjectPool::builder(build)
            .reset(|v: &mut Vec<u64>| v.truncate(1))
            .build()
            .unwrap();
        drop(pool.pull());
        g.bench_with_input(BenchmarkId::new("pool_core_pull_return", work), &work, |b, _| {
            b.iter(|| black_box(pool.pull()[0]))
        });
        g.bench_with_input(BenchmarkId::new("construct_drop", work), &work, |b, _| {
            b.iter(|| black_box(build()[0]))
        });
    }
    g.finish();
}

/// Times `ours` and `anchor` in alternating rounds (order flipped every round) and prints the
/// median per-round ratio. On a shared, noisy 2-core box this is steadier than comparing two
/// criterion medians taken seconds apart: both sides of each ratio see the same load.
fn paired(name: &str, iters: u32, mut ours: impl FnMut(), mut anchor: impl FnMut()) {
    const ROUNDS: usize = 31;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        start.elapsed().as_nanos() as f64 / f64::from(iters)
    };
    let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (x, y) = if round % 2 == 0 {
            let x = time(&mut ours);
            (x, time(&mut anchor))
        } else {
            let y = time(&mut anchor);
            (time(&mut ours), y)
        };
        a.push(x);
        b.push(y);
        r.push(x / y);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "paired {name}: ours {:.1} ns, anchor {:.1} ns, median ratio {:.2} ({ROUNDS} rounds of {iters})",
        median(&mut a),
        median(&mut b),
        median(&mut r)
    );
}

/// The same-run ratios the targets are stated in (see `paired`).
fn paired_ratios(_: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let limiter =
        pool_core::RateLimiter::builder().per_second(1e9).burst(u32::MAX).build().unwrap();
    let gov = governor::RateLimiter::direct(governor::Quota::per_second(
        NonZeroU32::new(1_000_000_000).unwrap(),
    ));
    paired(
        "rate_limiter check (admit) vs governor direct check",
        1_000_000,
        || {
            let _ = black_box(limiter.check());
        },
        || {
            let _ = black_box(gov.check());
        },
    );
    let breaker = CircuitBreaker::new();
    let fs = failsafe::Config::new().build();
    paired(
        "breaker call (closed) vs failsafe call",
        500_000,
        || {
            let _ = black_box(breaker.call(|| Ok::<_, ()>(black_box(1u64))));
        },
        || {
            let _ = black_box(fs.call(|| Ok::<_, ()>(black_box(1u64))));
        },
    );
    let ours = ResourcePool::builder(OurMgr).max_size(4).build().unwrap();
    drop(ours.get().unwrap());
    let dp = deadpool::unmanaged::Pool::from(vec![7u64; 4]);
    paired(
        "resource pool get+drop vs deadpool unmanaged try_get+drop",
        200_000,
        || {
            black_box(*ours.get().unwrap());
        },
        || {
            black_box(*dp.try_get().unwrap());
        },
    );
    let r2 = r2d2::Pool::builder().max_size(4).test_on_check_out(false).build(R2Mgr).unwrap();
    paired(
        "resource pool get+drop vs r2d2 get+drop",
        200_000,
        || {
            black_box(*ours.get().unwrap());
        },
        || {
            black_box(*r2.get().unwrap());
        },
    );
    let local = pool_core::ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .reset(Vec::clear)
        .build_local()
        .unwrap();
    drop(local.pull());
    paired(
        "local object pool pull+return vs Vec::with_capacity(64) malloc+free",
        1_000_000,
        || {
            let mut v = local.pull();
            v.push(1);
            black_box(v.len());
        },
        || {
            let mut v = Vec::<u8>::with_capacity(64);
            v.push(1);
            black_box(v.len());
        },
    );
}

criterion_group!(
    benches,
    paired_ratios,
    resource_uncontended,
    resource_contended,
    rate_limiter,
    breaker,
    object_pool
);
criterion_main!(benches);

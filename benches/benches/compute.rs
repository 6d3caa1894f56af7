//! Criterion benches for the compute pool, each group with rayon (the anchor) beside it.
//!
//! Run: `cargo bench -p pool-benches --bench compute -- --warm-up-time 1 --measurement-time 3`.
//! The CPU is shared and noisy: compare the two lines of one group within one run.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)] // benches may unwrap their setup

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pool_core::{ComputePool, QueueFullPolicy};
use rayon::prelude::*;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Counts finished tasks down to zero and wakes the waiter once; the same completion tracking
/// for rayon and for the pool, so only the spawn/submit path differs.
struct CountDown {
    left: AtomicUsize,
    done: Mutex<bool>,
    cv: Condvar,
}

impl CountDown {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Self { left: AtomicUsize::new(n), done: Mutex::new(false), cv: Condvar::new() })
    }
    fn hit(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self.done.lock().unwrap() = true;
            self.cv.notify_all();
        }
    }
    fn wait(&self) {
        let mut d = self.done.lock().unwrap();
        while !*d {
            d = self.cv.wait(d).unwrap();
        }
    }
}

const TASKS: usize = 1_000_000;

/// Per-task overhead amortised over 1M empty tasks: rayon's `spawn` against `submit` (handle
/// dropped at once) with every statistic on.
fn spawn_empty(c: &mut Criterion) {
    let t = threads();
    let mut g = c.benchmark_group(format!("compute/spawn_empty/tasks={TASKS}/threads={t}"));
    g.throughput(Throughput::Elements(TASKS as u64));
    g.sample_size(10);
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
    g.bench_function("rayon_spawn", |b| {
        b.iter(|| {
            let cd = CountDown::new(TASKS);
            for _ in 0..TASKS {
                let cd = Arc::clone(&cd);
                rayon_pool.spawn(move || cd.hit());
            }
            cd.wait();
        })
    });
    // Capacity above TASKS: measures the submit path itself, not back-pressure.
    let pool = ComputePool::builder().threads(t).queue_capacity(2 * TASKS).build().unwrap();
    g.bench_function("pool_submit", |b| {
        b.iter(|| {
            let cd = CountDown::new(TASKS);
            for _ in 0..TASKS {
                let cd = Arc::clone(&cd);
                drop(pool.submit(move || cd.hit()).unwrap());
            }
            cd.wait();
        })
    });
    // The default bounded queue (16 384, Block): the producer is throttled to the workers.
    let bounded = ComputePool::new(t).unwrap();
    g.bench_function("pool_submit_default_queue", |b| {
        b.iter(|| {
            let cd = CountDown::new(TASKS);
            for _ in 0..TASKS {
                let cd = Arc::clone(&cd);
                drop(bounded.submit(move || cd.hit()).unwrap());
            }
            cd.wait();
        })
    });
    // The anchor again: on a shared 2-core box whatever runs second in a group tends to be
    // slower (the first pool's threads are still winding down); quote ratios against both.
    g.bench_function("rayon_spawn_again", |b| {
        b.iter(|| {
            let cd = CountDown::new(TASKS);
            for _ in 0..TASKS {
                let cd = Arc::clone(&cd);
                rayon_pool.spawn(move || cd.hit());
            }
            cd.wait();
        })
    });
    g.finish();
}

/// CPU time (user + system, all threads) this process has used so far, from `/proc/self/stat`
/// (in clock ticks of 10 ms). Other processes' load inflates wall time but not this.
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    // After the name: state, ppid, ..., so utime and stime sit at offsets 11 and 12; ticks are
    // 1/100 s on Linux (USER_HZ).
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// The same 1M empty tasks, timed by the CPU they consume rather than by the wall clock: the
/// box is shared by several builds, which makes wall-clock ratios swing; CPU time is what the
/// per-task overhead really costs. Resolution is 10 ms per iteration of about 300 ms.
fn spawn_empty_cpu(c: &mut Criterion) {
    let t = threads();
    let mut g =
        c.benchmark_group(format!("compute/spawn_empty_cpu_time/tasks={TASKS}/threads={t}"));
    g.throughput(Throughput::Elements(TASKS as u64));
    g.sample_size(10);
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
    let pool = ComputePool::builder().threads(t).queue_capacity(2 * TASKS).build().unwrap();
    let run_rayon = || {
        let cd = CountDown::new(TASKS);
        for _ in 0..TASKS {
            let cd = Arc::clone(&cd);
            rayon_pool.spawn(move || cd.hit());
        }
        cd.wait();
    };
    let run_pool = || {
        let cd = CountDown::new(TASKS);
        for _ in 0..TASKS {
            let cd = Arc::clone(&cd);
            drop(pool.submit(move || cd.hit()).unwrap());
        }
        cd.wait();
    };
    g.bench_function("rayon_spawn", |b| {
        b.iter_custom(|iters| {
            let start = process_cpu_time();
            for _ in 0..iters {
                run_rayon();
            }
            process_cpu_time() - start
        })
    });
    g.bench_function("pool_submit", |b| {
        b.iter_custom(|iters| {
            let start = process_cpu_time();
            for _ in 0..iters {
                run_pool();
            }
            process_cpu_time() - start
        })
    });
    g.finish();
}

/// `try_submit` on a full queue: the rejection path.
fn rejection(c: &mut Criterion) {
    let mut g = c.benchmark_group("compute/try_submit_rejected/capacity=1");
    g.throughput(Throughput::Elements(1));
    let pool = ComputePool::builder()
        .threads(1)
        .queue_capacity(1)
        .queue_full_policy(QueueFullPolicy::Reject)
        .build()
        .unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let blocker = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        })
        .unwrap();
    started_rx.recv().unwrap();
    let queued = pool.submit(|| ()).unwrap();
    g.bench_function("pool_try_submit", |b| {
        b.iter(|| black_box(pool.try_submit(|| ()).is_err()));
    });
    g.finish();
    release_tx.send(()).unwrap();
    blocker.join().unwrap();
    queued.join().unwrap();
}

/// One task there and back: `submit(f).join()` against rayon `spawn` + a oneshot channel.
fn round_trip(c: &mut Criterion) {
    let t = threads();
    let mut g = c.benchmark_group(format!("compute/round_trip/threads={t}"));
    g.throughput(Throughput::Elements(1));
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
    g.bench_function("rayon_spawn_oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel(1);
            rayon_pool.spawn(move || tx.send(black_box(1u64)).unwrap());
            rx.recv().unwrap()
        })
    });
    let pool = ComputePool::new(t).unwrap();
    g.bench_function("pool_submit_join", |b| {
        b.iter(|| pool.submit(|| black_box(1u64)).unwrap().join().unwrap())
    });
    g.bench_function("rayon_spawn_oneshot_again", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel(1);
            rayon_pool.spawn(move || tx.send(black_box(1u64)).unwrap());
            rx.recv().unwrap()
        })
    });
    g.finish();
}

/// `map` over 1M cheap items against `par_iter().map().collect()` on an equal rayon pool.
fn map(c: &mut Criterion) {
    const ITEMS: usize = 1_000_000;
    let t = threads();
    let items: Vec<u64> = (0..ITEMS as u64).collect();
    let f = |x: &u64| x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    let mut g = c.benchmark_group(format!("compute/map/items={ITEMS}/threads={t}"));
    g.throughput(Throughput::Elements(ITEMS as u64));
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
    g.bench_with_input(BenchmarkId::new("rayon_par_iter", ITEMS), &items, |b, items| {
        b.iter(|| rayon_pool.install(|| items.par_iter().map(f).collect::<Vec<u64>>()))
    });
    let pool = ComputePool::new(t).unwrap();
    g.bench_with_input(BenchmarkId::new("pool_map", ITEMS), &items, |b, items| {
        b.iter(|| pool.map(&items[..], f))
    });
    // The anchor again, to expose order effects (see `spawn_empty`).
    g.bench_with_input(BenchmarkId::new("rayon_par_iter_again", ITEMS), &items, |b, items| {
        b.iter(|| rayon_pool.install(|| items.par_iter().map(f).collect::<Vec<u64>>()))
    });
    g.finish();
}

criterion_group!(benches, spawn_empty, spawn_empty_cpu, rejection, round_trip, map);
criterion_main!(benches);

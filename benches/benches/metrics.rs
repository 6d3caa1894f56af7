//! Criterion benches for pool-metrics, each group with its anchor crate beside it:
//! histogram record and p99 against hdrhistogram, the memory snapshot against memory-stats,
//! and the timer clock (`std::time::Instant` against quanta's TSC clock).
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hdrhistogram::Histogram as Hdr;
use pool_metrics::{Counter, Histogram, MemoryProbe, Timer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const HOUR_NS: u64 = 3_600_000_000_000;
const BATCH: usize = 1024;

/// Log-uniform latencies over 1 µs .. 1 h (seeded), the range the precision target names.
fn latencies(n: usize) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(42);
    (0..n)
        .map(|_| 10f64.powf(rng.random_range(3.0..HOUR_NS.ilog10() as f64 + 0.556)) as u64)
        .collect()
}

fn hdr() -> Hdr<u64> {
    // 3 significant digits: hdrhistogram's setting for <= 0.1 % error.
    Hdr::new_with_bounds(1, HOUR_NS, 3).expect("valid bounds")
}

fn record(c: &mut Criterion) {
    let values = latencies(BATCH);
    let mut g = c.benchmark_group("histogram_record/log_uniform_1us_1h");
    g.throughput(Throughput::Elements(BATCH as u64));
    let ours = Histogram::new();
    g.bench_function("pool_metrics", |b| {
        b.iter(|| {
            for &v in &values {
                ours.record(black_box(v));
            }
        })
    });
    let mut anchor = hdr();
    g.bench_function("hdrhistogram", |b| {
        b.iter(|| {
            for &v in &values {
                let _ = anchor.record(black_box(v));
            }
        })
    });
    g.finish();
    eprintln!(
        "memory: pool_metrics {} B after the bench (one thread, {} shards), hdrhistogram {} B of counts",
        ours.heap_bytes(),
        ours.shards(),
        anchor.distinct_values() * 8,
    );
}

fn record_contended(c: &mut Criterion) {
    let values = latencies(BATCH);
    let mut g = c.benchmark_group("histogram_record_contended/threads_2");
    g.throughput(Throughput::Elements(2 * BATCH as u64));
    let ours = Histogram::new();
    g.bench_function("pool_metrics_shared", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..iters {
                            for &v in &values {
                                ours.record(black_box(v));
                            }
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    let anchor = std::sync::Mutex::new(hdr());
    g.bench_function("hdrhistogram_mutex", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..iters {
                            for &v in &values {
                                let _ = anchor.lock().map(|mut h| h.record(black_box(v)));
                            }
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    g.finish();
}

fn quantile(c: &mut Criterion) {
    let values = latencies(1_000_000);
    let ours = Histogram::new();
    let mut anchor = hdr();
    for &v in &values {
        ours.record(v);
        let _ = anchor.record(v);
    }
    let mut g = c.benchmark_group("histogram_p99/log_uniform_1e6_samples");
    g.throughput(Throughput::Elements(1));
    g.bench_function("pool_metrics", |b| b.iter(|| black_box(ours.quantile(black_box(0.99)))));
    g.bench_function("hdrhistogram", |b| {
        b.iter(|| black_box(anchor.value_at_quantile(black_box(0.99))))
    });
    g.finish();

    let mut g = c.benchmark_group("histogram_summary/p50_p90_p95_p99_p999_mean_1e6_samples");
    g.throughput(Throughput::Elements(1));
    g.bench_function("pool_metrics_snapshot", |b| b.iter(|| black_box(ours.snapshot())));
    g.bench_function("hdrhistogram", |b| {
        b.iter(|| {
            let qs = [0.5, 0.9, 0.95, 0.99, 0.999].map(|q| anchor.value_at_quantile(q));
            black_box((qs, anchor.mean(), anchor.min(), anchor.max()))
        })
    });
    g.finish();
}

fn memory(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_snapshot/process");
    g.throughput(Throughput::Elements(1));
    if let Ok(probe) = MemoryProbe::new() {
        g.bench_function("pool_metrics_statm", |b| b.iter(|| black_box(probe.snapshot())));
    }
    g.bench_function("memory_stats_default", |b| {
        b.iter(|| black_box(memory_stats::memory_stats()))
    });
    g.finish();
}

fn clocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("clock/now_and_elapsed");
    g.throughput(Throughput::Elements(1));
    g.bench_function("std_instant", |b| b.iter(|| black_box(Instant::now().elapsed())));
    let clock = quanta::Clock::new();
    g.bench_function("quanta_tsc", |b| {
        b.iter(|| {
            let start = clock.raw();
            black_box(clock.delta(start, clock.raw()))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("metric_update/uncontended");
    g.throughput(Throughput::Elements(1));
    let counter = Counter::new();
    g.bench_function(BenchmarkId::new("counter_inc", "pool_metrics"), |b| b.iter(|| counter.inc()));
    let timer = Timer::new();
    g.bench_function(BenchmarkId::new("timer_closure", "pool_metrics"), |b| {
        b.iter(|| timer.time(|| black_box(1u64) + 1))
    });
    g.finish();
}

criterion_group!(benches, record, record_contended, quantile, memory, clocks);
criterion_main!(benches);

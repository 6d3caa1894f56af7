//! The flagship pipeline: expensive work on the compute pool, memoized in the L1 cache, guarded by
//! a circuit breaker, and watched by metrics — all embedded, nothing to install.
//!
//! A stream of requests with a Zipf-like popularity (a few keys are hot, most are cold) is served
//! through `ComputePool::map_iter`, which keeps at most `WINDOW` requests in flight however long
//! the stream is. Each request asks the cache for its key's result; a miss runs the expensive
//! computation once per key (single-flight), through a circuit breaker, and a failed computation
//! is never cached. At the end the pipeline checks its own books (every request answered,
//! every answer right, the pool's counters balanced) and prints a report: throughput, cache hit
//! ratio, latency quantiles, the bottleneck table, memory, and the metrics in Prometheus text.
//!
//! Run it with `cargo run --release -p pool-examples --example pipeline`.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use pool_cache::{Cache, Policy};
use pool_core::{CircuitBreaker, ComputePool, QueueFullPolicy, SlidingWindow, WorkloadKind};
use pool_metrics::{MemoryProbe, Profiler, Registry};

/// Requests in the stream.
const REQUESTS: u64 = 200_000;
/// Distinct keys the requests are drawn from.
const KEYS: u64 = 50_000;
/// Entries the cache holds: 5% of the keys, so the policy's choices matter.
const CACHE_CAPACITY: u64 = 2_500;
/// Requests in flight at once in the streaming map.
const WINDOW: usize = 512;
/// Work per computation: rounds of a 64-bit mixer (about 10 µs in a release build).
const ROUNDS: u64 = 4_000;
/// Keys whose backend call fails (one in this many), to show that failures are counted, reach
/// the caller, and are never cached.
const FAILING_EVERY: u64 = 4_999;

/// splitmix64: a fixed, fast 64-bit mixer (Steele, Lea & Flood, 2014).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The expensive, deterministic computation the pipeline memoizes.
fn compute(key: u64) -> u64 {
    (0..ROUNDS).fold(key, |acc, _| mix(acc))
}

/// The backend: the computation, failing for a few keys like a flaky dependency would.
fn backend(key: u64) -> Result<u64, String> {
    if key % FAILING_EVERY == FAILING_EVERY - 1 {
        return Err(format!("backend refused key {key}"));
    }
    Ok(compute(key))
}

/// The `i`-th request's key: log-uniform over `1..=KEYS`, which approximates Zipf(1) popularity
/// (key k is drawn with probability ∝ 1/k).
fn request_key(i: u64) -> u64 {
    let u = (mix(i) >> 11) as f64 / (1u64 << 53) as f64; // uniform in [0, 1)
    let k = (KEYS as f64).powf(u) as u64; // 1 ..= KEYS
    k.clamp(1, KEYS)
}

fn main() -> anyhow::Result<()> {
    let profiler = Profiler::new();
    let registry = Registry::new();
    let latency = registry.timer("pipeline_request_nanoseconds", &[("stage", "serve")])?;
    let backend_calls = registry.counter("pipeline_backend_calls_total", &[])?;
    let probe = MemoryProbe::new().ok(); // None where /proc is missing: memory is then not shown
    let rss_before = probe.as_ref().and_then(|p| p.snapshot().ok()).map(|s| s.rss_bytes);

    let pool = ComputePool::builder()
        .workload(WorkloadKind::Cpu)
        .queue_capacity(4 * WINDOW)
        .queue_full_policy(QueueFullPolicy::Block { timeout: Some(Duration::from_secs(10)) })
        .build()
        .context("building the compute pool")?;
    let cache: Cache<u64, u64> = Cache::builder(CACHE_CAPACITY)
        .policy(Policy::TinyLfu)
        .build()
        .context("building the cache")?;
    // A cheap handle: each task below takes a clone of the one breaker.
    let breaker = CircuitBreaker::builder()
        .sliding_window(SlidingWindow::CountBased(100))
        .minimum_calls(20)
        .failure_rate_threshold(50.0)
        .build()
        .context("building the circuit breaker")?;

    println!(
        "pipeline: {REQUESTS} requests over {KEYS} keys, cache of {CACHE_CAPACITY} (TinyLFU), \
         {} worker threads, at most {WINDOW} in flight",
        pool.threads()
    );

    let started = Instant::now();
    let served = {
        let _section = profiler.scope("serve");
        let (cache, breaker, latency, calls) =
            (cache.clone(), breaker.clone(), latency.clone(), backend_calls.clone());
        // Time spent in the backend, summed over the workers: the profiler's bottleneck table
        // sets it against the wall time of the whole stage.
        let backend_time = profiler.section("backend (summed over workers)");
        let results = pool.map_iter(0..REQUESTS, WINDOW, move |i| {
            let key = request_key(i);
            let answer = latency.time_result(|| {
                cache.try_get_or_insert_with(key, || {
                    calls.inc();
                    backend_time.time(|| breaker.call(|| backend(key))).map_err(|e| e.to_string())
                })
            });
            (key, answer)
        });
        let mut served = Vec::with_capacity(1024);
        let (mut ok, mut failed) = (0u64, 0u64);
        for (i, result) in results.enumerate() {
            let (key, answer) = result.context("a pipeline task did not complete")?;
            match answer {
                Ok(value) => {
                    ok += 1;
                    if i % 197 == 0 {
                        served.push((key, value)); // a sample to check against the truth
                    }
                }
                Err(_) => failed += 1,
            }
        }
        (served, ok, failed)
    };
    let elapsed = started.elapsed();
    let (sample, ok, failed) = served;

    // Check the books.
    {
        let _section = profiler.scope("verify");
        for &(key, value) in &sample {
            ensure!(value == compute(key), "wrong answer for key {key}");
        }
    }
    let stats = cache.stats();
    let pool_stats = pool.stats();
    ensure!(ok + failed == REQUESTS, "{} requests unanswered", REQUESTS - ok - failed);
    ensure!(stats.hits + stats.misses >= REQUESTS, "cache saw fewer lookups than requests");
    ensure!(pool_stats.is_balanced(), "pool counters do not balance: {pool_stats:?}");
    ensure!(pool_stats.completed == REQUESTS, "pool completed {} tasks", pool_stats.completed);
    cache.run_pending_tasks();
    ensure!(cache.len() as u64 <= CACHE_CAPACITY, "cache holds {} entries", cache.len());

    // Report.
    let lat = latency.snapshot();
    let us = |ns: u64| ns as f64 / 1_000.0;
    println!(
        "\nserved {REQUESTS} requests in {:.2} s: {:.0} requests/s ({ok} ok, {failed} failed)",
        elapsed.as_secs_f64(),
        REQUESTS as f64 / elapsed.as_secs_f64()
    );
    println!(
        "cache: hit ratio {:.3}, {} backend calls for {REQUESTS} requests ({:.1}x fewer), \
         {} evictions, {} admission rejections",
        stats.hit_ratio(),
        backend_calls.get(),
        REQUESTS as f64 / backend_calls.get().max(1) as f64,
        stats.evictions,
        stats.admission_rejections
    );
    println!(
        "latency per request: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        us(lat.latency.p50),
        us(lat.latency.p99),
        us(lat.latency.p999),
        us(lat.latency.max)
    );
    println!(
        "pool: {} completed, {} panicked, utilisation {:.0}%, queue wait p99 {:.1} µs",
        pool_stats.completed,
        pool_stats.panicked,
        100.0 * pool_stats.utilisation,
        us(pool_stats.queue_wait.p99)
    );
    println!("circuit breaker: {:?}", breaker.state());
    if let (Some(before), Some(after)) =
        (rss_before, probe.as_ref().and_then(|p| p.snapshot().ok()).map(|s| s.rss_bytes))
    {
        println!("memory: RSS {:.1} MiB -> {:.1} MiB", mib(before), mib(after));
    }
    println!("\nwhere the time went:\n{}", profiler.report().to_table());
    println!("metrics (Prometheus text, buckets left out):");
    for line in registry.snapshot().to_prometheus().lines().filter(|l| !l.contains("_bucket{")) {
        println!("  {line}");
    }
    pool.shutdown();
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

//! [`run`]: serve the request stream and gather the report.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use pool_core::{ComputePool, WorkloadKind};
use pool_metrics::{CountingAlloc, LeakDetector, MemoryMonitor, Profiler, Timer};

use super::args::Settings;
use super::memo::Memo;
use super::report::{
    Bottleneck, BreakerReport, Computations, Early, HitRatio, Latency, LeakSummary, MemoryReport,
    PoolReport, Report, Tiers,
};
use super::store::L2Store;
use super::workload::{Digest, KeyStream, compute};
use pool_cache::Source;

/// The first requests whose outcomes are counted apart, to show a warm start.
const EARLY_REQUESTS: u64 = 1_000;
/// One answer in this many is kept and checked against a fresh computation after the timed
/// stream (so the check costs the throughput nothing).
const VERIFY_EVERY: u64 = 499;
/// How often the memory monitor samples.
const MEMORY_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Default)]
struct Counts {
    l1: AtomicU64,
    shared: AtomicU64,
    l2: AtomicU64,
    computed: AtomicU64,
    errors: AtomicU64,
    spent_ns: AtomicU64,
    saved_ns: AtomicU64,
    sequence: AtomicU64,
    early_l2: AtomicU64,
    early_computed: AtomicU64,
}

/// The distinct keys asked for: a bitmap allocated up front for key spaces up to 2^27 keys
/// (16 MiB), so the memory the leak detector watches does not grow with it; a set beyond.
#[derive(Debug)]
enum Distinct {
    Bits(Vec<AtomicU64>),
    Set(Mutex<HashSet<u64>>),
}

impl Distinct {
    fn new(keys: u64) -> Self {
        if keys <= 1 << 27 {
            Self::Bits((0..keys.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
        } else {
            Self::Set(Mutex::new(HashSet::new()))
        }
    }

    fn insert(&self, key: u64) {
        match self {
            Self::Bits(words) => {
                if let Some(w) = usize::try_from(key / 64).ok().and_then(|i| words.get(i)) {
                    w.fetch_or(1 << (key % 64), Relaxed);
                }
            }
            Self::Set(set) => {
                set.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key);
            }
        }
    }

    fn count(&self) -> u64 {
        match self {
            Self::Bits(words) => {
                words.iter().map(|w| u64::from(w.load(Relaxed).count_ones())).sum()
            }
            Self::Set(set) => {
                set.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len() as u64
            }
        }
    }
}

/// Opens the L2 the settings name (before any work, so a bad `--data` fails first); its
/// calls are timed in `profiler`.
///
/// # Errors
///
/// An unusable data directory or redb file, or a malformed Redis URL.
pub fn open_store(settings: &Settings, profiler: &Profiler) -> anyhow::Result<L2Store> {
    if !settings.redis_cluster.is_empty() {
        L2Store::redis_cluster(&settings.redis_cluster, profiler)
    } else if settings.redis.is_empty() {
        L2Store::disk(&settings.data_dir, settings.fresh, profiler)
    } else {
        L2Store::redis(&settings.redis, profiler)
    }
}

/// Serves `settings.requests` requests and returns the report. `allocator` is the binary's
/// counting global allocator, if it installed one (memory is then live heap bytes, not RSS).
///
/// # Errors
///
/// An unusable L2 (see [`open_store`]), a pool that cannot start, or a wrong answer.
pub fn run(
    settings: &Settings,
    allocator: Option<&'static CountingAlloc>,
) -> anyhow::Result<Report> {
    let profiler = Profiler::new();
    let store = open_store(settings, &profiler)?;
    let pool = ComputePool::builder()
        .threads(settings.threads)
        .workload(WorkloadKind::Cpu)
        .build()
        .context("building the compute pool")?;
    let memo = Memo::new(settings.l1_capacity, &store, pool.clone(), &profiler, settings.fresh)?;

    // Memory: sampled every 100 ms, with the leak detector's short-run settings (documented on
    // `LeakDetectorBuilder`): a run of seconds cannot use the service defaults (8 min warm-up).
    let detector = LeakDetector::builder()
        .step(Duration::from_secs(1))
        .floor_window(Duration::from_secs(10))
        .warmup(Duration::from_secs(5))
        .min_slope(10e3)
        .min_growth(500e3)
        .build()?;
    let mut monitor = MemoryMonitor::builder().leak_detector(detector);
    if let Some(a) = allocator {
        monitor = monitor.allocator(a);
    }
    let monitor = Arc::new(monitor.build()?);
    let sampler = monitor.clone().spawn(MEMORY_INTERVAL).ok();

    let progress = if std::io::stderr().is_terminal() && settings.requests > 0 {
        let bar = ProgressBar::new(settings.requests);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} requests, {per_sec}, eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    let counts = Counts::default();
    let latency = Timer::new();
    let started = Instant::now();
    let distinct = Distinct::new(settings.keys);
    // Sampled answers, checked against a fresh computation once the timed stream is over.
    let kept = std::thread::scope(|s| -> anyhow::Result<Vec<(u64, Digest)>> {
        let threads = settings.threads as u64;
        let mut handles = Vec::with_capacity(settings.threads);
        for t in 0..threads {
            // Thread t serves requests t, t + T, t + 2T, ...
            let share = settings.requests / threads + u64::from(t < settings.requests % threads);
            let (memo, counts, latency, progress, distinct) =
                (&memo, &counts, &latency, &progress, &distinct);
            let mut keys =
                KeyStream::new(settings.keys, settings.zipf, t).map_err(anyhow::Error::msg)?;
            handles.push(s.spawn(move || {
                let mut kept = Vec::new();
                for i in 0..share {
                    let Some(key) = keys.next() else { break };
                    distinct.insert(key);
                    let seq = counts.sequence.fetch_add(1, Relaxed);
                    let begin = Instant::now();
                    let answer = memo.call(key);
                    latency.record(begin.elapsed(), answer.is_ok());
                    match answer {
                        Ok(answer) => {
                            // A request that shared another request's load is an L1 hit: it
                            // never reached the L2 (counted apart as well).
                            let (tier, early) = match answer.source {
                                Source::L2 => (&counts.l2, Some(&counts.early_l2)),
                                Source::Computed => {
                                    (&counts.computed, Some(&counts.early_computed))
                                }
                                _ => (&counts.l1, None),
                            };
                            tier.fetch_add(1, Relaxed);
                            if answer.source == Source::Shared {
                                counts.shared.fetch_add(1, Relaxed);
                            }
                            if let Some(early) = early.filter(|_| seq < EARLY_REQUESTS) {
                                early.fetch_add(1, Relaxed);
                            }
                            let spent = if answer.source.computed() {
                                &counts.spent_ns
                            } else {
                                &counts.saved_ns
                            };
                            let cost = u64::try_from(answer.compute_time.as_nanos());
                            spent.fetch_add(cost.unwrap_or(u64::MAX), Relaxed);
                            if i % VERIFY_EVERY == 0 {
                                kept.push((key, answer.value));
                            }
                        }
                        Err(_) => {
                            counts.errors.fetch_add(1, Relaxed);
                        }
                    }
                    if i % 256 == 255 {
                        progress.inc(256);
                    }
                }
                kept
            }));
        }
        let mut kept = Vec::new();
        for h in handles {
            kept.extend(h.join().map_err(|_| anyhow::anyhow!("a client thread panicked"))?);
        }
        Ok(kept)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    drop(sampler); // stops the memory sampler (one last sample)
    if let Err(e) = store.flush() {
        eprintln!("warning: the final L2 checkpoint failed: {e}");
    }

    let wrong = kept.iter().filter(|(key, digest)| compute(*key) != *digest).count();
    ensure!(wrong == 0, "{wrong} answers differ from a fresh computation");
    pool.shutdown_timeout(Duration::from_secs(10));
    let pool_stats = pool.stats();

    let g = |a: &AtomicU64| a.load(Relaxed);
    let (l1, l2, computed, errors) =
        (g(&counts.l1), g(&counts.l2), g(&counts.computed), g(&counts.errors));
    let requests = settings.requests;
    let l2_lookups = l2 + computed;
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let lat = latency.snapshot().latency;
    let us = |ns: u64| ns as f64 / 1e3;
    let early_requests = requests.min(EARLY_REQUESTS);
    let (early_l2, early_computed) = (g(&counts.early_l2), g(&counts.early_computed));

    // Bottlenecks: the profiled sections, and the rest of the requests' time (L1 lookups,
    // waits on another request's load, queue waits for a pool worker, the client loop).
    let profile = profiler.report();
    let request_ns = (lat.mean * lat.count as f64) as u64;
    let inner_ns: u64 = profile.sections.iter().map(|s| s.total_ns).sum();
    let other_ns = request_ns.saturating_sub(inner_ns);
    let total_ns = (inner_ns + other_ns).max(1) as f64;
    let mut bottlenecks: Vec<Bottleneck> = profile
        .sections
        .iter()
        .map(|s| Bottleneck {
            section: s.name.clone(),
            seconds: s.total_ns as f64 / 1e9,
            share: s.total_ns as f64 / total_ns,
            calls: s.calls,
        })
        .collect();
    bottlenecks.push(Bottleneck {
        section: "l1, flights and pool queue waits".into(),
        seconds: other_ns as f64 / 1e9,
        share: other_ns as f64 / total_ns,
        calls: requests,
    });
    bottlenecks.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));

    let memo_stats = memo.stats();
    let samples = monitor.samples();
    let used: Vec<u64> = samples.iter().map(|s| s.memory.used_bytes()).collect();
    let leak = monitor.leak_report();

    Ok(Report {
        requests,
        distinct_keys: distinct.count(),
        keys: settings.keys,
        zipf: settings.zipf,
        threads: settings.threads,
        l1_capacity: settings.l1_capacity,
        seconds,
        throughput_rps: if seconds > 0.0 { requests as f64 / seconds } else { 0.0 },
        latency_us: Latency {
            p50: us(lat.p50),
            p95: us(lat.p95),
            p99: us(lat.p99),
            p999: us(lat.p999),
            max: us(lat.max),
        },
        hit_ratio: HitRatio {
            l1: ratio(l1, requests),
            l2: ratio(l2, l2_lookups),
            overall: ratio(l1 + l2, requests),
        },
        tiers: Tiers {
            l1_hits: l1,
            shared: g(&counts.shared),
            l2_lookups,
            l2_hits: l2,
            l2_misses: computed,
        },
        computations: Computations {
            run: computed,
            saved: l1 + l2,
            seconds_saved: g(&counts.saved_ns) as f64 / 1e9,
            seconds_spent: g(&counts.spent_ns) as f64 / 1e9,
        },
        early: Early {
            requests: early_requests,
            l2_hits: early_l2,
            computations: early_computed,
            l2_hit_ratio: ratio(early_l2, early_l2 + early_computed),
        },
        l2: store.kind(),
        l2_nodes: store.node_names(),
        l2_unreachable: store.unreachable().to_vec(),
        l2_replicas: store.replicas(),
        data_dir: (settings.redis.is_empty() && settings.redis_cluster.is_empty()).then(|| {
            std::fs::canonicalize(&settings.data_dir)
                .unwrap_or_else(|_| settings.data_dir.clone())
                .display()
                .to_string()
        }),
        errors,
        // The guarded store counts every L2 call that failed or timed out (reads, writes and
        // leases alike), and the sharded L2's failovers inside a call.
        l2_errors: store.errors(),
        l2_skipped: store.skipped(),
        l2_decode_errors: memo.cache_stats().l2_decode_errors,
        lease_waits: memo_stats.lease_waits,
        lease_timeouts: memo_stats.wait_timeouts,
        verified: kept.len() as u64,
        pool: PoolReport {
            threads: pool.threads(),
            submitted: pool_stats.submitted,
            completed: pool_stats.completed,
            panicked: pool_stats.panicked,
            rejected: pool_stats.rejected,
            utilisation: pool_stats.utilisation,
            queue_wait_p99_us: us(pool_stats.queue_wait.p99),
            balanced: pool_stats.is_balanced(),
        },
        breakers: store
            .breakers()
            .into_iter()
            .map(|(node, state)| BreakerReport { node, state: format!("{state:?}").to_lowercase() })
            .collect(),
        memory: MemoryReport {
            samples: samples.len(),
            first_bytes: used.first().copied().unwrap_or(0),
            peak_bytes: used.iter().copied().max().unwrap_or(0),
            last_bytes: used.last().copied().unwrap_or(0),
            rss_bytes: samples.last().map_or(0, |s| s.memory.rss_bytes),
        },
        leak: leak.map_or_else(
            || LeakSummary {
                verdict: "unavailable (no memory probe)".into(),
                ..LeakSummary::default()
            },
            |r| LeakSummary {
                leaking: r.leaking,
                verdict: format!("{:?}", r.verdict).to_lowercase(),
                slope_bytes_per_sec: r.slope_bytes_per_sec,
            },
        ),
        bottlenecks,
    })
}

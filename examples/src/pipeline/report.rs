//! The report: every figure of a run, printed as text or as one JSON object.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::store::L2Kind;

/// Latency quantiles of one request, µs.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// The slowest request.
    pub max: f64,
}

/// Hit ratios: `l1` of all requests, `l2` of the requests that reached the L2, `overall` of all
/// requests (answered without computing).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct HitRatio {
    /// L1 hits / requests.
    pub l1: f64,
    /// L2 hits / L2 lookups.
    pub l2: f64,
    /// (L1 + L2 hits) / requests.
    pub overall: f64,
}

/// Request counts by where the answer came from.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Tiers {
    /// Answered by the L1 (or by another request's load in this process).
    pub l1_hits: u64,
    /// Of those, requests that waited for another request's load of the same key.
    pub shared: u64,
    /// Looked up in the L2 (the L1 missed).
    pub l2_lookups: u64,
    /// Answered by the L2.
    pub l2_hits: u64,
    /// L2 lookups that found nothing or failed (then computed).
    pub l2_misses: u64,
}

/// Computations run and saved.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Computations {
    /// Computations run by this process.
    pub run: u64,
    /// Requests answered without computing (`run + saved + errors = requests`).
    pub saved: u64,
    /// CPU seconds those answers would have cost (the recorded cost of each saved result).
    pub seconds_saved: f64,
    /// CPU seconds spent computing.
    pub seconds_spent: f64,
}

/// The first requests of the run, to show a warm start.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Early {
    /// Requests counted (the first 1 000, or all of a shorter run).
    pub requests: u64,
    /// Of those, answered by the L2.
    pub l2_hits: u64,
    /// Of those, computed.
    pub computations: u64,
    /// `l2_hits / l2 lookups` among them.
    pub l2_hit_ratio: f64,
}

/// The compute pool's books.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PoolReport {
    /// Worker threads.
    pub threads: usize,
    /// Tasks submitted.
    pub submitted: u64,
    /// Tasks completed.
    pub completed: u64,
    /// Tasks that panicked.
    pub panicked: u64,
    /// Tasks refused.
    pub rejected: u64,
    /// Busy time / (threads × wall time).
    pub utilisation: f64,
    /// Queue wait, p99, µs.
    pub queue_wait_p99_us: f64,
    /// Whether submitted = completed + failed + panicked + expired + cancelled + in flight.
    pub balanced: bool,
}

/// One L2 node's circuit breaker.
#[derive(Debug, Clone, Serialize)]
pub struct BreakerReport {
    /// The node (the redb path or the URL).
    pub node: String,
    /// `closed`, `open`, `half_open`, ...
    pub state: String,
}

/// Memory over the run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MemoryReport {
    /// Samples taken (every 100 ms).
    pub samples: usize,
    /// Live heap bytes (counting allocator) at the first sample.
    pub first_bytes: u64,
    /// The highest sample.
    pub peak_bytes: u64,
    /// The last sample.
    pub last_bytes: u64,
    /// Resident set at the last sample.
    pub rss_bytes: u64,
}

/// The leak detector's verdict (short-run settings: 1 s step, 5 s warm-up).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeakSummary {
    /// An alarm was raised.
    pub leaking: bool,
    /// `insufficient` (too short to judge), `stable`, `suspect` or `leaking`.
    pub verdict: String,
    /// Robust slope of the memory floor, bytes/s.
    pub slope_bytes_per_sec: f64,
}

/// One row of the bottleneck table.
#[derive(Debug, Clone, Serialize)]
pub struct Bottleneck {
    /// What the time was spent on.
    pub section: String,
    /// Seconds, summed over threads.
    pub seconds: f64,
    /// Share of the sections' total.
    pub share: f64,
    /// Calls.
    pub calls: u64,
}

/// Everything a run measured (the `--json` object).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Requests served.
    pub requests: u64,
    /// Distinct keys asked for.
    pub distinct_keys: u64,
    /// The key space (`--keys`).
    pub keys: u64,
    /// The Zipf exponent.
    pub zipf: f64,
    /// Client threads.
    pub threads: usize,
    /// L1 capacity.
    pub l1_capacity: u64,
    /// Wall time of the stream, s.
    pub seconds: f64,
    /// Requests per second.
    pub throughput_rps: f64,
    /// Per-request latency, µs.
    pub latency_us: Latency,
    /// Hit ratios.
    pub hit_ratio: HitRatio,
    /// Counts per tier.
    pub tiers: Tiers,
    /// Computations run and saved.
    pub computations: Computations,
    /// The first requests.
    pub early: Early,
    /// Which L2 served: `disk`, `redis`, `sharded`, `cluster` or `unavailable`.
    pub l2: L2Kind,
    /// The L2's nodes (the redb file, or the URLs).
    pub l2_nodes: Vec<String>,
    /// URLs that did not answer at the start.
    pub l2_unreachable: Vec<String>,
    /// Copies of each key in the L2.
    pub l2_replicas: usize,
    /// The data directory (null with Redis).
    pub data_dir: Option<String>,
    /// Requests that got no answer.
    pub errors: u64,
    /// L2 calls that failed or timed out.
    pub l2_errors: u64,
    /// L2 calls not sent because the node's breaker was open.
    pub l2_skipped: u64,
    /// L2 records that did not decode (read as misses).
    pub l2_decode_errors: u64,
    /// Requests that waited for another process's computation (Redis only).
    pub lease_waits: u64,
    /// Of those, requests that stopped waiting when the lease ran out and computed.
    pub lease_timeouts: u64,
    /// Answers checked against a fresh computation (a sample), all equal.
    pub verified: u64,
    /// The compute pool.
    pub pool: PoolReport,
    /// The L2 nodes' breakers.
    pub breakers: Vec<BreakerReport>,
    /// Memory.
    pub memory: MemoryReport,
    /// The leak detector.
    pub leak: LeakSummary,
    /// Where the time went.
    pub bottlenecks: Vec<Bottleneck>,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(
            w,
            "pipeline: {} requests over {} keys (Zipf {}), {} threads, L1 of {} entries (W-TinyLFU)",
            self.requests, self.keys, self.zipf, self.threads, self.l1_capacity
        );
        match &self.data_dir {
            Some(dir) => {
                let _ = writeln!(w, "L2: {} (redb file in data dir {dir})", self.l2);
            }
            None => {
                let _ = writeln!(
                    w,
                    "L2: {} on {:?}, {} cop{} per key{}",
                    self.l2,
                    self.l2_nodes,
                    self.l2_replicas,
                    if self.l2_replicas == 1 { "y" } else { "ies" },
                    if self.l2_unreachable.is_empty() {
                        String::new()
                    } else {
                        format!(", unreachable at start: {:?}", self.l2_unreachable)
                    }
                );
            }
        }
        let _ = writeln!(
            w,
            "\nthroughput: {:.0} requests/s ({} requests in {:.2} s, {} distinct keys, {} errors)",
            self.throughput_rps, self.requests, self.seconds, self.distinct_keys, self.errors
        );
        let l = &self.latency_us;
        let _ = writeln!(
            w,
            "latency: p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
            l.p50, l.p95, l.p99, l.p999, l.max
        );
        let t = &self.tiers;
        let _ = writeln!(
            w,
            "hit ratio: L1 {:.3} ({} hits, {} of them sharing another request's load), \
             L2 {:.3} ({} hits of {} lookups), overall {:.3}",
            self.hit_ratio.l1,
            t.l1_hits,
            t.shared,
            self.hit_ratio.l2,
            t.l2_hits,
            t.l2_lookups,
            self.hit_ratio.overall
        );
        let c = &self.computations;
        let _ = writeln!(
            w,
            "computations: {} run ({:.2} CPU s), {} saved ({:.2} CPU s saved)",
            c.run, c.seconds_spent, c.saved, c.seconds_saved
        );
        let e = &self.early;
        let _ = writeln!(
            w,
            "first {} requests: {} L2 hits (L2 hit ratio {:.3}), {} computed{}",
            e.requests,
            e.l2_hits,
            e.l2_hit_ratio,
            e.computations,
            if e.l2_hits > 0 { ": a warm start" } else { "" }
        );
        let _ = writeln!(
            w,
            "L2 calls: {} failed or timed out, {} skipped by an open breaker, {} undecodable",
            self.l2_errors, self.l2_skipped, self.l2_decode_errors
        );
        if self.lease_waits > 0 {
            let _ = writeln!(
                w,
                "cross-process single flight: {} requests waited for another process's \
                 computation ({} gave up when its lease ran out)",
                self.lease_waits, self.lease_timeouts
            );
        }
        let p = &self.pool;
        let _ = writeln!(
            w,
            "compute pool: {} threads, {} submitted, {} completed, {} panicked, {} rejected, \
             utilisation {:.0}%, queue wait p99 {:.1} µs, books balanced: {}",
            p.threads,
            p.submitted,
            p.completed,
            p.panicked,
            p.rejected,
            100.0 * p.utilisation,
            p.queue_wait_p99_us,
            p.balanced
        );
        for b in &self.breakers {
            let _ = writeln!(w, "breaker for {}: {}", b.node, b.state);
        }
        let m = &self.memory;
        let _ = writeln!(
            w,
            "memory: live heap {:.1} MiB -> peak {:.1} MiB -> {:.1} MiB at the end ({} samples), \
             RSS {:.1} MiB",
            mib(m.first_bytes),
            mib(m.peak_bytes),
            mib(m.last_bytes),
            m.samples,
            mib(m.rss_bytes)
        );
        let _ = writeln!(
            w,
            "leak detector: {} (leaking: {}, floor slope {:.0} B/s){}",
            self.leak.verdict,
            self.leak.leaking,
            self.leak.slope_bytes_per_sec,
            if self.computations.run > 0 {
                "; a cold run fills the L1 and the L2's page cache for as long as it computes, \
                 growth no detector can tell from a leak: judge leaks on a warm run"
            } else {
                ""
            }
        );
        let _ = writeln!(w, "answers verified against a fresh computation: {}", self.verified);
        let _ = writeln!(w, "\nwhere the time went (summed over threads):");
        let _ = writeln!(w, "  {:<36} {:>10} {:>7} {:>10}", "section", "seconds", "share", "calls");
        for b in &self.bottlenecks {
            let _ = writeln!(
                w,
                "  {:<36} {:>10.3} {:>6.1}% {:>10}",
                b.section,
                b.seconds,
                100.0 * b.share,
                b.calls
            );
        }
        f.write_str(&s)
    }
}

//! `cachesim`: replays cache traces through our policies, Belady's optimum and the anchor crates,
//! and reports hit ratio and throughput (see `../shared/DESIGN.md` §4 (outside this repository) for the contract).
//!
//! ```text
//! cachesim [--policy P[,P..]] [--capacity N[,N..]] [--format auto|arc|lirs|plain] [--threads T]
//!          [--seed N] [--json] [--plot OUT.svg] TRACE...
//! ```

#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use pool_benches::sim::synth::Family;
use pool_benches::sim::{PlotPoint, Run, SimPolicy, Simulator, plot_hit_ratios};
use pool_benches::trace::{self, TraceFormat};
use serde::Serialize;

/// Replays below this many requests (summed over one trace's runs) get no progress bar: they
/// finish before a bar would be worth reading.
const PROGRESS_MIN_REQUESTS: u64 = 5_000_000;

/// Replay cache traces through cache policies and report hit ratio and throughput.
///
/// For each request: get(key); on a miss insert(key, key). Hit ratio = hits / requests.
#[derive(Debug, Parser)]
#[command(name = "cachesim", version)]
struct Args {
    /// Policies to replay, comma-separated: lru, lfu, tinylfu, fifo, opt, moka, quick_cache,
    /// lru-crate.
    #[arg(
        long,
        value_name = "P[,P..]",
        value_delimiter = ',',
        default_value = "lru,lfu,tinylfu,fifo,opt",
        value_parser = parse_policy
    )]
    policy: Vec<SimPolicy>,

    /// Cache capacities in entries, comma-separated; each must be > 0.
    #[arg(
        long,
        value_name = "N[,N..]",
        value_delimiter = ',',
        default_value = "1000",
        value_parser = parse_capacity
    )]
    capacity: Vec<NonZeroUsize>,

    /// Trace format: auto (by extension, then content), arc, lirs or plain.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = parse_format)]
    format: TraceFormat,

    /// Threads sharing one cache; the trace is dealt to them round-robin in 1024-request chunks.
    #[arg(long, value_name = "T", default_value = "1", value_parser = parse_threads)]
    threads: NonZeroUsize,

    /// Seed our caches' hashing (lru, lfu, tinylfu) so that single-threaded runs repeat exactly;
    /// by default each run draws a random seed, as the cache does for its users.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Print one JSON object per (trace, policy, capacity) instead of a table.
    #[arg(long)]
    json: bool,

    /// Also draw hit ratio against capacity per policy into this SVG file.
    #[arg(long, value_name = "OUT.svg")]
    plot: Option<PathBuf>,

    /// Trace files (.zst, .gz and .xz are decompressed transparently), or `synth:FAMILY` for a
    /// synthetic workload family (loop, loop-long, loop-short, cscope, burst, back-forth, recency,
    /// frequency, zipf-0.6, zipf-0.9, zipf-1.2, phases, scan-hot, mixed).
    #[arg(value_name = "TRACE", required = true)]
    traces: Vec<PathBuf>,
}

fn parse_policy(s: &str) -> Result<SimPolicy, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_format(s: &str) -> Result<TraceFormat, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_positive(what: &str, s: &str) -> Result<NonZeroUsize, String> {
    let n: usize =
        s.trim().parse().map_err(|_| format!("{what} must be a positive integer, got {s:?}"))?;
    NonZeroUsize::new(n).ok_or_else(|| format!("{what} must be > 0, got 0"))
}

fn parse_capacity(s: &str) -> Result<NonZeroUsize, String> {
    parse_positive("capacity", s)
}

fn parse_threads(s: &str) -> Result<NonZeroUsize, String> {
    parse_positive("threads", s)
}

/// One output object; the field order is the contract's.
#[derive(Debug, Serialize)]
struct Record<'a> {
    trace: &'a str,
    policy: &'a str,
    capacity: usize,
    threads: usize,
    requests: u64,
    hits: u64,
    hit_ratio: f64,
    mops: f64,
}

fn round_to(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

impl<'a> Record<'a> {
    fn new(trace: &'a str, run: &Run) -> Self {
        Self {
            trace,
            policy: run.policy.name(),
            capacity: run.capacity,
            threads: run.threads,
            requests: run.stats.requests,
            hits: run.stats.hits,
            hit_ratio: round_to(run.stats.hit_ratio(), 4),
            mops: round_to(run.stats.mops(), 2),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(
            out,
            "{:<12} {:<12} {:>9} {:>7} {:>11} {:>11} {:>9} {:>9}",
            "trace", "policy", "capacity", "threads", "requests", "hits", "hit_ratio", "Mops"
        )?;
    }
    let mut points = Vec::new();
    let mut violations = Vec::new();
    for path in &args.traces {
        let trace = load(path, args.format)?;
        let sim = Simulator::new(&trace.keys).seed(args.seed);
        let runs = (args.policy.len() * args.capacity.len()) as u64;
        let total = trace.keys.len() as u64 * runs;
        let bar = (std::io::stderr().is_terminal() && total >= PROGRESS_MIN_REQUESTS)
            .then(|| progress_bar(total));
        for &capacity in &args.capacity {
            let mut results = Vec::with_capacity(args.policy.len());
            for &policy in &args.policy {
                if let Some(bar) = &bar {
                    bar.set_message(format!("{} {policy} @ {capacity}", trace.name));
                }
                let run = sim.run(policy, capacity, args.threads, bar.as_ref())?;
                let record = Record::new(&trace.name, &run);
                // Print above the progress bar, not through it.
                match &bar {
                    Some(bar) => {
                        bar.suspend(|| print_record(&mut out, &record, &run, args.json))?
                    }
                    None => print_record(&mut out, &record, &run, args.json)?,
                }
                points.push(PlotPoint {
                    trace: trace.name.clone(),
                    policy: policy.name().to_owned(),
                    capacity: capacity.get(),
                    hit_ratio: run.stats.hit_ratio(),
                });
                results.push(run);
            }
            violations.extend(check_against_opt(&trace.name, &results, args.threads));
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    if let Some(plot) = &args.plot {
        plot_hit_ratios(plot, &points)?;
    }
    if !violations.is_empty() {
        bail!(
            "harness check failed, a policy beat Belady's optimum:\n  {}",
            violations.join("\n  ")
        );
    }
    Ok(())
}

/// A trace file, or `synth:NAME`: a synthetic family's trace (`pool_benches::sim::synth`),
/// always generated with seed 1 so that every run replays the same requests.
fn load(path: &std::path::Path, format: TraceFormat) -> anyhow::Result<trace::Trace> {
    if let Some(name) = path.to_str().and_then(|p| p.strip_prefix("synth:")) {
        let family: Family = name.parse()?;
        return Ok(trace::Trace {
            name: format!("synth-{family}"),
            format: TraceFormat::Plain,
            keys: family.generate(1),
        });
    }
    trace::load(path, format).with_context(|| format!("cannot load trace {}", path.display()))
}

fn print_record(
    out: &mut impl Write,
    record: &Record<'_>,
    run: &Run,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, record)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<12} {:<12} {:>9} {:>7} {:>11} {:>11} {:>9.4} {:>9.2}",
            record.trace,
            record.policy,
            record.capacity,
            record.threads,
            record.requests,
            record.hits,
            run.stats.hit_ratio(),
            run.stats.mops()
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Belady's OPT bounds every policy on the same request order: a policy with more hits than
/// `opt` means the harness is broken. With several threads the cache sees an interleaving that
/// differs from the trace order OPT was computed on, so there the bound is only reported.
fn check_against_opt(trace: &str, results: &[Run], threads: NonZeroUsize) -> Vec<String> {
    let Some(opt) = results.iter().find(|r| r.policy == SimPolicy::Opt) else {
        return Vec::new();
    };
    let mut violations = Vec::new();
    for run in results.iter().filter(|r| r.stats.hits > opt.stats.hits) {
        let line = format!(
            "{trace} @ {}: {} has {} hits, opt {}",
            run.capacity, run.policy, run.stats.hits, opt.stats.hits
        );
        if matches!(run.policy, SimPolicy::Moka | SimPolicy::QuickCache) {
            // Not exact-capacity caches: moka evicts lazily and may hold more than its
            // capacity for a while, quick_cache rounds capacity up per shard (sim/README.md).
            eprintln!("note: {line} ({} may hold more than the capacity)", run.policy);
        } else if threads.get() == 1 {
            violations.push(line);
        } else {
            eprintln!("note: {line} (with {threads} threads the request order differs from OPT's)");
        }
    }
    violations
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{msg:28} [{bar:40}] {human_pos}/{human_len} requests, eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use pool_benches::sim::ReplayStats;

    fn run(policy: SimPolicy, hits: u64) -> Run {
        Run {
            policy,
            capacity: 100,
            threads: 1,
            stats: ReplayStats { requests: 1000, hits, elapsed: Default::default() },
        }
    }

    #[test]
    fn a_policy_beating_opt_fails_the_harness_check_on_one_thread() {
        let one = NonZeroUsize::MIN;
        let ok = [run(SimPolicy::Opt, 500), run(SimPolicy::Fifo, 500)];
        assert!(check_against_opt("t", &ok, one).is_empty());
        let broken =
            [run(SimPolicy::Fifo, 300), run(SimPolicy::Opt, 500), run(SimPolicy::Lru, 501)];
        let violations = check_against_opt("t", &broken, one);
        assert_eq!(violations, ["t @ 100: lru has 501 hits, opt 500"]);
        // With two threads the order differs from OPT's, so it is only reported.
        let two = NonZeroUsize::new(2).unwrap();
        assert!(check_against_opt("t", &broken, two).is_empty());
        // Without opt in the run there is nothing to check.
        assert!(check_against_opt("t", &broken[2..], one).is_empty());
    }

    #[test]
    fn records_round_as_the_contract_shows() {
        let record = Record::new("OLTP", &run(SimPolicy::Lru, 328));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"trace":"OLTP","policy":"lru","capacity":100,"threads":1,"requests":1000,"hits":328,"hit_ratio":0.328,"mops":0.0}"#
        );
    }
}

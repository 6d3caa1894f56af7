//! `ringsim`: balance, movement and lookup cost of pool-cluster's consistent-hash ring, next to
//! the `hashring` crate on the same keys (see `../shared/DESIGN.md` §4 (outside this repository) for the contract).
//!
//! ```text
//! ringsim --nodes N --vnodes V [--weights w1,w2..] [--replicas R] [--keys K] [--rounds T]
//!         [--json] [--plot OUT.svg]
//! ```

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use pool_benches::ringsim::{RingSim, plot_shares};

/// Simulate a consistent-hash ring: exact hash-space share per node (peak/mean), keys moved on
/// one join and one leave against the ideal, keys moved between surviving nodes (must be 0),
/// and lookup ns next to the `hashring` crate on the same 24-byte keys.
#[derive(Debug, Parser)]
#[command(name = "ringsim", version)]
struct Args {
    /// Nodes on the ring (>= 2), named node-0 .. node-{N-1}.
    #[arg(long, value_name = "N", default_value = "100", allow_hyphen_values = true, value_parser = parse_nodes)]
    nodes: usize,

    /// Virtual nodes per unit of weight (> 0).
    #[arg(long, value_name = "V", default_value = "160", allow_hyphen_values = true, value_parser = parse_vnodes)]
    vnodes: u32,

    /// One weight per node, comma-separated; each a finite number >= 0 (0 drains a node).
    #[arg(long, value_name = "w1,w2..", value_delimiter = ',', allow_hyphen_values = true, value_parser = parse_weight)]
    weights: Option<Vec<f64>>,

    /// Replicas per key: with R > 1, also time get_n(key, R) against hashring's
    /// get_with_replicas and count hashring's replica sets that repeat a node.
    #[arg(long, value_name = "R", default_value = "1", allow_hyphen_values = true, value_parser = parse_replicas)]
    replicas: usize,

    /// Keys looked up (24 bytes each) and counted for movement.
    #[arg(long, value_name = "K", default_value = "100000", allow_hyphen_values = true, value_parser = parse_keys)]
    keys: usize,

    /// Timing rounds; the median is reported.
    #[arg(long, value_name = "T", default_value = "7", allow_hyphen_values = true, value_parser = parse_rounds)]
    rounds: usize,

    /// Print one JSON object instead of a report.
    #[arg(long)]
    json: bool,

    /// Also draw each node's share over its fair share into this SVG file.
    #[arg(long, value_name = "OUT.svg")]
    plot: Option<PathBuf>,
}

fn parse_count(what: &str, min: u64, s: &str) -> Result<u64, String> {
    let n: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{what} must be a whole number >= {min}, got {s:?}"))?;
    if n < min {
        return Err(format!("{what} must be >= {min}, got {n}"));
    }
    Ok(n)
}

fn parse_nodes(s: &str) -> Result<usize, String> {
    let n = parse_count("nodes", 2, s)?;
    usize::try_from(n).map_err(|_| format!("nodes is too large: {n}"))
}

fn parse_vnodes(s: &str) -> Result<u32, String> {
    let n = parse_count("vnodes", 1, s)?;
    u32::try_from(n).map_err(|_| format!("vnodes must be <= {}, got {n}", u32::MAX))
}

fn parse_replicas(s: &str) -> Result<usize, String> {
    let n = parse_count("replicas", 1, s)?;
    usize::try_from(n).map_err(|_| format!("replicas is too large: {n}"))
}

fn parse_keys(s: &str) -> Result<usize, String> {
    let n = parse_count("keys", 1, s)?;
    usize::try_from(n).map_err(|_| format!("keys is too large: {n}"))
}

fn parse_rounds(s: &str) -> Result<usize, String> {
    let n = parse_count("rounds", 1, s)?;
    usize::try_from(n).map_err(|_| format!("rounds is too large: {n}"))
}

fn parse_weight(s: &str) -> Result<f64, String> {
    let w: f64 = s.trim().parse().map_err(|_| format!("weight must be a number, got {s:?}"))?;
    if !w.is_finite() || w < 0.0 {
        return Err(format!("weight must be a finite number >= 0, got {s:?}"));
    }
    Ok(w)
}

fn round_to(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sim = RingSim {
        nodes: args.nodes,
        vnodes: args.vnodes,
        weights: args.weights,
        replicas: args.replicas,
        keys: args.keys,
        timing_rounds: args.rounds,
    };
    let mut report = sim.run()?;
    if let Some(path) = &args.plot {
        let title = format!("{} nodes x {} vnodes", report.nodes, report.vnodes);
        plot_shares(path, &title, &report.shares)
            .with_context(|| format!("--plot {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        for x in [
            &mut report.peak_to_mean,
            &mut report.moved_on_join_vs_ideal,
            &mut report.moved_on_leave_vs_ideal,
            &mut report.hash_space_moved_on_join_vs_ideal,
            &mut report.hash_space_moved_on_leave_vs_ideal,
        ] {
            *x = round_to(*x, 4);
        }
        report.lookup_ns = round_to(report.lookup_ns, 1);
        report.hashring_lookup_ns = round_to(report.hashring_lookup_ns, 1);
        for x in [
            &mut report.get_n_ns,
            &mut report.hashring_get_with_replicas_ns,
            &mut report.hashring_repeated_replica_fraction,
        ] {
            *x = x.map(|v| round_to(v, 3));
        }
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
        return Ok(());
    }
    let r = &report;
    writeln!(out, "ring: {} nodes x {} vnodes, {} keys of 24 bytes", r.nodes, r.vnodes, r.keys)?;
    let ratios: Vec<f64> =
        r.shares.iter().filter(|s| s.2 > 0.0).map(|(_, share, fair)| share / fair).collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    writeln!(
        out,
        "balance      exact hash-space share / fair share: peak {:.3}, lowest {:.3}",
        r.peak_to_mean, low
    )?;
    writeln!(
        out,
        "join         keys moved {:.3}x the ideal (exact hash space {:.3}x)",
        r.moved_on_join_vs_ideal, r.hash_space_moved_on_join_vs_ideal
    )?;
    writeln!(
        out,
        "leave        keys moved {:.3}x the ideal (exact hash space {:.3}x)",
        r.moved_on_leave_vs_ideal, r.hash_space_moved_on_leave_vs_ideal
    )?;
    writeln!(
        out,
        "survivors    keys moved between surviving nodes: {}",
        r.moved_between_survivors
    )?;
    writeln!(
        out,
        "lookup       {:.1} ns (hashring {:.1} ns, {:.2}x)",
        r.lookup_ns,
        r.hashring_lookup_ns,
        r.hashring_lookup_ns / r.lookup_ns
    )?;
    if let (Some(ours), Some(theirs), Some(rep)) =
        (r.get_n_ns, r.hashring_get_with_replicas_ns, r.hashring_repeated_replica_fraction)
    {
        writeln!(
            out,
            "get_n({})     {ours:.1} ns into a reused buffer (hashring get_with_replicas {theirs:.1} ns, \
             {:.1}x; {:.1}% of its replica sets repeat a node)",
            r.replicas,
            theirs / ours,
            rep * 100.0
        )?;
    }
    if let Some(path) = &args.plot {
        writeln!(out, "plot         {}", path.display())?;
    }
    Ok(())
}

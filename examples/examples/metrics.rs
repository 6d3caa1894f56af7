//! Metrics: a labelled registry with a timer, the profiler's bottleneck report, Prometheus
//! text, and the leak detector telling a leak from a garbage-collector sawtooth. It checks its
//! own results and exits non-zero if any is wrong.
//!
//! `cargo run -p pool-examples --example metrics`
#![forbid(unsafe_code)]

use anyhow::{Context, ensure};
use pool_metrics::{LeakDetector, Profiler, Registry};

fn main() -> anyhow::Result<()> {
    let registry = Registry::new();
    let parse = registry.timer("parse_nanoseconds", &[("format", "csv")])?;
    let mut parsed = 0;
    for line in ["1,2,3", "4,5", "x,6"] {
        let fields = parse
            .time_result(|| line.split(',').map(str::parse::<u32>).collect::<Result<Vec<_>, _>>());
        parsed += usize::from(fields.is_ok());
    }
    let text = registry.snapshot().to_prometheus();
    println!("{}", text.lines().filter(|l| !l.contains("_bucket{")).collect::<Vec<_>>().join("\n"));
    // Two lines parse, one does not: the timer counted both outcomes and timed all three.
    ensure!(parsed == 2, "expected two lines to parse, got {parsed}");
    for want in [
        "parse_nanoseconds_success_total{format=\"csv\"} 2",
        "parse_nanoseconds_error_total{format=\"csv\"} 1",
        "parse_nanoseconds_count{format=\"csv\"} 3",
        "parse_nanoseconds_bucket{format=\"csv\",le=\"+Inf\"} 3",
    ] {
        ensure!(text.lines().any(|l| l == want), "the Prometheus text lacks {want:?}");
    }

    let profiler = Profiler::new();
    for _ in 0..3 {
        profiler.time("load", || std::hint::black_box((0..200_000u64).sum::<u64>()));
        profiler.time("render", || std::hint::black_box((0..20_000u64).sum::<u64>()));
    }
    let report = profiler.report();
    println!("\n{}", report.to_table());
    ensure!(report.sections.len() == 2, "expected two profiled sections");
    for section in &report.sections {
        ensure!(section.calls == 3, "section {} ran {} times, not 3", section.name, section.calls);
    }
    let shares: f64 = report.sections.iter().map(|s| s.share).sum();
    ensure!((shares - 1.0).abs() < 1e-6, "section shares add up to {shares}, not 1");

    // Two hours of one sample a second: a 30 MB sawtooth every two minutes, with and without a
    // 2 MB/min leak underneath.
    for leak_mb_per_min in [0.0, 2.0] {
        let mut detector = LeakDetector::new();
        for t in 0..7_200u32 {
            let sawtooth = f64::from(t % 120) / 120.0 * 30e6;
            let leak = leak_mb_per_min * 1e6 * f64::from(t) / 60.0;
            detector.push(f64::from(t), 400e6 + sawtooth + leak)?;
        }
        let r = detector.report();
        let slope_mb_per_min = r.slope_bytes_per_sec * 60.0 / 1e6;
        println!(
            "leak of {leak_mb_per_min} MB/min under a sawtooth: leaking = {}, first alarm at {:?} s, \
             robust slope {slope_mb_per_min:.2} MB/min",
            r.leaking, r.first_alarm_t
        );
        let should_leak = leak_mb_per_min > 0.0;
        ensure!(
            r.leaking == should_leak,
            "leak of {leak_mb_per_min} MB/min: leaking = {}",
            r.leaking
        );
        if should_leak {
            let alarm = r.first_alarm_t.context("a leak without a first alarm time")?;
            // The detector answers after its 8-minute warm-up and within half an hour.
            ensure!((480.0..1_800.0).contains(&alarm), "first alarm at {alarm} s");
            ensure!(
                (slope_mb_per_min - leak_mb_per_min).abs() < 0.1 * leak_mb_per_min,
                "robust slope {slope_mb_per_min:.2} MB/min, the leak is {leak_mb_per_min}"
            );
        }
    }
    println!("\nall metrics checks passed");
    Ok(())
}

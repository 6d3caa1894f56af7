//! Metrics: a labelled registry with a timer, the profiler's bottleneck report, Prometheus
//! text, and the leak detector telling a leak from a garbage-collector sawtooth.
//!
//! `cargo run -p pool-examples --example metrics`

use pool_metrics::{LeakDetector, Profiler, Registry};

fn main() -> anyhow::Result<()> {
    let registry = Registry::new();
    let parse = registry.timer("parse_nanoseconds", &[("format", "csv")])?;
    for line in ["1,2,3", "4,5", "x,6"] {
        let _ = parse
            .time_result(|| line.split(',').map(str::parse::<u32>).collect::<Result<Vec<_>, _>>());
    }
    println!(
        "{}",
        registry
            .snapshot()
            .to_prometheus()
            .lines()
            .filter(|l| !l.contains("_bucket{"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    let profiler = Profiler::new();
    for _ in 0..3 {
        profiler.time("load", || std::hint::black_box((0..200_000u64).sum::<u64>()));
        profiler.time("render", || std::hint::black_box((0..20_000u64).sum::<u64>()));
    }
    println!("\n{}", profiler.report().to_table());

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
        println!(
            "leak of {leak_mb_per_min} MB/min under a sawtooth: leaking = {}, first alarm at {:?} s, \
             robust slope {:.2} MB/min",
            r.leaking,
            r.first_alarm_t,
            r.slope_bytes_per_sec * 60.0 / 1e6
        );
    }
    Ok(())
}

//! Runs the leak detector over many seeded series of every family and prints the false-alarm
//! rate, the detection rate and the median time-to-detect per family.
//!
//! ```sh
//! cargo run --release -p pool-metrics --example leak_sweep -- 1000
//! ```

#[path = "../tests/metrics/leakgen.rs"]
#[allow(dead_code)]
mod leakgen;

use leakgen::{Family, generate};
use pool_metrics::LeakDetector;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(200);
    println!("| family | runs | alarms | rate | median time-to-detect | p90 time-to-detect |");
    println!("|---|---|---|---|---|---|");
    for family in Family::ALL {
        let mut alarms = 0;
        let mut early = 0;
        let mut ttd = Vec::new();
        for seed in 0..runs {
            let series = generate(family, seed);
            let mut d = LeakDetector::new();
            for &(t, y) in &series.samples {
                d.push(t, y)?;
            }
            if let Some(at) = d.report().first_alarm_t {
                match series.leak_start {
                    Some(start) if at >= start => {
                        alarms += 1;
                        ttd.push((at - start) / 60.0);
                    }
                    Some(_) => early += 1,
                    None => alarms += 1,
                }
            }
        }
        ttd.sort_by(f64::total_cmp);
        let pick = |q: f64| ttd.get(((ttd.len() as f64 - 1.0) * q).round() as usize).copied();
        let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |m| format!("{m:.1} min"));
        let what = if family.leaks() { "detected" } else { "false alarms" };
        println!(
            "| {family:?} | {runs} | {alarms} {what}{} | {:.2} % | {} | {} |",
            if early > 0 { format!(" ({early} before the leak started)") } else { String::new() },
            100.0 * f64::from(alarms) / runs as f64,
            fmt(pick(0.5)),
            fmt(pick(0.9)),
        );
    }
    Ok(())
}

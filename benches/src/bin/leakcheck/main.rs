//! `leakcheck [--json] [--plot OUT.svg] [tuning flags] FILE|-`: feed a memory series to
//! pool-metrics' leak detector, in order, as a live monitor would, and print its verdict.
//!
//! Input: one sample per line, `t_seconds,bytes` (comma or whitespace separated); an optional
//! header line; blank lines and lines starting with `#` are skipped. Exit status 0 whatever
//! the verdict; a malformed line (not two numbers, NaN, negative bytes, time going backwards)
//! exits with status 2 and a message naming the line, as do bad flags.
//!
//! `--plot OUT.svg` draws what the detector saw: the samples, the memory floor it tracked, the
//! trend it fitted (at the first alarm and at the end) and the first alarm.
#![forbid(unsafe_code)]

mod plot;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pool_metrics::{LeakDetector, LeakDetectorBuilder, LeakReport};

use plot::{Seen, plot};

#[derive(Parser, Debug)]
#[command(about = "Decide whether a memory series leaks (pool-metrics' robust leak detector)")]
struct Args {
    /// Print one JSON object instead of a text summary.
    #[arg(long)]
    json: bool,
    /// Also draw the samples, the tracked floor, the fitted trend and the first alarm as an SVG.
    #[arg(long, value_name = "OUT.svg")]
    plot: Option<PathBuf>,
    /// Warm-up horizon in seconds from the first sample (default 480): growth before it never alarms.
    #[arg(long, value_name = "SECS")]
    warmup: Option<f64>,
    /// Seconds between floor points and evaluations (default 30). Lower it, with
    /// --floor-window, for short runs.
    #[arg(long, value_name = "SECS")]
    step: Option<f64>,
    /// The longest garbage-collector cycle to flatten, in seconds (default 300; at most 1000 steps).
    #[arg(long, value_name = "SECS")]
    floor_window: Option<f64>,
    /// The smallest growth that alarms, in bytes (default 20e6).
    #[arg(long, value_name = "BYTES")]
    min_growth: Option<f64>,
    /// The smallest slope that alarms, in bytes per second (default 8738, 0.5 MiB/min).
    #[arg(long, value_name = "BYTES_PER_SEC")]
    min_slope: Option<f64>,
    /// The series: a file, or `-` for standard input.
    input: String,
}

/// A line that could not be used, with its 1-based number.
#[derive(Debug, PartialEq)]
struct LineError {
    line: usize,
    message: String,
}

/// Feeds every sample line of `input` to `detector`; returns its final report, and in `seen`
/// (when given) what a plot needs.
fn feed(
    input: impl BufRead,
    detector: &mut LeakDetector,
    mut seen: Option<&mut Seen>,
) -> Result<LeakReport, LineError> {
    let mut seen_data = false;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| LineError { line: n, message: format!("cannot read: {e}") })?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> =
            text.split(|c: char| c == ',' || c.is_whitespace()).filter(|f| !f.is_empty()).collect();
        let parsed = match fields.as_slice() {
            [t, b] => t.parse::<f64>().ok().zip(b.parse::<f64>().ok()),
            _ => None,
        };
        let Some((t, bytes)) = parsed else {
            // The first non-comment line may be a header such as `t,bytes`.
            if !seen_data && fields.iter().all(|f| f.parse::<f64>().is_err()) {
                seen_data = true;
                continue;
            }
            return Err(LineError {
                line: n,
                message: format!("expected `t_seconds,bytes`, got {text:?}"),
            });
        };
        seen_data = true;
        let first_alarm =
            detector.push(t, bytes).map_err(|e| LineError { line: n, message: e.to_string() })?;
        if let Some(seen) = seen.as_deref_mut() {
            seen.samples.push((t, bytes));
            if let Some(point) = detector.floor().last()
                && seen.floor.last().is_none_or(|last| last.0 != point.0)
            {
                seen.floor.push(point);
            }
            if first_alarm {
                seen.at_alarm = Some(detector.report());
            }
        }
    }
    Ok(detector.report())
}

/// A duration flag in seconds.
fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{flag} must be a finite number of seconds >= 0, got {value}"))
}

/// The detector the flags describe.
fn detector(args: &Args) -> Result<LeakDetector, String> {
    let mut b: LeakDetectorBuilder = LeakDetector::builder();
    if let Some(w) = args.warmup {
        b = b.warmup(seconds("warmup", w)?);
    }
    if let Some(s) = args.step {
        b = b.step(seconds("step", s)?);
    }
    if let Some(f) = args.floor_window {
        b = b.floor_window(seconds("floor-window", f)?);
    }
    if let Some(g) = args.min_growth {
        b = b.min_growth(g);
    }
    if let Some(s) = args.min_slope {
        b = b.min_slope(s);
    }
    b.build().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut detector = match detector(&args) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("leakcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let mut seen = args.plot.as_ref().map(|_| Seen::default());
    let result = if args.input == "-" {
        feed(io::stdin().lock(), &mut detector, seen.as_mut())
    } else {
        match File::open(&args.input) {
            Ok(f) => feed(BufReader::new(f), &mut detector, seen.as_mut()),
            Err(e) => {
                eprintln!("leakcheck: cannot open {}: {e}", args.input);
                return ExitCode::from(2);
            }
        }
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("leakcheck: {}:{}: {}", args.input, e.line, e.message);
            return ExitCode::from(2);
        }
    };
    if let (Some(path), Some(seen)) = (&args.plot, &seen)
        && let Err(e) = plot(path, seen, &report)
    {
        eprintln!("leakcheck: {e}");
        return ExitCode::from(2);
    }
    if args.json {
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("leakcheck: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print_text(&report);
    }
    ExitCode::SUCCESS
}

fn print_text(r: &LeakReport) {
    const MB: f64 = 1e6;
    println!("samples:              {}", r.samples);
    println!("leaking:              {}", if r.leaking { "yes" } else { "no" });
    println!("verdict now:          {:?}", r.verdict);
    match r.first_alarm_t {
        Some(t) => println!("first alarm at:       t = {t} s"),
        None => println!("first alarm at:       -"),
    }
    println!(
        "robust slope:         {:.3} MB/min (Theil-Sen of the memory floor)",
        r.slope_bytes_per_sec * 60.0 / MB
    );
    println!(
        "least-squares slope:  {:.3} MB/min, R^2 = {:.3}",
        r.least_squares_slope * 60.0 / MB,
        r.r_squared
    );
    println!("last-10-sample slope: {:.3} MB/min", r.last10_slope * 60.0 / MB);
    println!(
        "trend confidence:     {:.4} (Mann-Kendall Z = {:.2})",
        r.confidence, r.mann_kendall_z
    );
    println!(
        "window:               {} floor points over {:.0} s, growth {:.1} MB",
        r.window_points,
        r.window_secs,
        r.growth_bytes / MB
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap

    use super::*;

    fn run(text: &str) -> Result<LeakReport, LineError> {
        feed(text.as_bytes(), &mut LeakDetector::new(), None)
    }

    fn leak_series(secs: u32) -> String {
        (0..secs)
            .map(|t| format!("{t},{}\n", 1e8 + f64::from(t) * 1e5 + f64::from(t % 60) * 2e5))
            .collect()
    }

    #[test]
    fn header_comments_blanks_and_separators() {
        let r = run("t,bytes\n# comment\n\n0,100\n1 200\n2\t300\n3, 400\n").unwrap();
        assert_eq!(r.samples, 4);
        assert!(!r.leaking);
    }

    #[test]
    fn malformed_lines_are_named() {
        let cases = [
            ("0,1\nabc,5\n", 2),
            ("0,1\n1,2,3\n", 2),
            ("0,1\n1\n", 2),
            ("0,1\n1,NaN\n", 2),
            ("0,1\n1,-5\n", 2),
            ("5,1\n4,1\n", 2),
            ("# c\nt,bytes\nx,y\n", 3),
            ("0,inf\n", 1),
        ];
        for (text, line) in cases {
            assert_eq!(run(text).unwrap_err().line, line, "{text:?}");
        }
    }

    #[test]
    fn empty_input_is_zero_samples() {
        let r = run("").unwrap();
        assert_eq!((r.samples, r.leaking, r.first_alarm_t), (0, false, None));
    }

    #[test]
    fn a_leak_is_found() {
        let r = run(&leak_series(3_600)).unwrap();
        assert!(r.leaking && r.first_alarm_t.is_some());
    }

    #[test]
    fn what_a_plot_needs_is_collected() {
        let mut seen = Seen::default();
        let r =
            feed(leak_series(3_600).as_bytes(), &mut LeakDetector::new(), Some(&mut seen)).unwrap();
        assert_eq!(seen.samples.len(), 3_600);
        // One floor point per 30 s step once the floor window lies inside the series.
        assert!((100..=120).contains(&seen.floor.len()), "{}", seen.floor.len());
        assert!(seen.floor.windows(2).all(|w| w[0].0 < w[1].0));
        let at_alarm = seen.at_alarm.unwrap();
        assert_eq!(at_alarm.first_alarm_t, r.first_alarm_t);
        // The fitted trend runs through the floor: 0.1 MB/s.
        assert!((at_alarm.slope_bytes_per_sec - 1e5).abs() < 1e4, "{at_alarm:?}");
    }

    #[test]
    fn bad_tuning_flags_are_refused_with_the_flag_named() {
        let args = |extra: &[&str]| {
            let mut v = vec!["leakcheck"];
            v.extend_from_slice(extra);
            v.push("-");
            Args::try_parse_from(v).unwrap()
        };
        let err = detector(&args(&["--step=-1"])).unwrap_err();
        assert!(err.contains("--step"), "{err}");
        let err = detector(&args(&["--step", "0.000001"])).unwrap_err();
        assert!(err.starts_with("floor_window must be at most 1000 steps"), "{err}");
        let err = detector(&args(&["--min-growth", "NaN"])).unwrap_err();
        assert!(err.starts_with("min_growth"), "{err}");
        let d = detector(&args(&["--step", "1", "--floor-window", "10", "--warmup", "0"])).unwrap();
        assert_eq!(d.config().get_floor_window(), Duration::from_secs(10));
    }
}

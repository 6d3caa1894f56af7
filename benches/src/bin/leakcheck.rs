//! `leakcheck [--json] FILE|-`: feed a memory series to pool-metrics' leak detector, in order,
//! as a live monitor would, and print its verdict.
//!
//! Input: one sample per line, `t_seconds,bytes` (comma or whitespace separated); an optional
//! header line; blank lines and lines starting with `#` are skipped. Exit status 0 whatever
//! the verdict; a malformed line (not two numbers, NaN, negative bytes, time going backwards)
//! exits with status 2 and a message naming the line.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::process::ExitCode;

use clap::Parser;
use pool_metrics::{LeakDetector, LeakReport};

#[derive(Parser, Debug)]
#[command(about = "Decide whether a memory series leaks (pool-metrics' robust leak detector)")]
struct Args {
    /// Print one JSON object instead of a text summary.
    #[arg(long)]
    json: bool,
    /// Warm-up horizon in seconds from the first sample (default 480): growth before it never alarms.
    #[arg(long)]
    warmup: Option<f64>,
    /// The series: a file, or `-` for standard input.
    input: String,
}

/// A line that could not be used, with its 1-based number.
#[derive(Debug, PartialEq)]
struct LineError {
    line: usize,
    message: String,
}

/// Feeds every sample line of `input` to `detector`; returns its final report.
fn feed(input: impl BufRead, detector: &mut LeakDetector) -> Result<LeakReport, LineError> {
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
        detector.push(t, bytes).map_err(|e| LineError { line: n, message: e.to_string() })?;
    }
    Ok(detector.report())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = LeakDetector::builder();
    if let Some(w) = args.warmup {
        if !(w.is_finite() && w >= 0.0) {
            eprintln!("leakcheck: --warmup must be a finite number of seconds >= 0, got {w}");
            return ExitCode::from(2);
        }
        builder = builder.warmup(std::time::Duration::from_secs_f64(w));
    }
    let mut detector = match builder.build() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("leakcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if args.input == "-" {
        feed(io::stdin().lock(), &mut detector)
    } else {
        match File::open(&args.input) {
            Ok(f) => feed(BufReader::new(f), &mut detector),
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
    use super::*;

    fn run(text: &str) -> Result<LeakReport, LineError> {
        feed(text.as_bytes(), &mut LeakDetector::new())
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
        let text: String =
            (0..3_600).map(|t| format!("{t},{}\n", 1e8 + f64::from(t) * 1e5)).collect();
        let r = run(&text).unwrap();
        assert!(r.leaking && r.first_alarm_t.is_some());
    }
}

//! The `cachesim` command line: output contract and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cachesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim")).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A LIRS trace of `n` requests over `distinct` keys, written into `dir`.
fn lirs_trace(dir: &Path, name: &str, n: u64, distinct: u64) -> PathBuf {
    let text: String = (0..n).map(|i| format!("{}\n", (i * 7) % distinct)).collect();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "cachesim failed: {}", stderr(out));
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn json_has_one_object_per_trace_policy_capacity_in_contract_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = lirs_trace(dir.path(), "alpha.trace", 5_000, 700);
    let b = lirs_trace(dir.path(), "beta.trace", 3_000, 50);
    let out = cachesim(&[
        "--policy",
        "fifo,opt,lru-crate",
        "--capacity",
        "100,200",
        "--json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2 * 3 * 2);
    let first = String::from_utf8(out.stdout.clone()).unwrap();
    let first = first.lines().next().unwrap();
    assert!(
        first.starts_with(
            r#"{"trace":"alpha","policy":"fifo","capacity":100,"threads":1,"requests":5000,"hits":"#
        ),
        "{first}"
    );
    for row in &rows {
        let requests = row["requests"].as_u64().unwrap();
        let hits = row["hits"].as_u64().unwrap();
        let ratio = row["hit_ratio"].as_f64().unwrap();
        assert!((ratio - hits as f64 / requests as f64).abs() < 1e-4, "{row}");
        assert!(row["mops"].as_f64().unwrap() >= 0.0);
    }
    // beta's 50 keys fit: every policy misses only the 50 first touches.
    for row in rows.iter().filter(|r| r["trace"] == "beta") {
        assert_eq!(row["hits"].as_u64().unwrap(), 3_000 - 50, "{row}");
    }
}

#[test]
fn two_threads_replay_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let t = lirs_trace(dir.path(), "t.trace", 12_345, 2_000);
    let out = cachesim(&[
        "--policy",
        "lru,tinylfu,quick_cache,lru-crate",
        "--capacity",
        "500",
        "--threads",
        "2",
        "--json",
        t.to_str().unwrap(),
    ]);
    for row in json_lines(&out) {
        assert_eq!(row["requests"], 12_345, "{row}");
        assert_eq!(row["threads"], 2, "{row}");
    }
}

/// With `--seed` our policies repeat exactly (without it, the cache's random seed picks
/// other shards and sketch counters for the same keys, and the hit counts differ run to run).
#[test]
fn a_seed_makes_our_replays_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..50_000u64).map(|i| format!("{}\n", (i * i) % 4999)).collect();
    let t = dir.path().join("squares.trace");
    std::fs::write(&t, text).unwrap();
    let run = || {
        let out = cachesim(&[
            "--policy",
            "lfu,tinylfu",
            "--capacity",
            "1000",
            "--seed",
            "9",
            "--json",
            t.to_str().unwrap(),
        ]);
        json_lines(&out).iter().map(|r| r["hits"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
    let out = cachesim(&["--seed", "x", "whatever.trace"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid value 'x' for '--seed <N>'"), "{}", stderr(&out));
}

#[test]
fn plot_writes_an_svg_with_one_line_per_policy() {
    let dir = tempfile::tempdir().unwrap();
    let t = lirs_trace(dir.path(), "t.trace", 4_000, 900);
    let svg = dir.path().join("hits.svg");
    let out = cachesim(&[
        "--policy",
        "fifo,opt",
        "--capacity",
        "50,100,200",
        "--plot",
        svg.to_str().unwrap(),
        t.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("\nfifo\n") && svg.contains("\nopt\n"), "legend missing");
    // The series are the 2-pixel polylines: 2 lines of 3 points each, plus 2 legend marks.
    let series = svg.matches(r#"stroke-width="2" points="#).count();
    assert_eq!(series, 2 + 2, "2 series + 2 legend marks");
    assert_eq!(svg.matches("<circle").count(), 2 * 3, "one marker per result");
}

#[test]
fn an_unknown_policy_fails_and_lists_the_valid_ones() {
    let out = cachesim(&["--policy", "lru,arc", "whatever.trace"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("unknown policy \"arc\""), "{err}");
    assert!(err.contains("lru, lfu, tinylfu, fifo, opt, moka, quick_cache, lru-crate"), "{err}");
}

#[test]
fn capacity_zero_fails_with_a_clear_message() {
    let out = cachesim(&["--capacity", "100,0", "whatever.trace"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("capacity must be > 0, got 0"), "{}", stderr(&out));
    let out = cachesim(&["--threads", "0", "whatever.trace"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("threads must be > 0, got 0"), "{}", stderr(&out));
}

#[test]
fn a_malformed_trace_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.lis");
    std::fs::write(&path, "1 1 0 0\n2 1 0 0\n3 1 0\n").unwrap();
    let out = cachesim(&["--policy", "fifo", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    assert!(err.contains("found 3"), "{err}");
}

#[test]
fn a_missing_trace_fails() {
    let out = cachesim(&["--policy", "fifo", "/no/such/file.lis"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/no/such/file.lis"), "{}", stderr(&out));
}

#[test]
fn the_table_output_has_a_header_and_one_row_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let t = lirs_trace(dir.path(), "t.trace", 2_000, 300);
    let out = cachesim(&["--policy", "fifo,opt", "--capacity", "10,20,30", t.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("trace"));
    assert_eq!(lines.count(), 6);
}

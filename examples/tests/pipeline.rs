//! The pipeline binary end to end: cold then warm on a temporary data directory, the JSON
//! report's books, bad input, and Redis (one unreachable URL; three real servers, one killed
//! during the run). Small runs (a few thousand requests): the whole file takes about 10-20 s.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use pool_testkit::RedisFleet;
use serde_json::Value;

/// The example binary, next to this test. `cargo test --test pipeline` builds no examples, so
/// the first call builds it (a no-op when `cargo test` already did) in this test's profile.
fn pipeline_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("the test binary's path");
            // target/<profile>/deps/pipeline-<hash> -> target/<profile>/examples/pipeline
            let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
            let mut build = Command::new(env!("CARGO"));
            build.args(["build", "-q", "-p", "pool-examples", "--example", "pipeline"]);
            if dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "cannot build the pipeline example");
            let bin =
                dir.join("examples").join(format!("pipeline{}", std::env::consts::EXE_SUFFIX));
            assert!(bin.exists(), "{} is missing after the build", bin.display());
            bin
        })
        .clone()
}

fn pipeline(args: &[&str]) -> Output {
    Command::new(pipeline_bin())
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the pipeline binary runs")
}

/// Runs with `--json` and returns the one object on stdout.
fn report(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = pipeline(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pipeline {all:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "--json prints exactly one line: {stdout}");
    serde_json::from_str(&stdout).expect("stdout is one JSON object")
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path).and_then(Value::as_u64).unwrap_or_else(|| panic!("{path} missing in {v}"))
}

fn f(v: &Value, path: &str) -> f64 {
    v.pointer(path).and_then(Value::as_f64).unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// The books every report must balance, whatever the run.
fn check_books(r: &Value, requests: u64) {
    assert_eq!(u(r, "/requests"), requests);
    let (l1, lookups) = (u(r, "/tiers/l1_hits"), u(r, "/tiers/l2_lookups"));
    let (l2_hits, l2_misses) = (u(r, "/tiers/l2_hits"), u(r, "/tiers/l2_misses"));
    let (run, saved, errors) =
        (u(r, "/computations/run"), u(r, "/computations/saved"), u(r, "/errors"));
    assert_eq!(l1 + lookups + errors, requests, "every request is an L1 hit or an L2 lookup");
    assert_eq!(l2_hits + l2_misses, lookups);
    assert_eq!(run + saved + errors, requests, "every request computed or saved");
    assert_eq!(run, l2_misses, "a computation follows each L2 miss");
    assert_eq!(u(r, "/pool/completed"), run, "the pool ran each computation once");
    assert!(r["pool"]["balanced"].as_bool().expect("pool.balanced"));
    assert!(u(r, "/distinct_keys") <= u(r, "/keys"));
    let overall = f(r, "/hit_ratio/overall");
    if requests > 0 {
        assert!((overall - saved as f64 / requests as f64).abs() < 1e-9);
        assert!((f(r, "/hit_ratio/l1") - l1 as f64 / requests as f64).abs() < 1e-9);
    }
    for key in [
        "/seconds",
        "/throughput_rps",
        "/latency_us/p50",
        "/latency_us/p95",
        "/latency_us/p99",
        "/latency_us/p999",
        "/hit_ratio/l2",
    ] {
        assert!(f(r, key) >= 0.0, "{key}");
    }
    assert!(f(r, "/latency_us/p50") <= f(r, "/latency_us/p999"));
    assert!(r["leak"]["leaking"].is_boolean());
    assert!(r["l2_errors"].is_u64(), "l2_errors is a count");
}

#[test]
fn cold_then_warm_on_a_data_dir() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("a UTF-8 temp path");
    let args = ["--requests", "3000", "--keys", "400", "--threads", "2", "--data", data];

    let mut fresh = args.to_vec();
    fresh.push("--fresh");
    let cold = report(&fresh);
    check_books(&cold, 3000);
    assert_eq!(cold["l2"], "disk");
    assert_eq!(u(&cold, "/errors"), 0);
    assert_eq!(u(&cold, "/l2_errors"), 0);
    let canonical = std::fs::canonicalize(data).expect("the data dir exists");
    assert_eq!(cold["data_dir"].as_str(), canonical.to_str(), "the report names the data dir");
    assert!(canonical.join("pipeline.redb").is_file());
    // Cold, on an L2 that keeps everything: each distinct key is computed exactly once.
    assert_eq!(u(&cold, "/computations/run"), u(&cold, "/distinct_keys"));
    assert!(u(&cold, "/early/computations") > 0, "a cold start computes");
    // Each of the 2 threads keeps its answers 0, 499, 998 and 1497 of 1500 for the check.
    assert_eq!(u(&cold, "/verified"), 8);

    // Warm: the same stream, read back from the redb file.
    let warm = report(&args);
    check_books(&warm, 3000);
    assert_eq!(u(&warm, "/computations/run"), 0, "nothing is computed twice across runs");
    assert!(u(&warm, "/early/l2_hits") > 0, "the first requests hit the L2");
    assert_eq!(u(&warm, "/early/computations"), 0);
    assert!(f(&warm, "/early/l2_hit_ratio") > 0.0);
    assert_eq!(f(&warm, "/hit_ratio/overall"), 1.0);
    assert!(f(&warm, "/computations/seconds_saved") > 0.0);

    // --fresh starts cold again.
    let again = report(&fresh);
    assert_eq!(u(&again, "/computations/run"), u(&again, "/distinct_keys"));
}

#[test]
fn the_text_report_names_every_part() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().to_str().expect("a UTF-8 temp path");
    let out = pipeline(&["--requests", "500", "--keys", "100", "--data", data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for part in [
        "throughput:",
        "latency: p50",
        "p99.9",
        "hit ratio: L1",
        "computations:",
        "CPU s saved",
        "compute pool:",
        "breaker for",
        "memory:",
        "leak detector:",
        "where the time went",
        data,
    ] {
        assert!(text.contains(part), "the report lacks {part:?}:\n{text}");
    }
    assert!(out.stderr.is_empty(), "no progress bar when stderr is not a terminal");
}

#[test]
fn bad_input_is_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let under_file = file.join("data");
    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("pipeline.redb"), b"hello, not redb").expect("write");

    let cases: [(Vec<&str>, &str); 9] = [
        (vec!["--data", under_file.to_str().expect("utf-8")], "cannot create the data directory"),
        (vec!["--data", file.to_str().expect("utf-8")], "is a file, not a directory"),
        (vec!["--data", foreign.to_str().expect("utf-8")], "not a redb database"),
        (vec!["--zipf", "0"], "--zipf must be a finite number > 0"),
        (vec!["--keys", "0"], "--keys must be >= 1"),
        (vec!["--threads", "0"], "--threads must be >= 1"),
        (vec!["--l1-capacity", "0"], "--l1-capacity must be >= 1"),
        (vec!["--redis", " "], "got an empty one"),
        (vec!["--redis", "not a url"], "--redis not a url"),
    ];
    for (args, message) in cases {
        let out = pipeline(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: no report after a refusal");
    }
    // The foreign file is left as it was.
    assert_eq!(std::fs::read(foreign.join("pipeline.redb")).expect("read"), b"hello, not redb");
}

#[test]
fn zero_requests_give_an_empty_report() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let r = report(&["--requests", "0", "--data", dir.path().to_str().expect("utf-8")]);
    check_books(&r, 0);
    assert_eq!(u(&r, "/computations/run"), 0);
    assert_eq!(f(&r, "/throughput_rps"), 0.0);
}

#[test]
fn unreachable_redis_runs_on_the_l1_alone() {
    // A port nothing listens on: bind one, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let r = report(&["--requests", "2000", "--keys", "200", "--redis", &url]);
    check_books(&r, 2000);
    assert_eq!(r["l2"], "unavailable");
    assert_eq!(u(&r, "/errors"), 0);
    assert_eq!(u(&r, "/tiers/l2_hits"), 0);
    assert!(r["data_dir"].is_null(), "no redb file is opened with --redis");
}

#[test]
fn three_redis_servers_sharded_survive_losing_one() {
    let Some(mut fleet) = RedisFleet::start_or_skip("three_redis_servers_sharded", 3) else {
        return;
    };
    let urls = fleet.urls().join(",");
    let args = ["--requests", "3000", "--keys", "400", "--threads", "2", "--redis", &urls];
    let mut fresh = args.to_vec();
    fresh.push("--fresh");
    let cold = report(&fresh);
    check_books(&cold, 3000);
    assert_eq!(cold["l2"], "sharded");
    assert_eq!(u(&cold, "/l2_replicas"), 2);
    assert_eq!(u(&cold, "/computations/run"), u(&cold, "/distinct_keys"));
    let warm = report(&args);
    assert_eq!(u(&warm, "/computations/run"), 0, "the second run is served by Redis");
    assert!(u(&warm, "/early/l2_hits") > 0);

    // Kill one server while a run goes on: every request is still answered (two copies of
    // each key, the L1 in front), whenever the kill lands.
    let child = Command::new(pipeline_bin())
        .args(["--json", "--requests", "20000", "--keys", "4000", "--threads", "2", "--redis"])
        .arg(&urls)
        .arg("--fresh")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pipeline starts");
    std::thread::sleep(std::time::Duration::from_millis(300));
    fleet.kill(1).expect("kill one server");
    let out = child.wait_with_output().expect("the pipeline ends");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    check_books(&r, 20000);
    assert_eq!(u(&r, "/errors"), 0, "losing one of three servers fails no request");
    // The kill was seen: at the start (the server unreachable) or during the run (failed or
    // skipped L2 calls).
    let seen = u(&r, "/l2_errors") + u(&r, "/l2_skipped");
    assert!(seen > 0 || r["l2_unreachable"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    assert_eq!(r["l2"], "sharded");
}

#[test]
fn two_processes_on_the_same_redis_compute_each_key_about_once() {
    let Some(fleet) = RedisFleet::start_or_skip("two_processes_on_the_same_redis", 3) else {
        return;
    };
    let urls = fleet.urls().join(",");
    let spawn = || {
        Command::new(pipeline_bin())
            .args(["--json", "--requests", "6000", "--keys", "1500", "--threads", "2", "--redis"])
            .arg(&urls)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pipeline starts")
    };
    let (a, b) = (spawn(), spawn());
    let reports: Vec<Value> = [a, b]
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("the pipeline ends");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).expect("one JSON object")
        })
        .collect();
    let sum = |path: &str| reports.iter().map(|r| u(r, path)).sum::<u64>();
    // Same seeds, same stream: both ask for the same keys.
    let distinct = u(&reports[0], "/distinct_keys");
    assert_eq!(distinct, u(&reports[1], "/distinct_keys"));
    let run = sum("/computations/run");
    // Each key is computed once across both processes, except where an L2 call failed or a
    // wait ran past its lease (each of those costs at most one extra computation).
    assert!(run >= distinct, "{run} computations for {distinct} keys");
    assert!(
        run <= distinct + sum("/l2_errors") + sum("/lease_timeouts"),
        "{run} computations for {distinct} keys across two processes"
    );
    for r in &reports {
        check_books(r, 6000);
        assert_eq!(u(r, "/errors"), 0);
    }
}

#[test]
fn a_redis_cluster_serves_cold_then_warm() {
    let Some(fleet) =
        RedisFleet::builder(3).cluster_enabled().start_or_skip("pipeline_on_a_cluster")
    else {
        return;
    };
    fleet.create_cluster().expect("the cluster forms");
    fleet.wait_cluster_ok(std::time::Duration::from_secs(20)).expect("the cluster is ok");
    let seeds = fleet.urls().join(",");
    let args = ["--requests", "3000", "--keys", "400", "--threads", "2", "--redis-cluster", &seeds];
    let mut fresh = args.to_vec();
    fresh.push("--fresh");
    let cold = report(&fresh);
    check_books(&cold, 3000);
    assert_eq!(cold["l2"], "cluster");
    assert_eq!(u(&cold, "/computations/run"), u(&cold, "/distinct_keys"));
    let warm = report(&args);
    assert_eq!(warm["l2"], "cluster");
    assert_eq!(u(&warm, "/computations/run"), 0, "the second run is served by the cluster");
    assert!(u(&warm, "/early/l2_hits") > 0);
}

//! Without a server binary, Redis tests are skipped with a notice, or fail when Redis is required.
//!
//! The environment is process-global, so each case re-runs this test binary as a child process
//! with its own environment and checks what the child printed and how it exited.

use std::process::{Command, Output};

/// Runs only as a child of the tests below (it is `#[ignore]`d in a normal run).
#[test]
#[ignore = "run as a child process by the tests in this file"]
fn child_starts_a_fleet() {
    let fleet = pool_testkit::RedisFleet::start_or_skip("child_starts_a_fleet", 1);
    assert!(fleet.is_none(), "no server binary, yet a fleet started");
}

fn run_child(require: bool) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args(["--ignored", "--exact", "child_starts_a_fleet", "--nocapture"])
        .env(pool_testkit::BINARY_ENV, "/nonexistent/redis-server");
    if require {
        cmd.env(pool_testkit::REQUIRE_ENV, "1");
    } else {
        cmd.env_remove(pool_testkit::REQUIRE_ENV);
    }
    cmd.output().expect("child test runs")
}

#[test]
fn missing_server_is_skipped_with_a_notice() {
    let out = run_child(false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    assert!(stderr.contains("SKIPPED child_starts_a_fleet"), "no skip notice in: {stderr}");
}

#[test]
fn missing_server_fails_when_redis_is_required() {
    let out = run_child(true);
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "child passed although Redis was required: {text}");
    assert!(text.contains("redis-server is not on PATH"), "no reason given in: {text}");
}

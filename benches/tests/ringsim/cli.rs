//! The `ringsim` command line: the `--json` contract, `--plot`, and malformed flags.

use std::process::{Command, Output};

fn ringsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringsim")).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn json_is_one_object_in_contract_order() {
    let out =
        ringsim(&["--nodes", "20", "--vnodes", "40", "--keys", "5000", "--rounds", "1", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with(r#"{"nodes":20,"vnodes":40,"peak_to_mean":"#), "{text}");
    let keys: Vec<&str> = [
        "peak_to_mean",
        "moved_on_join_vs_ideal",
        "moved_on_leave_vs_ideal",
        "moved_between_survivors",
        "lookup_ns",
        "hashring_lookup_ns",
    ]
    .to_vec();
    let positions: Vec<usize> =
        keys.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "contract order: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["moved_between_survivors"], 0);
    assert!(v["peak_to_mean"].as_f64().unwrap() >= 1.0);
    assert!(v["lookup_ns"].as_f64().unwrap() > 0.0);
    assert!(v["hashring_lookup_ns"].as_f64().unwrap() > 0.0);
    assert!(v.get("get_n_ns").is_none(), "no replicas asked for");
}

#[test]
fn the_report_and_the_plot() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("load.svg");
    let out = ringsim(&[
        "--nodes",
        "8",
        "--vnodes",
        "50",
        "--weights",
        "1,1,2,0,1,1,1,1",
        "--replicas",
        "2",
        "--keys",
        "3000",
        "--rounds",
        "1",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "balance",
        "join",
        "leave",
        "survivors    keys moved between surviving nodes: 0",
        "lookup",
        "get_n(2)",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("<svg") && drawn.contains("share / fair share"));
}

#[test]
fn malformed_flags_fail_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad_plot = dir.path().join("no-such-dir").join("x.svg");
    let cases: [(&[&str], &str); 12] = [
        (&["--nodes", "1"], "nodes must be >= 2, got 1"),
        (&["--nodes", "ten"], "nodes must be a whole number >= 2, got \"ten\""),
        (&["--nodes", "-3"], "nodes must be a whole number >= 2, got \"-3\""),
        (&["--vnodes", "0"], "vnodes must be >= 1, got 0"),
        (&["--vnodes", "99999999999"], "vnodes must be <="),
        (&["--replicas", "0"], "replicas must be >= 1, got 0"),
        (&["--keys", "1e5"], "keys must be a whole number"),
        (&["--nodes", "3", "--weights", "1,2"], "--weights has 2 values but --nodes is 3"),
        (
            &["--nodes", "2", "--weights", "1,NaN"],
            "weight must be a finite number >= 0, got \"NaN\"",
        ),
        (&["--nodes", "2", "--weights", "1,-2"], "weight must be a finite number >= 0, got \"-2\""),
        (&["--nodes", "2", "--weights", "1,x"], "weight must be a number, got \"x\""),
        (&["--nodes", "2", "--keys", "10", "--plot", bad_plot.to_str().unwrap()], "--plot"),
    ];
    for (args, want) in cases {
        let out = ringsim(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = stderr(&out);
        assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
    }
}

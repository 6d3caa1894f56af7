//! The `leakcheck` command line: its JSON contract, `--plot`, and bad input.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::process::{Command, Output};

fn leakcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakcheck")).args(args).output().unwrap()
}

/// Two hours at one sample a second: a 20 MB sawtooth every two minutes over a floor that
/// grows `mb_per_min`.
fn series(dir: &Path, name: &str, mb_per_min: f64) -> String {
    let text: String = (0..7_200u32)
        .map(|t| {
            let saw = f64::from(t % 120) / 120.0 * 20e6;
            format!("{t},{}\n", 300e6 + saw + mb_per_min * 1e6 * f64::from(t) / 60.0)
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, format!("t,bytes\n{text}")).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn json_verdicts_on_a_leak_and_a_sawtooth() {
    let dir = tempfile::tempdir().unwrap();
    for (mb_per_min, leaking) in [(0.0, false), (3.0, true)] {
        let input = series(dir.path(), "mem.csv", mb_per_min);
        let out = leakcheck(&["--json", &input]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["samples"], 7_200);
        assert_eq!(v["leaking"], leaking, "{v}");
        assert_eq!(v["first_alarm_t"].is_null(), !leaking);
        if leaking {
            // The series of benches/README.md's example: its first alarm is at t = 840 s.
            assert_eq!(v["first_alarm_t"].as_f64(), Some(840.0), "{v}");
        }
        assert!(v["slope_bytes_per_sec"].is_number());
    }
}

#[test]
fn plot_writes_an_svg_with_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let input = series(dir.path(), "leak.csv", 3.0);
    let out_svg = dir.path().join("leak.svg");
    let out = leakcheck(&["--plot", out_svg.to_str().unwrap(), &input]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&out_svg).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(100)]);
    for layer in
        ["samples", "memory floor", "trend at the first alarm", "trend at the end", "first alarm"]
    {
        assert!(svg.contains(layer), "no {layer:?} in the SVG");
    }
    // No alarm, no alarm layers.
    let quiet = series(dir.path(), "quiet.csv", 0.0);
    let quiet_svg = dir.path().join("quiet.svg");
    let out = leakcheck(&["--plot", quiet_svg.to_str().unwrap(), &quiet]);
    assert!(out.status.success());
    let svg = std::fs::read_to_string(&quiet_svg).unwrap();
    assert!(svg.contains("memory floor") && !svg.contains("first alarm"));
}

#[test]
fn malformed_input_and_unwritable_plots_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "0,1\n1,2\nthree,4\n").unwrap();
    let out = leakcheck(&[bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.csv:3:"));
    let input = series(dir.path(), "ok.csv", 0.0);
    let out = leakcheck(&["--plot", "/nonexistent-dir/x.svg", &input]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot draw the leak chart"));
}

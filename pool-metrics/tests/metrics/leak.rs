//! The leak detector on seeded series of every family, and on bad input.

use pool_metrics::{LeakDetector, LeakVerdict, SampleErrorKind};

use crate::leakgen::{Family, generate};

/// Seeds per family here; the release-mode sweep (`examples/leak_sweep.rs`) runs thousands.
const SEEDS: u64 = 12;

fn first_alarm(family: Family, seed: u64) -> (Option<f64>, Option<f64>) {
    let series = generate(family, seed);
    let mut d = LeakDetector::new();
    for &(t, y) in &series.samples {
        d.push(t, y).unwrap();
    }
    (d.report().first_alarm_t, series.leak_start)
}

#[test]
fn non_leak_families_never_alarm() {
    for family in Family::ALL.into_iter().filter(|f| !f.leaks()) {
        for seed in 0..SEEDS {
            let (alarm, _) = first_alarm(family, seed);
            assert_eq!(alarm, None, "{family:?} seed {seed} alarmed");
        }
    }
}

#[test]
fn leak_families_alarm_after_the_leak_starts_and_within_45_minutes() {
    for family in Family::ALL.into_iter().filter(|f| f.leaks()) {
        for seed in 0..SEEDS {
            let (alarm, start) = first_alarm(family, seed);
            let (alarm, start) = (alarm.unwrap(), start.unwrap());
            assert!(alarm >= start, "{family:?} seed {seed} alarmed at {alarm} before {start}");
            assert!(alarm - start <= 2700.0, "{family:?} seed {seed} took {} s", alarm - start);
        }
    }
}

#[test]
fn report_carries_slopes_and_confidence() {
    let mut d = LeakDetector::new();
    // 6 MB/min under a 30 MB, 2-minute sawtooth.
    for t in 0..3_600 {
        let t = f64::from(t);
        d.push(t, 2e8 + t * 1e5 + (t % 120.0) / 120.0 * 3e7).unwrap();
    }
    let r = d.report();
    assert!(r.leaking);
    assert_eq!(r.verdict, LeakVerdict::Leaking);
    assert!((r.slope_bytes_per_sec - 1e5).abs() < 5e3, "{r:?}");
    assert!(r.confidence > 0.99 && r.r_squared > 0.9, "{r:?}");
    assert_eq!(r.samples, 3_600);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["verdict"], "leaking");
}

#[test]
fn empty_and_short_series_are_insufficient() {
    let d = LeakDetector::new();
    assert_eq!(d.report().verdict, LeakVerdict::Insufficient);
    let mut d = LeakDetector::new();
    for t in 0..600 {
        d.push(f64::from(t), f64::from(t) * 1e6).unwrap();
    }
    assert_eq!(d.report().verdict, LeakVerdict::Insufficient);
    assert!(!d.report().leaking);
}

#[test]
fn bad_samples_are_refused_and_ignored() {
    let mut d = LeakDetector::new();
    d.push(100.0, 5.0).unwrap();
    let cases = [
        (f64::NAN, 1.0, SampleErrorKind::InvalidTime),
        (f64::INFINITY, 1.0, SampleErrorKind::InvalidTime),
        (101.0, f64::NAN, SampleErrorKind::InvalidBytes),
        (101.0, f64::INFINITY, SampleErrorKind::InvalidBytes),
        (101.0, -1.0, SampleErrorKind::InvalidBytes),
        (99.0, 1.0, SampleErrorKind::TimeWentBackwards),
    ];
    for (t, y, kind) in cases {
        assert_eq!(d.push(t, y).unwrap_err().kind(), kind, "({t}, {y})");
    }
    assert_eq!(d.report().samples, 1);
    // Equal timestamps are fine.
    assert!(d.push(100.0, 6.0).is_ok());
}

#[test]
fn zero_sized_parameters_are_build_errors() {
    use std::time::Duration;
    assert!(LeakDetector::builder().step(Duration::ZERO).build().is_err());
    assert!(LeakDetector::builder().floor_window(Duration::from_secs(1)).build().is_err());
    assert!(LeakDetector::builder().window_points(0).build().is_err());
    assert!(LeakDetector::builder().min_points(0).build().is_err());
    assert!(LeakDetector::builder().confirm(0).build().is_err());
    assert!(LeakDetector::builder().min_slope(f64::NAN).build().is_err());
    assert!(LeakDetector::builder().min_z(-1.0).build().is_err());
    assert!(LeakDetector::builder().min_growth(f64::INFINITY).build().is_err());
}

#[test]
fn gaps_in_the_series_do_not_panic() {
    let mut d = LeakDetector::builder().warmup(std::time::Duration::ZERO).build().unwrap();
    let mut t = 0.0;
    for i in 0..2_000u32 {
        t += if i % 100 == 0 { 3_600.0 } else { 1.0 };
        d.push(t, 1e8 + t * 1e4).unwrap();
    }
    assert_eq!(d.report().samples, 2_000);
}

//! The leak detector on seeded series of every family, and on bad input.

use pool_metrics::{
    LeakDetector, LeakDetectorBuildErrorKind, LeakDetectorBuilder, LeakVerdict, SampleErrorKind,
};

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
    use LeakDetectorBuildErrorKind as K;
    use std::time::Duration;
    let kind = |b: pool_metrics::LeakDetectorBuilder| b.build().unwrap_err().kind();
    assert_eq!(kind(LeakDetector::builder().step(Duration::ZERO)), K::Step);
    assert_eq!(kind(LeakDetector::builder().floor_window(Duration::from_secs(1))), K::FloorWindow);
    assert_eq!(kind(LeakDetector::builder().window_points(0)), K::WindowPoints);
    assert_eq!(kind(LeakDetector::builder().min_points(0)), K::MinPoints);
    assert_eq!(kind(LeakDetector::builder().confirm(0)), K::Confirm);
    assert_eq!(kind(LeakDetector::builder().min_slope(f64::NAN)), K::MinSlope);
    assert_eq!(kind(LeakDetector::builder().min_z(-1.0)), K::MinZ);
    assert_eq!(kind(LeakDetector::builder().min_growth(f64::INFINITY)), K::MinGrowth);
}

#[test]
fn a_tiny_step_is_a_build_error_not_an_abort() {
    use std::time::Duration;
    // A 1 µs step under the 5-minute default floor window asked for 28.8 GB of tick minima
    // and aborted the process.
    let err = LeakDetector::builder().step(Duration::from_micros(1)).build().unwrap_err();
    assert_eq!(err.kind(), LeakDetectorBuildErrorKind::FloorWindow);
    assert!(err.to_string().starts_with("floor_window must be at most 1000 steps"), "{err}");
    // At the bound it builds, and extreme windows compare without overflow.
    let max = LeakDetectorBuilder::MAX_FLOOR_STEPS;
    let step = Duration::from_millis(1);
    assert!(LeakDetector::builder().step(step).floor_window(step * max).build().is_ok());
    let nanos = Duration::from_nanos(1);
    assert!(LeakDetector::builder().step(step).floor_window(step * max + nanos).build().is_err());
    // Exactly 1000 steps of an odd length: an f64 ratio of seconds came out just above 1000
    // (found by the proptest below).
    let odd = Duration::from_nanos(1_060_735_587_076_603);
    assert!(LeakDetector::builder().step(odd).floor_window(odd * max).build().is_ok());
    let huge = LeakDetector::builder().step(Duration::from_nanos(1)).floor_window(Duration::MAX);
    assert_eq!(huge.build().unwrap_err().kind(), LeakDetectorBuildErrorKind::FloorWindow);
    let all_max = LeakDetector::builder().step(Duration::MAX).floor_window(Duration::MAX);
    assert!(all_max.build().is_ok());
}

proptest::proptest! {
    #[test]
    fn any_finite_times_and_steps_never_panic(
        step_ns in 1u64..=u64::MAX / 2,
        window_steps in 1u32..=1000,
        gaps in proptest::collection::vec(0.0f64..1e300, 1..300),
        bytes in 0.0f64..1e15,
    ) {
        use std::time::Duration;
        let step = Duration::from_nanos(step_ns);
        let mut d = LeakDetector::builder()
            .step(step)
            .floor_window(step.saturating_mul(window_steps))
            .warmup(Duration::ZERO)
            .build()
            .unwrap();
        let mut t = -1e300;
        for (i, gap) in gaps.iter().enumerate() {
            t += gap;
            d.push(t, bytes + i as f64).unwrap();
        }
        proptest::prop_assert_eq!(d.report().samples, gaps.len() as u64);
    }
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

/// Deterministic noise in `[-1, 1)`: a fixed linear congruential sequence.
fn noise(state: &mut u64) -> f64 {
    *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    (*state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Feeds `f(t)` for `secs` seconds at 1 Hz with ±1 MB noise; the first alarm's time.
fn alarm_of(secs: u32, f: impl Fn(f64) -> f64) -> Option<f64> {
    let mut d = LeakDetector::new();
    let mut state = 7;
    for t in 0..secs {
        let t = f64::from(t);
        d.push(t, f(t) + 1e6 * noise(&mut state)).unwrap();
    }
    d.report().first_alarm_t
}

#[test]
fn leak_from_the_first_sample_is_found_within_15_minutes() {
    // 3 MB/min without a sawtooth: the floor window stays at one step and the floor points
    // before the warm-up horizon count once four points past it keep the slope.
    let alarm = alarm_of(3_600, |t| 3e8 + t * 3e6 / 60.0).unwrap();
    assert!((480.0..900.0).contains(&alarm), "alarm at {alarm} s");
    // 6 MB/min (about the sweep's median rate) under a 40 MB sawtooth with a 100 s period:
    // the floor window grows to 105 s. (3 MB/min under it takes 15.5 min.)
    let alarm = alarm_of(3_600, |t| 3e8 + t * 6e6 / 60.0 + (t % 100.0) / 100.0 * 4e7).unwrap();
    assert!((480.0..900.0).contains(&alarm), "alarm at {alarm} s");
}

#[test]
fn warm_up_that_stops_at_the_horizon_does_not_alarm() {
    // 400 MB filled linearly over exactly 8 min, then flat: steep before the horizon, level
    // after it.
    assert_eq!(alarm_of(3_600, |t| 3e8 + 4e8 * (t / 480.0).min(1.0)), None);
    // The same filled exponentially, still rising a little past the horizon.
    assert_eq!(alarm_of(3_600, |t| 3e8 + 4e8 * (1.0 - (-5.0 * t / 480.0).exp())), None);
    // A seeded warm-up that alarms at 14 min when floor points before the horizon may count
    // without keeping their slope past it.
    assert_eq!(first_alarm(Family::Warmup, 921).0, None);
}

#[test]
fn step_under_a_slow_sawtooth_does_not_alarm() {
    // A 60 MB sawtooth with a 280 s period and a 100 MB step at 40 min: after the step the
    // floor climbs the last pre-step ramp for up to one floor window, then stays level.
    for at in [2_400.0, 2_470.0, 2_540.0, 2_610.0] {
        let series = |t: f64| 3e8 + (t % 280.0) / 280.0 * 6e7 + if t >= at { 1e8 } else { 0.0 };
        assert_eq!(alarm_of(7_200, series), None, "step at {at} s");
    }
}

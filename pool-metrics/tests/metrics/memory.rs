//! The memory monitor: ring, thresholds, alerts, pressure, bad input.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pool_metrics::{
    LeakDetector, ManualClock, MemoryAlertKind, MemoryMonitor, MemoryMonitorBuildErrorKind,
    MemorySnapshot, PressureLevel, SampleErrorKind, SpawnSamplerErrorKind, Subscription,
};

fn mem(bytes: u64) -> MemorySnapshot {
    MemorySnapshot { rss_bytes: bytes, virtual_bytes: 2 * bytes, allocated_bytes: None }
}

type Alerts = Arc<Mutex<Vec<MemoryAlertKind>>>;

/// Collects the monitor's alerts for as long as the returned subscription is kept.
fn collect(m: &MemoryMonitor) -> (Alerts, Subscription) {
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let sink = alerts.clone();
    let subscription = m.on_alert(move |a| sink.lock().unwrap().push(a.kind.clone()));
    (alerts, subscription)
}

/// Runs `f` on its own thread and fails the test if it has not finished within 10 s (a
/// deadlock), instead of hanging the test run.
fn finishes(f: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match wait.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => worker.join().unwrap(),
        // The closure panicked: re-raise its panic.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlocked: still running after 10 s"),
    }
}

#[test]
fn limit_alerts_are_edge_triggered_and_drive_pressure() {
    let m = MemoryMonitor::builder()
        .high_bytes(100)
        .limit_bytes(200)
        .detect_leaks(false)
        .build()
        .unwrap();
    let (alerts, _subscription) = collect(&m);
    let levels = Arc::new(Mutex::new(Vec::new()));
    let sink = levels.clone();
    let _levels = m.pressure().subscribe(move |l| sink.lock().unwrap().push(l));
    for (t, b) in [(0, 50), (1, 150), (2, 250), (3, 260), (4, 90), (5, 300)] {
        m.record(f64::from(t), mem(b)).unwrap();
    }
    use PressureLevel::*;
    assert_eq!(*levels.lock().unwrap(), [High, Critical, Normal, Critical]);
    let above = alerts
        .lock()
        .unwrap()
        .iter()
        .filter(|a| matches!(a, MemoryAlertKind::AboveLimit { .. }))
        .count();
    assert_eq!(above, 2, "{:?}", alerts.lock().unwrap());
}

#[test]
fn growth_alert_uses_the_ring_window() {
    let m = MemoryMonitor::builder()
        .capacity(10)
        .max_growth(1_000.0)
        .detect_leaks(false)
        .build()
        .unwrap();
    let (alerts, _subscription) = collect(&m);
    for t in 0..20u32 {
        // 500 B/s for 10 s, then 5 kB/s.
        let b = if t < 10 { 500 * u64::from(t) } else { 5_000 + 5_000 * u64::from(t - 10) };
        m.record(f64::from(t), mem(b)).unwrap();
    }
    let growth: Vec<_> = alerts
        .lock()
        .unwrap()
        .iter()
        .filter_map(|a| match a {
            MemoryAlertKind::FastGrowth { bytes_per_sec, .. } => Some(*bytes_per_sec),
            _ => None,
        })
        .collect();
    assert_eq!(growth.len(), 1);
    assert!(growth[0] > 1_000.0);
    assert_eq!(m.samples().len(), 10);
}

#[test]
fn leak_alarm_reaches_listeners() {
    let m = MemoryMonitor::builder().build().unwrap();
    let (alerts, _subscription) = collect(&m);
    for t in 0..3_600u32 {
        m.record(f64::from(t), mem(100_000_000 + u64::from(t) * 100_000)).unwrap();
    }
    assert!(m.leak_report().unwrap().leaking);
    assert!(alerts.lock().unwrap().iter().any(|a| matches!(a, MemoryAlertKind::Leak { .. })));
}

#[test]
fn bad_times_are_refused() {
    let m = MemoryMonitor::builder().build().unwrap();
    m.record(10.0, mem(1)).unwrap();
    assert_eq!(m.record(9.0, mem(1)).unwrap_err().kind(), SampleErrorKind::TimeWentBackwards);
    assert_eq!(m.record(f64::NAN, mem(1)).unwrap_err().kind(), SampleErrorKind::InvalidTime);
    assert_eq!(m.samples().len(), 1);
}

#[test]
fn zero_capacity_and_bad_thresholds_are_build_errors() {
    let kind = |b: pool_metrics::MemoryMonitorBuilder| b.build().unwrap_err().kind();
    use MemoryMonitorBuildErrorKind as K;
    assert_eq!(kind(MemoryMonitor::builder().capacity(0)), K::Capacity);
    assert_eq!(kind(MemoryMonitor::builder().max_growth(f64::NAN)), K::MaxGrowth);
    assert_eq!(kind(MemoryMonitor::builder().max_growth(0.0)), K::MaxGrowth);
    assert_eq!(kind(MemoryMonitor::builder().high_bytes(2).limit_bytes(1)), K::Thresholds);
}

#[test]
fn an_alert_listener_may_subscribe_and_record_without_deadlock() {
    // Listeners used to run while the listener list's lock was held: subscribing from one
    // hung forever.
    finishes(|| {
        let m = Arc::new(
            MemoryMonitor::builder().limit_bytes(100).detect_leaks(false).build().unwrap(),
        );
        let inner_alerts = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (m2, sink, keep) = (Arc::downgrade(&m), inner_alerts.clone(), kept.clone());
        let _outer = m.on_alert(move |a| {
            let Some(m2) = m2.upgrade() else { return };
            if matches!(a.kind, MemoryAlertKind::AboveLimit { .. }) {
                let sink = sink.clone();
                keep.lock()
                    .unwrap()
                    .push(m2.on_alert(move |a| sink.lock().unwrap().push(a.kind.clone())));
                // Recording from inside a listener: back under the limit.
                m2.record(a.t_secs, mem(10)).unwrap();
            }
        });
        m.record(0.0, mem(500)).unwrap();
        assert_eq!(m.pressure().level(), PressureLevel::Normal);
        // The listener added during the alert saw the pressure fall back.
        assert_eq!(
            *inner_alerts.lock().unwrap(),
            [MemoryAlertKind::Pressure { level: PressureLevel::Normal }]
        );
    });
}

#[test]
fn a_pressure_listener_may_subscribe_without_deadlock() {
    finishes(|| {
        let m = MemoryMonitor::builder().high_bytes(100).detect_leaks(false).build().unwrap();
        let pressure = m.pressure();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (p2, keep) = (pressure.clone(), kept.clone());
        let _outer = pressure.subscribe(move |_| keep.lock().unwrap().push(p2.subscribe(|_| ())));
        m.record(0.0, mem(200)).unwrap();
        m.record(1.0, mem(50)).unwrap();
        assert_eq!(kept.lock().unwrap().len(), 2);
    });
}

#[test]
fn dropped_subscriptions_stop_alerts() {
    let m = MemoryMonitor::builder().limit_bytes(100).detect_leaks(false).build().unwrap();
    let (alerts, subscription) = collect(&m);
    m.record(0.0, mem(200)).unwrap();
    let seen = alerts.lock().unwrap().len();
    assert!(seen > 0);
    drop(subscription);
    m.record(1.0, mem(0)).unwrap();
    m.record(2.0, mem(200)).unwrap();
    assert_eq!(alerts.lock().unwrap().len(), seen);
}

#[test]
fn a_configured_leak_detector_finds_a_leak_in_a_two_minute_run() {
    // The default detector needs 11 minutes before any verdict; scaled down it answers in a
    // short run (the settings documented on LeakDetectorBuilder).
    let short = LeakDetector::builder()
        .step(Duration::from_secs(1))
        .floor_window(Duration::from_secs(10))
        .warmup(Duration::from_secs(5))
        .min_slope(10e3)
        .min_growth(500e3)
        .build()
        .unwrap();
    let m = MemoryMonitor::builder().leak_detector(short).build().unwrap();
    let default = MemoryMonitor::builder().build().unwrap();
    let (alerts, _subscription) = collect(&m);
    for i in 0..1_200u32 {
        let t = f64::from(i) / 10.0;
        let bytes = 50e6 + f64::from(i % 30) / 30.0 * 4e6 + 50e3 * t;
        m.record(t, mem(bytes as u64)).unwrap();
        default.record(t, mem(bytes as u64)).unwrap();
    }
    assert!(m.leak_report().unwrap().leaking);
    assert!(alerts.lock().unwrap().iter().any(|a| matches!(a, MemoryAlertKind::Leak { .. })));
    assert!(!default.leak_report().unwrap().leaking);
    assert_eq!(m.leak_detector_config().unwrap().get_step(), Duration::from_secs(1));
}

#[test]
fn sampling_too_often_is_refused() {
    let m = Arc::new(MemoryMonitor::builder().build().unwrap());
    for interval in [Duration::ZERO, Duration::from_nanos(1), Duration::from_micros(999)] {
        let err = m.clone().spawn(interval).unwrap_err();
        assert_eq!(err.kind(), SpawnSamplerErrorKind::Interval);
    }
    assert!(m.samples().is_empty(), "no thread ran");
}

#[test]
fn sample_times_come_from_the_clock() {
    let clock = Arc::new(ManualClock::new());
    let m = MemoryMonitor::builder().clock(clock.clone()).build().unwrap();
    clock.advance(Duration::from_millis(2_500));
    match m.sample() {
        Ok(s) => assert_eq!(s.t_secs, 2.5),
        Err(e) => assert_eq!(e.kind(), pool_metrics::MemoryErrorKind::Unsupported),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn sampling_reads_proc() {
    let m = MemoryMonitor::builder().build().unwrap();
    let s = m.sample().unwrap();
    assert!(s.memory.rss_bytes > 0 && s.memory.allocated_bytes.is_none());
    assert_eq!(m.samples().len(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn a_sampler_samples_once_even_when_stopped_at_once() {
    // Dropping the handle before the thread first ran used to end it with no sample at all.
    for _ in 0..20 {
        let m = Arc::new(MemoryMonitor::builder().detect_leaks(false).build().unwrap());
        drop(m.clone().spawn(MemoryMonitor::MIN_SAMPLE_INTERVAL).unwrap());
        assert!(!m.samples().is_empty());
    }
}

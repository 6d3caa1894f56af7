//! The memory monitor: ring, thresholds, alerts, pressure, bad input.

use std::sync::{Arc, Mutex};

use pool_metrics::{
    MemoryAlertKind, MemoryMonitor, MemorySnapshot, PressureLevel, SampleErrorKind,
};

fn mem(bytes: u64) -> MemorySnapshot {
    MemorySnapshot { rss_bytes: bytes, virtual_bytes: 2 * bytes, allocated_bytes: None }
}

fn collect(m: &MemoryMonitor) -> Arc<Mutex<Vec<MemoryAlertKind>>> {
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let sink = alerts.clone();
    m.on_alert(move |a| sink.lock().unwrap().push(a.kind.clone()));
    alerts
}

#[test]
fn limit_alerts_are_edge_triggered_and_drive_pressure() {
    let m = MemoryMonitor::builder()
        .high_bytes(100)
        .limit_bytes(200)
        .detect_leaks(false)
        .build()
        .unwrap();
    let alerts = collect(&m);
    let levels = Arc::new(Mutex::new(Vec::new()));
    let sink = levels.clone();
    m.pressure().subscribe(move |l| sink.lock().unwrap().push(l));
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
    let alerts = collect(&m);
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
    let alerts = collect(&m);
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
    assert!(MemoryMonitor::builder().capacity(0).build().is_err());
    assert!(MemoryMonitor::builder().max_growth(f64::NAN).build().is_err());
    assert!(MemoryMonitor::builder().high_bytes(2).limit_bytes(1).build().is_err());
}

#[cfg(target_os = "linux")]
#[test]
fn sampling_reads_proc() {
    let m = MemoryMonitor::builder().build().unwrap();
    let s = m.sample().unwrap();
    assert!(s.memory.rss_bytes > 0 && s.memory.allocated_bytes.is_none());
    assert_eq!(m.samples().len(), 1);
}

//! Small data structures against reference models: the monitor's ring, the profiler's totals,
//! the registry's identity of keys.

use pool_metrics::{MemoryMonitor, MemorySnapshot, Profiler, Registry};
use proptest::prelude::*;

proptest! {
    #[test]
    fn monitor_ring_keeps_the_last_capacity_samples(
        capacity in 1usize..20,
        bytes in proptest::collection::vec(0u64..1_000_000, 0..60),
    ) {
        let m = MemoryMonitor::builder().capacity(capacity).detect_leaks(false).build().unwrap();
        for (t, &b) in bytes.iter().enumerate() {
            let s = MemorySnapshot { rss_bytes: b, virtual_bytes: b, allocated_bytes: None };
            m.record(t as f64, s).unwrap();
        }
        let got: Vec<u64> = m.samples().iter().map(|s| s.memory.rss_bytes).collect();
        let want = &bytes[bytes.len().saturating_sub(capacity)..];
        prop_assert_eq!(got, want);
    }

    #[test]
    fn profiler_totals_and_calls_match_a_model(
        calls in proptest::collection::vec((0usize..4, 0u64..1_000_000), 0..100),
    ) {
        let p = Profiler::new();
        let mut model = [(0u64, 0u64, u64::MAX, 0u64); 4];
        for &(s, ns) in &calls {
            p.section(&format!("s{s}")).record_ns(ns);
            let m = &mut model[s];
            *m = (m.0 + 1, m.1 + ns, m.2.min(ns), m.3.max(ns));
        }
        let r = p.report();
        prop_assert_eq!(r.total_ns, model.iter().map(|m| m.1).sum::<u64>());
        prop_assert!(r.sections.windows(2).all(|w| w[0].total_ns >= w[1].total_ns));
        for s in &r.sections {
            let m = model[s.name[1..].parse::<usize>().unwrap()];
            prop_assert_eq!((s.calls, s.total_ns, s.min_ns, s.max_ns), (m.0, m.1, m.2, m.3));
        }
        prop_assert_eq!(r.sections.len(), model.iter().filter(|m| m.0 > 0).count());
    }

    #[test]
    fn registry_returns_one_metric_per_key(
        ops in proptest::collection::vec((0usize..3, 0usize..3, 1u64..10), 0..50),
    ) {
        let r = Registry::new();
        let mut model = std::collections::BTreeMap::new();
        for &(name, label, n) in &ops {
            let label = format!("v{label}");
            r.counter(&format!("c{name}"), &[("l", &label)]).unwrap().add(n);
            *model.entry((name, label)).or_insert(0) += n;
        }
        let snap = r.snapshot();
        prop_assert_eq!(snap.metrics.len(), model.len());
        for ((name, label), n) in model {
            let c = r.counter(&format!("c{name}"), &[("l", &label)]).unwrap();
            prop_assert_eq!(c.get(), n);
        }
    }
}

#[test]
fn shared_types_are_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<pool_metrics::Counter>();
    check::<pool_metrics::Gauge>();
    check::<pool_metrics::Histogram>();
    check::<pool_metrics::HistogramSnapshot>();
    check::<pool_metrics::Timer>();
    check::<pool_metrics::Registry>();
    check::<pool_metrics::Profiler>();
    check::<pool_metrics::MemoryMonitor>();
    check::<pool_metrics::MemoryPressure>();
    check::<pool_metrics::LeakDetector>();
    check::<pool_metrics::Subscription>();
    check::<pool_metrics::MemoryMonitorBuilder>();
}

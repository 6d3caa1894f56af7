//! Histogram quantiles, merge and concurrency against exact reference models.

use pool_metrics::{Counter, Histogram};
use proptest::prelude::*;

/// The nearest-rank quantile of sorted `v` (the definition `Histogram::quantile` documents).
fn exact(sorted: &[u64], q: f64) -> u64 {
    let n = sorted.len() as u64;
    let rank = ((q * n as f64 - 1e-9).ceil() as u64).clamp(1, n);
    sorted[(rank - 1) as usize]
}

fn close(got: u64, want: u64, err: f64) -> bool {
    (got as f64 - want as f64).abs() <= err * want as f64 + 1e-9
}

proptest! {
    #[test]
    fn quantiles_are_within_the_stated_error(
        values in proptest::collection::vec(1u64..=3_600_000_000_000, 1..400),
    ) {
        let h = Histogram::new();
        for &v in &values {
            h.record(v);
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let err = h.max_relative_error();
        prop_assert!(err <= 0.001);
        let s = h.snapshot();
        prop_assert_eq!(s.count, values.len() as u64);
        prop_assert_eq!(s.min, sorted[0]);
        prop_assert_eq!(s.max, *sorted.last().unwrap());
        for (q, got) in [(0.5, s.p50), (0.9, s.p90), (0.95, s.p95), (0.99, s.p99), (0.999, s.p999)] {
            let want = exact(&sorted, q);
            prop_assert!(close(got, want, err), "q={} got={} want={}", q, got, want);
            let direct = h.quantile(q);
            prop_assert!(close(direct, want, err), "quantile({}) = {} want {}", q, direct, want);
        }
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64;
        prop_assert!((s.mean - mean).abs() <= err * mean + 1e-9);
    }

    #[test]
    fn merge_equals_recording_the_union(
        a in proptest::collection::vec(0u64..10_000_000, 0..200),
        b in proptest::collection::vec(0u64..10_000_000, 0..200),
    ) {
        let (ha, hb, union) = (Histogram::new(), Histogram::new(), Histogram::new());
        for &v in &a { ha.record(v); union.record(v); }
        for &v in &b { hb.record(v); union.record(v); }
        ha.merge(&hb).unwrap();
        prop_assert_eq!(ha.snapshot(), union.snapshot());
        prop_assert_eq!(ha.buckets(), union.buckets());
    }

    #[test]
    fn counters_are_exact_under_concurrent_increments(threads in 1usize..5, per in 1u64..2_000) {
        let c = Counter::new();
        let h = Histogram::new();
        std::thread::scope(|s| {
            for t in 0..threads {
                let (c, h) = (&c, &h);
                s.spawn(move || {
                    for i in 0..per {
                        c.inc();
                        h.record(i * 7 + t as u64);
                    }
                });
            }
        });
        prop_assert_eq!(c.get(), threads as u64 * per);
        prop_assert_eq!(h.snapshot().count, threads as u64 * per);
    }
}

#[test]
fn memory_is_bounded_whatever_the_sample_count() {
    let h = Histogram::new();
    // Every bucket of every shard this thread writes to, touched many times.
    let mut v = 1u64;
    for _ in 0..200_000 {
        h.record(v);
        v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 3_600_000_000_000;
    }
    let touched = h.heap_bytes();
    for _ in 0..200_000 {
        h.record(v);
        v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 3_600_000_000_000;
    }
    assert_eq!(h.heap_bytes(), touched);
    // One shard fully touched: 34 pages of 1 KiB, plus page tables and shard headers.
    assert!(touched <= 34 * 1024 + 5 * (34 * 8 + 256), "{touched}");
}

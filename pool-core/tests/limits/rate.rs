//! RateLimiter: the GCRA bound under a fake clock, and concurrency.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pool_core::{Clock, ManualClock, RateLimiter};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// In every window [t_i, t_j] the limiter admits at most burst + (t_j − t_i)/T cells, where T
    /// is its emission interval, whatever the request sizes and timing.
    #[test]
    fn never_admits_more_than_burst_plus_rate_times_window(
        per_second in 1.0f64..1000.0,
        burst in 1u32..20,
        steps in proptest::collection::vec((0u64..50_000_000, 1u32..5), 1..150),
    ) {
        let clock = ManualClock::new();
        let l = RateLimiter::builder().per_second(per_second).burst(burst).clock(clock.clone()).build().unwrap();
        let t = l.interval().as_nanos() as u64;
        let mut admitted: Vec<(u64, u64)> = Vec::new();
        for (dt, n) in steps {
            clock.advance(Duration::from_nanos(dt));
            if l.try_acquire(n).is_ok() {
                admitted.push((clock.now_nanos(), u64::from(n)));
            }
        }
        for i in 0..admitted.len() {
            let mut sum = 0;
            for j in i..admitted.len() {
                sum += admitted[j].1;
                let window = admitted[j].0 - admitted[i].0;
                prop_assert!(sum <= u64::from(burst) + window / t,
                    "{} cells in {}ns with burst {} and T {}ns", sum, window, burst, t);
            }
        }
    }

    /// A refused request is admitted exactly at its retry_after (if nobody else takes the cells).
    #[test]
    fn retry_after_is_exact(per_second in 1.0f64..1000.0, burst in 1u32..10) {
        let clock = ManualClock::new();
        let l = RateLimiter::builder().per_second(per_second).burst(burst).clock(clock.clone()).build().unwrap();
        for _ in 0..burst { l.check().unwrap(); }
        let wait = l.check().unwrap_err().retry_after();
        clock.advance(wait - Duration::from_nanos(1));
        prop_assert!(l.check().is_err());
        clock.advance(Duration::from_nanos(1));
        prop_assert!(l.check().is_ok());
    }
}

#[test]
fn concurrent_checks_admit_exactly_the_burst_at_a_frozen_instant() {
    let clock = ManualClock::new();
    let l = RateLimiter::builder().per_second(1.0).burst(100).clock(clock).build().unwrap();
    let ok = AtomicU64::new(0);
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..1000 {
                    if l.check().is_ok() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(ok.load(Ordering::Relaxed), 100);
}

#[test]
fn until_ready_waits_about_one_interval() {
    let l = RateLimiter::per_second(200.0).unwrap();
    for _ in 0..200 {
        l.check().unwrap();
    }
    let start = std::time::Instant::now();
    l.until_ready();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(3), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
}

#[cfg(feature = "async")]
#[test]
fn until_ready_async_waits_without_a_runtime() {
    let l = RateLimiter::per_second(100.0).unwrap();
    for _ in 0..100 {
        l.check().unwrap();
    }
    let start = std::time::Instant::now();
    futures::executor::block_on(l.until_ready_async());
    assert!(start.elapsed() >= Duration::from_millis(5));
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// The keyed limiter's memory bound holds however many distinct keys arrive.
#[test]
fn keyed_limiter_memory_stays_bounded() {
    let clock = ManualClock::new();
    let l = RateLimiter::builder()
        .per_second(10.0)
        .burst(1)
        .clock(clock.clone())
        .build_keyed::<u64>(64)
        .unwrap();
    for round in 0..50u64 {
        for k in 0..100 {
            let _ = l.check(&(round * 1000 + k));
        }
        assert!(l.len() <= l.max_keys());
        clock.advance(Duration::from_millis(100));
    }
}

#[test]
fn the_shortcut_and_the_builder_take_the_same_rate() {
    for rate in [0.5, 2.5, 200.0] {
        let a = RateLimiter::per_second(rate).unwrap();
        let b = RateLimiter::builder().per_second(rate).build().unwrap();
        assert_eq!((a.interval(), a.burst()), (b.interval(), b.burst()), "rate {rate}");
    }
    assert_eq!(
        RateLimiter::per_second(-1.0).unwrap_err(),
        RateLimiter::builder().per_second(-1.0).build().unwrap_err()
    );
}

#[test]
fn clones_share_one_budget_across_threads() {
    let clock = ManualClock::new();
    let l = RateLimiter::builder().per_second(1.0).burst(10).clock(clock).build().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let l = l.clone();
            std::thread::spawn(move || (0..10).filter(|_| l.check().is_ok()).count())
        })
        .collect();
    let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(admitted, 10, "four clones drew on one burst of 10");
}

#[test]
fn exported_counts_read_back_from_the_registry() {
    let clock = ManualClock::new();
    let l = RateLimiter::builder().per_second(1.0).burst(2).clock(clock.clone()).build().unwrap();
    let registry = pool_metrics::Registry::new();
    let label = [("limiter", "api")];
    l.check().unwrap();
    l.check().unwrap();
    assert!(l.check().is_err());
    l.export_metrics(&registry, "api").unwrap();
    clock.advance(Duration::from_secs(1));
    l.check().unwrap();
    assert!(l.try_acquire(3).is_err(), "more than the burst: refused");
    l.export_metrics(&registry, "api").unwrap();
    assert_eq!(registry.counter("rate_limiter_admitted_cells_total", &label).unwrap().get(), 3);
    assert_eq!(registry.counter("rate_limiter_limited_total", &label).unwrap().get(), 2);
    let text = registry.snapshot().to_prometheus();
    assert!(text.contains("rate_limiter_admitted_cells_total{limiter=\"api\"} 3"), "{text}");
}

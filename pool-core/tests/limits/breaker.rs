//! CircuitBreaker: exactly K probes under 64 concurrent callers, and a model of the count window.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use pool_core::{CircuitBreaker, CircuitState, ManualClock, SlidingWindow};
use proptest::prelude::*;

#[test]
fn half_open_admits_exactly_k_of_64_concurrent_callers() {
    const THREADS: usize = 64;
    for k in [1u32, 3, 10] {
        let clock = ManualClock::new();
        let b = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(10))
            .minimum_calls(1)
            .wait_in_open(Duration::from_secs(1))
            .permitted_calls_in_half_open(k)
            .clock(clock.clone())
            .build()
            .unwrap();
        // Bounded: 30 half-open episodes per K.
        for round in 0..30 {
            b.force_open();
            clock.advance(Duration::from_secs(1));
            let admitted = AtomicU64::new(0);
            let permits = Mutex::new(Vec::new());
            let barrier = Barrier::new(THREADS);
            std::thread::scope(|s| {
                for _ in 0..THREADS {
                    s.spawn(|| {
                        barrier.wait();
                        if let Ok(p) = b.try_acquire() {
                            admitted.fetch_add(1, Ordering::SeqCst);
                            // Held until every thread has tried, so no early close lets more in.
                            permits.lock().unwrap().push(p);
                        }
                    });
                }
            });
            assert_eq!(admitted.load(Ordering::SeqCst), u64::from(k), "K={k}, round {round}");
            assert_eq!(b.state(), CircuitState::HalfOpen);
            for p in permits.into_inner().unwrap() {
                p.success();
            }
            assert_eq!(b.state(), CircuitState::Closed);
        }
    }
}

#[test]
fn a_half_open_failure_reopens_and_waits_again() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::builder()
        .minimum_calls(1)
        .wait_in_open(Duration::from_secs(2))
        .permitted_calls_in_half_open(5)
        .clock(clock.clone())
        .build()
        .unwrap();
    b.force_open();
    clock.advance(Duration::from_secs(2));
    let ok = b.try_acquire().unwrap();
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), CircuitState::Open);
    ok.success(); // late: from the finished half-open episode, ignored
    assert_eq!(b.state(), CircuitState::Open);
    clock.advance(Duration::from_secs(1));
    assert!(b.try_acquire().is_err(), "the wait restarted at the re-open");
    clock.advance(Duration::from_secs(1));
    assert!(b.try_acquire().is_ok());
}

#[test]
fn call_counts_a_panic_as_failure() {
    let b = CircuitBreaker::builder()
        .sliding_window(SlidingWindow::CountBased(1))
        .minimum_calls(1)
        .build()
        .unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = b.call(|| -> Result<(), ()> { panic!("boom") });
    }));
    assert!(r.is_err());
    assert_eq!(b.state(), CircuitState::Open);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Single-threaded, the count-based breaker matches a reference model: closed until the last
    /// `size` outcomes hold at least `min` calls with a failure rate >= threshold; once open it
    /// refuses everything (no time passes).
    #[test]
    fn count_window_matches_model(
        size in 1u32..20,
        min_seed in 1u32..20,
        threshold in 1.0f64..100.0,
        outcomes in proptest::collection::vec(any::<bool>(), 1..100),
    ) {
        // An explicit minimum above the window is rejected at build (tested below).
        let min = min_seed.min(size);
        let b = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(size))
            .minimum_calls(min)
            .failure_rate_threshold(threshold)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let mut window = VecDeque::new();
        let mut open = false;
        for failed in outcomes {
            let r = b.call(|| if failed { Err(()) } else { Ok(()) });
            if open {
                prop_assert!(matches!(r, Err(pool_core::CallError::NotPermitted(_))));
                continue;
            }
            window.push_back(failed);
            if window.len() > size as usize { window.pop_front(); }
            let calls = window.len() as f64;
            let fails = window.iter().filter(|f| **f).count() as f64;
            if window.len() >= min as usize && fails * 100.0 >= threshold * calls {
                open = true;
            }
            prop_assert_eq!(b.state() == CircuitState::Open, open);
        }
    }
}

#[test]
fn a_minimum_the_window_can_never_hold_is_rejected_at_build() {
    let err = CircuitBreaker::builder()
        .sliding_window(SlidingWindow::CountBased(10))
        .minimum_calls(1000)
        .build()
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &pool_core::CircuitBreakerBuildErrorKind::MinimumCallsAboveWindow {
            minimum_calls: 1000,
            window: 10
        }
    );
    assert!(err.to_string().starts_with("minimum_calls (1000) must be <= the count window"));
    // Left at its default, the minimum is capped to the window, and read back as capped.
    let b =
        CircuitBreaker::builder().sliding_window(SlidingWindow::CountBased(10)).build().unwrap();
    assert_eq!(b.config().minimum_calls, 10);
    // A time window's call count has no fixed cap, so any minimum is accepted.
    let t = CircuitBreaker::builder()
        .sliding_window(SlidingWindow::TimeBased(10))
        .minimum_calls(1000)
        .build()
        .unwrap();
    assert_eq!(t.config().minimum_calls, 1000);
}

#[test]
fn clones_share_one_breaker_and_export_reads_back() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::builder()
        .sliding_window(SlidingWindow::CountBased(2))
        .minimum_calls(2)
        .clock(clock.clone())
        .build()
        .unwrap();
    let other = b.clone();
    let registry = pool_metrics::Registry::new();
    b.export_metrics(&registry, "db").unwrap();
    b.call(|| Err::<(), _>(())).unwrap_err();
    other.call(|| Err::<(), _>(())).unwrap_err();
    assert_eq!(
        b.state(),
        CircuitState::Open,
        "two failures through two handles opened one breaker"
    );
    assert!(other.call(|| Ok::<_, ()>(())).is_err());
    other.export_metrics(&registry, "db").unwrap();
    let label = [("breaker", "db")];
    assert_eq!(registry.counter("circuit_breaker_not_permitted_total", &label).unwrap().get(), 1);
    assert_eq!(
        registry
            .counter("circuit_breaker_transitions_total", &[("breaker", "db"), ("to", "open")])
            .unwrap()
            .get(),
        1
    );
    assert_eq!(registry.gauge("circuit_breaker_state", &label).unwrap().get(), 1);
    assert_eq!(
        registry.gauge("circuit_breaker_failure_rate_permille", &label).unwrap().get(),
        1000
    );
}

/// A clock that, while armed, resets the breaker from inside the breaker's own clock read: the
/// read that `force_open` makes just before its compare-exchange. Each reset is a competing
/// transition, so each of `force_open`'s tries loses, deterministically, on one thread.
struct Meddling {
    breaker: std::sync::OnceLock<CircuitBreaker>,
    meddles_left: std::sync::atomic::AtomicU32,
}

#[derive(Clone)]
struct MeddlingClock(std::sync::Arc<Meddling>);

impl std::ops::Deref for MeddlingClock {
    type Target = Meddling;
    fn deref(&self) -> &Meddling {
        &self.0
    }
}

impl pool_core::Clock for MeddlingClock {
    fn now_nanos(&self) -> u64 {
        let left = &self.meddles_left;
        if left.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(b) = self.breaker.get() {
                b.reset();
            }
        }
        0
    }
}

#[test]
fn force_open_lands_however_many_transitions_race_it() {
    let clock = MeddlingClock(std::sync::Arc::new(Meddling {
        breaker: std::sync::OnceLock::new(),
        meddles_left: std::sync::atomic::AtomicU32::new(0),
    }));
    let b = CircuitBreaker::builder().clock(clock.clone()).build().unwrap();
    // The clock holds a clone: a reference cycle, leaked on purpose in this test.
    assert!(clock.breaker.set(b.clone()).is_ok());
    clock.meddles_left.store(20, std::sync::atomic::Ordering::SeqCst);
    b.force_open();
    // It used to give up after eight lost compare-exchanges and leave the breaker closed.
    assert_eq!(b.state(), CircuitState::Open);
    assert_eq!(clock.meddles_left.load(std::sync::atomic::Ordering::SeqCst), 0);
}

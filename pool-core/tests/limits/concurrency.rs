//! ConcurrencyController: the stats identity holds in every snapshot under concurrent load.

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use std::time::Instant;

use pool_core::{ConcurrencyController, ConcurrencyError, ManualClock};

#[test]
fn stats_identity_holds_while_calls_run() {
    let c = ConcurrencyController::builder()
        .max_concurrent(2)
        .max_queued(3)
        .timeout(Duration::from_millis(50))
        .max_retries(1)
        .base_backoff(Duration::from_micros(10))
        .max_backoff(Duration::from_micros(100))
        .build()
        .unwrap();
    let finished = AtomicUsize::new(0);
    let barrier = Barrier::new(7);
    std::thread::scope(|s| {
        for t in 0..6u64 {
            let (c, barrier, finished) = (&c, &barrier, &finished);
            s.spawn(move || {
                barrier.wait();
                for i in 0..300u64 {
                    let r = c.run(|| if (t + i) % 5 == 0 { Err("flaky") } else { Ok(i) });
                    if let Err(e) = r {
                        assert!(matches!(
                            e,
                            ConcurrencyError::QueueFull
                                | ConcurrencyError::TimedOut { .. }
                                | ConcurrencyError::Inner("flaky")
                        ));
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        barrier.wait();
        // Sample snapshots while the workers run (bounded in count and time).
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..10_000_000 {
            if finished.load(Ordering::SeqCst) == 6 || Instant::now() > deadline {
                break;
            }
            let st = c.stats();
            assert_eq!(
                st.submitted,
                st.completed + st.failed + st.rejected + st.timed_out + st.in_flight,
                "{st:?}"
            );
            assert!(st.running <= 2 && st.queued <= 3, "{st:?}");
        }
    });
    let st = c.stats();
    assert_eq!(st.in_flight, 0);
    assert_eq!(st.submitted, st.completed + st.failed + st.rejected + st.timed_out);
    assert_eq!(st.submitted, 6 * 300);
    assert!(st.completed > 0);
}

#[test]
fn a_huge_backoff_ends_the_retries_instead_of_panicking() {
    // `Instant::now() + delay` used to panic ("overflow when adding duration to instant").
    let c = ConcurrencyController::builder()
        .max_retries(3)
        .base_backoff(Duration::MAX)
        .max_backoff(Duration::MAX)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(c.run(|| Err::<(), _>("down")), Err(ConcurrencyError::Inner("down")));
    assert_eq!((c.stats().failed, c.stats().retries), (1, 0));
}

#[test]
fn a_queued_call_times_out_on_the_controller_clock() {
    let clock = ManualClock::new();
    let c = ConcurrencyController::builder()
        .max_concurrent(1)
        .timeout(Duration::from_millis(20))
        .clock(clock.clone())
        .build()
        .unwrap();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        let c = &c;
        let holder = s.spawn(move || {
            c.run(|| {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok::<_, ()>(())
            })
        });
        entered_rx.recv().unwrap();
        let queued = s.spawn(move || c.run(|| Ok::<_, ()>(())));
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.stats().queued == 0 {
            assert!(Instant::now() < deadline, "the call never queued");
            std::thread::yield_now();
        }
        clock.advance(Duration::from_millis(20));
        // Exactly the manual clock's 20 ms: on the real clock it would be a little more.
        assert_eq!(
            queued.join().unwrap(),
            Err(ConcurrencyError::TimedOut { waited: Duration::from_millis(20) })
        );
        release_tx.send(()).unwrap();
        holder.join().unwrap().unwrap();
    });
    assert_eq!(c.stats().timed_out, 1);
}

#[test]
fn clones_share_one_limit_and_export_reads_back() {
    let c = ConcurrencyController::builder().max_concurrent(1).max_queued(0).build().unwrap();
    let other = c.clone();
    let inner = c.run(|| Ok::<_, ()>(other.run(|| Ok::<_, ()>(()))));
    assert_eq!(inner, Ok(Err(ConcurrencyError::QueueFull)), "the clone saw the permit taken");
    let registry = pool_metrics::Registry::new();
    c.export_metrics(&registry, "api").unwrap();
    let _ = c.run(|| Err::<(), _>("down"));
    other.export_metrics(&registry, "api").unwrap();
    let label = [("controller", "api")];
    let get = |m: &str| registry.counter(m, &label).unwrap().get();
    assert_eq!(get("concurrency_submitted_total"), 3);
    assert_eq!(get("concurrency_completed_total"), 1);
    assert_eq!(get("concurrency_rejected_total"), 1);
    assert_eq!(get("concurrency_failed_total"), 1);
    assert_eq!(registry.gauge("concurrency_in_flight", &label).unwrap().get(), 0);
}

#[test]
fn new_rejects_zero_instead_of_panicking() {
    let err = ConcurrencyController::new(0).unwrap_err();
    assert_eq!(err.to_string(), "max_concurrent must be > 0, got 0");
}

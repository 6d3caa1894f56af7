//! ConcurrencyController: the stats identity holds in every snapshot under concurrent load.

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use std::time::Instant;

use pool_core::{ConcurrencyController, ControllerError};

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
                            ControllerError::QueueFull
                                | ControllerError::TimedOut { .. }
                                | ControllerError::Inner("flaky")
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
    assert_eq!(c.run(|| Err::<(), _>("down")), Err(ControllerError::Inner("down")));
    assert_eq!((c.stats().failed, c.stats().retries), (1, 0));
}

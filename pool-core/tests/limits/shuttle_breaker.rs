//! Shuttle model of the breaker's half-open admission: under randomized schedules of 4 racing
//! callers, exactly K probes are admitted.
//!
//! Run (with the compute pool's models too):
//! `RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle cargo test -p pool-core --features shuttle --lib --test limits shuttle`

use std::time::Duration;

use pool_core::{CircuitBreaker, CircuitState, ManualClock};
use shuttle::sync::Arc;
use shuttle::sync::atomic::{AtomicU64, Ordering};

#[test]
fn shuttle_half_open_admits_exactly_k() {
    shuttle::check_random(
        || {
            let clock = ManualClock::new();
            let b = CircuitBreaker::builder()
                .minimum_calls(1)
                .wait_in_open(Duration::from_secs(1))
                .permitted_calls_in_half_open(2)
                .clock(clock.clone())
                .build()
                .unwrap();
            b.force_open();
            clock.advance(Duration::from_secs(1));
            let admitted = Arc::new(AtomicU64::new(0));
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let b = b.clone();
                    let admitted = admitted.clone();
                    shuttle::thread::spawn(move || {
                        if let Ok(p) = b.try_acquire() {
                            admitted.fetch_add(1, Ordering::SeqCst);
                            // Never report: the episode must stay half-open for the count.
                            std::mem::forget(p);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            assert_eq!(admitted.load(Ordering::SeqCst), 2);
            assert_eq!(b.state(), CircuitState::HalfOpen);
        },
        10_000,
    );
}

//! Small helpers shared by the compute tests.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use pool_core::{ComputePool, TaskHandle};

/// Generous bound for anything that should finish promptly; a hang fails the test instead.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// Occupies one worker until the returned sender is used (or dropped); returns once the
/// blocking task is running, so later submissions are known to queue behind it.
pub(crate) fn occupy(pool: &ComputePool) -> (mpsc::Sender<()>, TaskHandle<()>) {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let h = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        })
        .unwrap();
    started_rx.recv_timeout(PATIENCE).expect("blocker started");
    (release_tx, h)
}

/// Joins with a bound: a hang becomes a test failure.
pub(crate) fn join<T: Send + 'static>(h: TaskHandle<T>) -> Result<T, pool_core::TaskError> {
    match h.join_timeout(PATIENCE) {
        Ok(r) => r,
        Err(_) => panic!("task did not resolve within {PATIENCE:?}"),
    }
}

/// Waits (bounded) until `cond` holds, yielding between checks; for states with no event to
/// wait on, such as "N threads are now blocked inside the library".
pub(crate) fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for: {what}");
        std::thread::yield_now();
    }
}

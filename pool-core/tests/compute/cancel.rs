//! Cancellation: queued tasks never run; running ones see their token.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use pool_core::{CancellationToken, ComputePool, TaskError};

use crate::util::{PATIENCE, join, occupy};

#[test]
fn cancel_while_queued_resolves_at_once_and_never_runs() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let h = pool.submit(move || r.store(true, Ordering::SeqCst)).unwrap();
    assert_eq!(pool.queue_len(), 1);
    assert!(h.cancel(), "a queued task is cancelled");
    assert!(h.is_finished(), "resolved without waiting for a worker");
    assert_eq!(pool.queue_len(), 0, "the queue slot is freed at once");
    assert_eq!(join(h), Err(TaskError::Cancelled));
    release.send(()).unwrap();
    join(blocker).unwrap();
    // The rayon job still ran (as a no-op) by now: the worker has processed its queue.
    join(pool.submit(|| ()).unwrap()).unwrap();
    assert!(!ran.load(Ordering::SeqCst));
    let s = pool.stats();
    assert_eq!((s.cancelled, s.completed), (1, 2));
    assert!(s.is_balanced());
}

#[test]
fn a_running_task_sees_its_token() {
    let pool = ComputePool::new(1).unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let h = pool
        .submit_cancellable(move |token: &CancellationToken| {
            started_tx.send(()).unwrap();
            let end = std::time::Instant::now() + PATIENCE;
            while !token.is_cancelled() {
                assert!(std::time::Instant::now() < end, "token never set");
                std::thread::yield_now();
            }
            "stopped early"
        })
        .unwrap();
    started_rx.recv_timeout(PATIENCE).unwrap();
    assert!(!h.cancel(), "already running: cooperative only");
    assert_eq!(join(h), Ok("stopped early"));
}

#[test]
fn cancelling_a_finished_task_changes_nothing() {
    let pool = ComputePool::new(1).unwrap();
    let h = pool.submit(|| 3).unwrap();
    pool.shutdown();
    assert!(!h.cancel());
    assert_eq!(join(h), Ok(3));
}

#[test]
fn a_standalone_token_is_shared_by_clones() {
    let t = CancellationToken::new();
    let c = t.clone();
    c.cancel();
    assert!(t.is_cancelled());
}

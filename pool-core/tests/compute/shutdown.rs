//! Shutdown: graceful, immediate, and by drop; no handle stays pending.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pool_core::{ComputePool, SubmitErrorKind, TaskError};

use crate::util::{PATIENCE, join, occupy};

#[test]
fn shutdown_lets_queued_work_finish_and_refuses_new_work() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let ran = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..20)
        .map(|_| {
            let r = Arc::clone(&ran);
            pool.submit(move || r.fetch_add(1, Ordering::SeqCst)).unwrap()
        })
        .collect();
    let p = pool.clone();
    let closer = std::thread::spawn(move || p.shutdown());
    crate::util::eventually("shutdown began", || pool.is_shut_down());
    assert_eq!(pool.submit(|| 0).unwrap_err().kind(), SubmitErrorKind::ShutDown);
    release.send(()).unwrap();
    closer.join().unwrap();
    // `shutdown` returned: everything admitted has finished.
    assert_eq!(ran.load(Ordering::SeqCst), 20);
    assert!(hs.iter().all(pool_core::TaskHandle::is_finished));
    for h in hs {
        assert!(join(h).is_ok());
    }
    join(blocker).unwrap();
    let s = pool.stats();
    assert_eq!((s.completed, s.rejected, s.in_flight), (21, 1, 0));
    assert!(s.is_balanced());
}

#[test]
fn shutdown_now_cancels_queued_work_and_wakes_blocked_joiners() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let queued: Vec<_> = (0..10).map(|i| pool.submit(move || i).unwrap()).collect();
    let mut queued = queued.into_iter();
    let first = queued.next().unwrap();
    // A thread joining around the time of shutdown_now (blocked before it, or arriving after)
    // must be resolved by it rather than wait for the busy worker.
    let joiner =
        std::thread::spawn(move || first.join_timeout(PATIENCE).map_err(|_| "still pending"));
    pool.shutdown_now();
    assert_eq!(joiner.join().unwrap(), Ok(Err(TaskError::Cancelled)));
    for h in queued {
        assert_eq!(join(h), Err(TaskError::Cancelled));
    }
    release.send(()).unwrap();
    assert_eq!(join(blocker), Ok(()), "the running task finishes");
    let s = pool.stats();
    assert_eq!((s.cancelled, s.completed, s.in_flight), (10, 1, 0));
    assert!(s.is_balanced());
}

#[test]
fn dropping_the_pool_finishes_queued_work() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let hs: Vec<_> = (0..10u32).map(|i| pool.submit(move || i).unwrap()).collect();
    drop(pool);
    release.send(()).unwrap();
    assert_eq!(hs.into_iter().map(|h| join(h).unwrap()).sum::<u32>(), 45);
    join(blocker).unwrap();
}

#[test]
fn shutdown_from_inside_a_task_does_not_deadlock() {
    let pool = ComputePool::new(1).unwrap();
    let p = pool.clone();
    let h = pool.submit(move || p.shutdown()).unwrap();
    assert_eq!(join(h), Ok(()));
    assert!(pool.is_shut_down());
}

#[test]
fn shutdown_timeout_from_inside_a_task_returns_at_once() {
    let pool = ComputePool::new(1).unwrap();
    let p = pool.clone();
    // Waiting for its own task to finish would never end with `Duration::MAX`.
    let h = pool.submit(move || p.shutdown_timeout(std::time::Duration::MAX)).unwrap();
    assert_eq!(join(h), Ok(false));
    assert!(pool.is_shut_down());
}

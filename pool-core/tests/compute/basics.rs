//! Submission, handles (blocking and as a Future), panics, deadlines, builder.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use pool_core::{ComputePool, ComputePoolBuildErrorKind, TaskError, WorkloadKind};

use crate::util::{PATIENCE, join, occupy};

#[test]
fn submit_and_join_returns_the_value() {
    let pool = ComputePool::new(2).unwrap();
    let hs: Vec<_> = (0..100u64).map(|i| pool.submit(move || i * 2).unwrap()).collect();
    let total: u64 = hs.into_iter().map(|h| join(h).unwrap()).sum();
    assert_eq!(total, 2 * (0..100).sum::<u64>());
}

/// A waker that unparks the polling thread: the handle's Future works with nothing but std.
struct Unpark(std::thread::Thread, AtomicUsize);
impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.unpark();
    }
}

#[test]
fn handle_is_a_future_without_any_runtime() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let waker_state = Arc::new(Unpark(std::thread::current(), AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&waker_state));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(pool.submit(|| 41 + 1).unwrap());
    // Queued behind the blocker: must be pending, then woken once it completes.
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    release.send(()).unwrap();
    let end = Instant::now() + PATIENCE;
    let out = loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            break v;
        }
        assert!(Instant::now() < end, "future never completed");
        std::thread::park_timeout(Duration::from_millis(100));
    };
    assert_eq!(out, Ok(42));
    assert!(waker_state.1.load(Ordering::SeqCst) >= 1, "completion must wake the stored waker");
    join(blocker).unwrap();
}

#[test]
fn a_panic_is_caught_counted_and_the_worker_survives() {
    let pool = ComputePool::new(1).unwrap();
    let id_before = join(pool.submit(|| std::thread::current().id()).unwrap()).unwrap();
    for i in 0..50 {
        let h = pool.submit(move || -> u32 { panic!("task {i} failed") }).unwrap();
        assert_eq!(join(h), Err(TaskError::Panicked(format!("task {i} failed"))));
    }
    let h = pool.submit(|| -> () { std::panic::panic_any(17u8) }).unwrap();
    assert_eq!(join(h), Err(TaskError::Panicked("<non-string panic payload>".into())));
    let id_after = join(pool.submit(|| std::thread::current().id()).unwrap()).unwrap();
    assert_eq!(id_before, id_after, "the same worker thread carries on");
    let s = pool.stats();
    assert_eq!((s.panicked, s.completed), (51, 2));
    assert!(s.is_balanced());
}

#[test]
fn a_task_past_its_deadline_before_start_is_not_run() {
    let pool = ComputePool::new(1).unwrap();
    let (release, blocker) = occupy(&pool);
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    // The deadline is already over when the worker reaches the task.
    let late = pool.submit_before(Instant::now(), move || r.store(true, Ordering::SeqCst)).unwrap();
    let in_time = pool.submit_before(Instant::now() + PATIENCE, || 5).unwrap();
    release.send(()).unwrap();
    assert_eq!(join(late), Err(TaskError::Expired));
    assert_eq!(join(in_time), Ok(5));
    join(blocker).unwrap();
    assert!(!ran.load(Ordering::SeqCst), "an expired task's body must not run");
    assert_eq!(pool.stats().expired, 1);
}

#[test]
fn the_default_deadline_applies_to_plain_submissions() {
    // 1 ns from submission: over long before any worker can pick the task up.
    let pool = ComputePool::builder()
        .threads(1)
        .default_deadline(Duration::from_nanos(1))
        .build()
        .unwrap();
    let h = pool.submit(|| 1).unwrap();
    assert_eq!(join(h), Err(TaskError::Expired));
    let s = pool.stats();
    assert_eq!((s.expired, s.started), (1, 0));
}

#[test]
fn submit_result_counts_err_as_failed() {
    let pool = ComputePool::new(1).unwrap();
    let ok = pool.submit_result(|| Ok::<_, String>(1)).unwrap();
    let bad = pool.submit_result(|| Err::<u8, _>("nope".to_string())).unwrap();
    assert_eq!(join(ok), Ok(Ok(1)));
    assert_eq!(join(bad), Ok(Err("nope".to_string())));
    let s = pool.stats();
    assert_eq!((s.completed, s.failed), (1, 1));
}

#[test]
fn warm_up_runs_on_every_worker_before_build_returns() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let pool = ComputePool::builder()
        .threads(3)
        .thread_name_prefix("warm")
        .warm_up(move |i| {
            s.lock().unwrap().push((i, std::thread::current().name().map(str::to_owned)))
        })
        .build()
        .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        (0..3).map(|i| (i, Some(format!("warm-{i}")))).collect::<Vec<_>>(),
        "each worker warmed once, under its name, before build returned"
    );
    assert!(pool.config().warmed_up);
}

#[test]
fn a_panicking_warm_up_fails_the_build() {
    let err =
        ComputePool::builder().threads(2).warm_up(|i| assert!(i != 1, "cold")).build().unwrap_err();
    assert_eq!(err.kind(), ComputePoolBuildErrorKind::WarmUpPanicked);
    assert!(err.to_string().contains("cold"), "{err}");
}

#[test]
fn builder_reports_what_to_fix() {
    let e = |b: pool_core::ComputePoolBuilder| b.build().unwrap_err().to_string();
    assert_eq!(e(ComputePool::builder().threads(0)), "threads must be > 0, got 0");
    assert_eq!(e(ComputePool::builder().queue_capacity(0)), "queue_capacity must be > 0, got 0");
    assert_eq!(
        e(ComputePool::builder().default_deadline(Duration::ZERO)),
        "default_deadline must be > 0, got 0ns"
    );
    assert_eq!(
        e(ComputePool::builder()
            .threads(2)
            .adaptive(pool_core::AdaptiveConfig::new().max_limit(3))),
        "adaptive max_limit must be <= threads (2), got 3"
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let io = ComputePool::builder().workload(WorkloadKind::Io).build().unwrap();
    assert_eq!(io.threads(), 2 * cores);
}

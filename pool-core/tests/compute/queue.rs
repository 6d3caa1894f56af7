//! The bounded queue and the policies for when it is full.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use pool_core::{ComputePool, QueueFullPolicy, SubmitErrorKind};

use crate::util::{join, occupy};

fn pool(threads: usize, capacity: usize, policy: QueueFullPolicy) -> ComputePool {
    ComputePool::builder()
        .threads(threads)
        .queue_capacity(capacity)
        .queue_full_policy(policy)
        .build()
        .unwrap()
}

#[test]
fn reject_policy_refuses_with_queue_full_and_allocates_no_task() {
    let pool = pool(1, 3, QueueFullPolicy::Reject);
    let (release, blocker) = occupy(&pool);
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
    let err = pool.submit(|| 99).unwrap_err();
    assert_eq!(err.kind(), SubmitErrorKind::QueueFull);
    assert!(err.is_queue_full());
    assert_eq!(pool.try_submit(|| 99).unwrap_err().kind(), SubmitErrorKind::QueueFull);
    assert_eq!(pool.queue_len(), 3);
    release.send(()).unwrap();
    join(blocker).unwrap();
    let got: Vec<_> = queued.into_iter().map(|h| join(h).unwrap()).collect();
    assert_eq!(got, vec![0, 1, 2]);
    let s = pool.stats();
    assert_eq!((s.rejected, s.submitted), (2, 6));
    assert!(s.is_balanced());
}

#[test]
fn block_policy_times_out_when_nothing_frees() {
    let pool = pool(1, 1, QueueFullPolicy::Block { timeout: Some(Duration::from_millis(20)) });
    let (release, blocker) = occupy(&pool);
    let queued = pool.submit(|| 1).unwrap();
    assert_eq!(pool.submit(|| 2).unwrap_err().kind(), SubmitErrorKind::TimedOut);
    release.send(()).unwrap();
    join(blocker).unwrap();
    assert_eq!(join(queued), Ok(1));
}

#[test]
fn block_policy_admits_once_a_slot_frees() {
    let pool = pool(1, 1, QueueFullPolicy::Block { timeout: None });
    let (release, blocker) = occupy(&pool);
    let queued = pool.submit(|| 1).unwrap();
    let p = pool.clone();
    // This submitter blocks until the worker claims `queued`.
    let submitter = std::thread::spawn(move || p.submit(|| 2).unwrap().join());
    release.send(()).unwrap();
    assert_eq!(submitter.join().unwrap(), Ok(2));
    assert_eq!(join(queued), Ok(1));
    join(blocker).unwrap();
}

#[test]
fn caller_runs_policy_runs_on_the_submitting_thread() {
    let pool = pool(1, 1, QueueFullPolicy::CallerRuns);
    let (release, blocker) = occupy(&pool);
    let queued = pool.submit(|| std::thread::current().id()).unwrap();
    let me = std::thread::current().id();
    let h = pool.submit(|| std::thread::current().id()).unwrap();
    assert!(h.is_finished(), "ran before submit returned");
    assert_eq!(join(h), Ok(me));
    release.send(()).unwrap();
    assert_ne!(join(queued), Ok(me));
    join(blocker).unwrap();
    assert!(pool.stats().is_balanced());
}

/// Several producers hammer a small queue under `Block` while a sampler and the tasks
/// themselves watch its length; it must never exceed the capacity.
#[test]
fn the_queue_never_exceeds_its_capacity_under_stress() {
    const CAP: usize = 8;
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 2_000;
    let pool = pool(2, CAP, QueueFullPolicy::Block { timeout: None });
    let max_seen = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (pool, max_seen, done) = (pool.clone(), Arc::clone(&max_seen), Arc::clone(&done));
        std::thread::spawn(move || {
            // Bounded: stops when the producers are done, or after 50M samples at most.
            for _ in 0..50_000_000u64 {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                max_seen.fetch_max(pool.queue_len(), Ordering::Relaxed);
            }
        })
    };
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let (pool, max_seen) = (pool.clone(), Arc::clone(&max_seen));
            std::thread::spawn(move || {
                let mut hs = Vec::with_capacity(PER_PRODUCER);
                for i in 0..PER_PRODUCER {
                    let (p, m) = (pool.clone(), Arc::clone(&max_seen));
                    hs.push(
                        pool.submit(move || {
                            m.fetch_max(p.queue_len(), Ordering::Relaxed);
                            i
                        })
                        .unwrap(),
                    );
                }
                hs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
            })
        })
        .collect();
    for p in producers {
        assert_eq!(p.join().unwrap(), (0..PER_PRODUCER).sum::<usize>());
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let max = max_seen.load(Ordering::Relaxed);
    assert!(max <= CAP, "queue reached {max} > {CAP}");
    assert!(max > 0, "the stress never queued anything, so it proved nothing");
    let s = pool.stats();
    assert_eq!(s.completed, (PRODUCERS * PER_PRODUCER) as u64);
    assert_eq!((s.in_flight, s.queue_len), (0, 0));
    assert!(s.is_balanced());
}

#[test]
fn duration_max_means_wait_forever_everywhere() {
    // Each of these used to panic with "overflow when adding duration to instant".
    let pool = pool(1, 1, QueueFullPolicy::Block { timeout: Some(Duration::MAX) });
    let (release, blocker) = occupy(&pool);
    let queued = pool.submit(|| 1).unwrap();
    let p = pool.clone();
    // Blocks (queue full) until the worker claims `queued`.
    let submitter = std::thread::spawn(move || p.submit(|| 2).unwrap().join());
    release.send(()).unwrap();
    assert_eq!(submitter.join().unwrap(), Ok(2));
    assert_eq!(queued.join_timeout(Duration::MAX).ok(), Some(Ok(1)));
    join(blocker).unwrap();
    let slow = ComputePool::builder().threads(1).default_deadline(Duration::MAX).build().unwrap();
    assert_eq!(slow.submit(|| 3).unwrap().join(), Ok(3));
    assert!(pool.shutdown_timeout(Duration::MAX));
}

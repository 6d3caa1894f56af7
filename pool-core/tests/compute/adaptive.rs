//! Adaptive concurrency inside a real pool: the limit is enforced and stays within its range.
//! (Convergence on a synthetic load is proven deterministically by the controller's unit tests
//! in `src/compute/adaptive.rs`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pool_core::{AdaptiveConfig, ComputePool};

use crate::util::join;

#[test]
fn running_tasks_never_exceed_the_adaptive_maximum() {
    let pool = ComputePool::builder()
        .threads(4)
        .adaptive(AdaptiveConfig::new().max_limit(2).window(4))
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..400)
        .map(|i| {
            let (r, p) = (Arc::clone(&running), Arc::clone(&peak));
            pool.submit(move || {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                // A little work so tasks overlap.
                let x = (0..2_000u64).fold(i as u64, |a, b| a.wrapping_mul(31).wrapping_add(b));
                r.fetch_sub(1, Ordering::SeqCst);
                x
            })
            .unwrap()
        })
        .collect();
    for h in hs {
        join(h).unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 2, "peak {}", peak.load(Ordering::SeqCst));
    let s = pool.stats();
    assert!((1..=2).contains(&s.concurrency_limit));
    assert_eq!(s.completed, 400);
    assert!(s.is_balanced());
}

#[test]
fn gated_tasks_still_cancel_and_shut_down() {
    let pool = ComputePool::builder()
        .threads(2)
        .adaptive(AdaptiveConfig::new().max_limit(1))
        .build()
        .unwrap();
    let (release, blocker) = crate::util::occupy(&pool);
    let parked: Vec<_> = (0..5).map(|i| pool.submit(move || i).unwrap()).collect();
    assert!(parked[0].cancel());
    pool.shutdown_now();
    release.send(()).unwrap();
    join(blocker).unwrap();
    for h in parked {
        assert_eq!(join(h), Err(pool_core::TaskError::Cancelled));
    }
    assert!(pool.stats().is_balanced());
}

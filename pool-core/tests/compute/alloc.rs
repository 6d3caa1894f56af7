//! `try_submit` on a full queue allocates nothing: counted by this binary's global allocator,
//! per thread, so other tests running in parallel do not disturb the count.

use pool_core::{ComputePool, QueueFullPolicy, SubmitErrorKind};
use pool_metrics::CountingAlloc;

use crate::util::{join, occupy};

// pool-metrics' counting allocator keeps per-thread counts, so the tests running beside this
// one in other threads do not disturb it.
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();

#[test]
fn a_rejected_try_submit_allocates_nothing() {
    let pool = ComputePool::builder()
        .threads(1)
        .queue_capacity(1)
        .queue_full_policy(QueueFullPolicy::Reject)
        .build()
        .unwrap();
    let (release, blocker) = occupy(&pool);
    let queued = pool.submit(|| ()).unwrap();
    let payload = vec![0u8; 64];
    let ((), allocations) = GLOBAL.count_thread(|| {
        for _ in 0..1_000 {
            let p = payload.clone(); // one allocation per iteration, made before the call...
            let err = pool.try_submit(move || drop(p)).unwrap_err();
            assert_eq!(err.kind(), SubmitErrorKind::QueueFull);
        }
    });
    // ...so exactly 1 000 allocations are expected, and none from try_submit itself.
    assert_eq!(allocations, 1_000);
    release.send(()).unwrap();
    join(blocker).unwrap();
    join(queued).unwrap();
}

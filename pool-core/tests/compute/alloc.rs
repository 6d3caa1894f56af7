//! `try_submit` on a full queue allocates nothing: counted by this binary's global allocator,
//! per thread, so other tests running in parallel do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pool_core::{ComputePool, QueueFullPolicy, SubmitErrorKind};

use crate::util::{join, occupy};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// The only `unsafe` in the crate's tests: a counting allocator cannot be written without it
// (`GlobalAlloc` is an unsafe trait). It only delegates to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs_on_this_thread() -> u64 {
    ALLOCS.with(Cell::get)
}

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
    let before = allocs_on_this_thread();
    for _ in 0..1_000 {
        let p = payload.clone(); // one allocation per iteration, made before the call...
        let err = pool.try_submit(move || drop(p)).unwrap_err();
        assert_eq!(err.kind(), SubmitErrorKind::QueueFull);
    }
    // ...so exactly 1 000 allocations are expected, and none from try_submit itself.
    assert_eq!(allocs_on_this_thread() - before, 1_000);
    release.send(()).unwrap();
    join(blocker).unwrap();
    join(queued).unwrap();
}

//! The pool's own task queue, drained by at most `limit` long-lived rayon jobs.
//!
//! Spawning one rayon job per task costs a second allocation (rayon boxes every job), a push
//! into rayon's injector and a registry reference count per task, on top of the task's own
//! cell. Instead, tasks go into this lock-free queue and a few *drainer* jobs, one per admitted
//! unit of concurrency, pop and run them until it is empty. A drainer is spawned only when a
//! push finds fewer drainers than the limit, so under load the submit path is one queue push
//! and one load. The drainer count is also the adaptive concurrency limit's enforcement point:
//! at most `limit` tasks run at once.

use crossbeam_deque::{Injector, Steal};
use crossbeam_utils::CachePadded;

use super::task::Runnable;
use crate::sync::{Arc, AtomicUsize, Ordering};

pub(crate) struct TaskQueue {
    tasks: Injector<Arc<dyn Runnable>>,
    drainers: CachePadded<AtomicUsize>,
}

/// What a drainer should do after a task.
pub(crate) enum Next {
    Run(Arc<dyn Runnable>),
    Stop,
}

impl TaskQueue {
    pub(crate) fn new() -> Self {
        Self { tasks: Injector::new(), drainers: CachePadded::new(AtomicUsize::new(0)) }
    }

    /// Queues a task; `true` if the caller must spawn a drainer (one was reserved for it).
    pub(crate) fn push(&self, task: Arc<dyn Runnable>, limit: usize) -> bool {
        self.tasks.push(task);
        // Pairs with the fence in `pop_or_retire`: either that drainer sees this task, or this
        // load sees its departure and a new drainer is reserved. Without it the store of the
        // push and the load of the count could be reordered and the task stranded.
        std::sync::atomic::fence(Ordering::SeqCst);
        self.reserve(limit)
    }

    /// Reserves a drainer slot if fewer than `limit` are active.
    pub(crate) fn reserve(&self, limit: usize) -> bool {
        let mut cur = self.drainers.load(Ordering::SeqCst);
        while cur < limit {
            match self.drainers.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
        false
    }

    /// The next task for a drainer, or `Stop` after giving its slot back. A drainer above the
    /// limit (it was lowered) retires even if tasks remain: the others keep draining.
    pub(crate) fn pop_or_retire(&self, limit: usize) -> Next {
        loop {
            let cur = self.drainers.load(Ordering::SeqCst);
            if cur > limit
                && self
                    .drainers
                    .compare_exchange(cur, cur - 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                return Next::Stop;
            }
            match self.tasks.steal() {
                Steal::Success(task) => return Next::Run(task),
                Steal::Retry => {}
                Steal::Empty => {
                    self.drainers.fetch_sub(1, Ordering::SeqCst);
                    std::sync::atomic::fence(Ordering::SeqCst);
                    // A push that raced our decrement may have seen every drainer busy.
                    if self.tasks.is_empty() || !self.reserve(limit) {
                        return Next::Stop;
                    }
                }
            }
        }
    }

    /// Whether tasks are waiting and fewer than `limit` drainers run (the limit went up).
    pub(crate) fn wants_drainer(&self, limit: usize) -> bool {
        self.drainers.load(Ordering::Relaxed) < limit && !self.tasks.is_empty()
    }
}

/// Shuttle explores interleavings of pushes, drainer departures and limit changes: run with
/// `RUSTFLAGS="--cfg shuttle" cargo test -p pool-core --features shuttle --lib compute::`.
#[cfg(all(test, shuttle))]
mod shuttle_tests {
    use super::*;
    use crate::sync::thread;

    struct Count(Arc<AtomicUsize>);

    impl Runnable for Count {
        fn run_if_queued(self: Arc<Self>, _shared: &crate::compute::shared::Shared) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn drainer(q: Arc<TaskQueue>, limit: Arc<AtomicUsize>, running: Arc<AtomicUsize>) {
        let shared = crate::compute::shared::Shared::new(1, 1, None, None);
        while let Next::Run(task) = q.pop_or_retire(limit.load(Ordering::SeqCst)) {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(now <= 1, "more tasks ran at once than the limit");
            task.run_if_queued(&shared);
            running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Two producers push while a single drainer slot is taken and given back: every task runs
    /// (none is stranded in the queue with no drainer), never two at once, and at quiescence no
    /// drainer slot is leaked. (Removing the re-check after a drainer's departure makes PCT find
    /// a stranded task.)
    #[test]
    fn no_task_is_stranded() {
        shuttle::check_pct(
            || {
                let q = Arc::new(TaskQueue::new());
                let limit = Arc::new(AtomicUsize::new(1));
                let running = Arc::new(AtomicUsize::new(0));
                let ran = Arc::new(AtomicUsize::new(0));
                let drainers = Arc::new(std::sync::Mutex::new(Vec::new()));
                let producers: Vec<_> = (0..2)
                    .map(|_| {
                        let (q, limit, running, ran, drainers) = (
                            Arc::clone(&q),
                            Arc::clone(&limit),
                            Arc::clone(&running),
                            Arc::clone(&ran),
                            Arc::clone(&drainers),
                        );
                        thread::spawn(move || {
                            for _ in 0..3 {
                                let task = Arc::new(Count(Arc::clone(&ran)));
                                if q.push(task, limit.load(Ordering::SeqCst)) {
                                    let (q, l, r) =
                                        (Arc::clone(&q), Arc::clone(&limit), Arc::clone(&running));
                                    let d = thread::spawn(move || drainer(q, l, r));
                                    drainers.lock().expect("drainers").push(d);
                                }
                            }
                        })
                    })
                    .collect();
                for p in producers {
                    p.join().expect("producer");
                }
                // Join drainers until none is left (each may have been spawned late).
                loop {
                    let next = drainers.lock().expect("drainers").pop();
                    match next {
                        Some(d) => d.join().expect("drainer"),
                        None => break,
                    }
                }
                assert_eq!(ran.load(Ordering::SeqCst), 6, "a task was stranded");
                assert_eq!(q.drainers.load(Ordering::SeqCst), 0, "a drainer slot leaked");
            },
            3000,
            3,
        );
    }
}

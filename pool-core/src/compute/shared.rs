//! State shared by a pool, its tasks and its handles (tasks outlive a dropped pool, so this is
//! separate from the rayon thread pool itself).

use std::cell::Cell;
use std::time::Duration;

use super::adaptive::Gate;
use super::admission::Admission;
use super::queue::TaskQueue;
use super::stats::Stats;
use crate::sync::{AtomicBool, Mutex, Ordering, Weak};

/// Pool ids start at 1; 0 marks "not a worker of any compute pool". A plain std atomic even
/// under shuttle: it is process-global identity, not modelled concurrency, and a shuttle atomic
/// in a `static` would outlive shuttle's executions.
static NEXT_POOL_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    /// The id of the compute pool this thread is a worker of and its index there, set by the
    /// rayon start handler.
    static WORKER_OF: Cell<(u64, usize)> = const { Cell::new((0, 0)) };
}

/// A queued task that `shutdown_now` can resolve without running it.
pub(crate) trait Abortable: Send + Sync {
    /// Claims the task if it is still queued and resolves it with `Cancelled`.
    fn abort_if_queued(&self, shared: &Shared);
    /// Whether the handle already resolved (the registry drops such entries).
    fn is_resolved(&self) -> bool;
}

pub(crate) struct Shared {
    pub(crate) id: u64,
    pub(crate) threads: usize,
    pub(crate) queue: TaskQueue,
    pub(crate) admission: Admission,
    pub(crate) stats: Stats,
    pub(crate) default_deadline: Option<Duration>,
    pub(crate) gate: Option<Gate>,
    /// Set by `shutdown_now`: queued tasks resolve `Cancelled` instead of running.
    aborted: AtomicBool,
    /// Tasks somebody is blocked on (a `join` or a pending `Future`). Only those need to be
    /// resolved eagerly by `shutdown_now`; registering costs nothing on the submit path.
    waited_on: Mutex<Registry>,
}

struct Registry {
    entries: Vec<Weak<dyn Abortable>>,
    prune_at: usize,
}

/// Registry length at which dead entries are first pruned; doubles with the live count after.
const PRUNE_FLOOR: usize = 64;

impl Shared {
    pub(crate) fn new(
        threads: usize,
        capacity: usize,
        default_deadline: Option<Duration>,
        gate: Option<Gate>,
    ) -> Self {
        Self {
            id: NEXT_POOL_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            threads,
            queue: TaskQueue::new(),
            admission: Admission::new(capacity),
            stats: Stats::new(threads),
            default_deadline,
            gate,
            aborted: AtomicBool::new(false),
            waited_on: Mutex::new(Registry { entries: Vec::new(), prune_at: PRUNE_FLOOR }),
        }
    }

    /// Tasks allowed to run at once: the adaptive limit, or the thread count.
    pub(crate) fn limit(&self) -> usize {
        self.gate.as_ref().map_or(self.threads, Gate::limit)
    }

    /// Marks the calling thread as a worker of this pool (called once per worker thread).
    pub(crate) fn enter_worker(&self, index: usize) {
        WORKER_OF.with(|w| w.set((self.id, index)));
    }

    /// The calling thread's index if it is one of this pool's workers.
    pub(crate) fn worker_index(&self) -> Option<usize> {
        let (id, index) = WORKER_OF.try_with(Cell::get).unwrap_or((0, 0));
        (id == self.id).then_some(index)
    }

    /// Whether the calling thread is one of this pool's workers.
    pub(crate) fn on_worker(&self) -> bool {
        self.worker_index().is_some()
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }

    /// Remembers a task somebody is about to block on; if the pool was already aborted, resolves
    /// it now. The flag is read after the push, under the same lock `abort` takes, so either
    /// `abort` sees this entry or this call sees the flag.
    pub(crate) fn register_waited(&self, task: Weak<dyn Abortable>) {
        let mut reg = self.waited_on.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if reg.entries.len() >= reg.prune_at {
            reg.entries.retain(|w| w.upgrade().is_some_and(|t| !t.is_resolved()));
            reg.prune_at = (reg.entries.len() * 2).max(PRUNE_FLOOR);
        }
        reg.entries.push(task.clone());
        let aborted = self.is_aborted();
        drop(reg);
        if aborted && let Some(t) = task.upgrade() {
            t.abort_if_queued(self);
        }
    }

    /// Stops admission and resolves every queued task somebody waits on with `Cancelled`; the
    /// rest resolve the same way when a worker reaches them.
    pub(crate) fn abort(&self) {
        self.admission.close();
        let entries = {
            let mut reg = self.waited_on.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.aborted.store(true, Ordering::SeqCst);
            std::mem::take(&mut reg.entries)
        };
        for t in entries.iter().filter_map(Weak::upgrade) {
            t.abort_if_queued(self);
        }
    }
}

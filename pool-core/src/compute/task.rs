//! One submitted task: its body, its result slot and the state machine both share.
//!
//! A task is `QUEUED` until exactly one party claims it with a compare-exchange: the rayon job
//! (to run it), a joiner on a worker of the same pool (to run it inline, so nested joins cannot
//! deadlock), or a canceller (`cancel`, `shutdown_now`, to resolve it unrun). The claimer takes
//! the body and later publishes the result; everyone else finds the slot filled.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Waker;
// quanta reads the TSC (a few ns); std's `Instant::now` costs about 20 ns through the vDSO,
// and a task takes three readings. Deadlines given as std instants are converted at submission.
use quanta::Instant;

use super::cancel::{CancelFlag, CancellationToken};
use super::error::{TaskError, panic_message};
use super::shared::{Abortable, Shared};
use crate::sync::{Arc, AtomicBool, AtomicU8, Condvar, Mutex, Ordering, lock};

const QUEUED: u8 = 0;
const CLAIMED: u8 = 1;
const DONE: u8 = 2;

/// What a task runs: a plain closure, or one that receives its cancellation token.
pub(crate) trait Body<T>: Send + 'static {
    fn call(self, token: impl FnOnce() -> CancellationToken) -> T;
}

/// A closure that takes no arguments.
pub(crate) struct Plain<F>(pub(crate) F);

impl<T, F: FnOnce() -> T + Send + 'static> Body<T> for Plain<F> {
    fn call(self, _token: impl FnOnce() -> CancellationToken) -> T {
        (self.0)()
    }
}

/// A closure that polls its own cancellation token.
pub(crate) struct WithToken<F>(pub(crate) F);

impl<T, F: FnOnce(&CancellationToken) -> T + Send + 'static> Body<T> for WithToken<F> {
    fn call(self, token: impl FnOnce() -> CancellationToken) -> T {
        (self.0)(&token())
    }
}

pub(crate) struct Slot<T> {
    result: Option<Result<T, TaskError>>,
    waker: Option<Waker>,
    /// A thread sleeps on the condvar; completion notifies only then (a futex wake is a syscall).
    blocked: bool,
    /// Already in the pool's waited-on registry.
    registered: bool,
    /// The result was handed out.
    taken: bool,
}

/// The part of a task that does not depend on its body's type; handles see only this.
pub(crate) struct Core<T> {
    state: AtomicU8,
    cancelled: AtomicBool,
    /// Holds an admission queue slot until claimed (tasks run by `CallerRuns` never held one).
    holds_slot: bool,
    submitted_at: Instant,
    deadline: Option<Instant>,
    /// Classifies a returned value as a failure (`submit_result`'s `Err`).
    is_failure: fn(&T) -> bool,
    slot: Mutex<Slot<T>>,
    done: Condvar,
}

pub(crate) struct Task<B, T> {
    pub(crate) core: Core<T>,
    body: Mutex<Option<B>>,
}

/// The handle's view of a task, erased over the body type.
pub(crate) trait TaskRef<T>: Abortable + CancelFlag {
    fn core(&self) -> &Core<T>;
    /// Claims and runs the task on the calling thread if it is still queued.
    fn run_if_queued(self: Arc<Self>, shared: &Shared);
    /// Claims the task if still queued and resolves it with `Cancelled`; true if it did.
    fn cancel_if_queued(&self, shared: &Shared) -> bool;
}

/// Something a worker can run; what the adaptive gate queues.
pub(crate) trait Runnable: Send + Sync {
    fn run_if_queued(self: Arc<Self>, shared: &Shared);
}

/// A task does not own its pool's shared state: whoever runs, cancels or resolves it passes
/// `&Shared` in (drainers and handles hold the `Arc`). Owning one would put a reference-count
/// increment on the submitter and a decrement on a worker on every task: one more cache line
/// crossing cores per task.
pub(crate) struct TaskParams<T> {
    pub(crate) holds_slot: bool,
    pub(crate) submitted_at: Instant,
    pub(crate) deadline: Option<Instant>,
    pub(crate) is_failure: fn(&T) -> bool,
}

impl<T: Send + 'static> Core<T> {
    fn try_claim(&self) -> bool {
        self.state.compare_exchange(QUEUED, CLAIMED, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    pub(crate) fn is_queued(&self) -> bool {
        self.state.load(Ordering::Acquire) == QUEUED
    }

    pub(crate) fn set_cancelled(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    pub(crate) fn cancel_requested(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Publishes the result. The counters were updated before, and `outstanding` drops while
    /// the slot is locked: whoever takes the result sees statistics that account for it, and
    /// whoever sees `outstanding` reach 0 (`shutdown`) sees the task `DONE`.
    fn resolve(&self, shared: &Shared, result: Result<T, TaskError>) {
        let mut slot = lock(&self.slot);
        slot.result = Some(result);
        self.state.store(DONE, Ordering::Release);
        shared.admission.resolved();
        let waker = slot.waker.take();
        let blocked = slot.blocked;
        drop(slot);
        if blocked {
            self.done.notify_all();
        }
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Counts a task that resolves without running.
    fn count_unrun(&self, shared: &Shared, err: &TaskError) {
        let w = shared.stats.work(shared.worker_index());
        match err {
            TaskError::Expired => w.expired.inc(),
            _ => w.cancelled.inc(),
        }
    }

    /// Resolves a claimed task that will not run, releasing its queue slot.
    fn resolve_unrun(&self, shared: &Shared, err: TaskError) {
        if self.holds_slot {
            shared.admission.claimed();
        }
        self.count_unrun(shared, &err);
        self.resolve(shared, Err(err));
    }

    /// Takes the result if present; otherwise marks the slot as waited on.
    pub(crate) fn take_result(&self) -> Option<Result<T, TaskError>> {
        let mut slot = lock(&self.slot);
        let r = slot.result.take();
        if r.is_some() {
            slot.taken = true;
        }
        r
    }

    /// Whether the waited-on registration is still needed (first time only).
    pub(crate) fn needs_registration(&self) -> bool {
        let mut slot = lock(&self.slot);
        !std::mem::replace(&mut slot.registered, true)
    }

    /// Blocks until the result is published or `deadline` passes.
    pub(crate) fn wait(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> Option<Result<T, TaskError>> {
        let mut slot = lock(&self.slot);
        loop {
            if let Some(r) = slot.result.take() {
                slot.taken = true;
                slot.blocked = false;
                return Some(r);
            }
            slot.blocked = true;
            match deadline {
                None => {
                    slot = self.done.wait(slot).unwrap_or_else(std::sync::PoisonError::into_inner)
                }
                Some(d) => {
                    let now = std::time::Instant::now();
                    if now >= d {
                        return None;
                    }
                    slot = self
                        .done
                        .wait_timeout(slot, d - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    /// Future-style poll: the result, or `None` after storing the waker.
    pub(crate) fn poll_result(&self, waker: &Waker) -> Option<Result<T, TaskError>> {
        let mut slot = lock(&self.slot);
        if let Some(r) = slot.result.take() {
            slot.taken = true;
            return Some(r);
        }
        match &slot.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => slot.waker = Some(waker.clone()),
        }
        None
    }

    pub(crate) fn was_taken(&self) -> bool {
        lock(&self.slot).taken
    }
}

impl<B: Body<T>, T: Send + 'static> Task<B, T> {
    pub(crate) fn new(body: B, p: TaskParams<T>) -> Self {
        Self {
            core: Core {
                state: crate::sync::AtomicU8::new(QUEUED),
                cancelled: AtomicBool::new(false),
                holds_slot: p.holds_slot,
                submitted_at: p.submitted_at,
                deadline: p.deadline,
                is_failure: p.is_failure,
                slot: Mutex::new(Slot {
                    result: None,
                    waker: None,
                    blocked: false,
                    registered: false,
                    taken: false,
                }),
                done: Condvar::new(),
            },
            body: Mutex::new(Some(body)),
        }
    }

    /// The rayon job's entry point, and the inline path's.
    pub(crate) fn run(self: Arc<Self>, shared: &Shared) {
        if self.core.try_claim() {
            self.run_claimed(shared);
        }
    }

    fn run_claimed(self: Arc<Self>, shared: &Shared) {
        let core = &self.core;
        if core.holds_slot {
            shared.admission.claimed();
        }
        let start = Instant::now();
        shared.stats.queue_wait.record_duration(start.saturating_duration_since(core.submitted_at));
        let unrun = if shared.is_aborted() || core.cancel_requested() {
            Some(TaskError::Cancelled)
        } else if core.deadline.is_some_and(|d| start >= d) {
            Some(TaskError::Expired)
        } else {
            None
        };
        let body = lock(&self.body).take();
        let body = match (body, unrun) {
            (Some(body), None) => body,
            (body, unrun) => {
                // The slot was released above; drop the closure before publishing.
                drop(body);
                let err = unrun.unwrap_or(TaskError::Cancelled);
                core.count_unrun(shared, &err);
                core.resolve(shared, Err(err));
                return;
            }
        };
        let w = shared.stats.work(shared.worker_index());
        w.started.inc();
        // The token is built (a reference-count bump) only if the body asks for it.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            body.call(|| CancellationToken::from_flag(Arc::clone(&self) as Arc<dyn CancelFlag>))
        }));
        let run_nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        shared.stats.run_time.record(run_nanos);
        w.busy_nanos.add(run_nanos);
        if let Some(gate) = &shared.gate {
            gate.observe(run_nanos, shared.admission.queued());
        }
        let result = match outcome {
            Ok(v) => {
                if (core.is_failure)(&v) {
                    w.failed.inc();
                } else {
                    w.completed.inc();
                }
                Ok(v)
            }
            Err(payload) => {
                w.panicked.inc();
                Err(TaskError::Panicked(panic_message(payload.as_ref())))
            }
        };
        core.resolve(shared, result);
    }
}

impl<B: Body<T>, T: Send + 'static> CancelFlag for Task<B, T> {
    fn is_cancelled(&self) -> bool {
        self.core.cancel_requested()
    }

    fn cancel(&self) {
        self.core.set_cancelled();
    }
}

impl<B: Body<T>, T: Send + 'static> Abortable for Task<B, T> {
    fn abort_if_queued(&self, shared: &Shared) {
        let _ = TaskRef::cancel_if_queued(self, shared);
    }

    fn is_resolved(&self) -> bool {
        self.core.is_done()
    }
}

impl<B: Body<T>, T: Send + 'static> TaskRef<T> for Task<B, T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn run_if_queued(self: Arc<Self>, shared: &Shared) {
        self.run(shared);
    }

    fn cancel_if_queued(&self, shared: &Shared) -> bool {
        if !self.core.try_claim() {
            return false;
        }
        // Drop the closure now: whatever it captured is released without waiting for a worker.
        drop(lock(&self.body).take());
        self.core.resolve_unrun(shared, TaskError::Cancelled);
        true
    }
}

impl<B: Body<T>, T: Send + 'static> Runnable for Task<B, T> {
    fn run_if_queued(self: Arc<Self>, shared: &Shared) {
        self.run(shared);
    }
}

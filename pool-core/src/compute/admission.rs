//! Admission control: the hard cap on queued tasks, the `Block` policy's wakeups, and the
//! outstanding-work count that `shutdown` waits on.
//!
//! Rayon's own queues are unbounded, so the bound lives here: a task is *queued* from admission
//! until a worker (or a canceller) claims it, and *outstanding* until its handle resolves.

use std::time::{Duration, Instant};

use super::error::SubmitErrorKind;
use crate::sync::{AtomicBool, AtomicUsize, Condvar, Mutex, Ordering, lock};

pub(crate) struct Admission {
    capacity: usize,
    /// Parked submitters are woken when the queue drains to this length (7/8 of the capacity).
    low_water: usize,
    /// Admitted, not yet claimed. Only ever raised by a compare-exchange that checks the cap, so
    /// it never exceeds `capacity`, not even for an instant.
    queued: AtomicUsize,
    /// Admitted, not yet resolved.
    outstanding: AtomicUsize,
    closed: AtomicBool,
    /// Submitters parked under the `Block` policy; workers take the lock only when this is > 0,
    /// so the uncontended path never touches the mutex.
    waiters: AtomicUsize,
    lock: Mutex<()>,
    space: Condvar,
    idle: Condvar,
}

impl Admission {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            low_water: capacity - capacity.div_ceil(8),
            queued: AtomicUsize::new(0),
            outstanding: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            space: Condvar::new(),
            idle: Condvar::new(),
        }
    }

    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::SeqCst)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Admits one task or says why not; never blocks.
    pub(crate) fn try_admit(&self) -> Result<(), SubmitErrorKind> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(SubmitErrorKind::ShutDown);
        }
        let mut cur = self.queued.load(Ordering::Relaxed);
        loop {
            if cur >= self.capacity {
                return Err(SubmitErrorKind::QueueFull);
            }
            match self.queued.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        // Re-check after raising `outstanding`: `close` stores the flag and then waits for
        // `outstanding == 0`, so either it sees this task or this task sees the flag.
        if self.closed.load(Ordering::SeqCst) {
            self.claimed();
            self.resolved();
            return Err(SubmitErrorKind::ShutDown);
        }
        Ok(())
    }

    /// Admits work that bypasses the queue (a task run on the caller, the items of a bulk map):
    /// it counts as outstanding, so `shutdown` waits for it, but takes no queue slot.
    pub(crate) fn admit_inline(&self) -> Result<(), SubmitErrorKind> {
        self.admit_outstanding(1)
    }

    /// As [`admit_inline`](Self::admit_inline) for `n` items at once.
    pub(crate) fn admit_outstanding(&self, n: usize) -> Result<(), SubmitErrorKind> {
        self.outstanding.fetch_add(n, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.resolved_n(n);
            return Err(SubmitErrorKind::ShutDown);
        }
        Ok(())
    }

    /// Admits one task, waiting for space up to `timeout` (forever when `None`).
    pub(crate) fn admit_blocking(&self, timeout: Option<Duration>) -> Result<(), SubmitErrorKind> {
        match self.try_admit() {
            Err(SubmitErrorKind::QueueFull) => {}
            other => return other,
        }
        // A timeout too large to add to now (`Duration::MAX`) waits forever, as `None` does.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut guard = lock(&self.lock);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let result = loop {
            // Try before looking at the clock so that a wakeup racing a timeout is not lost.
            match self.try_admit() {
                Err(SubmitErrorKind::QueueFull) => {}
                other => break other,
            }
            match deadline {
                None => {
                    guard =
                        self.space.wait(guard).unwrap_or_else(std::sync::PoisonError::into_inner)
                }
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break Err(SubmitErrorKind::TimedOut);
                    }
                    guard = self
                        .space
                        .wait_timeout(guard, d - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
            }
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        drop(guard);
        result
    }

    /// A queued task was claimed (to run, or to be cancelled/expired): frees one queue slot.
    pub(crate) fn claimed(&self) {
        let left = self.queued.fetch_sub(1, Ordering::SeqCst) - 1;
        // Parked submitters are woken only once the queue has drained to its low-water mark, so
        // a producer running ahead of the workers wakes once per batch of slots instead of once
        // per task (each wakeup is a futex syscall on both sides).
        if left <= self.low_water && self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = lock(&self.lock);
            self.space.notify_one();
        }
    }

    /// An admitted task's handle resolved.
    pub(crate) fn resolved(&self) {
        self.resolved_n(1);
    }

    /// `n` admitted items resolved.
    pub(crate) fn resolved_n(&self, n: usize) {
        let prev = self.outstanding.fetch_sub(n, Ordering::SeqCst);
        if prev == n && self.closed.load(Ordering::SeqCst) {
            let _guard = lock(&self.lock);
            self.idle.notify_all();
        }
    }

    /// Stops admission and wakes every parked submitter (they get `ShutDown`).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _guard = lock(&self.lock);
        self.space.notify_all();
        self.idle.notify_all();
    }

    /// Waits until every admitted task has resolved; `false` on timeout.
    pub(crate) fn wait_idle(&self, timeout: Option<Duration>) -> bool {
        // A timeout too large to add to now (`Duration::MAX`) waits forever, as `None` does.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut guard = lock(&self.lock);
        loop {
            if self.outstanding.load(Ordering::SeqCst) == 0 {
                return true;
            }
            match deadline {
                None => {
                    guard = self.idle.wait(guard).unwrap_or_else(std::sync::PoisonError::into_inner)
                }
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    guard = self
                        .idle
                        .wait_timeout(guard, d - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

#[cfg(all(test, not(shuttle)))]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn cap_is_hard_and_claims_free_slots() {
        let a = Admission::new(2);
        assert_eq!(a.try_admit(), Ok(()));
        assert_eq!(a.try_admit(), Ok(()));
        assert_eq!(a.try_admit(), Err(SubmitErrorKind::QueueFull));
        a.claimed();
        assert_eq!(a.try_admit(), Ok(()));
        assert_eq!(a.queued(), 2);
        assert_eq!(a.outstanding(), 3);
    }

    #[test]
    fn blocking_admission_times_out_when_nothing_frees() {
        let a = Admission::new(1);
        a.try_admit().unwrap();
        assert_eq!(
            a.admit_blocking(Some(Duration::from_millis(5))),
            Err(SubmitErrorKind::TimedOut)
        );
    }

    #[test]
    fn closed_refuses_and_idle_wait_returns() {
        let a = Admission::new(4);
        a.try_admit().unwrap();
        a.close();
        assert_eq!(a.try_admit(), Err(SubmitErrorKind::ShutDown));
        assert!(!a.wait_idle(Some(Duration::from_millis(1))));
        a.claimed();
        a.resolved();
        assert!(a.wait_idle(None));
    }
}

/// Shuttle explores interleavings of the admission path: run with
/// `RUSTFLAGS="--cfg shuttle" cargo test -p pool-core --features shuttle --lib compute::admission`.
#[cfg(all(test, shuttle))]
mod shuttle_tests {
    use super::*;
    use crate::sync::{Arc, AtomicBool, thread};

    /// Three submitters race for two slots while a worker claims; the cap holds at every step and
    /// every blocked submitter is eventually admitted (a lost wakeup would deadlock, which shuttle
    /// reports as a failure).
    #[test]
    fn cap_holds_and_no_lost_wakeup() {
        shuttle::check_random(
            || {
                let a = Arc::new(Admission::new(2));
                let submitters: Vec<_> = (0..3)
                    .map(|_| {
                        let a = Arc::clone(&a);
                        thread::spawn(move || {
                            a.admit_blocking(None).expect("admitted");
                            assert!(a.queued() <= 2);
                        })
                    })
                    .collect();
                let worker = {
                    let a = Arc::clone(&a);
                    thread::spawn(move || {
                        let mut claimed = 0;
                        while claimed < 3 {
                            if a.queued() > 0 {
                                a.claimed();
                                a.resolved();
                                claimed += 1;
                            } else {
                                thread::yield_now();
                            }
                        }
                    })
                };
                for s in submitters {
                    s.join().expect("submitter");
                }
                worker.join().expect("worker");
                assert_eq!(a.queued(), 0);
                assert_eq!(a.outstanding(), 0);
            },
            2000,
        );
    }

    /// `close` racing a submission: either the submission is refused, or `wait_idle` waits for
    /// it. (Shuttle found that an earlier version of this test, which read `outstanding` right
    /// after `wait_idle`, was too strict: a refused submission raises and lowers it transiently.)
    #[test]
    fn close_never_misses_an_admitted_task() {
        shuttle::check_random(
            || {
                let a = Arc::new(Admission::new(4));
                let idle_returned = Arc::new(AtomicBool::new(false));
                let sub = {
                    let (a, idle_returned) = (Arc::clone(&a), Arc::clone(&idle_returned));
                    thread::spawn(move || {
                        if a.try_admit().is_ok() {
                            // Admitted: `wait_idle` must still be waiting for this task.
                            assert!(
                                !idle_returned.load(Ordering::SeqCst),
                                "idle with work admitted"
                            );
                            a.claimed();
                            a.resolved();
                        }
                    })
                };
                a.close();
                assert!(a.wait_idle(None));
                idle_returned.store(true, Ordering::SeqCst);
                sub.join().expect("submitter");
                assert_eq!(a.outstanding(), 0);
                assert_eq!(a.queued(), 0);
            },
            2000,
        );
    }
}

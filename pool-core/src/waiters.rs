//! The first-come-first-served hand-off queue shared by the resource pool and the concurrency
//! controller.
//!
//! Whoever frees a unit (a resource, a slot, a permit) hands it straight to the oldest waiter
//! instead of publishing it for anyone to grab, so a late arrival cannot barge ahead of a
//! sleeper. The queue lives inside its owner's state lock; granting only fills the waiter's
//! slot and returns a [`PendingWake`], which the owner delivers **after** releasing its lock, so
//! a woken thread never runs straight into the lock its waker still holds.

use std::collections::VecDeque;
use std::thread::Thread;
use std::time::Duration;

use crate::sync::{Arc, Mutex, lock};

/// How long to sleep before reading an injected clock again, `remaining` before its deadline.
///
/// Waits park on the OS for the time the clock says is left. A clock that lags the OS (a manual
/// clock, advanced by a test) can leave a tiny `remaining` unchanged wake after wake; once a
/// wait has already ended without reaching the deadline (`again`), the next is at least a
/// millisecond, so a lagging clock costs a re-check per millisecond instead of a spin.
pub(crate) fn recheck_after(remaining: Duration, again: bool) -> Duration {
    const MIN_RECHECK: Duration = Duration::from_millis(1);
    if again { remaining.max(MIN_RECHECK) } else { remaining }
}

/// How to wake a waiter.
enum Wake {
    Thread(Thread),
    #[cfg(feature = "async")]
    Task(Option<std::task::Waker>),
}

struct Slot<G> {
    grant: Option<G>,
    wake: Wake,
}

/// One queued waiter: shared between the queue and the waiting thread or future.
pub(crate) struct Waiter<G>(Arc<Mutex<Slot<G>>>);

impl<G> Clone for Waiter<G> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<G> Waiter<G> {
    /// Takes the grant handed to this waiter, if one has been.
    pub(crate) fn take_grant(&self) -> Option<G> {
        lock(&self.0).grant.take()
    }

    /// Takes the grant, or else records `waker` to be woken with the next one.
    #[cfg(feature = "async")]
    pub(crate) fn take_grant_or_register(&self, waker: &std::task::Waker) -> Option<G> {
        let mut slot = lock(&self.0);
        if let Some(g) = slot.grant.take() {
            return Some(g);
        }
        match &mut slot.wake {
            Wake::Task(Some(w)) if w.will_wake(waker) => {}
            wake => *wake = Wake::Task(Some(waker.clone())),
        }
        None
    }
}

/// A wake-up to deliver once the owner's lock is released.
#[must_use = "deliver the wake-up (after unlocking), or the waiter sleeps on"]
pub(crate) enum PendingWake {
    Thread(Thread),
    #[cfg(feature = "async")]
    Task(std::task::Waker),
    /// An async waiter whose waker was already taken by an earlier wake.
    #[cfg(feature = "async")]
    None,
}

impl PendingWake {
    /// Wakes the waiter. Call it with no lock held.
    pub(crate) fn wake(self) {
        match self {
            Self::Thread(t) => t.unpark(),
            #[cfg(feature = "async")]
            Self::Task(w) => w.wake(),
            #[cfg(feature = "async")]
            Self::None => {}
        }
    }
}

/// The FIFO of waiters; kept inside the owner's state lock.
pub(crate) struct WaitQueue<G> {
    queue: VecDeque<Waiter<G>>,
}

impl<G> Default for WaitQueue<G> {
    fn default() -> Self {
        Self { queue: VecDeque::new() }
    }
}

impl<G> WaitQueue<G> {
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues the calling thread (it will be unparked when granted).
    pub(crate) fn push_current_thread(&mut self) -> Waiter<G> {
        self.push(Wake::Thread(std::thread::current()))
    }

    /// Queues an async task.
    #[cfg(feature = "async")]
    pub(crate) fn push_task(&mut self, waker: &std::task::Waker) -> Waiter<G> {
        self.push(Wake::Task(Some(waker.clone())))
    }

    fn push(&mut self, wake: Wake) -> Waiter<G> {
        let w = Waiter(Arc::new(Mutex::new(Slot { grant: None, wake })));
        self.queue.push_back(w.clone());
        w
    }

    /// Hands `g` to the oldest waiter and returns the wake-up to deliver after unlocking, or
    /// gives `g` back if nobody waits.
    pub(crate) fn grant_first(&mut self, g: G) -> Result<PendingWake, G> {
        let Some(w) = self.queue.pop_front() else { return Err(g) };
        let mut slot = lock(&w.0);
        slot.grant = Some(g);
        Ok(match &mut slot.wake {
            Wake::Thread(t) => PendingWake::Thread(t.clone()),
            #[cfg(feature = "async")]
            Wake::Task(w) => w.take().map_or(PendingWake::None, PendingWake::Task),
        })
    }

    /// Withdraws `w` (a waiter giving up). Returns a grant that reached it first: the caller
    /// then owns it and must use it or hand it back.
    pub(crate) fn withdraw(&mut self, w: &Waiter<G>) -> Option<G> {
        if let Some(g) = w.take_grant() {
            return Some(g);
        }
        if let Some(i) = self.queue.iter().position(|x| Arc::ptr_eq(&x.0, &w.0)) {
            self.queue.remove(i);
        }
        None
    }
}

#[cfg(all(test, not(shuttle)))]
mod tests {
    use super::*;

    #[test]
    fn grants_go_to_the_oldest_waiter_first() {
        let mut q = WaitQueue::default();
        let a = q.push_current_thread();
        let b = q.push_current_thread();
        q.grant_first(1).ok().unwrap().wake();
        assert_eq!((a.take_grant(), b.take_grant()), (Some(1), None));
        q.grant_first(2).ok().unwrap().wake();
        assert_eq!(b.take_grant(), Some(2));
        assert_eq!(q.grant_first(3).err(), Some(3), "nobody left: the grant comes back");
    }

    #[test]
    fn a_withdrawn_waiter_keeps_a_grant_that_reached_it() {
        let mut q = WaitQueue::default();
        let a = q.push_current_thread();
        let b = q.push_current_thread();
        assert_eq!(q.withdraw(&b), None);
        assert_eq!(q.len(), 1);
        q.grant_first(7).ok().unwrap().wake();
        assert_eq!(q.withdraw(&a), Some(7));
        assert!(q.is_empty());
    }

    proptest::proptest! {
        /// Against a `VecDeque` model: every grant goes to the oldest waiter still queued, a
        /// withdrawn waiter gets nothing later, and one granted before withdrawing keeps it.
        #[test]
        fn hand_off_matches_a_fifo_model(ops in proptest::collection::vec(0u8..3, 1..64)) {
            let mut q = WaitQueue::default();
            let mut model = std::collections::VecDeque::new();
            let mut waiters = Vec::new();
            let mut got: Vec<Option<u32>> = Vec::new();
            let mut next = 0u32;
            for (step, op) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        waiters.push(q.push_current_thread());
                        got.push(None);
                        model.push_back(waiters.len() - 1);
                    }
                    1 => {
                        next += 1;
                        let expected = model.pop_front();
                        match (q.grant_first(next), expected) {
                            (Ok(wake), Some(i)) => {
                                wake.wake();
                                got[i] = waiters[i].take_grant();
                                proptest::prop_assert_eq!(got[i], Some(next));
                            }
                            (Err(g), None) => proptest::prop_assert_eq!(g, next),
                            (r, e) => proptest::prop_assert!(false, "step {}: {:?} vs {:?}", step, r.is_ok(), e),
                        }
                    }
                    _ => {
                        // Withdraw the newest waiter still queued, if any.
                        if let Some(i) = model.pop_back() {
                            proptest::prop_assert_eq!(q.withdraw(&waiters[i]), None);
                        }
                    }
                }
                proptest::prop_assert_eq!(q.len(), model.len());
            }
        }
    }
}

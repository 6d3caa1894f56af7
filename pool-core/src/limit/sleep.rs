//! A runtime-agnostic `Sleep` future: one lazily started timer thread wakes registered tasks.
//!
//! The async waits in this crate (rate limiter, resource pool and concurrency timeouts, batch
//! delay) must work under any executor, so they cannot use tokio's timer. A single background
//! thread holding a deadline heap costs one thread per process and no polling.
//!
//! This module uses std's primitives directly, not the `sync` shim: the timer thread outlives
//! any one shuttle execution, so it cannot be a model-checked thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pool_metrics::Clock;

use crate::waiters::recheck_after;

#[derive(Default)]
struct TimerState {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    wakers: HashMap<u64, Waker>,
    next_id: u64,
}

struct Timer {
    state: Mutex<TimerState>,
    cv: Condvar,
    /// Whether the timer thread is running. Until it is, every registration retries the spawn;
    /// a sleep registered while it cannot be spawned wakes its own task at once instead (see
    /// `Sleep::poll`), so an async wait degrades to a busy re-poll but still completes.
    running: Mutex<bool>,
    spawn: fn(&'static Timer) -> std::io::Result<()>,
}

fn spawn_thread(t: &'static Timer) -> std::io::Result<()> {
    std::thread::Builder::new().name("pool-core-timer".into()).spawn(move || run(t)).map(drop)
}

impl Timer {
    fn leak(spawn: fn(&'static Timer) -> std::io::Result<()>) -> &'static Self {
        Box::leak(Box::new(Timer {
            state: Mutex::default(),
            cv: Condvar::new(),
            running: Mutex::new(false),
            spawn,
        }))
    }

    /// Starts the timer thread if it is not running; false if it cannot be spawned now.
    fn ensure_thread(&'static self) -> bool {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if !*running {
            *running = (self.spawn)(self).is_ok();
        }
        *running
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| Timer::leak(spawn_thread))
}

fn run(t: &'static Timer) {
    let mut state = t.state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((at, id))) = state.heap.peek().copied() {
            if at > now {
                break;
            }
            state.heap.pop();
            if let Some(w) = state.wakers.remove(&id) {
                due.push(w);
            }
        }
        if !due.is_empty() {
            drop(state);
            // Wake outside the lock: a waker may poll inline and register again.
            due.into_iter().for_each(Waker::wake);
            state = t.state.lock().unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        state = match state.heap.peek() {
            Some(Reverse((at, _))) => {
                let wait = at.saturating_duration_since(now);
                t.cv.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0
            }
            None => t.cv.wait(state).unwrap_or_else(PoisonError::into_inner),
        };
    }
}

/// Completes at a deadline; wakes its task from the shared timer thread.
#[derive(Debug)]
pub(crate) struct Sleep {
    deadline: Instant,
    id: Option<u64>,
}

impl Sleep {
    pub(crate) fn new(d: Duration) -> Self {
        Self::until(Instant::now().checked_add(d).unwrap_or_else(far_future))
    }

    pub(crate) fn until(deadline: Instant) -> Self {
        Self { deadline, id: None }
    }
}

fn far_future() -> Instant {
    // About 30 years: effectively never, without overflowing Instant arithmetic.
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_on(timer(), cx)
    }
}

impl Sleep {
    fn poll_on(&mut self, t: &'static Timer, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.deregister(t);
            return Poll::Ready(());
        }
        if !t.ensure_thread() {
            // No timer thread (the OS refused one): ask to be polled again rather than wait
            // for a wake that would never come.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut state = t.state.lock().unwrap_or_else(PoisonError::into_inner);
        match self.id {
            Some(id) => {
                match state.wakers.get_mut(&id) {
                    Some(w) => {
                        if !w.will_wake(cx.waker()) {
                            w.clone_from(cx.waker());
                        }
                    }
                    // Fired between our time check and the lock: it is due now.
                    None => return Poll::Ready(()),
                }
            }
            None => {
                let id = state.next_id;
                state.next_id += 1;
                let earliest = state.heap.peek().is_none_or(|Reverse((at, _))| self.deadline < *at);
                state.heap.push(Reverse((self.deadline, id)));
                state.wakers.insert(id, cx.waker().clone());
                self.id = Some(id);
                if earliest {
                    t.cv.notify_one();
                }
            }
        }
        Poll::Pending
    }

    fn deregister(&mut self, t: &'static Timer) {
        if let Some(id) = self.id.take() {
            let mut state = t.state.lock().unwrap_or_else(PoisonError::into_inner);
            // The heap entry would stay until it is due (the timer skips ids with no waker), so
            // many cancelled long sleeps could pile up: once dead entries outnumber live ones,
            // rebuild the heap from the live ones (amortized O(1) per cancellation).
            state.wakers.remove(&id);
            if state.heap.len() > 64 && state.heap.len() > 2 * state.wakers.len() {
                let heap = std::mem::take(&mut state.heap);
                let live: BinaryHeap<_> = heap
                    .into_iter()
                    .filter(|Reverse((_, id))| state.wakers.contains_key(id))
                    .collect();
                state.heap = live;
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister(timer());
    }
}

/// Completes when an injected clock reaches `at` (nanoseconds of that clock). The OS timer only
/// says when to look again: each time it fires the clock is read and, if it is not there yet (a
/// manual clock that has not been advanced, say), the timer is re-armed for what remains.
pub(crate) struct ClockSleep {
    clock: Arc<dyn Clock>,
    at: u64,
    sleep: Option<Sleep>,
    /// Whether the OS timer has fired once already without the clock reaching `at`.
    again: bool,
}

impl ClockSleep {
    pub(crate) fn until(clock: Arc<dyn Clock>, at: u64) -> Self {
        Self { clock, at, sleep: None, again: false }
    }

    /// Whether the deadline has come; if not, the task is woken when it is next worth a look.
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            let now = self.clock.now_nanos();
            if now >= self.at {
                return true;
            }
            let wait = recheck_after(Duration::from_nanos(self.at - now), self.again);
            let sleep = self.sleep.get_or_insert_with(|| Sleep::new(wait));
            if Pin::new(sleep).poll(cx).is_pending() {
                return false;
            }
            // The OS timer fired: look at the clock again, re-arming for what is left.
            self.sleep = None;
            self.again = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_completes_when_the_timer_thread_cannot_be_spawned() {
        fn refuse(_: &'static Timer) -> std::io::Result<()> {
            Err(std::io::Error::other("no threads left"))
        }
        let t = Timer::leak(refuse);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut s = Sleep::new(Duration::from_millis(5));
            futures::executor::block_on(std::future::poll_fn(|cx| s.poll_on(t, cx)));
            let _ = tx.send(());
        });
        // Before the fallback the task was never woken again and this wait ran out.
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok(), "sleep never completed");
        assert!(!*t.running.lock().unwrap());
    }

    #[test]
    fn cancelled_sleeps_do_not_pile_up() {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..10_000 {
            let mut s = Sleep::new(Duration::from_secs(3600));
            assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
            drop(s);
        }
        let state = timer().state.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(state.heap.len() <= 64 || state.heap.len() <= 2 * state.wakers.len() + 1);
    }

    #[test]
    fn sleeps_at_least_the_duration() {
        let start = Instant::now();
        futures::executor::block_on(Sleep::new(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

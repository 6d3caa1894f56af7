//! `Batcher<K, V, E>`: gathers concurrent `load(key)` calls into one batch call (the DataLoader
//! pattern), by size or by delay, de-duplicating keys.
//!
//! One dispatcher thread per batcher owns the timing: the first key of a batch starts the delay;
//! the batch is sent when it reaches `max_batch_size` or the delay passes, whichever comes first.
//! The loader runs on that thread, one batch at a time, so a slow loader delays the next batch
//! (size the delay and batch accordingly). Blocking and async callers share the same batches.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use pool_metrics::Clock;

use super::builder::{BatcherBuilder, BatcherConfig};
use super::error::{BatchError, BatcherBuildError};
use crate::sync::{Arc, Condvar, Mutex, lock};
use crate::waiters::recheck_after;

pub(super) type Loader<K, V, E> = Box<dyn Fn(&[K]) -> Vec<Result<V, E>> + Send + Sync>;

/// The results of one batch, shared by its callers.
struct BatchResult<V, E> {
    results: Mutex<BatchOutcome<V, E>>,
    cv: Condvar,
}

/// The loader's per-key results, or the whole batch's failure.
type Loaded<V, E> = Result<Vec<Result<V, E>>, BatchError<E>>;

struct BatchOutcome<V, E> {
    done: Option<Loaded<V, E>>,
    #[cfg(feature = "async")]
    wakers: Vec<std::task::Waker>,
}

impl<V, E> BatchResult<V, E> {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            results: Mutex::new(BatchOutcome {
                done: None,
                #[cfg(feature = "async")]
                wakers: Vec::new(),
            }),
            cv: Condvar::new(),
        })
    }
}

fn pick<V: Clone, E: Clone>(done: &Loaded<V, E>, idx: usize) -> Result<V, BatchError<E>> {
    match done {
        Ok(results) => match results.get(idx) {
            Some(Ok(v)) => Ok(v.clone()),
            Some(Err(e)) => Err(BatchError::Load(e.clone())),
            None => Err(BatchError::WrongLength { expected: idx + 1, got: results.len() }),
        },
        Err(e) => Err(e.clone()),
    }
}

/// A closed batch waiting for the dispatcher.
type Sealed<K, V, E> = (Vec<K>, Arc<BatchResult<V, E>>);

struct Pending<K, V, E> {
    /// Full (or due) batches not yet loaded, oldest first.
    sealed: std::collections::VecDeque<Sealed<K, V, E>>,
    keys: Vec<K>,
    index: HashMap<K, usize>,
    /// When the open batch got its first key, in clock nanoseconds.
    first_at: Option<u64>,
    result: Arc<BatchResult<V, E>>,
    shutdown: bool,
    batches: u64,
}

struct Shared<K, V, E> {
    pending: Mutex<Pending<K, V, E>>,
    cv: Condvar,
    loader: Loader<K, V, E>,
    config: BatcherConfig,
    delay_nanos: u64,
    clock: Arc<dyn Clock>,
}

impl<K, V, E> Shared<K, V, E> {
    /// When the open batch is due, in clock nanoseconds.
    fn due(&self, p: &Pending<K, V, E>) -> Option<u64> {
        p.first_at.map(|t| t.saturating_add(self.delay_nanos))
    }
}

/// Gathers `load(key)` calls into batch calls of a loader.
///
/// The loader receives distinct keys and must return one result per key, in the same order.
///
/// **Bounds.** The open batch holds at most `max_batch_size` keys. Batches sealed and waiting
/// for the loader are not capped: each was sealed by a caller that then waits for its result,
/// so they never outnumber the callers in flight, and a slow loader holds those callers back
/// (that is the back-pressure). A caller that drops a `load_async` future after its first poll
/// leaves its key in its batch; the key is still loaded, and then dropped.
///
/// # Examples
///
/// ```
/// use pool_core::Batcher;
/// use std::time::Duration;
///
/// // Stands in for `SELECT name FROM users WHERE id IN (...)`.
/// let users = Batcher::builder(|ids: &[u32]| ids.iter().map(|id| Ok::<_, String>(format!("user{id}"))).collect())
///     .max_batch_size(50)
///     .max_delay(Duration::from_millis(1))
///     .build()?;
/// std::thread::scope(|s| {
///     let a = s.spawn(|| users.load(1));
///     let b = s.spawn(|| users.load(2));
///     assert_eq!(a.join().unwrap(), Ok("user1".to_owned()));
///     assert_eq!(b.join().unwrap(), Ok("user2".to_owned()));
/// });
/// # Ok::<(), pool_core::BatcherBuildError>(())
/// ```
///
/// A cheap handle: clones share one batcher (one `Arc`); the dispatcher stops, after sending
/// what is pending, when the last clone drops.
pub struct Batcher<K, V, E> {
    shared: Arc<Shared<K, V, E>>,
    /// Held by every clone; its drop (the last clone's) stops the dispatcher.
    _stopper: Arc<Stopper<K, V, E>>,
}

impl<K, V, E> Clone for Batcher<K, V, E> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared), _stopper: Arc::clone(&self._stopper) }
    }
}

/// Stops the dispatcher when dropped.
struct Stopper<K, V, E> {
    shared: Arc<Shared<K, V, E>>,
    dispatcher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl<K, V, E> fmt::Debug for Batcher<K, V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl<K, V, E> Pending<K, V, E> {
    /// Closes the open batch; later keys start a new one.
    fn seal(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        self.index.clear();
        self.first_at = None;
        let result = std::mem::replace(&mut self.result, BatchResult::new());
        self.sealed.push_back((keys, result));
    }
}

fn dispatch<K: Hash + Eq + Clone, V, E>(s: &Shared<K, V, E>) {
    let mut p = lock(&s.pending);
    // Whether a timed wait for the open batch already ended before the clock said it was due.
    let mut again = false;
    loop {
        if let Some((keys, result)) = p.sealed.pop_front() {
            p.batches += 1;
            drop(p);
            run_batch(s, &keys, &result);
            p = lock(&s.pending);
            continue;
        }
        if p.keys.is_empty() {
            if p.shutdown {
                return;
            }
            again = false;
            p = s.cv.wait(p).unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        }
        let now = s.clock.now_nanos();
        let due = s.due(&p).unwrap_or(now);
        if now < due && !p.shutdown {
            let wait = recheck_after(Duration::from_nanos(due - now), again);
            let (guard, timeout) =
                s.cv.wait_timeout(p, wait).unwrap_or_else(std::sync::PoisonError::into_inner);
            p = guard;
            again |= timeout.timed_out();
            continue;
        }
        again = false;
        p.seal();
    }
}

fn run_batch<K, V, E>(s: &Shared<K, V, E>, keys: &[K], result: &BatchResult<V, E>) {
    let outcome = match catch_unwind(AssertUnwindSafe(|| (s.loader)(keys))) {
        Ok(values) if values.len() == keys.len() => Ok(values),
        Ok(values) => Err(BatchError::WrongLength { expected: keys.len(), got: values.len() }),
        Err(_) => Err(BatchError::LoaderPanicked),
    };
    {
        let mut r = lock(&result.results);
        r.done = Some(outcome);
        #[cfg(feature = "async")]
        for w in r.wakers.drain(..) {
            w.wake();
        }
    }
    result.cv.notify_all();
}

impl<K, V, E> Batcher<K, V, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// A batcher with the default size and delay.
    ///
    /// # Errors
    ///
    /// [`BatcherBuildError`] if the dispatcher thread cannot be started (constructors in this
    /// crate never panic on failure).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(k * 2)).collect())?;
    /// assert_eq!(b.load(21), Ok(42));
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    pub fn new(
        loader: impl Fn(&[K]) -> Vec<Result<V, E>> + Send + Sync + 'static,
    ) -> Result<Self, BatcherBuildError> {
        Self::builder(loader).build()
    }

    /// A builder for the batch size, delay and clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::builder(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_batch_size(8)
    ///     .build()?;
    /// assert_eq!(b.config().max_batch_size, 8);
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    pub fn builder(
        loader: impl Fn(&[K]) -> Vec<Result<V, E>> + Send + Sync + 'static,
    ) -> BatcherBuilder<K, V, E> {
        BatcherBuilder::new(Box::new(loader))
    }

    pub(super) fn start(
        loader: Loader<K, V, E>,
        config: BatcherConfig,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                sealed: std::collections::VecDeque::new(),
                keys: Vec::new(),
                index: HashMap::new(),
                first_at: None,
                result: BatchResult::new(),
                shutdown: false,
                batches: 0,
            }),
            cv: Condvar::new(),
            loader,
            delay_nanos: u64::try_from(config.max_delay.as_nanos()).unwrap_or(u64::MAX),
            config,
            clock,
        });
        let s = shared.clone();
        let dispatcher = std::thread::Builder::new()
            .name("pool-core-batcher".into())
            .spawn(move || dispatch(&s))?;
        let stopper =
            Stopper { shared: Arc::clone(&shared), dispatcher: Mutex::new(Some(dispatcher)) };
        Ok(Batcher { shared, _stopper: Arc::new(stopper) })
    }

    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{Batcher, BatcherConfig};
    /// let b = Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())?;
    /// assert_eq!(b.config().max_batch_size, BatcherConfig::DEFAULT_MAX_BATCH_SIZE);
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    #[must_use]
    pub fn config(&self) -> &BatcherConfig {
        &self.shared.config
    }

    /// Batches dispatched so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())?;
    /// b.load(1).unwrap();
    /// assert_eq!(b.batches(), 1);
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    #[must_use]
    pub fn batches(&self) -> u64 {
        lock(&self.shared.pending).batches
    }

    fn enqueue(&self, key: K) -> (Arc<BatchResult<V, E>>, usize) {
        let s = &*self.shared;
        let mut p = lock(&s.pending);
        if let Some(&i) = p.index.get(&key) {
            return (p.result.clone(), i);
        }
        let i = p.keys.len();
        p.keys.push(key.clone());
        p.index.insert(key, i);
        let result = p.result.clone();
        let now = s.clock.now_nanos();
        if i == 0 {
            p.first_at = Some(now);
        }
        // Full, or due on the batcher's clock (the dispatcher may be asleep on the OS timer):
        // close it now so the batch never exceeds its size or, by more than one caller, its
        // delay.
        let seal = i + 1 >= s.config.max_batch_size || s.due(&p).is_some_and(|d| now >= d);
        if seal {
            p.seal();
        }
        // Wake the dispatcher to start the delay, or to send a sealed batch now.
        if i == 0 || seal {
            s.cv.notify_one();
        }
        (result, i)
    }

    /// Loads one key, blocking until its batch has been loaded.
    ///
    /// # Errors
    ///
    /// [`BatchError::Load`] with the loader's error for this key; [`BatchError::WrongLength`] or
    /// [`BatchError::LoaderPanicked`] when the whole batch failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[&str]| k.iter().map(|k| Ok::<_, ()>(k.len())).collect())?;
    /// assert_eq!(b.load("four"), Ok(4));
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    pub fn load(&self, key: K) -> Result<V, BatchError<E>> {
        let (result, idx) = self.enqueue(key);
        let mut r = lock(&result.results);
        loop {
            if let Some(done) = &r.done {
                return pick(done, idx);
            }
            r = result.cv.wait(r).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Loads one key asynchronously (runtime-agnostic).
    ///
    /// # Errors
    ///
    /// As [`Batcher::load`].
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(k + 1)).collect()).unwrap();
    /// assert_eq!(futures::executor::block_on(b.load_async(1)), Ok(2));
    /// ```
    #[cfg(feature = "async")]
    pub async fn load_async(&self, key: K) -> Result<V, BatchError<E>> {
        let (result, idx) = self.enqueue(key);
        std::future::poll_fn(|cx| {
            let mut r = lock(&result.results);
            match &r.done {
                Some(done) => std::task::Poll::Ready(pick(done, idx)),
                None => {
                    if !r.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                        r.wakers.push(cx.waker().clone());
                    }
                    std::task::Poll::Pending
                }
            }
        })
        .await
    }
}

impl<K, V, E> Drop for Stopper<K, V, E> {
    fn drop(&mut self) {
        lock(&self.shared.pending).shutdown = true;
        self.shared.cv.notify_one();
        if let Some(t) = lock(&self.dispatcher).take() {
            // The dispatcher sends what is pending, then exits; its panics are caught per batch.
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::time::Instant;

    #[test]
    fn full_batch_is_sent_without_waiting_for_the_delay() {
        let b = Batcher::builder(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
            .max_batch_size(4)
            .max_delay(Duration::from_secs(60))
            .build()
            .unwrap();
        let barrier = Barrier::new(4);
        let start = Instant::now();
        std::thread::scope(|s| {
            for k in 0..4 {
                let (b, barrier) = (&b, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    assert_eq!(b.load(k), Ok(k));
                });
            }
        });
        assert!(start.elapsed() < Duration::from_secs(30));
        assert_eq!(b.batches(), 1);
    }

    #[cfg(feature = "async")]
    #[test]
    fn a_batch_due_on_the_injected_clock_is_sent_by_the_next_load() {
        use std::future::Future;
        let clock = pool_metrics::ManualClock::new();
        let b = Batcher::builder(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
            .max_delay(Duration::from_secs(3600))
            .clock(clock.clone())
            .build()
            .unwrap();
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut first = Box::pin(b.load_async(1));
        assert!(first.as_mut().poll(&mut cx).is_pending(), "key 1 opens the batch");
        clock.advance(Duration::from_secs(3600));
        // Before the clock was injected this waited an hour of real time.
        assert_eq!(b.load(2), Ok(2));
        assert_eq!(futures::executor::block_on(first), Ok(1));
        assert_eq!(b.batches(), 1, "keys 1 and 2 went out together");
    }

    #[test]
    fn whole_batch_failures_reach_every_caller() {
        let b = Batcher::new(|_k: &[u32]| Vec::<Result<u32, ()>>::new()).unwrap();
        assert_eq!(b.load(1), Err(BatchError::WrongLength { expected: 1, got: 0 }));
        let p =
            Batcher::new(|_k: &[u32]| -> Vec<Result<u32, ()>> { panic!("loader bug") }).unwrap();
        assert_eq!(p.load(1), Err(BatchError::LoaderPanicked));
        assert_eq!(p.load(2), Err(BatchError::LoaderPanicked), "the dispatcher survived");
    }
}

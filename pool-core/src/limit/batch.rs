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
use std::time::{Duration, Instant};

use crate::sync::{Arc, Condvar, Mutex, lock};

/// Default most keys per batch.
pub const DEFAULT_MAX_BATCH_SIZE: usize = 100;
/// Default longest wait for a batch to fill.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_millis(2);

type Loader<K, V, E> = Box<dyn Fn(&[K]) -> Vec<Result<V, E>> + Send + Sync>;

/// Why a `load` got no value.
///
/// # Examples
///
/// ```
/// use pool_core::{BatchError, Batcher};
/// let b = Batcher::new(|keys: &[u32]| keys.iter().map(|k| if *k == 0 { Err("zero") } else { Ok(*k) }).collect());
/// assert_eq!(b.load(0), Err(BatchError::Load("zero")));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError<E> {
    /// The loader's error for this key.
    Load(E),
    /// The loader returned a different number of results than keys; it must return one per key,
    /// in the keys' order.
    WrongLength {
        /// Keys in the batch.
        expected: usize,
        /// Results returned.
        got: usize,
    },
    /// The loader panicked while loading this key's batch.
    LoaderPanicked,
}

impl<E: fmt::Display> fmt::Display for BatchError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Load(e) => e.fmt(f),
            Self::WrongLength { expected, got } => write!(
                f,
                "batch loader returned {got} results for {expected} keys; return one per key, in order"
            ),
            Self::LoaderPanicked => f.write_str("batch loader panicked"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for BatchError<E> {}

/// What is wrong with a batcher configuration.
///
/// # Examples
///
/// ```
/// let err = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|_| Ok::<_, ()>(())).collect())
///     .max_batch_size(0)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "max_batch_size must be > 0, got 0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatcherBuildError {
    /// `max_batch_size` was 0.
    ZeroBatchSize,
    /// `max_delay` was 0.
    ZeroDelay,
    /// The dispatcher thread could not be started.
    Spawn(String),
}

impl fmt::Display for BatcherBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroBatchSize => f.write_str("max_batch_size must be > 0, got 0"),
            Self::ZeroDelay => f.write_str("max_delay must be > 0, got 0ns"),
            Self::Spawn(e) => write!(f, "could not start the batch dispatcher thread: {e}"),
        }
    }
}

impl std::error::Error for BatcherBuildError {}

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
    first_at: Option<Instant>,
    result: Arc<BatchResult<V, E>>,
    shutdown: bool,
    batches: u64,
}

struct Shared<K, V, E> {
    pending: Mutex<Pending<K, V, E>>,
    cv: Condvar,
    loader: Loader<K, V, E>,
    max_batch_size: usize,
    max_delay: Duration,
}

/// Gathers `load(key)` calls into batch calls of a loader.
///
/// The loader receives distinct keys and must return one result per key, in the same order.
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
///     .build()
///     .unwrap();
/// std::thread::scope(|s| {
///     let a = s.spawn(|| users.load(1));
///     let b = s.spawn(|| users.load(2));
///     assert_eq!(a.join().unwrap(), Ok("user1".to_owned()));
///     assert_eq!(b.join().unwrap(), Ok("user2".to_owned()));
/// });
/// ```
pub struct Batcher<K, V, E> {
    shared: Arc<Shared<K, V, E>>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
}

impl<K, V, E> fmt::Debug for Batcher<K, V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher")
            .field("max_batch_size", &self.shared.max_batch_size)
            .field("max_delay", &self.shared.max_delay)
            .finish_non_exhaustive()
    }
}

/// Builder for [`Batcher`].
///
/// # Examples
///
/// ```
/// let b = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
///     .max_batch_size(10)
///     .build()
///     .unwrap();
/// assert_eq!(b.max_batch_size(), 10);
/// ```
#[must_use]
pub struct BatcherBuilder<K, V, E> {
    loader: Loader<K, V, E>,
    max_batch_size: usize,
    max_delay: Duration,
}

impl<K, V, E> fmt::Debug for BatcherBuilder<K, V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatcherBuilder")
            .field("max_batch_size", &self.max_batch_size)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

impl<K, V, E> BatcherBuilder<K, V, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// Most keys per batch (default [`DEFAULT_MAX_BATCH_SIZE`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect()).max_batch_size(5);
    /// # let _ = b;
    /// ```
    pub fn max_batch_size(mut self, n: usize) -> Self {
        self.max_batch_size = n;
        self
    }

    /// Longest wait for a batch to fill, from its first key (default 2 ms).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_delay(std::time::Duration::from_micros(500));
    /// # let _ = b;
    /// ```
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Validates, starts the dispatcher thread and returns the batcher.
    ///
    /// # Errors
    ///
    /// [`BatcherBuildError`] for a zero size or delay, or if the thread cannot be spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_delay(std::time::Duration::ZERO)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "max_delay must be > 0, got 0ns");
    /// ```
    pub fn build(self) -> Result<Batcher<K, V, E>, BatcherBuildError> {
        if self.max_batch_size == 0 {
            return Err(BatcherBuildError::ZeroBatchSize);
        }
        if self.max_delay.is_zero() {
            return Err(BatcherBuildError::ZeroDelay);
        }
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
            loader: self.loader,
            max_batch_size: self.max_batch_size,
            max_delay: self.max_delay,
        });
        let s = shared.clone();
        let dispatcher = std::thread::Builder::new()
            .name("pool-core-batcher".into())
            .spawn(move || dispatch(&s))
            .map_err(|e| BatcherBuildError::Spawn(e.to_string()))?;
        Ok(Batcher { shared, dispatcher: Some(dispatcher) })
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
            p = s.cv.wait(p).unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        }
        let due = p.first_at.map_or(Instant::now(), |t| t + s.max_delay);
        let now = Instant::now();
        if now < due && !p.shutdown {
            p =
                s.cv.wait_timeout(p, due - now)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            continue;
        }
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
    /// # Panics
    ///
    /// If the dispatcher thread cannot be spawned (use the builder for an error instead).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(k * 2)).collect());
    /// assert_eq!(b.load(21), Ok(42));
    /// ```
    #[must_use]
    pub fn new(loader: impl Fn(&[K]) -> Vec<Result<V, E>> + Send + Sync + 'static) -> Self {
        match Self::builder(loader).build() {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// A builder for the batch size and delay.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::builder(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect()).build();
    /// assert!(b.is_ok());
    /// ```
    pub fn builder(
        loader: impl Fn(&[K]) -> Vec<Result<V, E>> + Send + Sync + 'static,
    ) -> BatcherBuilder<K, V, E> {
        BatcherBuilder {
            loader: Box::new(loader),
            max_batch_size: DEFAULT_MAX_BATCH_SIZE,
            max_delay: DEFAULT_MAX_DELAY,
        }
    }

    /// The batch size bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect());
    /// assert_eq!(b.max_batch_size(), pool_core::DEFAULT_MAX_BATCH_SIZE);
    /// ```
    #[must_use]
    pub fn max_batch_size(&self) -> usize {
        self.shared.max_batch_size
    }

    /// Batches dispatched so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(*k)).collect());
    /// b.load(1).unwrap();
    /// assert_eq!(b.batches(), 1);
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
        if i == 0 {
            p.first_at = Some(Instant::now());
        }
        if i + 1 >= s.max_batch_size {
            // Full: close it now so the batch never exceeds the bound.
            p.seal();
        }
        // Wake the dispatcher to start the delay, or to send a full batch now.
        if i == 0 || i + 1 >= s.max_batch_size {
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
    /// let b = pool_core::Batcher::new(|k: &[&str]| k.iter().map(|k| Ok::<_, ()>(k.len())).collect());
    /// assert_eq!(b.load("four"), Ok(4));
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
    /// let b = pool_core::Batcher::new(|k: &[u32]| k.iter().map(|k| Ok::<_, ()>(k + 1)).collect());
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

impl<K, V, E> Drop for Batcher<K, V, E> {
    fn drop(&mut self) {
        lock(&self.shared.pending).shutdown = true;
        self.shared.cv.notify_one();
        if let Some(t) = self.dispatcher.take() {
            // The dispatcher sends what is pending, then exits; its panics are caught per batch.
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

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

    #[test]
    fn whole_batch_failures_reach_every_caller() {
        let b = Batcher::new(|_k: &[u32]| Vec::<Result<u32, ()>>::new());
        assert_eq!(b.load(1), Err(BatchError::WrongLength { expected: 1, got: 0 }));
        let p = Batcher::new(|_k: &[u32]| -> Vec<Result<u32, ()>> { panic!("loader bug") });
        assert_eq!(p.load(1), Err(BatchError::LoaderPanicked));
        assert_eq!(p.load(2), Err(BatchError::LoaderPanicked), "the dispatcher survived");
    }
}

//! Bulk work: `map`, `try_map` (every item settles) and `map_iter` (streaming, bounded window).

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Instant;

use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};

use super::error::{TaskError, panic_message};
use super::handle::TaskHandle;
use super::pool::{ComputePool, Mode};
use super::task::Plain;
use crate::sync::Arc;

impl ComputePool {
    /// Applies `f` to every item on this pool's threads and returns the results in input order
    /// (rayon's `par_iter().map().collect()` inside the pool). The items bypass the queue
    /// (the caller already holds them); each counts in the statistics as one task, but they are
    /// not timed one by one.
    ///
    /// # Panics
    ///
    /// If `f` panics on an item, `map` panics with that payload once the batch stops (the pool
    /// and its threads are unharmed; the panicking item counts as `panicked` and the other
    /// items as `cancelled`, their results discarded). Use [`try_map`](Self::try_map) to keep
    /// every result. Also panics if the pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// let lens = pool.map(vec!["a", "bb", "ccc"], str::len);
    /// assert_eq!(lens, vec![1, 2, 3]);
    /// ```
    pub fn map<P, T, F>(&self, items: P, f: F) -> Vec<T>
    where
        P: IntoParallelIterator,
        P::Iter: IndexedParallelIterator,
        F: Fn(P::Item) -> T + Sync + Send,
        T: Send,
    {
        let iter = items.into_par_iter();
        let n = iter.len();
        let Some(out) = self
            .run_bulk(n, || catch_unwind(AssertUnwindSafe(|| iter.map(&f).collect::<Vec<T>>())))
        else {
            panic!("map on a pool that is shut down");
        };
        let shared = self.shared();
        let stats = &shared.stats;
        match out {
            Ok(v) => {
                stats.work(None).started.add(n as u64);
                stats.work(None).completed.add(n as u64);
                shared.admission.resolved_n(n);
                v
            }
            Err(payload) => {
                stats.work(None).panicked.inc();
                stats.work(None).cancelled.add(n.saturating_sub(1) as u64);
                shared.admission.resolved_n(n);
                resume_unwind(payload)
            }
        }
    }

    /// Applies `f` to every item and returns every outcome in input order, panics included —
    /// the counterpart of JavaScript's `Promise.allSettled`: one failing item never hides the
    /// others. Each item counts in the statistics as one task (`completed` or `panicked`);
    /// on a shut-down pool every item is `Err(Cancelled)` and counts as rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::TaskError;
    ///
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// let out = pool.try_map(vec![1, 0, 4], |x| {
    ///     assert!(x != 0, "zero");
    ///     100 / x
    /// });
    /// assert_eq!(out, vec![Ok(100), Err(TaskError::Panicked("zero".into())), Ok(25)]);
    /// ```
    pub fn try_map<P, T, F>(&self, items: P, f: F) -> Vec<Result<T, TaskError>>
    where
        P: IntoParallelIterator,
        P::Iter: IndexedParallelIterator,
        F: Fn(P::Item) -> T + Sync + Send,
        T: Send,
    {
        let iter = items.into_par_iter();
        let n = iter.len();
        let Some(out) = self.run_bulk(n, || {
            iter.map(|item| {
                catch_unwind(AssertUnwindSafe(|| f(item)))
                    .map_err(|p| TaskError::Panicked(panic_message(p.as_ref())))
            })
            .collect::<Vec<Result<T, TaskError>>>()
        }) else {
            return (0..n).map(|_| Err(TaskError::Cancelled)).collect();
        };
        let shared = self.shared();
        let stats = &shared.stats;
        let panicked = out.iter().filter(|r| r.is_err()).count();
        stats.work(None).started.add(n as u64);
        stats.work(None).panicked.add(panicked as u64);
        stats.work(None).completed.add((n - panicked) as u64);
        shared.admission.resolved_n(n);
        out
    }

    /// The bookkeeping `map` and `try_map` share: admits `n` items at once (counted as
    /// admitted, or as rejected when the pool is shut down, which returns `None`), runs `body`
    /// inside this pool's rayon pool, and adds its wall time to the busy counter. The caller
    /// counts the outcomes and resolves the `n` admissions.
    fn run_bulk<R: Send>(&self, n: usize, body: impl FnOnce() -> R + Send) -> Option<R> {
        let shared = self.shared();
        let stats = &shared.stats;
        if shared.admission.admit_outstanding(n).is_err() {
            stats.submit.rejected.add(n as u64);
            return None;
        }
        stats.submit.admitted.add(n as u64);
        let start = Instant::now();
        let out = self.rayon().install(body);
        stats
            .work(None)
            .busy_nanos
            .add(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        Some(out)
    }

    /// Streams `items` through the pool with at most `window` tasks in flight, yielding results
    /// in input order: the input is pulled lazily, so a huge or endless source never sits in
    /// memory. Each item is an ordinary task (counted, timed, under the queue capacity: when
    /// the queue is full the iterator waits for room whatever the policy, or, on a worker of
    /// this pool, runs the item itself). A `window` of 0 is taken as 1.
    ///
    /// Items submitted after a shutdown yield `Err(Cancelled)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// // An endless source, consumed lazily: only 8 items are ever in flight.
    /// let firsts: Vec<u64> = pool
    ///     .map_iter(1u64.., 8, |x| x * x)
    ///     .take(5)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(firsts, vec![1, 4, 9, 16, 25]);
    /// ```
    pub fn map_iter<It, T, F>(&self, items: It, window: usize, f: F) -> MapIter<It::IntoIter, T, F>
    where
        It: IntoIterator,
        It::Item: Send + 'static,
        F: Fn(It::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        MapIter {
            pool: self.clone(),
            source: items.into_iter(),
            f: Arc::new(f),
            window: window.max(1),
            in_flight: VecDeque::new(),
        }
    }
}

/// The iterator returned by [`ComputePool::map_iter`].
///
/// # Examples
///
/// ```
/// let pool = pool_core::ComputePool::new(2).unwrap();
/// let mut it = pool.map_iter(vec![3, 1, 2], 2, |x| x * 10);
/// assert_eq!(it.next(), Some(Ok(30)));
/// assert_eq!(it.collect::<Vec<_>>(), vec![Ok(10), Ok(20)]);
/// ```
pub struct MapIter<I, T, F> {
    pool: ComputePool,
    source: I,
    f: Arc<F>,
    window: usize,
    in_flight: VecDeque<Option<TaskHandle<T>>>,
}

impl<I, T, F> fmt::Debug for MapIter<I, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapIter")
            .field("window", &self.window)
            .field("in_flight", &self.in_flight.len())
            .finish()
    }
}

impl<I, T, F> Iterator for MapIter<I, T, F>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.in_flight.len() < self.window {
            let Some(item) = self.source.next() else { break };
            let f = Arc::clone(&self.f);
            let handle =
                self.pool.submit_body(Plain(move || f(item)), Mode::Wait, None, |_: &T| false).ok();
            self.in_flight.push_back(handle);
        }
        let front = self.in_flight.pop_front()?;
        Some(match front {
            Some(h) => h.join(),
            None => Err(TaskError::Cancelled),
        })
    }
}

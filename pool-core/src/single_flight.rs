//! Single-flight: concurrent callers asking for the same key share one computation.

use std::fmt;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::compute::{ComputePool, SubmitError, TaskError};
use crate::sync::{Arc, AtomicUsize, Condvar, Mutex, Ordering, lock};

/// Collapses concurrent calls for the same key into one computation: the first caller (the
/// *leader*) computes, the others (*followers*) wait and get a clone of its value.
///
/// Followers never hang and never inherit a leader's failure: if the leader's computation
/// panics, is cancelled or expires, the key is released, the followers wake, and one of them
/// becomes the new leader and runs its own closure (the rest follow it). Only the caller whose
/// own closure failed sees an error. Values are not cached: once a computation finishes, the
/// next call for that key starts a new one.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::{Arc, Barrier};
/// use pool_core::SingleFlight;
///
/// let flight = SingleFlight::<&str, u64>::new();
/// let runs = Arc::new(AtomicUsize::new(0));
/// let gate = Arc::new(Barrier::new(4));
/// let callers: Vec<_> = (0..4)
///     .map(|_| {
///         let (flight, runs, gate) = (flight.clone(), runs.clone(), gate.clone());
///         std::thread::spawn(move || {
///             gate.wait();
///             flight.run("config", || {
///                 runs.fetch_add(1, Ordering::SeqCst);
///                 42
///             })
///         })
///     })
///     .collect();
/// for c in callers {
///     assert_eq!(c.join().unwrap(), Ok(42));
/// }
/// // Usually 1; never more than the number of callers.
/// assert!((1..=4).contains(&runs.load(Ordering::SeqCst)));
/// ```
///
/// A cheap handle: clones share one table of calls (one `Arc`).
pub struct SingleFlight<K, V> {
    /// The calls in flight, by key. A sharded map (dashmap, the workspace's choice) rather than
    /// one `Mutex<HashMap>`: callers for different keys take different shard locks, and no user
    /// code runs while a shard is locked.
    calls: Arc<DashMap<K, Arc<Call<V>>>>,
}

impl<K, V> Clone for SingleFlight<K, V> {
    fn clone(&self) -> Self {
        Self { calls: Arc::clone(&self.calls) }
    }
}

struct Call<V> {
    state: Mutex<CallState<V>>,
    done: Condvar,
    /// Followers waiting now (observability, and lets tests wait for them without sleeping).
    followers: AtomicUsize,
}

enum CallState<V> {
    Running,
    Done(V),
    /// The leader failed; followers must retry (one of them leads next).
    Abandoned,
}

/// Why [`SingleFlight::run_on`] failed for this caller (as leader).
///
/// # Examples
///
/// ```
/// use pool_core::{ComputePool, SingleFlight, SingleFlightError};
///
/// let pool = ComputePool::new(1).unwrap();
/// pool.shutdown();
/// let flight = SingleFlight::<u8, u8>::new();
/// assert!(matches!(flight.run_on(&pool, 1, || 1), Err(SingleFlightError::Submit(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SingleFlightError {
    /// The computation panicked, expired or was cancelled.
    Task(TaskError),
    /// The pool refused the computation.
    Submit(SubmitError),
}

impl fmt::Display for SingleFlightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Task(e) => write!(f, "single-flight computation failed: {e}"),
            Self::Submit(e) => write!(f, "single-flight computation not submitted: {e}"),
        }
    }
}

impl std::error::Error for SingleFlightError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Task(e) => Some(e),
            Self::Submit(e) => Some(e),
        }
    }
}

enum Role<V> {
    Leader(Arc<Call<V>>),
    Follower(Arc<Call<V>>),
}

impl<K, V> SingleFlight<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    /// An empty group.
    ///
    /// # Examples
    ///
    /// ```
    /// let flight = pool_core::SingleFlight::<String, Vec<u8>>::new();
    /// assert_eq!(flight.in_progress(), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self { calls: Arc::new(DashMap::new()) }
    }

    /// Keys with a computation in progress.
    ///
    /// # Examples
    ///
    /// ```
    /// let flight = pool_core::SingleFlight::<u8, u8>::new();
    /// assert_eq!(flight.run(1, || 2), Ok(2));
    /// assert_eq!(flight.in_progress(), 0);
    /// ```
    #[must_use]
    pub fn in_progress(&self) -> usize {
        self.calls.len()
    }

    /// Callers now waiting for the computation in progress for `key` (0 when none runs).
    ///
    /// # Examples
    ///
    /// ```
    /// let flight = pool_core::SingleFlight::<u8, u8>::new();
    /// assert_eq!(flight.followers(&1), 0);
    /// ```
    #[must_use]
    pub fn followers(&self, key: &K) -> usize {
        self.calls.get(key).map_or(0, |c| c.followers.load(Ordering::SeqCst))
    }

    /// Runs `f` on this thread as the leader for `key`, or waits for the current leader's value.
    ///
    /// # Errors
    ///
    /// `TaskError::Panicked` if this caller led and its own `f` panicked (the panic is caught;
    /// waiting followers take over).
    ///
    /// # Examples
    ///
    /// ```
    /// let flight = pool_core::SingleFlight::new();
    /// assert_eq!(flight.run("k", || 7), Ok(7));
    /// ```
    pub fn run<F>(&self, key: K, f: F) -> Result<V, TaskError>
    where
        F: FnOnce() -> V,
    {
        self.lead_or_follow(key, || {
            catch_unwind(AssertUnwindSafe(f))
                .map_err(|p| TaskError::Panicked(super::compute::panic_message(p.as_ref())))
        })
    }

    /// As [`run`](Self::run), but the leader computes on `pool` (followers just wait, on their
    /// own threads). A leader whose task is cancelled (say by `shutdown_now`), expires or
    /// panics hands the key over to a follower.
    ///
    /// # Errors
    ///
    /// If this caller led: the pool refused the task, or the task panicked, expired or was
    /// cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(2).unwrap();
    /// let flight = pool_core::SingleFlight::new();
    /// assert_eq!(flight.run_on(&pool, 3u32, || 3u32.pow(3)), Ok(27));
    /// ```
    pub fn run_on<F>(&self, pool: &ComputePool, key: K, f: F) -> Result<V, SingleFlightError>
    where
        F: FnOnce() -> V + Send + 'static,
        V: Send + 'static,
    {
        let mut submit_error = None;
        let out = self.lead_or_follow(key, || match pool.submit(f) {
            Ok(h) => h.join(),
            Err(e) => {
                submit_error = Some(e);
                Err(TaskError::Cancelled)
            }
        });
        match (out, submit_error) {
            (Ok(v), _) => Ok(v),
            (Err(_), Some(e)) => Err(SingleFlightError::Submit(e)),
            (Err(e), None) => Err(SingleFlightError::Task(e)),
        }
    }

    fn join_or_lead(&self, key: &K) -> Role<V> {
        match self.calls.entry(key.clone()) {
            Entry::Occupied(e) => Role::Follower(Arc::clone(e.get())),
            Entry::Vacant(e) => {
                let call = Arc::new(Call {
                    state: Mutex::new(CallState::Running),
                    done: Condvar::new(),
                    followers: AtomicUsize::new(0),
                });
                e.insert(Arc::clone(&call));
                Role::Leader(call)
            }
        }
    }

    fn lead_or_follow(
        &self,
        key: K,
        compute: impl FnOnce() -> Result<V, TaskError>,
    ) -> Result<V, TaskError> {
        let call = loop {
            match self.join_or_lead(&key) {
                Role::Leader(call) => break call,
                Role::Follower(call) => {
                    if let Some(v) = call.wait() {
                        return Ok(v);
                    }
                    // The leader failed and released the key: try to lead.
                }
            }
        };
        // Releases the key and wakes followers even if `compute` unwinds past us.
        let mut guard = Release { flight: self, key: &key, call: &call, value: None };
        let out = compute();
        if let Ok(v) = &out {
            guard.value = Some(v.clone());
        }
        drop(guard);
        out
    }
}

impl<V: Clone> Call<V> {
    /// The leader's value, or `None` when the leader failed.
    fn wait(&self) -> Option<V> {
        let mut st = lock(&self.state);
        self.followers.fetch_add(1, Ordering::SeqCst);
        let out = loop {
            match &*st {
                CallState::Running => {
                    st = self.done.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner)
                }
                CallState::Done(v) => break Some(v.clone()),
                CallState::Abandoned => break None,
            }
        };
        self.followers.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

struct Release<'a, K: Hash + Eq, V> {
    flight: &'a SingleFlight<K, V>,
    key: &'a K,
    call: &'a Arc<Call<V>>,
    value: Option<V>,
}

impl<K: Hash + Eq, V> Drop for Release<'_, K, V> {
    fn drop(&mut self) {
        self.flight.calls.remove_if(self.key, |_, c| Arc::ptr_eq(c, self.call));
        *lock(&self.call.state) = match self.value.take() {
            Some(v) => CallState::Done(v),
            None => CallState::Abandoned,
        };
        self.call.done.notify_all();
    }
}

impl<K, V> Default for SingleFlight<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, V> fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleFlight").field("in_progress", &self.calls.len()).finish()
    }
}

//! The pool's statistics, recorded through `pool-metrics`.

use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use pool_metrics::{Counter, Histogram, HistogramSnapshot};

/// Live counters. The submitting side and each worker write their own group on their own cache
/// line, so neither a submitter and a worker nor two workers bounce a line between cores on
/// every task (only the admission counters are shared, and they must be). Worker `i` writes
/// shard `i`; any other thread (a caller running a task itself, a bulk map) writes the last.
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) submit: CachePadded<SubmitSide>,
    work: Box<[CachePadded<WorkSide>]>,
    /// Per-thread-sharded histograms of nanoseconds (pool-metrics shards them by thread).
    pub(crate) queue_wait: Histogram,
    pub(crate) run_time: Histogram,
    pub(crate) created: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct SubmitSide {
    /// Admitted submissions; `submitted` is this plus `rejected`, so a refusal touches one
    /// counter.
    pub(crate) admitted: Counter,
    pub(crate) rejected: Counter,
}

#[derive(Debug, Default)]
pub(crate) struct WorkSide {
    pub(crate) started: Counter,
    pub(crate) completed: Counter,
    pub(crate) failed: Counter,
    pub(crate) panicked: Counter,
    pub(crate) expired: Counter,
    pub(crate) cancelled: Counter,
    /// Nanoseconds spent inside task bodies, for utilisation.
    pub(crate) busy_nanos: Counter,
}

impl Stats {
    pub(crate) fn new(threads: usize) -> Self {
        Self {
            submit: CachePadded::new(SubmitSide::default()),
            work: (0..=threads).map(|_| CachePadded::new(WorkSide::default())).collect(),
            queue_wait: Histogram::new(),
            run_time: Histogram::new(),
            created: Instant::now(),
        }
    }

    /// The work-side shard for worker `index` (`None`: not a worker, use the shared last one).
    pub(crate) fn work(&self, index: Option<usize>) -> &WorkSide {
        let last = self.work.len() - 1;
        &self.work[index.map_or(last, |i| i.min(last))]
    }

    fn sum(&self, field: impl Fn(&WorkSide) -> &Counter) -> u64 {
        self.work.iter().map(|w| field(w).get()).sum()
    }

    pub(crate) fn snapshot(
        &self,
        in_flight: u64,
        queue_len: u64,
        threads: usize,
        limit: usize,
    ) -> ComputePoolStats {
        let elapsed = self.created.elapsed();
        let busy = self.sum(|w| &w.busy_nanos);
        let capacity = elapsed.as_nanos() as f64 * threads as f64;
        ComputePoolStats {
            submitted: self.submit.admitted.get() + self.submit.rejected.get(),
            started: self.sum(|w| &w.started),
            completed: self.sum(|w| &w.completed),
            failed: self.sum(|w| &w.failed),
            panicked: self.sum(|w| &w.panicked),
            expired: self.sum(|w| &w.expired),
            cancelled: self.sum(|w| &w.cancelled),
            rejected: self.submit.rejected.get(),
            in_flight,
            queue_len,
            concurrency_limit: limit,
            queue_wait: self.queue_wait.snapshot(),
            run_time: self.run_time.snapshot(),
            busy: Duration::from_nanos(busy),
            utilisation: if capacity > 0.0 { (busy as f64 / capacity).min(1.0) } else { 0.0 },
        }
    }
}

/// A point-in-time copy of a pool's statistics, from [`ComputePool::stats`](crate::ComputePool::stats).
///
/// Every submission attempt is counted once in `submitted` and ends in exactly one of
/// `completed`, `failed`, `panicked`, `expired`, `cancelled` or `rejected`, or is still
/// `in_flight`. The fields are read one by one while the pool runs, so the identity
///
/// `submitted = completed + failed + panicked + expired + cancelled + rejected + in_flight`
///
/// is exact only at quiescence (no submission or task in progress); see
/// [`ComputePoolStats::is_balanced`]. Items of [`ComputePool::map`](crate::ComputePool::map) and
/// [`ComputePool::try_map`](crate::ComputePool::try_map) are counted like tasks but are not
/// timed into the two histograms (timing each cheap item would cost more than the item).
///
/// # Examples
///
/// ```
/// use pool_core::ComputePool;
///
/// let pool = ComputePool::new(2).unwrap();
/// pool.submit(|| 1).unwrap().join().unwrap();
/// let s = pool.stats();
/// assert_eq!((s.submitted, s.completed, s.in_flight), (1, 1, 0));
/// assert!(s.is_balanced());
/// assert_eq!(s.run_time.count, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ComputePoolStats {
    /// Submission attempts, rejected ones included.
    pub submitted: u64,
    /// Tasks whose body began to run.
    pub started: u64,
    /// Tasks that returned normally (and, for `submit_result`, returned `Ok`).
    pub completed: u64,
    /// `submit_result` tasks that returned `Err`.
    pub failed: u64,
    /// Tasks that panicked.
    pub panicked: u64,
    /// Tasks whose deadline passed before they started.
    pub expired: u64,
    /// Tasks cancelled before they started (by the handle or `shutdown_now`).
    pub cancelled: u64,
    /// Submissions refused (queue full, block timeout, shut down).
    pub rejected: u64,
    /// Admitted tasks whose handle has not resolved yet (queued or running); tracked by its own
    /// counter, not derived from the others.
    pub in_flight: u64,
    /// Admitted tasks not yet started; never above the queue capacity.
    pub queue_len: u64,
    /// The adaptive concurrency limit now in force (the thread count when adaptation is off).
    pub concurrency_limit: usize,
    /// Nanoseconds from admission to start, per task.
    pub queue_wait: HistogramSnapshot,
    /// Nanoseconds inside the task body, per task.
    pub run_time: HistogramSnapshot,
    /// Total time spent inside task bodies.
    pub busy: Duration,
    /// `busy / (threads × time since the pool was built)`, in `0.0..=1.0`.
    pub utilisation: f64,
}

impl ComputePoolStats {
    /// Whether `submitted = completed + failed + panicked + expired + cancelled + rejected + in_flight`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::new(1).unwrap();
    /// assert!(pool.stats().is_balanced());
    /// ```
    #[must_use]
    pub fn is_balanced(&self) -> bool {
        self.submitted
            == self.completed
                + self.failed
                + self.panicked
                + self.expired
                + self.cancelled
                + self.rejected
                + self.in_flight
    }
}

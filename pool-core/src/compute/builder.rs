//! Building a [`ComputePool`]: thread count, names, stack size, warm-up, queue and deadlines.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::adaptive::AdaptiveConfig;
use super::pool::ComputePool;

/// What the pool's tasks mostly do; picks the thread count when none is given.
///
/// # Examples
///
/// ```
/// use pool_core::WorkloadKind;
///
/// assert_eq!(WorkloadKind::Cpu.threads_for(8), 8);
/// assert_eq!(WorkloadKind::Io.threads_for(8), 16);
/// assert_eq!(WorkloadKind::Mixed.threads_for(8), 12);
/// assert_eq!(WorkloadKind::Mixed.threads_for(1), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WorkloadKind {
    /// CPU-bound: one thread per core.
    #[default]
    Cpu,
    /// Mostly blocking I/O: two threads per core, so a blocked thread leaves a core busy.
    Io,
    /// Both: one and a half threads per core, rounded up.
    Mixed,
}

impl WorkloadKind {
    /// The thread count for this kind on a machine with `cores` cores (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::WorkloadKind::Cpu.threads_for(0), 1);
    /// ```
    #[must_use]
    pub const fn threads_for(self, cores: usize) -> usize {
        let cores = if cores == 0 { 1 } else { cores };
        match self {
            Self::Cpu => cores,
            Self::Io => cores * 2,
            Self::Mixed => (cores * 3).div_ceil(2),
        }
    }
}

/// What `submit` does when the queue is at capacity. `try_submit` never waits: it always
/// rejects with `QueueFull`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use pool_core::{ComputePool, QueueFullPolicy};
///
/// let pool = ComputePool::builder()
///     .threads(2)
///     .queue_full_policy(QueueFullPolicy::Block { timeout: Some(Duration::from_millis(50)) })
///     .build()
///     .unwrap();
/// assert_eq!(pool.config().queue_full_policy, QueueFullPolicy::Block { timeout: Some(Duration::from_millis(50)) });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueFullPolicy {
    /// Refuse at once with a `QueueFull` [`SubmitError`](crate::SubmitError).
    Reject,
    /// Wait for a free slot, up to `timeout` (forever when `None`), then refuse with `TimedOut`.
    /// A worker of the same pool never waits (it could be the one that has to free the slot):
    /// it runs the task itself, as `CallerRuns` would.
    Block {
        /// How long to wait at most.
        timeout: Option<Duration>,
    },
    /// Run the task on the submitting thread, before `submit` returns; this slows the producer
    /// down exactly as much as the pool is behind.
    CallerRuns,
}

impl Default for QueueFullPolicy {
    /// `Block` without a timeout, the behaviour of a bounded channel.
    fn default() -> Self {
        Self::Block { timeout: None }
    }
}

/// The hook run on every worker thread before it takes work; receives the thread's index.
pub(crate) type WarmUp = Arc<dyn Fn(usize) + Send + Sync>;

/// A pool's effective configuration, as built; read it back with
/// [`ComputePool::config`](crate::ComputePool::config).
///
/// # Examples
///
/// ```
/// use pool_core::{ComputePool, WorkloadKind};
///
/// let pool = ComputePool::builder().workload(WorkloadKind::Io).build().unwrap();
/// let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
/// assert_eq!(pool.config().threads, 2 * cores);
/// assert_eq!(pool.config().queue_capacity, pool_core::ComputePoolConfig::DEFAULT_QUEUE_CAPACITY);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ComputePoolConfig {
    /// Worker threads.
    pub threads: usize,
    /// The workload kind the thread count came from (`None` when set explicitly).
    pub workload: Option<WorkloadKind>,
    /// Thread names are `"{thread_name_prefix}-{index}"`.
    pub thread_name_prefix: String,
    /// Worker stack size in bytes (`None`: rayon's default).
    pub stack_size: Option<usize>,
    /// Most tasks admitted but not started.
    pub queue_capacity: usize,
    /// What `submit` does when the queue is full.
    pub queue_full_policy: QueueFullPolicy,
    /// Deadline given to tasks submitted without one, counted from submission.
    pub default_deadline: Option<Duration>,
    /// Adaptive concurrency, with every default filled in.
    pub adaptive: Option<AdaptiveConfig>,
    /// Whether a warm-up hook ran on every worker before `build` returned.
    pub warmed_up: bool,
}

impl ComputePoolConfig {
    /// Most tasks admitted but not yet started, by default. At a few hundred bytes per queued
    /// task this bounds the queue near a few MiB, and it is deep enough that a producer
    /// submitting in bursts keeps every worker of a large machine busy.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 16_384;

    /// Worker threads are named `"compute-{index}"` unless told otherwise.
    pub const DEFAULT_THREAD_NAME_PREFIX: &'static str = "compute";

    /// The smallest stack size accepted: rayon workers need room for their own frames plus the
    /// nested inline joins of this pool (about 1 KiB per level in release builds).
    pub const MIN_STACK_SIZE: usize = 64 * 1024;
}

/// Builds a [`ComputePool`]. Every setting has a default; `build` checks them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use pool_core::{ComputePool, QueueFullPolicy, WorkloadKind};
///
/// let pool = ComputePool::builder()
///     .workload(WorkloadKind::Cpu)
///     .thread_name_prefix("render")
///     .queue_capacity(1024)
///     .queue_full_policy(QueueFullPolicy::Reject)
///     .default_deadline(Duration::from_secs(5))
///     .warm_up(|_index| { /* fill thread-local caches */ })
///     .build()?;
/// assert_eq!(pool.config().queue_capacity, 1024);
/// # Ok::<(), pool_core::ComputePoolBuildError>(())
/// ```
#[must_use]
pub struct ComputePoolBuilder {
    threads: Option<usize>,
    workload: WorkloadKind,
    thread_name_prefix: String,
    stack_size: Option<usize>,
    warm_up: Option<WarmUp>,
    queue_capacity: usize,
    policy: QueueFullPolicy,
    default_deadline: Option<Duration>,
    adaptive: Option<AdaptiveConfig>,
}

impl fmt::Debug for ComputePoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComputePoolBuilder")
            .field("threads", &self.threads)
            .field("workload", &self.workload)
            .field("thread_name_prefix", &self.thread_name_prefix)
            .field("stack_size", &self.stack_size)
            .field("warm_up", &self.warm_up.is_some())
            .field("queue_capacity", &self.queue_capacity)
            .field("policy", &self.policy)
            .field("default_deadline", &self.default_deadline)
            .field("adaptive", &self.adaptive)
            .finish()
    }
}

impl Default for ComputePoolBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ComputePoolBuilder {
    /// A builder with every default: `WorkloadKind::Cpu` threads, [`ComputePoolConfig::DEFAULT_QUEUE_CAPACITY`],
    /// `Block` without timeout, no deadline, no warm-up, no adaptation.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePoolBuilder::new().build().unwrap();
    /// assert!(pool.config().threads >= 1);
    /// ```
    pub fn new() -> Self {
        Self {
            threads: None,
            workload: WorkloadKind::Cpu,
            thread_name_prefix: ComputePoolConfig::DEFAULT_THREAD_NAME_PREFIX.to_string(),
            stack_size: None,
            warm_up: None,
            queue_capacity: ComputePoolConfig::DEFAULT_QUEUE_CAPACITY,
            policy: QueueFullPolicy::default(),
            default_deadline: None,
            adaptive: None,
        }
    }

    /// An explicit thread count (overrides [`workload`](Self::workload)); must be > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::builder().threads(3).build().unwrap();
    /// assert_eq!(pool.config().threads, 3);
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Picks the thread count from the workload kind and the machine's core count.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ComputePool, WorkloadKind};
    ///
    /// let pool = ComputePool::builder().workload(WorkloadKind::Mixed).build().unwrap();
    /// assert_eq!(pool.config().workload, Some(WorkloadKind::Mixed));
    /// ```
    pub fn workload(mut self, kind: WorkloadKind) -> Self {
        self.workload = kind;
        self.threads = None;
        self
    }

    /// Worker thread names become `"{prefix}-{index}"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::builder().threads(1).thread_name_prefix("img").build().unwrap();
    /// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).unwrap().join().unwrap();
    /// assert_eq!(name.as_deref(), Some("img-0"));
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name_prefix = prefix.into();
        self
    }

    /// Worker stack size in bytes; at least [`ComputePoolConfig::MIN_STACK_SIZE`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ComputePool::builder().threads(1).stack_size(8 << 20).build().unwrap();
    /// assert_eq!(pool.config().stack_size, Some(8 << 20));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// A hook run once on every worker thread, with its index, before that thread takes any
    /// task; `build` returns only after every worker has run it. A panic in the hook is caught
    /// and reported by `build` as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let warmed = Arc::new(AtomicUsize::new(0));
    /// let w = Arc::clone(&warmed);
    /// let pool = pool_core::ComputePool::builder()
    ///     .threads(3)
    ///     .warm_up(move |_| { w.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(warmed.load(Ordering::SeqCst), 3);
    /// ```
    pub fn warm_up(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.warm_up = Some(Arc::new(hook));
        self
    }

    /// The most tasks admitted but not yet started; must be > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::ComputePool::builder().queue_capacity(0).build().unwrap_err();
    /// assert_eq!(err.to_string(), "queue_capacity must be > 0, got 0");
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }

    /// What `submit` does when the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ComputePool, QueueFullPolicy};
    ///
    /// let pool = ComputePool::builder().queue_full_policy(QueueFullPolicy::CallerRuns).build().unwrap();
    /// assert_eq!(pool.config().queue_full_policy, QueueFullPolicy::CallerRuns);
    /// ```
    pub fn queue_full_policy(mut self, policy: QueueFullPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A deadline for tasks submitted without one, counted from submission: a task still
    /// queued when it passes resolves to `Err(Expired)` without running. Must be > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = pool_core::ComputePool::builder().default_deadline(Duration::from_secs(1)).build().unwrap();
    /// assert_eq!(pool.config().default_deadline, Some(Duration::from_secs(1)));
    /// ```
    pub fn default_deadline(mut self, deadline: Duration) -> Self {
        self.default_deadline = Some(deadline);
        self
    }

    /// Turns on adaptive concurrency (see [`AdaptiveConfig`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{AdaptiveConfig, ComputePool};
    ///
    /// let pool = ComputePool::builder().threads(2).adaptive(AdaptiveConfig::new()).build().unwrap();
    /// assert!(pool.config().adaptive.is_some());
    /// ```
    pub fn adaptive(mut self, config: AdaptiveConfig) -> Self {
        self.adaptive = Some(config);
        self
    }

    /// Checks the settings, starts the threads and waits for their warm-up.
    ///
    /// # Errors
    ///
    /// A [`ComputePoolBuildError`] saying which setting to fix: zero threads, zero queue capacity, a stack
    /// below [`ComputePoolConfig::MIN_STACK_SIZE`], a zero default deadline, inconsistent adaptive limits, a
    /// warm-up hook that panicked, or threads the OS would not start.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::ComputePoolBuildErrorKind;
    ///
    /// let err = pool_core::ComputePool::builder().threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), ComputePoolBuildErrorKind::ZeroThreads);
    /// assert_eq!(err.to_string(), "threads must be > 0, got 0");
    /// ```
    pub fn build(self) -> Result<ComputePool, ComputePoolBuildError> {
        let (threads, workload) = match self.threads {
            Some(0) => {
                return Err(ComputePoolBuildError::new(
                    ComputePoolBuildErrorKind::ZeroThreads,
                    "threads must be > 0, got 0",
                ));
            }
            Some(n) => (n, None),
            None => {
                let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
                (self.workload.threads_for(cores), Some(self.workload))
            }
        };
        if self.queue_capacity == 0 {
            return Err(ComputePoolBuildError::new(
                ComputePoolBuildErrorKind::ZeroQueueCapacity,
                "queue_capacity must be > 0, got 0",
            ));
        }
        if let Some(s) = self.stack_size
            && s < ComputePoolConfig::MIN_STACK_SIZE
        {
            return Err(ComputePoolBuildError::new(
                ComputePoolBuildErrorKind::StackTooSmall,
                format!(
                    "stack_size must be >= {} bytes, got {s}",
                    ComputePoolConfig::MIN_STACK_SIZE
                ),
            ));
        }
        if self.default_deadline == Some(Duration::ZERO) {
            return Err(ComputePoolBuildError::new(
                ComputePoolBuildErrorKind::ZeroDeadline,
                "default_deadline must be > 0, got 0ns",
            ));
        }
        let adaptive =
            match self.adaptive {
                Some(a) => Some(a.resolve(threads).map_err(|m| {
                    ComputePoolBuildError::new(ComputePoolBuildErrorKind::Adaptive, m)
                })?),
                None => None,
            };
        let config = ComputePoolConfig {
            threads,
            workload,
            thread_name_prefix: self.thread_name_prefix,
            stack_size: self.stack_size,
            queue_capacity: self.queue_capacity,
            queue_full_policy: self.policy,
            default_deadline: self.default_deadline,
            adaptive,
            warmed_up: self.warm_up.is_some(),
        };
        ComputePool::start(config, self.warm_up)
    }
}

/// Why [`ComputePoolBuilder::build`] failed; the message says what to fix.
///
/// # Examples
///
/// ```
/// let err = pool_core::ComputePool::builder().stack_size(1).build().unwrap_err();
/// assert_eq!(err.kind(), pool_core::ComputePoolBuildErrorKind::StackTooSmall);
/// assert!(err.to_string().starts_with("stack_size must be >="));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputePoolBuildError {
    kind: ComputePoolBuildErrorKind,
    message: String,
}

/// The kind of [`ComputePoolBuildError`].
///
/// # Examples
///
/// ```
/// let err = pool_core::ComputePool::builder().queue_capacity(0).build().unwrap_err();
/// assert_eq!(err.kind(), pool_core::ComputePoolBuildErrorKind::ZeroQueueCapacity);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ComputePoolBuildErrorKind {
    /// `threads(0)`.
    ZeroThreads,
    /// `queue_capacity(0)`.
    ZeroQueueCapacity,
    /// A stack below [`ComputePoolConfig::MIN_STACK_SIZE`].
    StackTooSmall,
    /// `default_deadline(Duration::ZERO)`.
    ZeroDeadline,
    /// Adaptive limits out of range.
    Adaptive,
    /// The warm-up hook panicked on some worker.
    WarmUpPanicked,
    /// The OS refused to start the threads.
    Spawn,
}

impl ComputePoolBuildError {
    pub(crate) fn new(kind: ComputePoolBuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pool_core::ComputePool::builder().threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), pool_core::ComputePoolBuildErrorKind::ZeroThreads);
    /// ```
    #[must_use]
    pub fn kind(&self) -> ComputePoolBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for ComputePoolBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ComputePoolBuildError {}

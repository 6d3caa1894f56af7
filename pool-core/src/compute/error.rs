//! The errors of the compute pool, each scoped to one operation.

use std::fmt;

/// Why a task resolved without a value.
///
/// Returned by [`TaskHandle::join`](crate::TaskHandle::join) and friends.
///
/// # Examples
///
/// ```
/// use pool_core::{ComputePool, TaskError};
///
/// let pool = ComputePool::new(1).unwrap();
/// let handle = pool.submit(|| -> u32 { panic!("boom") }).unwrap();
/// assert_eq!(handle.join(), Err(TaskError::Panicked("boom".to_string())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// The task panicked; the payload's message (or a placeholder when it was not a string).
    Panicked(String),
    /// The task's deadline passed before it started, so it was never run.
    Expired,
    /// The task was cancelled (by its handle or by [`ComputePool::shutdown_now`](crate::ComputePool::shutdown_now))
    /// before it started, so it was never run.
    Cancelled,
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panicked(msg) => write!(f, "task panicked: {msg}"),
            Self::Expired => f.write_str("task deadline passed before it started"),
            Self::Cancelled => f.write_str("task was cancelled before it started"),
        }
    }
}

impl std::error::Error for TaskError {}

/// Why a submission was refused; the closure is dropped without running.
///
/// # Examples
///
/// ```
/// use pool_core::{ComputePool, SubmitErrorKind};
///
/// let pool = ComputePool::new(1).unwrap();
/// pool.shutdown();
/// let err = pool.submit(|| 1).unwrap_err();
/// assert_eq!(err.kind(), SubmitErrorKind::ShutDown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmitError {
    kind: SubmitErrorKind,
}

/// What kind of [`SubmitError`] happened.
///
/// # Examples
///
/// ```
/// use pool_core::{ComputePool, QueueFullPolicy, SubmitErrorKind};
///
/// let pool = ComputePool::builder()
///     .threads(1)
///     .queue_capacity(1)
///     .queue_full_policy(QueueFullPolicy::Reject)
///     .build()
///     .unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let (started_tx, started_rx) = std::sync::mpsc::channel();
/// // Occupy the only thread, then fill the only queue slot.
/// let busy = pool.submit(move || { started_tx.send(()).unwrap(); rx.recv().unwrap() }).unwrap();
/// started_rx.recv().unwrap();
/// let queued = pool.submit(|| ()).unwrap();
/// assert_eq!(pool.try_submit(|| ()).unwrap_err().kind(), SubmitErrorKind::QueueFull);
/// tx.send(()).unwrap();
/// busy.join().unwrap();
/// queued.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubmitErrorKind {
    /// The queue was at capacity (policy `Reject`, or any `try_submit`).
    QueueFull,
    /// The queue stayed full for the whole `Block` timeout.
    TimedOut,
    /// The pool was shut down; it admits no new work.
    ShutDown,
}

impl SubmitError {
    pub(crate) const fn new(kind: SubmitErrorKind) -> Self {
        Self { kind }
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ComputePool, SubmitErrorKind};
    ///
    /// let pool = ComputePool::new(1).unwrap();
    /// pool.shutdown();
    /// assert_eq!(pool.try_submit(|| ()).unwrap_err().kind(), SubmitErrorKind::ShutDown);
    /// ```
    #[must_use]
    pub const fn kind(&self) -> SubmitErrorKind {
        self.kind
    }

    /// Whether the queue was full (the typed `QueueFull` rejection).
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::ComputePool;
    ///
    /// let pool = ComputePool::new(1).unwrap();
    /// pool.shutdown();
    /// assert!(!pool.try_submit(|| ()).unwrap_err().is_queue_full());
    /// ```
    #[must_use]
    pub const fn is_queue_full(&self) -> bool {
        matches!(self.kind, SubmitErrorKind::QueueFull)
    }
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SubmitErrorKind::QueueFull => f.write_str(
                "queue is full; raise queue_capacity or use the Block or CallerRuns policy",
            ),
            SubmitErrorKind::TimedOut => f.write_str(
                "queue stayed full for the whole block timeout; raise the timeout or the capacity",
            ),
            SubmitErrorKind::ShutDown => f.write_str("pool is shut down and admits no new work"),
        }
    }
}

impl std::error::Error for SubmitError {}

/// Turns a panic payload into the message carried by [`TaskError::Panicked`].
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

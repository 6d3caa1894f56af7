//! A cancellation flag a running task can poll.

use std::fmt;

use crate::sync::{Arc, AtomicBool, Ordering};

/// Something that can be flagged as cancelled; a task's own cell is one, so handing a task its
/// token costs a reference-count bump rather than an allocation.
pub(crate) trait CancelFlag: Send + Sync {
    fn is_cancelled(&self) -> bool;
    fn cancel(&self);
}

impl CancelFlag for AtomicBool {
    fn is_cancelled(&self) -> bool {
        self.load(Ordering::Acquire)
    }

    fn cancel(&self) {
        self.store(true, Ordering::Release);
    }
}

/// A cheaply cloned cancellation flag.
///
/// A task submitted with [`ComputePool::submit_cancellable`](crate::ComputePool::submit_cancellable)
/// receives the token of its own handle and may poll it to stop early; cancelling is cooperative
/// once a task runs (a queued task is simply never run). A standalone token from
/// [`CancellationToken::new`] can be shared by any number of tasks.
///
/// # Examples
///
/// ```
/// use pool_core::CancellationToken;
///
/// let token = CancellationToken::new();
/// let seen_by_task = token.clone();
/// assert!(!seen_by_task.is_cancelled());
/// token.cancel();
/// assert!(seen_by_task.is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancellationToken {
    flag: Arc<dyn CancelFlag>,
}

impl CancellationToken {
    /// A new token, not cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!pool_core::CancellationToken::new().is_cancelled());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self { flag: Arc::new(AtomicBool::new(false)) }
    }

    pub(crate) fn from_flag(flag: Arc<dyn CancelFlag>) -> Self {
        Self { flag }
    }

    /// Whether [`cancel`](Self::cancel) has been called on this token or any clone.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = pool_core::CancellationToken::new();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.flag.is_cancelled()
    }

    /// Flags the token (and every clone) as cancelled. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = pool_core::CancellationToken::new();
    /// token.cancel();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.flag.cancel();
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken").field("cancelled", &self.is_cancelled()).finish()
    }
}

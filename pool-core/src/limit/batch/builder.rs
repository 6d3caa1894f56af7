//! `BatcherBuilder` and the effective `BatcherConfig`.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use pool_metrics::{Clock, MonotonicClock};

use super::batcher::{Batcher, Loader};
use super::error::{BatcherBuildError, BatcherBuildErrorKind};

/// The batcher's effective configuration, and its defaults as associated constants.
///
/// # Examples
///
/// ```
/// use pool_core::{Batcher, BatcherConfig};
/// let b = Batcher::new(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())?;
/// assert_eq!(b.config().max_batch_size, BatcherConfig::DEFAULT_MAX_BATCH_SIZE);
/// assert_eq!(b.config().max_delay, BatcherConfig::DEFAULT_MAX_DELAY);
/// # Ok::<(), pool_core::BatcherBuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatcherConfig {
    /// Most keys per batch.
    pub max_batch_size: usize,
    /// Longest wait, from a batch's first key, for the batch to fill.
    pub max_delay: Duration,
}

impl BatcherConfig {
    /// Default most keys per batch.
    pub const DEFAULT_MAX_BATCH_SIZE: usize = 100;
    /// Default longest wait for a batch to fill.
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_millis(2);
}

/// Builder for [`Batcher`].
///
/// # Examples
///
/// ```
/// let b = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
///     .max_batch_size(10)
///     .build()?;
/// assert_eq!(b.config().max_batch_size, 10);
/// # Ok::<(), pool_core::BatcherBuildError>(())
/// ```
#[must_use]
pub struct BatcherBuilder<K, V, E> {
    pub(super) loader: Loader<K, V, E>,
    pub(super) config: BatcherConfig,
    pub(super) clock: Arc<dyn Clock>,
}

impl<K, V, E> fmt::Debug for BatcherBuilder<K, V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatcherBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<K, V, E> BatcherBuilder<K, V, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    pub(super) fn new(loader: Loader<K, V, E>) -> Self {
        Self {
            loader,
            config: BatcherConfig {
                max_batch_size: BatcherConfig::DEFAULT_MAX_BATCH_SIZE,
                max_delay: BatcherConfig::DEFAULT_MAX_DELAY,
            },
            clock: Arc::new(MonotonicClock::new()),
        }
    }

    /// Most keys per batch (default [`BatcherConfig::DEFAULT_MAX_BATCH_SIZE`]); a batch that
    /// reaches it is sent at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_batch_size(1)
    ///     .max_delay(std::time::Duration::from_secs(3600))
    ///     .build()?;
    /// assert_eq!(b.load(7), Ok(7)); // sent at once: the batch is full
    /// assert_eq!(b.config().max_batch_size, 1);
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    pub fn max_batch_size(mut self, n: usize) -> Self {
        self.config.max_batch_size = n;
        self
    }

    /// Longest wait for a batch to fill, from its first key (default
    /// [`BatcherConfig::DEFAULT_MAX_DELAY`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_delay(Duration::from_millis(1))
    ///     .build()?;
    /// assert_eq!(b.config().max_delay, Duration::from_millis(1));
    /// assert_eq!(b.load(3), Ok(3));
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.config.max_delay = d;
        self
    }

    /// Reads time from `clock` (default [`MonotonicClock`]) to decide when a batch's delay has
    /// passed; tests pass a [`ManualClock`](crate::ManualClock). The dispatcher still sleeps on
    /// the OS for the remaining delay read from this clock; a `load` that finds the current
    /// batch's delay passed on this clock sends the batch at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{Batcher, ManualClock};
    /// let b = Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_batch_size(1)
    ///     .clock(ManualClock::new())
    ///     .build()?;
    /// assert_eq!(b.load(1), Ok(1));
    /// # Ok::<(), pool_core::BatcherBuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates the configuration and starts the dispatcher thread.
    ///
    /// # Errors
    ///
    /// [`BatcherBuildError`] for a zero batch size or delay, or when the dispatcher thread
    /// cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = pool_core::Batcher::builder(|k: &[u8]| k.iter().map(|k| Ok::<_, ()>(*k)).collect())
    ///     .max_delay(std::time::Duration::ZERO)
    ///     .build();
    /// assert_eq!(r.unwrap_err().to_string(), "max_delay must be > 0, got 0ns");
    /// ```
    pub fn build(self) -> Result<Batcher<K, V, E>, BatcherBuildError> {
        let err = |kind| Err(BatcherBuildError { kind });
        if self.config.max_batch_size == 0 {
            return err(BatcherBuildErrorKind::ZeroBatchSize);
        }
        if self.config.max_delay.is_zero() {
            return err(BatcherBuildErrorKind::ZeroDelay);
        }
        Batcher::start(self.loader, self.config, self.clock)
            .map_err(|e| BatcherBuildError { kind: BatcherBuildErrorKind::Spawn(e.to_string()) })
    }
}

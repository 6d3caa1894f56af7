//! Errors of the batcher: a rejected configuration, a load that got no value.

use std::fmt;

/// Why a `load` got no value.
///
/// # Examples
///
/// ```
/// use pool_core::{BatchError, Batcher};
/// let b = Batcher::new(|keys: &[u32]| keys.iter().map(|k| if *k == 0 { Err("zero") } else { Ok(*k) }).collect())?;
/// assert_eq!(b.load(0), Err(BatchError::Load("zero")));
/// # Ok::<(), pool_core::BatcherBuildError>(())
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

/// What is wrong with a batcher configuration; [`kind`](Self::kind) says what.
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
pub struct BatcherBuildError {
    pub(super) kind: BatcherBuildErrorKind,
}

/// The kind of a [`BatcherBuildError`].
///
/// # Examples
///
/// ```
/// use pool_core::{Batcher, BatcherBuildErrorKind};
/// let err = Batcher::builder(|k: &[u8]| k.iter().map(|_| Ok::<_, ()>(())).collect())
///     .max_delay(std::time::Duration::ZERO)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.kind(), &BatcherBuildErrorKind::ZeroDelay);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatcherBuildErrorKind {
    /// `max_batch_size` was 0.
    ZeroBatchSize,
    /// `max_delay` was 0.
    ZeroDelay,
    /// The dispatcher thread could not be started; the OS's reason.
    Spawn(String),
}

impl BatcherBuildError {
    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{Batcher, BatcherBuildErrorKind};
    /// let err = Batcher::builder(|k: &[u8]| k.iter().map(|_| Ok::<_, ()>(())).collect())
    ///     .max_batch_size(0)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), &BatcherBuildErrorKind::ZeroBatchSize);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &BatcherBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for BatcherBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BatcherBuildErrorKind::ZeroBatchSize => {
                f.write_str("max_batch_size must be > 0, got 0")
            }
            BatcherBuildErrorKind::ZeroDelay => f.write_str("max_delay must be > 0, got 0ns"),
            BatcherBuildErrorKind::Spawn(e) => {
                write!(f, "could not start the batch dispatcher thread: {e}")
            }
        }
    }
}

impl std::error::Error for BatcherBuildError {}

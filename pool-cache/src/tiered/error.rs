//! The errors of [`TieredCache`](crate::TieredCache): building, loading, writing, flushing.

use crate::codec::CodecError;
use crate::l2::L2Error;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why a [`TieredCacheBuilder`](crate::TieredCacheBuilder) refused to build.
///
/// ```
/// use pool_cache::{TieredCache, TieredBuildErrorKind};
/// use std::time::Duration;
///
/// let err = TieredCache::<u64, u64>::builder(0).build().unwrap_err();
/// assert_eq!(err.kind(), TieredBuildErrorKind::Capacity);
/// let err = TieredCache::<u64, u64>::builder(10).time_to_live(Duration::ZERO).build().unwrap_err();
/// assert_eq!(err.kind(), TieredBuildErrorKind::Duration);
/// ```
#[derive(Debug)]
pub struct TieredBuildError {
    kind: TieredBuildErrorKind,
    message: String,
}

/// What was wrong with a [`TieredCacheBuilder`](crate::TieredCacheBuilder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TieredBuildErrorKind {
    /// The L1 capacity or the write-behind queue capacity is zero.
    Capacity,
    /// A duration that must be positive is zero.
    Duration,
    /// The L1 refused its settings (see the message).
    L1,
    /// The L2's blocking runtime or the write-behind thread could not start.
    Runtime,
    /// A write mode or the invalidation broadcast was chosen without an L2.
    NoL2,
    /// The invalidation broadcast's Redis URL is malformed.
    Broadcast,
}

impl TieredBuildError {
    pub(crate) fn new(kind: TieredBuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What was wrong.
    ///
    /// ```
    /// # use pool_cache::{TieredCache, TieredBuildErrorKind};
    /// let err = TieredCache::<u64, u64>::builder(0).build().unwrap_err();
    /// assert_eq!(err.kind(), TieredBuildErrorKind::Capacity);
    /// ```
    #[must_use]
    pub fn kind(&self) -> TieredBuildErrorKind {
        self.kind
    }
}

impl fmt::Display for TieredBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TieredBuildError {}

/// Why a read-through load gave no value. Every waiter of one flight gets the same error
/// (the loader's error is shared through an `Arc`, as in moka's `try_get_with`); the next call
/// after the flight starts a new one.
///
/// ```
/// use pool_cache::{LoadError, TieredCache};
///
/// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
/// let err = cache.try_get_with(1, || Err::<u64, _>("backend down")).unwrap_err();
/// assert!(matches!(err, LoadError::Loader(ref e) if **e == "backend down"));
/// assert_eq!(cache.try_get_with(1, || Ok::<_, &str>(7)).ok(), Some(7)); // the next call retries
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError<E> {
    /// The loader returned this error (shared with every waiter of its flight).
    Loader(Arc<E>),
    /// The loader panicked; the panic message, if it was a string.
    Panicked(Arc<str>),
    /// This waiter waited [`TieredCacheBuilder::load_wait`](crate::TieredCacheBuilder::load_wait)
    /// for another caller's loader and gave up.
    Timeout(Duration),
}

impl<E> Clone for LoadError<E> {
    fn clone(&self) -> Self {
        match self {
            Self::Loader(e) => Self::Loader(e.clone()),
            Self::Panicked(m) => Self::Panicked(m.clone()),
            Self::Timeout(d) => Self::Timeout(*d),
        }
    }
}

impl<E: fmt::Display> fmt::Display for LoadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Loader(e) => write!(f, "the loader failed: {e}"),
            Self::Panicked(m) => write!(f, "the loader panicked: {m}"),
            Self::Timeout(d) => {
                write!(f, "gave up after waiting {d:?} for another caller's load; raise load_wait")
            }
        }
    }
}

impl<E: StdError + 'static> StdError for LoadError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Loader(e) => Some(&**e),
            _ => None,
        }
    }
}

/// A write the cache could not take or deliver; the key and value come back with it.
///
/// ```
/// use pool_cache::{TieredCache, WriteErrorKind};
/// use std::time::Duration;
///
/// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
/// let err = cache.insert_with_ttl(1, 2, Duration::ZERO).unwrap_err();
/// assert!(matches!(err.kind(), WriteErrorKind::ZeroTtl));
/// assert_eq!(err.into_inner(), (1, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WriteError<K, V> {
    kind: WriteErrorKind,
    key: K,
    value: V,
}

/// Why a write failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteErrorKind {
    /// A TTL of zero: nothing would be stored. Nothing was written.
    ZeroTtl,
    /// The value could not be encoded for the L2. Nothing was written to either tier.
    Encode(CodecError),
    /// Write-through: the L2 refused or could not be reached. The L1 holds the value.
    L2(L2Error),
    /// Write-behind: the queue stayed full for the whole `write_timeout`. Nothing was written.
    QueueFull(Duration),
    /// The write-behind queue is closed ([`TieredCache::close`](crate::TieredCache::close)).
    /// Nothing was written.
    Closed,
}

impl<K, V> WriteError<K, V> {
    pub(crate) fn new(kind: WriteErrorKind, key: K, value: V) -> Self {
        Self { kind, key, value }
    }

    /// Why the write failed.
    ///
    /// ```
    /// # use pool_cache::{TieredCache, WriteErrorKind};
    /// # let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// let err = cache.insert_with_ttl(1, 2, std::time::Duration::ZERO).unwrap_err();
    /// assert!(matches!(err.kind(), WriteErrorKind::ZeroTtl));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> &WriteErrorKind {
        &self.kind
    }

    /// The key and value of the write, handed back.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// # let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// let err = cache.insert_with_ttl(3, 4, std::time::Duration::ZERO).unwrap_err();
    /// assert_eq!(err.into_inner(), (3, 4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> (K, V) {
        (self.key, self.value)
    }
}

impl<K, V> fmt::Debug for WriteError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteError").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl<K, V> fmt::Display for WriteError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WriteErrorKind::ZeroTtl => f.write_str("ttl must be > 0, got 0"),
            WriteErrorKind::Encode(e) => write!(f, "cannot encode the value for the l2: {e}"),
            WriteErrorKind::L2(e) => write!(f, "the l2 write failed (the l1 holds the value): {e}"),
            WriteErrorKind::QueueFull(d) => write!(
                f,
                "the write-behind queue stayed full for {d:?}; raise queue_capacity or write_timeout"
            ),
            WriteErrorKind::Closed => f.write_str("the cache is closed; build a new one to write"),
        }
    }
}

impl<K, V> StdError for WriteError<K, V> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            WriteErrorKind::Encode(e) => Some(e),
            WriteErrorKind::L2(e) => Some(e),
            _ => None,
        }
    }
}

/// [`TieredCache::flush`](crate::TieredCache::flush) ran out of time with writes still queued.
///
/// ```
/// use pool_cache::TieredCache;
/// let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
/// assert!(cache.flush().is_ok()); // nothing queued
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushError {
    pub(crate) pending: usize,
    pub(crate) waited: Duration,
}

impl FlushError {
    /// How many writes were still queued when the wait ended.
    ///
    /// ```
    /// # use pool_cache::TieredCache;
    /// # let cache: TieredCache<u64, u64> = TieredCache::builder(10).build()?;
    /// if let Err(e) = cache.flush() { assert!(e.pending() > 0); }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending
    }
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} writes still queued after {:?} (is the l2 down?); retry, or close() to take them back",
            self.pending, self.waited
        )
    }
}

impl StdError for FlushError {}

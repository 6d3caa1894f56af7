//! Errors, each scoped to the one operation that returns it.

use std::fmt;

/// Why [`CacheBuilder::build`](crate::CacheBuilder::build) refused a configuration.
///
/// ```
/// use pool_cache::{BuildErrorKind, Cache};
///
/// let err = Cache::<u64, u64>::builder(0).build().unwrap_err();
/// assert_eq!(err.kind(), BuildErrorKind::ZeroCapacity);
/// assert_eq!(err.to_string(), "capacity must be > 0, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    kind: BuildErrorKind,
    message: String,
}

/// The kind of a [`BuildError`].
///
/// ```
/// use pool_cache::{BuildErrorKind, Cache};
///
/// let err = Cache::<u64, u64>::builder(10).shards(3).build().unwrap_err();
/// assert_eq!(err.kind(), BuildErrorKind::Shards);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// The capacity (entries or weight) was zero.
    ZeroCapacity,
    /// The shard count was zero, not a power of two, or larger than the capacity.
    Shards,
    /// A time-to-live or time-to-idle was zero.
    ZeroDuration,
    /// The core count given to [`CacheBuilder::cores`](crate::CacheBuilder::cores) was zero
    /// or above [`MAX_CORES`](crate::MAX_CORES).
    Cores,
}

impl BuildError {
    pub(crate) fn new(kind: BuildErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What was wrong with the configuration.
    ///
    /// ```
    /// use pool_cache::{BuildErrorKind, Cache};
    /// use std::time::Duration;
    ///
    /// let err = Cache::<u64, u64>::builder(10).time_to_live(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.kind(), BuildErrorKind::ZeroDuration);
    /// ```
    #[must_use]
    pub fn kind(&self) -> BuildErrorKind {
        self.kind
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {}

/// An entry [`Cache::try_insert`](crate::Cache::try_insert) refused; the key and value are
/// handed back so nothing is silently lost.
///
/// ```
/// use pool_cache::{Cache, InsertErrorKind};
///
/// let cache: Cache<&str, String> =
///     Cache::builder(10).weigher(|_k, v: &String| v.len() as u64).build()?;
/// let err = cache.try_insert("big", "x".repeat(11)).unwrap_err();
/// assert_eq!(err.kind(), InsertErrorKind::TooHeavy { weight: 11, capacity: 10 });
/// assert_eq!(err.to_string(), "entry weighs 11, more than the 10 its shard can hold; raise the capacity or lower the shard count");
/// let (key, value) = err.into_inner();
/// assert_eq!((key, value.len()), ("big", 11));
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
pub struct InsertError<K, V> {
    key: K,
    value: V,
    kind: InsertErrorKind,
}

/// The kind of an [`InsertError`].
///
/// ```
/// use pool_cache::InsertErrorKind;
///
/// let kind = InsertErrorKind::TooHeavy { weight: 3, capacity: 2 };
/// assert!(matches!(kind, InsertErrorKind::TooHeavy { .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InsertErrorKind {
    /// The entry alone weighs more than the capacity of the shard it maps to (the whole
    /// capacity divided by the shard count).
    TooHeavy {
        /// The weigher's verdict on the entry.
        weight: u64,
        /// The capacity it had to fit in.
        capacity: u64,
    },
}

impl<K, V> InsertError<K, V> {
    pub(crate) fn new(key: K, value: V, kind: InsertErrorKind) -> Self {
        Self { key, value, kind }
    }

    /// Why the entry was refused.
    ///
    /// ```
    /// use pool_cache::{Cache, InsertErrorKind};
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(1).weigher(|_, v| *v).build()?;
    /// let err = cache.try_insert(1, 5).unwrap_err();
    /// assert!(matches!(err.kind(), InsertErrorKind::TooHeavy { weight: 5, .. }));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> InsertErrorKind {
        self.kind
    }

    /// The refused key and value.
    ///
    /// ```
    /// use pool_cache::Cache;
    ///
    /// let cache: Cache<u64, u64> = Cache::builder(1).weigher(|_, v| *v).build()?;
    /// let (k, v) = cache.try_insert(7, 5).unwrap_err().into_inner();
    /// assert_eq!((k, v), (7, 5));
    /// # Ok::<(), pool_cache::BuildError>(())
    /// ```
    #[must_use]
    pub fn into_inner(self) -> (K, V) {
        (self.key, self.value)
    }
}

impl<K, V> fmt::Debug for InsertError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsertError").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl<K, V> fmt::Display for InsertError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            InsertErrorKind::TooHeavy { weight, capacity } => write!(
                f,
                "entry weighs {weight}, more than the {capacity} its shard can hold; raise the capacity or lower the shard count"
            ),
        }
    }
}

impl<K, V> std::error::Error for InsertError<K, V> {}

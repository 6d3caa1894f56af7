//! Errors of the L2 layer: [`L2Error`] for operations, [`L2BuildError`] for builders.

use std::error::Error as StdError;
use std::fmt;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// Why an [`L2`](crate::L2) operation failed.
///
/// A corrupt or foreign record is not an error: it reads as a miss and is counted in
/// [`L2Stats::corrupt`](crate::L2Stats::corrupt).
///
/// ```
/// use pool_cache::{L2, L2ErrorKind, MemoryL2};
/// use std::time::Duration;
///
/// # futures::executor::block_on(async {
/// let l2 = MemoryL2::new(1 << 20)?;
/// let err = l2.set(b"", b"v", Duration::from_secs(1)).await.unwrap_err();
/// assert_eq!(err.kind(), L2ErrorKind::InvalidKey);
/// assert_eq!(err.to_string(), "l2 keys must not be empty");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct L2Error {
    kind: L2ErrorKind,
    message: String,
    source: Option<Source>,
}

/// The kind of an [`L2Error`].
///
/// ```
/// use pool_cache::L2ErrorKind;
///
/// let kind = L2ErrorKind::ValueTooLarge { size: 10, limit: 4 };
/// assert!(kind.is_rejected_input());
/// assert!(!L2ErrorKind::Timeout.is_rejected_input());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum L2ErrorKind {
    /// The backend cannot be reached (connection refused or dropped, not connected yet).
    Unavailable,
    /// The backend did not answer within the configured timeout.
    Timeout,
    /// The server refused the credentials.
    Auth,
    /// A value larger than the backend's limit; nothing was written.
    ValueTooLarge {
        /// The value's size in bytes.
        size: usize,
        /// The largest value the backend accepts.
        limit: usize,
    },
    /// An empty key.
    InvalidKey,
    /// A time to live of zero; nothing was written.
    InvalidTtl,
    /// Any other failure of the backend; [`std::error::Error::source`] has the cause.
    Backend,
}

impl L2ErrorKind {
    /// True for the kinds that reject the caller's input (too large, empty key, zero TTL)
    /// rather than report the backend's state; retrying such a call cannot help.
    ///
    /// ```
    /// assert!(pool_cache::L2ErrorKind::InvalidTtl.is_rejected_input());
    /// ```
    #[must_use]
    pub fn is_rejected_input(self) -> bool {
        matches!(self, Self::ValueTooLarge { .. } | Self::InvalidKey | Self::InvalidTtl)
    }
}

impl L2Error {
    pub(crate) fn new(kind: L2ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    #[cfg_attr(not(any(feature = "disk", feature = "redis")), allow(dead_code))]
    pub(crate) fn with_source(
        kind: L2ErrorKind,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Self { kind, message: message.into(), source: Some(source.into()) }
    }

    pub(crate) fn too_large(size: usize, limit: usize) -> Self {
        Self::new(
            L2ErrorKind::ValueTooLarge { size, limit },
            format!(
                "value of {size} bytes is over the l2 limit of {limit} bytes; raise max_value_size or store less"
            ),
        )
    }

    /// What went wrong.
    ///
    /// ```
    /// use pool_cache::{L2, L2ErrorKind, MemoryL2};
    /// use std::time::Duration;
    ///
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// let err = l2.set(b"k", b"v", Duration::ZERO).await.unwrap_err();
    /// assert_eq!(err.kind(), L2ErrorKind::InvalidTtl);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn kind(&self) -> L2ErrorKind {
        self.kind
    }
}

impl fmt::Debug for L2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L2Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for L2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for L2Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn StdError + 'static))
    }
}

/// Why an L2 backend's builder refused to build.
///
/// ```
/// use pool_cache::{L2BuildErrorKind, MemoryL2};
///
/// let err = MemoryL2::new(0).unwrap_err();
/// assert_eq!(err.kind(), L2BuildErrorKind::Capacity);
/// assert_eq!(err.to_string(), "max_bytes must be > 0, got 0");
/// ```
pub struct L2BuildError {
    kind: L2BuildErrorKind,
    message: String,
    source: Option<Source>,
}

/// The kind of an [`L2BuildError`].
///
/// ```
/// use pool_cache::L2BuildErrorKind;
///
/// assert_ne!(L2BuildErrorKind::InvalidUrl, L2BuildErrorKind::Path);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum L2BuildErrorKind {
    /// A byte or value-size bound of zero, or a value limit above the byte bound.
    Capacity,
    /// A duration (timeout, checkpoint interval) of zero.
    ZeroDuration,
    /// A Redis URL that does not parse, or asks for TLS without the `redis-tls` feature.
    InvalidUrl,
    /// A database path whose parent directory is missing or is not a directory.
    Path,
    /// A file that exists but is not a redb database (or is one that is damaged).
    NotADatabase,
    /// The backend failed to open for another reason (I/O, already open by another process).
    Open,
    /// The runtime thread of a [`BlockingL2`](crate::BlockingL2) could not start.
    Runtime,
}

impl L2BuildError {
    pub(crate) fn new(kind: L2BuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    #[cfg_attr(not(any(feature = "disk", feature = "redis")), allow(dead_code))]
    pub(crate) fn with_source(
        kind: L2BuildErrorKind,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Self { kind, message: message.into(), source: Some(source.into()) }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_cache::{L2BuildErrorKind, MemoryL2};
    ///
    /// let err = MemoryL2::builder(100).max_value_size(1000).build().unwrap_err();
    /// assert_eq!(err.kind(), L2BuildErrorKind::Capacity);
    /// ```
    #[must_use]
    pub fn kind(&self) -> L2BuildErrorKind {
        self.kind
    }
}

impl fmt::Debug for L2BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L2BuildError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for L2BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for L2BuildError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn StdError + 'static))
    }
}

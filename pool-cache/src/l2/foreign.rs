//! Public constructors of [`L2Error`] for backends built outside this crate (the sharded and
//! cluster L2s of pool-cluster wrap other backends and must report in the same error type).

use super::error::{L2Error, L2ErrorKind};
use std::error::Error as StdError;

impl L2Error {
    /// An error of `kind` with `message` (lowercase, saying what to fix), for an [`L2`](crate::L2)
    /// implemented outside this crate.
    ///
    /// ```
    /// use pool_cache::{L2Error, L2ErrorKind};
    ///
    /// let err = L2Error::custom(L2ErrorKind::Unavailable, "every node is down");
    /// assert_eq!(err.kind(), L2ErrorKind::Unavailable);
    /// assert_eq!(err.to_string(), "every node is down");
    /// ```
    #[must_use]
    pub fn custom(kind: L2ErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, message)
    }

    /// Like [`custom`](Self::custom), with the underlying cause as the
    /// [`source`](std::error::Error::source).
    ///
    /// ```
    /// use pool_cache::{L2Error, L2ErrorKind};
    /// use std::error::Error;
    ///
    /// let io = std::io::Error::other("connection reset");
    /// let err = L2Error::custom_with_source(L2ErrorKind::Backend, "redis cluster failed", io);
    /// assert_eq!(err.source().map(|s| s.to_string()), Some("connection reset".into()));
    /// ```
    #[must_use]
    pub fn custom_with_source(
        kind: L2ErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Self::with_source(kind, message, source)
    }
}

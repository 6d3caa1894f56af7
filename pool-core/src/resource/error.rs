//! `GetError`: why a checkout failed.

use std::fmt;
use std::time::Duration;

/// Why [`crate::ResourcePool::get`] returned no resource.
///
/// # Examples
///
/// ```
/// use pool_core::{GetError, Manager, ResourcePool};
/// use std::time::Duration;
///
/// struct Down;
/// impl Manager for Down {
///     type Resource = ();
///     type Error = String;
///     fn create(&self, _: Duration) -> Result<(), String> { Err("connection refused".into()) }
/// }
///
/// let pool = ResourcePool::new(Down);
/// match pool.get() {
///     Err(GetError::Create(e)) => assert_eq!(e, "connection refused"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GetError<E> {
    /// No resource became free within the acquire timeout.
    Timeout {
        /// How long the caller waited.
        waited: Duration,
    },
    /// The manager failed to create the resource this caller was due; its own error.
    Create(E),
}

impl<E: fmt::Display> fmt::Display for GetError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout { waited } => write!(
                f,
                "no resource became free within {waited:?}; raise max_size or acquire_timeout, or \
                 hold resources for less time"
            ),
            Self::Create(e) => write!(f, "creating a resource failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GetError<E> {}

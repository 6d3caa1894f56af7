//! The `Manager` trait: how the pool creates, checks, recycles and destroys resources.

use std::fmt;
use std::time::Duration;

/// Creates, validates, recycles and destroys the resources of a [`crate::ResourcePool`] (for
/// example, database connections).
///
/// The pool never calls a manager method while holding its own lock, so a slow `create` delays
/// only the caller that needs the new resource.
///
/// # Examples
///
/// ```
/// use pool_core::Manager;
/// use std::time::Duration;
///
/// struct Connections;
///
/// impl Manager for Connections {
///     type Resource = String; // stands in for a connection
///     type Error = std::io::Error;
///
///     fn create(&self, _timeout: Duration) -> Result<String, std::io::Error> {
///         Ok("connected".to_owned())
///     }
///
///     fn recycle(&self, conn: &mut String) -> Result<(), std::io::Error> {
///         conn.clear(); // e.g. roll back an open transaction
///         conn.push_str("connected");
///         Ok(())
///     }
/// }
/// # let _ = pool_core::ResourcePool::new(Connections);
/// ```
pub trait Manager: Send + Sync {
    /// What the pool hands out.
    type Resource: Send;
    /// Why creating, validating or recycling failed.
    type Error: fmt::Debug + fmt::Display + Send;

    /// Makes a new resource. `timeout` is the pool's create timeout capped by what is left of the
    /// caller's acquire timeout: pass it to the driver's connect timeout. The pool cannot
    /// interrupt a blocking call, so a `create` that ignores it delays its caller.
    ///
    /// # Errors
    ///
    /// Whatever the manager reports; the caller of `get` receives it as
    /// [`crate::GetError::Create`] at once.
    fn create(&self, timeout: Duration) -> Result<Self::Resource, Self::Error>;

    /// Checks a resource before handing it out. Called when `test_on_checkout` is on, and always
    /// for a resource whose previous holder panicked. On `Err` the resource is destroyed and
    /// another one taken or created.
    ///
    /// # Errors
    ///
    /// The reason the resource is unusable.
    fn validate(&self, resource: &mut Self::Resource) -> Result<(), Self::Error> {
        let _ = resource;
        Ok(())
    }

    /// Resets a resource when it is given back (not after a panic; see `validate`). On `Err` it
    /// is destroyed instead of going back to the pool.
    ///
    /// # Errors
    ///
    /// The reason the resource cannot be reused.
    fn recycle(&self, resource: &mut Self::Resource) -> Result<(), Self::Error> {
        let _ = resource;
        Ok(())
    }

    /// Disposes of a resource the pool no longer wants (default: drop it).
    fn destroy(&self, resource: Self::Resource, reason: DestroyReason) {
        let _ = reason;
        drop(resource);
    }
}

/// Why the pool destroyed a resource.
///
/// # Examples
///
/// ```
/// assert_eq!(pool_core::DestroyReason::MaxUses.to_string(), "max uses reached");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DestroyReason {
    /// Older than `max_lifetime`.
    MaxLifetime,
    /// Idle longer than `idle_timeout`.
    IdleTimeout,
    /// Used `max_uses` times.
    MaxUses,
    /// `Manager::validate` failed at checkout.
    ValidationFailed,
    /// `Manager::recycle` failed on return.
    RecycleFailed,
    /// The pool was dropped with the resource idle.
    PoolDropped,
}

impl DestroyReason {
    pub(crate) const ALL: [DestroyReason; 6] = [
        Self::MaxLifetime,
        Self::IdleTimeout,
        Self::MaxUses,
        Self::ValidationFailed,
        Self::RecycleFailed,
        Self::PoolDropped,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DestroyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxLifetime => "max lifetime reached",
            Self::IdleTimeout => "idle timeout reached",
            Self::MaxUses => "max uses reached",
            Self::ValidationFailed => "validation failed",
            Self::RecycleFailed => "recycle failed",
            Self::PoolDropped => "pool dropped",
        })
    }
}

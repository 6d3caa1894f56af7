//! How a redis-rs error maps onto the L2 error kinds, shared by every Redis-backed L2.

use crate::l2::L2ErrorKind;
use redis::{ErrorKind, RedisError};

impl L2ErrorKind {
    /// The kind of a redis-rs error: a refused password is [`L2ErrorKind::Auth`], an elapsed
    /// response timeout [`L2ErrorKind::Timeout`], a refused or dropped connection
    /// [`L2ErrorKind::Unavailable`], anything else [`L2ErrorKind::Backend`]. Every Redis-backed
    /// L2 in the workspace (`RedisL2`, pool-cluster's `RedisClusterL2`) classifies with this.
    ///
    /// ```
    /// use pool_cache::L2ErrorKind;
    ///
    /// let refused = redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    /// assert_eq!(L2ErrorKind::from_redis(&refused), L2ErrorKind::Unavailable);
    /// ```
    #[must_use]
    pub fn from_redis(e: &RedisError) -> Self {
        let code = e.code().unwrap_or("");
        if e.kind() == ErrorKind::AuthenticationFailed || matches!(code, "NOAUTH" | "WRONGPASS") {
            L2ErrorKind::Auth
        } else if e.is_timeout() {
            L2ErrorKind::Timeout
        } else if e.is_connection_refusal() || e.is_connection_dropped() || e.is_io_error() {
            L2ErrorKind::Unavailable
        } else {
            L2ErrorKind::Backend
        }
    }
}

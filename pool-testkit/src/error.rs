//! The one error type of the test kit.

use std::fmt;
use std::io;

/// Why a fleet could not be started or a command could not be sent.
#[derive(Debug)]
pub struct RedisError {
    pub(crate) kind: RedisErrorKind,
}

/// The kind of a [`RedisError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum RedisErrorKind {
    /// `redis-server` is not on `PATH`.
    NotInstalled,
    /// The server process could not be spawned or did not answer `PING` in time.
    StartFailed(String),
    /// Talking to a running server failed.
    Io(io::Error),
    /// The server answered with a RESP error (`-ERR ...`, `-WRONGPASS ...`).
    Server(String),
    /// A fleet feature was used on a fleet not built for it (e.g. `create_cluster` without
    /// `cluster_enabled`), or a needed tool (`redis-cli`) is missing.
    Unsupported(String),
    /// The index does not name a server of this fleet.
    NoSuchServer {
        /// The index asked for.
        index: usize,
        /// How many servers the fleet has.
        len: usize,
    },
}

impl RedisError {
    /// What went wrong.
    ///
    /// ```
    /// # use pool_testkit::{RedisFleet, RedisErrorKind};
    /// # let Some(fleet) = RedisFleet::start_or_skip("kind_doc", 1) else { return };
    /// let err = fleet.command(7, &["PING"]).unwrap_err();
    /// assert!(matches!(err.kind(), RedisErrorKind::NoSuchServer { index: 7, len: 1 }));
    /// ```
    pub fn kind(&self) -> &RedisErrorKind {
        &self.kind
    }
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RedisErrorKind::NotInstalled => {
                write!(f, "redis-server is not on PATH; install it (apt-get install redis-server)")
            }
            RedisErrorKind::StartFailed(why) => write!(f, "redis-server did not start: {why}"),
            RedisErrorKind::Io(e) => write!(f, "talking to redis-server failed: {e}"),
            RedisErrorKind::Server(reply) => write!(f, "redis-server answered an error: {reply}"),
            RedisErrorKind::Unsupported(why) => write!(f, "unsupported: {why}"),
            RedisErrorKind::NoSuchServer { index, len } => {
                write!(f, "no server {index} in a fleet of {len}")
            }
        }
    }
}

impl std::error::Error for RedisError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RedisErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for RedisError {
    fn from(e: io::Error) -> Self {
        RedisError { kind: RedisErrorKind::Io(e) }
    }
}

pub(crate) fn err(kind: RedisErrorKind) -> RedisError {
    RedisError { kind }
}

//! [`RedisL2Builder`]: the server, credentials, key prefix and timeouts.

use super::store::RedisL2;
use crate::l2::error::{L2BuildError, L2BuildErrorKind};
use crate::l2::input::DEFAULT_MAX_VALUE_SIZE;
use crate::l2::unix_clock::UnixClock;
use pool_metrics::Clock;
use redis::IntoConnectionInfo;
use redis::aio::ConnectionManagerConfig;
use redis::io::tcp::TcpSettings;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long a connection attempt may take before the call fails (default 1 s).
///
/// ```
/// assert_eq!(pool_cache::DEFAULT_CONNECT_TIMEOUT, std::time::Duration::from_secs(1));
/// ```
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a command may wait for its reply (default 1 s: a loopback or LAN Redis answers in
/// well under a millisecond, so a second means it is gone or stalled).
///
/// ```
/// assert_eq!(pool_cache::DEFAULT_RESPONSE_TIMEOUT, std::time::Duration::from_secs(1));
/// ```
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Keys asked for per `SCAN` step of `delete_prefix` (and unlinked per `UNLINK`).
///
/// ```
/// assert_eq!(pool_cache::DEFAULT_SCAN_COUNT, 1000);
/// ```
pub const DEFAULT_SCAN_COUNT: usize = 1000;

/// Builds a [`RedisL2`]; start with [`RedisL2::builder`].
///
/// ```
/// use pool_cache::RedisL2;
/// use std::time::Duration;
///
/// let l2 = RedisL2::builder("redis://127.0.0.1:6379")
///     .key_prefix("myapp:")
///     .credentials("cache", "s3cret")
///     .response_timeout(Duration::from_millis(250))
///     .build()?; // does not connect: the first call does
/// assert_eq!(l2.key_prefix(), b"myapp:");
/// # Ok::<(), pool_cache::L2BuildError>(())
/// ```
#[must_use = "a builder does nothing until .build()"]
pub struct RedisL2Builder {
    url: String,
    prefix: Vec<u8>,
    credentials: Option<(String, String)>,
    connect_timeout: Duration,
    response_timeout: Duration,
    max_value: usize,
    scan_count: usize,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RedisL2Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisL2Builder")
            .field("prefix", &String::from_utf8_lossy(&self.prefix))
            .field("credentials", &self.credentials.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("max_value_size", &self.max_value)
            .field("scan_count", &self.scan_count)
            .finish_non_exhaustive()
    }
}

impl RedisL2Builder {
    pub(crate) fn new(url: String) -> Self {
        Self {
            url,
            prefix: Vec::new(),
            credentials: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            max_value: DEFAULT_MAX_VALUE_SIZE,
            scan_count: DEFAULT_SCAN_COUNT,
            clock: Arc::new(UnixClock::new()),
        }
    }

    /// Bytes put in front of every key (default none), so several applications or tests share
    /// a server without meeting. Namespaces go inside the key
    /// ([`L2Namespace`](crate::L2Namespace)).
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1").key_prefix("a:").build()?;
    /// assert_eq!(l2.key_prefix(), b"a:");
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<Vec<u8>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// ACL credentials (`AUTH username password`), overriding any in the URL. A password set
    /// with `requirepass` goes with the user `"default"`.
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1").credentials("default", "pw").build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    /// Bound on each connection attempt (default [`DEFAULT_CONNECT_TIMEOUT`]).
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1")
    ///     .connect_timeout(std::time::Duration::from_millis(200))
    ///     .build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Bound on each reply (default [`DEFAULT_RESPONSE_TIMEOUT`]). A call never waits longer
    /// than connect timeout + response timeout in all.
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1")
    ///     .response_timeout(std::time::Duration::from_millis(100))
    ///     .build()?;
    /// assert_eq!(l2.call_timeout(), std::time::Duration::from_millis(1100));
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The largest value accepted (default [`DEFAULT_MAX_VALUE_SIZE`]).
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1").max_value_size(1 << 20).build()?;
    /// assert_eq!(l2.max_value_size(), 1 << 20);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value = bytes;
        self
    }

    /// Keys per `SCAN` step in `delete_prefix` (default [`DEFAULT_SCAN_COUNT`]).
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1").scan_count(100).build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn scan_count(mut self, count: usize) -> Self {
        self.scan_count = count;
        self
    }

    /// The wall clock the expiry in each value's header is read from: nanoseconds since the
    /// Unix epoch (default [`UnixClock`]). It only sets the TTL a read reports; Redis expires
    /// keys by its own clock.
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1")
    ///     .clock(pool_cache::ManualClock::new())
    ///     .build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the settings and builds the backend without connecting: the first call
    /// connects (on the tokio runtime it runs on), so a server that is down at start costs
    /// `Unavailable` or `Timeout` errors, not a failed build, and is used once it is up.
    ///
    /// # Errors
    ///
    /// [`L2BuildErrorKind::InvalidUrl`] for a URL that does not parse (or `rediss://` without
    /// the `redis-tls` feature); [`L2BuildErrorKind::ZeroDuration`] for a zero timeout;
    /// [`L2BuildErrorKind::Capacity`] for a zero value limit or scan count.
    ///
    /// ```
    /// use pool_cache::{L2BuildErrorKind, RedisL2};
    ///
    /// assert_eq!(RedisL2::new("not a url").unwrap_err().kind(), L2BuildErrorKind::InvalidUrl);
    /// ```
    pub fn build(self) -> Result<RedisL2, L2BuildError> {
        if self.connect_timeout.is_zero() || self.response_timeout.is_zero() {
            return Err(L2BuildError::new(
                L2BuildErrorKind::ZeroDuration,
                "redis connect_timeout and response_timeout must be > 0",
            ));
        }
        if self.max_value == 0 || self.scan_count == 0 {
            return Err(L2BuildError::new(
                L2BuildErrorKind::Capacity,
                format!(
                    "max_value_size and scan_count must be > 0, got {} and {}",
                    self.max_value, self.scan_count
                ),
            ));
        }
        let bad_url = |e: redis::RedisError| {
            L2BuildError::with_source(
                L2BuildErrorKind::InvalidUrl,
                format!(
                    "{:?} is not a usable redis url ({e}); expected redis://[user:pass@]host[:port][/db]",
                    redact(&self.url)
                ),
                e,
            )
        };
        let mut info = self.url.as_str().into_connection_info().map_err(bad_url)?;
        if let Some((user, password)) = self.credentials {
            let redis = info.redis_settings().clone().set_username(user).set_password(password);
            info = info.set_redis_settings(redis);
        }
        // redis-rs leaves Nagle's algorithm on; with it a pipelined reply can wait for a
        // delayed ACK (up to 2x latency on small requests).
        let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let address = info.addr().to_string();
        let client = redis::Client::open(info).map_err(bad_url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout))
            // Few, quick retries: a call must fail within its timeout, and the next call
            // tries again anyway.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(200));
        Ok(RedisL2::from_parts(
            client,
            config,
            address,
            self.prefix,
            self.connect_timeout + self.response_timeout,
            self.max_value,
            self.scan_count,
            self.clock,
        ))
    }
}

/// The URL with any password replaced, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("redis://u:secret@h:1/0"), "redis://u:***@h:1/0");
        assert_eq!(redact("redis://:secret@h"), "redis://:***@h");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
    }
}

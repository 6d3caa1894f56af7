//! [`RedisL2`]: commands, batches and the lazily created connection manager.

use super::builder::RedisL2Builder;
use crate::l2::api::{L2, L2Entry, L2Future, Put};
use crate::l2::error::{L2BuildError, L2Error, L2ErrorKind};
use crate::l2::input;
use crate::l2::runtime_local::RuntimeLocal;
use crate::l2::stats::{Counters, L2Stats};
use pool_metrics::Clock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Value};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Deletes `KEYS[1]` only if it holds our header followed by `ARGV[1]`, atomically (a lease
/// release). Lua strings are 1-based: the value starts at byte 10, after the 9-byte header.
const COMPARE_AND_DELETE: &str = "local v = redis.call('GET', KEYS[1]) \
    if v and string.byte(v, 1) == 199 and string.sub(v, 10) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

/// First byte of every value RedisL2 writes (199 in the script above).
const MARK: u8 = 0xC7;

/// Bytes in front of every value RedisL2 stores: a marker byte and the expiry in Unix
/// milliseconds (`u64::MAX` for none), so `get_many` learns values and remaining TTLs from one
/// `MGET` instead of an extra `PTTL` per key (measured: `MGET` + 100 `PTTL`s took 2.8x a bare
/// `MGET` of 100 keys, `l2/redis_get_100`).
///
/// ```
/// assert_eq!(pool_cache::REDIS_VALUE_HEADER_LEN, 9);
/// ```
pub const REDIS_VALUE_HEADER_LEN: usize = 9;

/// An L2 on one Redis server (or anything that speaks its protocol), through redis-rs's
/// reconnecting `ConnectionManager` on tokio.
///
/// - `TCP_NODELAY` on, a connect timeout and a response timeout on every call: a call never
///   waits longer than [`call_timeout`](Self::call_timeout). A server that is down costs
///   [`L2ErrorKind::Unavailable`] or [`L2ErrorKind::Timeout`], never a hang.
/// - Built without connecting: the first call connects, so a server that is down at start is
///   reported unavailable and used as soon as it is up. After a server restart the manager
///   reconnects by itself; nothing needs rebuilding.
/// - Values are stored behind a [`REDIS_VALUE_HEADER_LEN`]-byte header: a marker byte and
///   the expiry in Unix milliseconds from the injectable wall clock
///   ([`RedisL2Builder::clock`]). Redis still expires the key itself (`PX`); the header only
///   lets a read report the remaining TTL without a `PTTL`. A value without the header
///   (written by another program) reads as a miss, counted in [`L2Stats::corrupt`].
/// - `get_many` is one `MGET`, `set_many` one pipeline of `SET … PX`, `delete_prefix` walks `SCAN` + `UNLINK` (never `KEYS`),
///   `set_if_absent` is `SET NX PX` and `compare_and_delete` a Lua script.
/// - A key prefix per backend ([`RedisL2Builder::key_prefix`]); ACL credentials from the URL
///   or [`RedisL2Builder::credentials`]; `rediss://` through rustls with the `redis-tls`
///   feature.
///
/// The connection lives on the tokio runtime of the first call; use the backend from that
/// runtime (or through [`BlockingL2`](crate::BlockingL2), which owns one).
///
/// ```no_run
/// use pool_cache::{L2, RedisL2};
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let l2 = RedisL2::builder("redis://127.0.0.1:6379").key_prefix("myapp:").build()?;
/// l2.set(b"user:1", b"Ada", Duration::from_secs(60)).await?; // SET myapp:user:1 Ada PX 60000
/// assert_eq!(l2.get(b"user:1").await?.map(|e| e.value), Some(b"Ada".to_vec()));
/// # Ok(())
/// # }
/// ```
pub struct RedisL2 {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// One connection per runtime: a connection dies with the runtime that opened it.
    conn: RuntimeLocal<ConnectionManager>,
    address: String,
    prefix: Vec<u8>,
    call_timeout: Duration,
    max_value: usize,
    scan_count: usize,
    cad: redis::Script,
    clock: Arc<dyn Clock>,
    counters: Counters,
}

impl fmt::Debug for RedisL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisL2")
            .field("address", &self.address)
            .field("prefix", &String::from_utf8_lossy(&self.prefix))
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

fn glob_escape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    for &b in bytes {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

impl RedisL2 {
    /// A backend for the server at `url` with the defaults.
    ///
    /// # Errors
    ///
    /// As [`RedisL2Builder::build`].
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::new("redis://127.0.0.1:6379")?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn new(url: impl Into<String>) -> Result<Self, L2BuildError> {
        Self::builder(url).build()
    }

    /// A builder for the server at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` with the `redis-tls` feature).
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::builder("redis://127.0.0.1:6379").build()?;
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisL2Builder {
        RedisL2Builder::new(url.into())
    }

    #[allow(clippy::too_many_arguments)] // one call site: the builder, field by field
    pub(crate) fn from_parts(
        client: redis::Client,
        config: ConnectionManagerConfig,
        address: String,
        prefix: Vec<u8>,
        call_timeout: Duration,
        max_value: usize,
        scan_count: usize,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            config,
            conn: RuntimeLocal::new(),
            address,
            prefix,
            call_timeout,
            max_value,
            scan_count,
            cad: redis::Script::new(COMPARE_AND_DELETE),
            clock,
            counters: Counters::default(),
        }
    }

    /// The bytes in front of every key.
    ///
    /// ```
    /// assert_eq!(pool_cache::RedisL2::new("redis://127.0.0.1")?.key_prefix(), b"");
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn key_prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The most a call waits: connect timeout + response timeout.
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::new("redis://127.0.0.1")?;
    /// assert_eq!(l2.call_timeout(), std::time::Duration::from_secs(2));
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// The largest value accepted.
    ///
    /// ```
    /// let l2 = pool_cache::RedisL2::new("redis://127.0.0.1")?;
    /// assert_eq!(l2.max_value_size(), pool_cache::DEFAULT_MAX_VALUE_SIZE);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn max_value_size(&self) -> usize {
        self.max_value
    }

    fn key(&self, key: &[u8]) -> Vec<u8> {
        [&self.prefix, key].concat()
    }

    fn fail(&self, e: &RedisError) -> L2Error {
        self.counters.failure();
        let kind = L2ErrorKind::from_redis(e);
        let hint = match kind {
            L2ErrorKind::Auth => "; check the username and password",
            L2ErrorKind::Unavailable => "; is the server up?",
            _ => "",
        };
        L2Error::with_source(kind, format!("redis at {}: {e}{hint}", self.address), e.clone())
    }

    /// Runs `op` on the connection, bounded by the call timeout.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, L2Error>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let work = async {
            let conn = self
                .conn
                .get_or_try_init(|| async {
                    // Lazy: creating the manager does not connect; its first command does.
                    ConnectionManager::new_lazy_with_config(
                        self.client.clone(),
                        self.config.clone(),
                    )
                })
                .await
                .map_err(|e| self.fail(&e))?;
            op(conn).await.map_err(|e| self.fail(&e))
        };
        match tokio::time::timeout(self.call_timeout, work).await {
            Ok(out) => out,
            Err(_) => {
                self.counters.failure();
                Err(L2Error::new(
                    L2ErrorKind::Timeout,
                    format!(
                        "redis at {} did not answer within {:?}",
                        self.address, self.call_timeout
                    ),
                ))
            }
        }
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_nanos() / 1_000_000
    }

    /// The stored form of `value`: header, then the bytes.
    fn wrap(&self, value: &[u8], ttl_ms: Option<u64>) -> Vec<u8> {
        let expires =
            ttl_ms.map_or(u64::MAX, |t| self.now_ms().saturating_add(t).min(u64::MAX - 1));
        let mut out = Vec::with_capacity(REDIS_VALUE_HEADER_LEN + value.len());
        out.push(MARK);
        out.extend_from_slice(&expires.to_le_bytes());
        out.extend_from_slice(value);
        out
    }

    /// A stored value back as an entry; one without our header is counted and missed.
    fn unwrap(&self, mut raw: Vec<u8>, now: u64) -> Option<L2Entry> {
        let expires = match raw.get(..REDIS_VALUE_HEADER_LEN) {
            Some([MARK, rest @ ..]) => u64::from_le_bytes(rest.try_into().ok()?),
            _ => {
                self.counters.corrupt();
                return None;
            }
        };
        raw.drain(..REDIS_VALUE_HEADER_LEN);
        // Redis is the judge of expiry (it holds the key only while it lives); a clock behind
        // the writer's only shortens the reported TTL to 1 ms, never turns a hit into a miss.
        let ttl = (expires != u64::MAX)
            .then(|| Duration::from_millis(expires.saturating_sub(now).max(1)));
        Some(L2Entry { value: raw, ttl })
    }

    fn set_cmd(&self, pipe: &mut redis::Pipeline, key: &[u8], value: &[u8], ttl_ms: Option<u64>) {
        let cmd = pipe.cmd("SET").arg(self.key(key)).arg(self.wrap(value, ttl_ms));
        if let Some(ms) = ttl_ms {
            cmd.arg("PX").arg(ms);
        }
        cmd.ignore();
    }

    async fn get_many_now(&self, keys: &[&[u8]]) -> Result<Vec<Option<L2Entry>>, L2Error> {
        input::check_keys(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut mget = redis::cmd("MGET");
        for k in keys {
            mget.arg(self.key(k));
        }
        let values: Vec<Option<Vec<u8>>> =
            self.run(|mut c| async move { mget.query_async(&mut c).await }).await?;
        if values.len() != keys.len() {
            self.counters.failure();
            return Err(L2Error::new(
                L2ErrorKind::Backend,
                format!(
                    "redis at {} answered MGET of {} keys with {} values",
                    self.address,
                    keys.len(),
                    values.len()
                ),
            ));
        }
        let now = self.now_ms();
        Ok(values.into_iter().map(|v| v.and_then(|raw| self.unwrap(raw, now))).collect())
    }
}

impl L2 for RedisL2 {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        Box::pin(async move {
            input::check_key(key)?;
            let mut one = self.get_many_now(&[key]).await?;
            Ok(one.pop().flatten())
        })
    }

    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        Box::pin(self.get_many_now(keys))
    }

    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()> {
        self.set_many_owned(vec![Put::new(key, value, ttl)])
    }

    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
        self.set_many_owned(entries.to_vec())
    }

    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
        Box::pin(async move {
            input::check_key(key)?;
            let k = self.key(key);
            let n: u64 = self
                .run(|mut c| async move { redis::cmd("UNLINK").arg(k).query_async(&mut c).await })
                .await?;
            Ok(n > 0)
        })
    }

    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        Box::pin(async move {
            input::check_keys(keys)?;
            if keys.is_empty() {
                return Ok(0);
            }
            let mut cmd = redis::cmd("UNLINK");
            for k in keys {
                cmd.arg(self.key(k));
            }
            self.run(|mut c| async move { cmd.query_async(&mut c).await }).await
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        Box::pin(async move {
            input::check_prefix(prefix)?;
            let mut pattern = glob_escape(&self.key(prefix));
            pattern.push(b'*');
            let mut cursor: u64 = 0;
            let mut removed = 0;
            // Each step is one SCAN and one UNLINK, each bounded by the call timeout; SCAN
            // ends when the cursor comes back to 0.
            loop {
                let pattern = pattern.clone();
                let count = self.scan_count;
                let (next, keys): (u64, Vec<Vec<u8>>) = self
                    .run(|mut c| async move {
                        redis::cmd("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(pattern)
                            .arg("COUNT")
                            .arg(count)
                            .query_async(&mut c)
                            .await
                    })
                    .await?;
                if !keys.is_empty() {
                    let n: u64 = self
                        .run(|mut c| async move {
                            redis::cmd("UNLINK").arg(keys).query_async(&mut c).await
                        })
                        .await?;
                    removed += n;
                }
                if next == 0 {
                    return Ok(removed);
                }
                cursor = next;
            }
        })
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        Box::pin(async move {
            let ttl = input::check_put(&Put::new(key, value, ttl), self.max_value, &self.counters)?;
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.key(key)).arg(self.wrap(value, ttl)).arg("NX");
            if let Some(ms) = ttl {
                cmd.arg("PX").arg(ms);
            }
            let reply: Value =
                self.run(|mut c| async move { cmd.query_async(&mut c).await }).await?;
            Ok(!matches!(reply, Value::Nil))
        })
    }

    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool> {
        Box::pin(async move {
            input::check_key(key)?;
            let mut invocation = self.cad.key(self.key(key));
            invocation.arg(expected);
            let n: u64 =
                self.run(|mut c| async move { invocation.invoke_async(&mut c).await }).await?;
            Ok(n > 0)
        })
    }

    fn health(&self) -> L2Future<'_, ()> {
        Box::pin(async move {
            let _: String = self
                .run(|mut c| async move { redis::cmd("PING").query_async(&mut c).await })
                .await?;
            Ok(())
        })
    }

    fn stats(&self) -> L2Stats {
        self.counters.snapshot()
    }
}

impl RedisL2 {
    fn set_many_owned<'a>(&'a self, entries: Vec<Put<'a>>) -> L2Future<'a, ()> {
        Box::pin(async move {
            let ttls = entries
                .iter()
                .map(|p| input::check_put(p, self.max_value, &self.counters))
                .collect::<Result<Vec<_>, _>>()?;
            if entries.is_empty() {
                return Ok(());
            }
            let mut pipe = redis::pipe();
            for (p, ttl) in entries.iter().zip(ttls) {
                self.set_cmd(&mut pipe, p.key, p.value, ttl);
            }
            self.run(|mut c| async move { pipe.query_async::<()>(&mut c).await }).await
        })
    }
}

//! [`RedisClusterL2`]: an [`L2`] on a Redis Cluster through redis-rs `cluster-async`, with
//! batches split by hash slot.

use crate::key_slot;
use futures::future::join_all;
use pool_cache::{
    DEFAULT_MAX_VALUE_SIZE, L2, L2Entry, L2Error, L2ErrorKind, L2Future, L2Stats, MAX_TTL, Put,
    RuntimeLocal,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{IntoConnectionInfo, RedisError, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Deletes `KEYS[1]` only if it holds `ARGV[1]`, atomically (a lease release).
const COMPARE_AND_DELETE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Keys per `SCAN` step of `delete_prefix`.
const SCAN_COUNT: usize = 1000;

/// An [`L2`] on a Redis Cluster, for users who already run one: redis-rs's `cluster-async`
/// connection keeps the slot map, routes each command to the slot's master and follows
/// `MOVED` and `ASK` redirects during resharding.
///
/// - Batches are split by hash slot ([`key_slot`]): each slot's keys go as one pipeline
///   (`MGET` + `PTTL`s, or `SET … PX`s) and the slots' pipelines run concurrently. Keys that
///   share a `{hash tag}` share a slot, so tagging related keys makes their batch one round
///   trip.
/// - Every call is bounded by the call timeout (connect and response timeouts of the client,
///   plus an outer bound on the whole call): an unreachable cluster costs
///   [`L2ErrorKind::Unavailable`] or [`L2ErrorKind::Timeout`], never a hang.
/// - `delete_prefix` walks `SCAN` + `UNLINK` on every master; `set_if_absent` is `SET NX PX`
///   and `compare_and_delete` a Lua script on the key's master.
/// - Values are stored as they are (no prefix), readable by `redis-cli` and by
///   [`RedisL2`](pool_cache::RedisL2) pointed at the same keys.
///
/// ```no_run
/// use pool_cache::L2;
/// use pool_cluster::RedisClusterL2;
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let l2 = RedisClusterL2::builder(["redis://127.0.0.1:7000/", "redis://127.0.0.1:7001/"]).build()?;
/// l2.set(b"user:{42}:name", b"Ada", Duration::from_secs(60)).await?;
/// assert!(l2.get(b"user:{42}:name").await?.is_some());
/// # Ok(())
/// # }
/// ```
pub struct RedisClusterL2 {
    client: ClusterClient,
    /// One connection per runtime: a connection dies with the runtime that opened it.
    conn: RuntimeLocal<ClusterConnection>,
    seeds: Vec<String>,
    call_timeout: Duration,
    max_value: usize,
    cad: redis::Script,
    failures: AtomicU64,
    too_large: AtomicU64,
}

impl fmt::Debug for RedisClusterL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisClusterL2")
            .field("seeds", &self.seeds)
            .field("call_timeout", &self.call_timeout)
            .field("max_value", &self.max_value)
            .finish_non_exhaustive()
    }
}

/// Why a [`RedisClusterL2Builder`] refused to build.
///
/// ```
/// use pool_cluster::{RedisClusterL2, RedisClusterBuildErrorKind};
/// let err = RedisClusterL2::builder(Vec::<String>::new()).build().unwrap_err();
/// assert_eq!(err.kind(), &RedisClusterBuildErrorKind::NoNodes);
/// ```
#[derive(Debug)]
pub struct RedisClusterBuildError {
    kind: RedisClusterBuildErrorKind,
    message: String,
}

/// The kind of a [`RedisClusterBuildError`].
///
/// ```
/// use pool_cluster::{RedisClusterBuildErrorKind, RedisClusterL2};
///
/// let err = RedisClusterL2::builder(["not a url"]).build().unwrap_err();
/// let fix = match err.kind() {
///     RedisClusterBuildErrorKind::NoNodes => "give at least one seed",
///     RedisClusterBuildErrorKind::InvalidUrl { .. } => "fix the seed URL",
///     _ => "see the message",
/// };
/// assert_eq!(fix, "fix the seed URL");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisClusterBuildErrorKind {
    /// No seed URL.
    NoNodes,
    /// A seed URL that does not parse.
    InvalidUrl {
        /// The URL given.
        url: String,
    },
    /// A call timeout of zero.
    ZeroDuration,
    /// A value size limit of zero.
    Capacity,
    /// redis-rs refused the client settings.
    Client,
}

impl RedisClusterBuildError {
    fn new(kind: RedisClusterBuildErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What was wrong.
    ///
    /// ```
    /// use pool_cluster::{RedisClusterL2, RedisClusterBuildErrorKind};
    /// let err = RedisClusterL2::builder(["nope"]).build().unwrap_err();
    /// assert_eq!(err.kind(), &RedisClusterBuildErrorKind::InvalidUrl { url: "nope".into() });
    /// ```
    #[must_use]
    pub fn kind(&self) -> &RedisClusterBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for RedisClusterBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RedisClusterBuildError {}

/// Builds a [`RedisClusterL2`]; by value, validated in [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// let l2 = pool_cluster::RedisClusterL2::builder(["redis://127.0.0.1:7000/"])
///     .call_timeout(Duration::from_millis(500))
///     .max_value_size(1 << 20)
///     .build()?;
/// assert_eq!(l2.call_timeout(), Duration::from_millis(500));
/// # Ok::<(), pool_cluster::RedisClusterBuildError>(())
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct RedisClusterL2Builder {
    seeds: Vec<String>,
    call_timeout: Duration,
    max_value: usize,
}

impl RedisClusterL2Builder {
    /// The longest one call may take ([`RedisClusterL2::DEFAULT_CALL_TIMEOUT`]); must be > 0.
    ///
    /// ```
    /// let b = pool_cluster::RedisClusterL2::builder(["redis://127.0.0.1:7000/"]);
    /// assert!(b.call_timeout(std::time::Duration::ZERO).build().is_err());
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The largest value accepted ([`DEFAULT_MAX_VALUE_SIZE`]); must be > 0.
    ///
    /// ```
    /// let b = pool_cluster::RedisClusterL2::builder(["redis://127.0.0.1:7000/"]);
    /// assert!(b.max_value_size(0).build().is_err());
    /// ```
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value = bytes;
        self
    }

    /// Validates the settings and builds the backend without connecting: the first call
    /// connects (and discovers the slot map from the seeds).
    ///
    /// # Errors
    ///
    /// [`RedisClusterBuildError`] for no seed, a seed URL that does not parse, a zero call
    /// timeout or a zero value limit.
    ///
    /// ```
    /// assert!(pool_cluster::RedisClusterL2::builder(["redis://127.0.0.1:7000/"]).build().is_ok());
    /// ```
    pub fn build(self) -> Result<RedisClusterL2, RedisClusterBuildError> {
        use RedisClusterBuildErrorKind as K;
        if self.seeds.is_empty() {
            return Err(RedisClusterBuildError::new(
                K::NoNodes,
                "a redis cluster l2 needs at least one seed url",
            ));
        }
        if self.call_timeout.is_zero() {
            return Err(RedisClusterBuildError::new(
                K::ZeroDuration,
                "call_timeout must be > 0, got 0",
            ));
        }
        if self.max_value == 0 {
            return Err(RedisClusterBuildError::new(
                K::Capacity,
                "max_value_size must be > 0, got 0",
            ));
        }
        let mut infos = Vec::with_capacity(self.seeds.len());
        for url in &self.seeds {
            let info = url.as_str().into_connection_info().map_err(|e| {
                RedisClusterBuildError::new(
                    K::InvalidUrl { url: url.clone() },
                    format!("seed url {url:?} does not parse: {e}"),
                )
            })?;
            infos.push(info);
        }
        let client = ClusterClientBuilder::new(infos)
            .connection_timeout(self.call_timeout)
            .response_timeout(self.call_timeout)
            .build()
            .map_err(|e| {
                RedisClusterBuildError::new(
                    K::Client,
                    format!("redis cluster client refused the settings: {e}"),
                )
            })?;
        Ok(RedisClusterL2 {
            client,
            conn: RuntimeLocal::new(),
            seeds: self.seeds,
            call_timeout: self.call_timeout,
            max_value: self.max_value,
            cad: redis::Script::new(COMPARE_AND_DELETE),
            failures: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
        })
    }
}

fn ttl_millis(ttl: Duration) -> Result<Option<u64>, L2Error> {
    if ttl.is_zero() {
        return Err(L2Error::custom(
            L2ErrorKind::InvalidTtl,
            "l2 ttl must be > 0; delete the key instead of storing it for zero time",
        ));
    }
    if ttl >= MAX_TTL {
        return Ok(None);
    }
    Ok(Some(u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)))
}

fn check_key(key: &[u8]) -> Result<(), L2Error> {
    if key.is_empty() {
        Err(L2Error::custom(L2ErrorKind::InvalidKey, "l2 keys must not be empty"))
    } else {
        Ok(())
    }
}

/// Item indices grouped by hash slot, in slot order.
fn by_slot<'k>(keys: impl Iterator<Item = &'k [u8]>) -> BTreeMap<u16, Vec<usize>> {
    let mut slots: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.enumerate() {
        slots.entry(key_slot(k)).or_default().push(i);
    }
    slots
}

impl RedisClusterL2 {
    /// The call timeout unless the builder says otherwise: 1 s.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(1);

    /// A builder over the seed URLs (any masters of the cluster; the rest are discovered).
    ///
    /// ```
    /// let b = pool_cluster::RedisClusterL2::builder(["redis://127.0.0.1:7000/", "redis://127.0.0.1:7001/"]);
    /// assert!(b.build().is_ok());
    /// ```
    pub fn builder<S: Into<String>>(seeds: impl IntoIterator<Item = S>) -> RedisClusterL2Builder {
        RedisClusterL2Builder {
            seeds: seeds.into_iter().map(Into::into).collect(),
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            max_value: DEFAULT_MAX_VALUE_SIZE,
        }
    }

    /// The bound on every call.
    ///
    /// ```
    /// let l2 = pool_cluster::RedisClusterL2::builder(["redis://127.0.0.1:7000/"]).build()?;
    /// assert_eq!(l2.call_timeout(), pool_cluster::RedisClusterL2::DEFAULT_CALL_TIMEOUT);
    /// # Ok::<(), pool_cluster::RedisClusterBuildError>(())
    /// ```
    #[must_use]
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    fn fail(&self, e: &RedisError) -> L2Error {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let kind = L2ErrorKind::from_redis(e);
        L2Error::custom_with_source(kind, format!("redis cluster {:?}: {e}", self.seeds), e.clone())
    }

    fn check_put(&self, p: &Put<'_>) -> Result<Option<u64>, L2Error> {
        check_key(p.key)?;
        if p.value.len() > self.max_value {
            self.too_large.fetch_add(1, Ordering::Relaxed);
            return Err(L2Error::custom(
                L2ErrorKind::ValueTooLarge { size: p.value.len(), limit: self.max_value },
                format!(
                    "value of {} bytes is over the l2 limit of {} bytes; raise max_value_size or store less",
                    p.value.len(),
                    self.max_value
                ),
            ));
        }
        ttl_millis(p.ttl)
    }

    /// Runs `op` on the (lazily connected) cluster connection, bounded by the call timeout.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, L2Error>
    where
        F: FnOnce(ClusterConnection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let work = async {
            let conn = self
                .conn
                .get_or_try_init(|| self.client.get_async_connection())
                .await
                .map_err(|e| self.fail(&e))?;
            op(conn).await.map_err(|e| self.fail(&e))
        };
        match tokio::time::timeout(self.call_timeout, work).await {
            Ok(out) => out,
            Err(_) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                Err(L2Error::custom(
                    L2ErrorKind::Timeout,
                    format!(
                        "redis cluster {:?} did not answer within {:?}",
                        self.seeds, self.call_timeout
                    ),
                ))
            }
        }
    }

    fn bad_reply(&self, what: &str) -> L2Error {
        self.failures.fetch_add(1, Ordering::Relaxed);
        L2Error::custom(
            L2ErrorKind::Backend,
            format!("redis cluster sent an unexpected reply to {what}"),
        )
    }

    /// `MGET` + `PTTL`s of keys that share one slot, as one pipeline.
    async fn get_slot(&self, keys: Vec<&[u8]>) -> Result<Vec<Option<L2Entry>>, L2Error> {
        let mut mget = redis::cmd("MGET");
        for k in &keys {
            mget.arg(*k);
        }
        let mut pipe = redis::pipe();
        pipe.add_command(mget.clone());
        for k in &keys {
            pipe.cmd("PTTL").arg(*k);
        }
        let keys_ref = &keys;
        let replies: Vec<Value> = self
            .run(|mut c| async move {
                match pipe.query_async::<Vec<Value>>(&mut c).await {
                    // redis-rs follows MOVED and ASK for single commands but hands them back
                    // from a pipeline (the slot is being resharded): resend one by one.
                    Err(e) if e.redirect_node().is_some() => {
                        let mut out = Vec::with_capacity(keys_ref.len() + 1);
                        out.push(mget.query_async::<Value>(&mut c).await?);
                        for k in keys_ref {
                            out.push(
                                redis::cmd("PTTL").arg(*k).query_async::<Value>(&mut c).await?,
                            );
                        }
                        Ok(out)
                    }
                    r => r,
                }
            })
            .await?;
        let mut replies = replies.into_iter();
        let values: Vec<Option<Vec<u8>>> = replies
            .next()
            .and_then(|v| redis::from_redis_value(v).ok())
            .ok_or_else(|| self.bad_reply("MGET"))?;
        let ttls: Vec<i64> = replies
            .map(|v| redis::from_redis_value(v).map_err(|_| self.bad_reply("PTTL")))
            .collect::<Result<_, _>>()?;
        if values.len() != keys.len() || ttls.len() != keys.len() {
            return Err(self.bad_reply("MGET"));
        }
        Ok(values
            .into_iter()
            .zip(ttls)
            .map(|(v, t)| {
                let ttl = match t {
                    -1 => Some(None),
                    n if n > 0 => Some(Some(Duration::from_millis(n.unsigned_abs()))),
                    _ => None,
                };
                v.and_then(|value| ttl.map(|ttl| L2Entry { value, ttl }))
            })
            .collect())
    }

    async fn get_batch(&self, keys: &[&[u8]]) -> Result<Vec<Option<L2Entry>>, L2Error> {
        keys.iter().try_for_each(|k| check_key(k))?;
        let slots = by_slot(keys.iter().copied());
        let results = join_all(
            slots.values().map(|idx| self.get_slot(idx.iter().map(|&i| keys[i]).collect())),
        )
        .await;
        let mut out = vec![None; keys.len()];
        for (idx, r) in slots.values().zip(results) {
            for (&i, v) in idx.iter().zip(r?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    async fn set_batch(&self, entries: &[Put<'_>]) -> Result<(), L2Error> {
        let ttls: Vec<Option<u64>> =
            entries.iter().map(|p| self.check_put(p)).collect::<Result<_, _>>()?;
        let slots = by_slot(entries.iter().map(|p| p.key));
        let results = join_all(slots.values().map(|idx| {
            let cmds: Vec<redis::Cmd> = idx
                .iter()
                .map(|&i| {
                    let mut cmd = redis::cmd("SET");
                    cmd.arg(entries[i].key).arg(entries[i].value);
                    if let Some(ms) = ttls[i] {
                        cmd.arg("PX").arg(ms);
                    }
                    cmd
                })
                .collect();
            let mut pipe = redis::pipe();
            for cmd in &cmds {
                pipe.add_command(cmd.clone()).ignore();
            }
            self.run(|mut c| async move {
                match pipe.query_async::<()>(&mut c).await {
                    // As in get_slot: redirects inside a pipeline are resent one by one.
                    Err(e) if e.redirect_node().is_some() => {
                        for cmd in &cmds {
                            cmd.query_async::<()>(&mut c).await?;
                        }
                        Ok(())
                    }
                    r => r,
                }
            })
        }))
        .await;
        results.into_iter().collect()
    }

    async fn delete_batch(&self, keys: &[&[u8]]) -> Result<u64, L2Error> {
        keys.iter().try_for_each(|k| check_key(k))?;
        let slots = by_slot(keys.iter().copied());
        let results = join_all(slots.values().map(|idx| {
            let mut cmd = redis::cmd("UNLINK");
            for &i in idx {
                cmd.arg(keys[i]);
            }
            self.run(|mut c| async move { cmd.query_async::<u64>(&mut c).await })
        }))
        .await;
        results.into_iter().try_fold(0, |acc, r| r.map(|n| acc + n))
    }

    /// The masters' addresses, from `CLUSTER NODES` on any node.
    async fn masters(&self) -> Result<Vec<(String, u16)>, L2Error> {
        let text: String = self
            .run(|mut c| async move {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
                let v =
                    c.route_command(redis::cmd("CLUSTER").arg("NODES").clone(), routing).await?;
                Ok(redis::from_redis_value(v)?)
            })
            .await?;
        let mut out = Vec::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(addr), Some(flags)) = (f.get(1), f.get(2)) else { continue };
            if !flags.split(',').any(|x| x == "master") || flags.contains("fail") {
                continue;
            }
            let hostport = addr.split('@').next().unwrap_or(addr);
            if let Some((host, port)) = hostport.rsplit_once(':')
                && let Ok(port) = port.parse()
            {
                out.push((host.to_owned(), port));
            }
        }
        if out.is_empty() {
            return Err(self.bad_reply("CLUSTER NODES"));
        }
        Ok(out)
    }

    async fn delete_prefix_on(
        &self,
        host: &str,
        port: u16,
        pattern: &[u8],
    ) -> Result<u64, L2Error> {
        let mut cursor: u64 = 0;
        let mut removed = 0;
        // SCAN ends when the cursor comes back to 0; each step is one SCAN and one UNLINK per
        // slot, each bounded by the call timeout.
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
            let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                host: host.to_owned(),
                port,
            });
            let (next, keys): (u64, Vec<Vec<u8>>) = self
                .run(|mut c| async move {
                    Ok(redis::from_redis_value(c.route_command(scan, routing).await?)?)
                })
                .await?;
            if !keys.is_empty() {
                let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                removed += self.delete_batch(&refs).await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

impl L2 for RedisClusterL2 {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        Box::pin(async move {
            check_key(key)?;
            Ok(self.get_slot(vec![key]).await?.pop().flatten())
        })
    }

    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        Box::pin(self.get_batch(keys))
    }

    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()> {
        Box::pin(async move { self.set_batch(&[Put::new(key, value, ttl)]).await })
    }

    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
        Box::pin(self.set_batch(entries))
    }

    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
        Box::pin(async move { Ok(self.delete_batch(&[key]).await? > 0) })
    }

    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        Box::pin(self.delete_batch(keys))
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        Box::pin(async move {
            if prefix.is_empty() {
                return Err(L2Error::custom(
                    L2ErrorKind::InvalidKey,
                    "delete_prefix needs a non-empty prefix; an empty one would delete everything",
                ));
            }
            let mut pattern = Vec::with_capacity(prefix.len() + 1);
            for &b in prefix {
                if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
                    pattern.push(b'\\');
                }
                pattern.push(b);
            }
            pattern.push(b'*');
            let masters = self.masters().await?;
            let results =
                join_all(masters.iter().map(|(h, p)| self.delete_prefix_on(h, *p, &pattern))).await;
            results.into_iter().try_fold(0, |acc, r| r.map(|n| acc + n))
        })
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        Box::pin(async move {
            let ttl = self.check_put(&Put::new(key, value, ttl))?;
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(value).arg("NX");
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
            check_key(key)?;
            let mut invocation = self.cad.key(key);
            invocation.arg(expected);
            let n: u64 =
                self.run(|mut c| async move { invocation.invoke_async(&mut c).await }).await?;
            Ok(n > 0)
        })
    }

    fn health(&self) -> L2Future<'_, ()> {
        Box::pin(async move {
            let info: String = self
                .run(|mut c| async move {
                    let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
                    Ok(redis::from_redis_value(
                        c.route_command(redis::cmd("CLUSTER").arg("INFO").clone(), routing).await?,
                    )?)
                })
                .await?;
            if info.lines().any(|l| l.trim() == "cluster_state:ok") {
                Ok(())
            } else {
                self.failures.fetch_add(1, Ordering::Relaxed);
                Err(L2Error::custom(
                    L2ErrorKind::Unavailable,
                    "redis cluster reports cluster_state other than ok; check CLUSTER INFO",
                ))
            }
        })
    }

    fn stats(&self) -> L2Stats {
        let mut s = L2Stats::default();
        s.failures = self.failures.load(Ordering::Relaxed);
        s.too_large = self.too_large.load(Ordering::Relaxed);
        s
    }
}

//! The L2 the run uses: a redb file, one Redis server, several behind `pool_cluster::ShardedL2`
//! (sharded by the hash ring, two copies of each key from three servers up, failover through
//! per-node health and breakers), or none. The store sits behind a circuit breaker of its own,
//! so an L2 that fails as a whole costs a few timeouts and is then skipped until it answers.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pool_cache::{BlockingL2, DiskL2, L2Error, L2Namespace, MAX_TTL, RedisL2, ValueCodec};
use std::sync::Arc;

use pool_cluster::{RedisClusterL2, ShardedL2};
use pool_core::{CallError, CircuitBreaker, CircuitState, SlidingWindow};
use serde::{Deserialize, Serialize};

use super::workload::Digest;

/// The redb file's name inside the data directory.
pub const DB_FILE: &str = "pipeline.redb";
/// The longest one Redis call may take (connect and response), before the breaker counts it.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a cross-process lease on a computation lasts: longer than one computation takes,
/// short enough that a process killed while holding one delays the others this long at most.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How long an open node breaker refuses calls before it lets a probe through.
pub const BREAKER_OPEN: Duration = Duration::from_secs(1);

/// Which L2 served the run (the report's `"l2"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum L2Kind {
    /// A redb file under the data directory.
    Disk,
    /// One Redis server.
    Redis,
    /// Several Redis servers sharded by the hash ring.
    Sharded,
    /// A Redis Cluster (its slots place the keys).
    Cluster,
    /// `--redis` was given but no server answered: the L1 alone served.
    Unavailable,
}

impl fmt::Display for L2Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disk => "disk",
            Self::Redis => "redis",
            Self::Sharded => "sharded",
            Self::Cluster => "cluster",
            Self::Unavailable => "unavailable",
        })
    }
}

/// A memoized result as stored in the L2: the value and what it cost to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The computation's result.
    pub digest: Digest,
    /// How long it took to compute, ns (what a hit saves).
    pub compute_nanos: u64,
}

enum Backend {
    Disk(DiskL2),
    Remote(BlockingL2),
}

struct Node {
    name: String,
    backend: Backend,
    breaker: CircuitBreaker,
}

impl Node {
    fn new(name: String, backend: Backend) -> anyhow::Result<Self> {
        let breaker = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(20))
            .minimum_calls(5)
            .failure_rate_threshold(50.0)
            .wait_in_open(BREAKER_OPEN)
            .build()?;
        Ok(Self { name, backend, breaker })
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CallError<L2Error>> {
        self.breaker.call(|| {
            let entry = match &self.backend {
                Backend::Disk(d) => d.get_sync(key)?,
                Backend::Remote(r) => r.get(key)?,
            };
            Ok(entry.map(|e| e.value))
        })
    }

    fn set_if_absent(&self, key: &[u8], value: &[u8]) -> Result<bool, CallError<L2Error>> {
        self.breaker.call(|| match &self.backend {
            // One process owns a redb file: there is nobody to share a lease with.
            Backend::Disk(_) => Ok(true),
            Backend::Remote(r) => r.set_if_absent(key, value, LEASE_TTL),
        })
    }

    fn compare_and_delete(&self, key: &[u8], expected: &[u8]) {
        if let Backend::Remote(r) = &self.backend {
            let _ = self.breaker.call(|| r.compare_and_delete(key, expected));
        }
    }

    fn set(&self, key: &[u8], value: &[u8]) -> Result<(), CallError<L2Error>> {
        self.breaker.call(|| match &self.backend {
            Backend::Disk(d) => d.set_sync(key, value, MAX_TTL),
            Backend::Remote(r) => r.set(key, value, MAX_TTL),
        })
    }
}

/// The L2 of a run, with its own counters.
pub struct L2Store {
    kind: L2Kind,
    nodes: Vec<Node>,
    sharded: Option<Arc<ShardedL2>>,
    urls: Vec<String>,
    replicas: usize,
    namespace: L2Namespace,
    codec: ValueCodec,
    errors: AtomicU64,
    skipped: AtomicU64,
    decode_errors: AtomicU64,
    unreachable: Vec<String>,
}

impl fmt::Debug for L2Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L2Store")
            .field("kind", &self.kind)
            .field("nodes", &self.node_names())
            .field("replicas", &self.replicas)
            .finish_non_exhaustive()
    }
}

/// A lease on computing one key, across processes sharing the L2 (a `SET NX PX` with a random
/// token on the key's first owner, released by a compare-and-delete), as in the memcache leases
/// of "Scaling Memcache at Facebook" (NSDI 2013). Results are deterministic, so a lease that
/// expires early costs a duplicate computation, never a wrong value.
#[derive(Debug)]
pub enum Lease {
    /// This process computes the key; release the lease when the result is written.
    Held {
        /// The lease's key in the L2.
        key: Vec<u8>,
        /// This holder's token.
        token: Vec<u8>,
    },
    /// Another process holds it: wait for its result.
    Busy,
    /// No lease could be taken (no shared L2, or its owner failed): compute.
    Unavailable,
}

/// Outcome of an L2 lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A record was found.
    Hit(Record),
    /// No owner holds the key.
    Miss,
    /// No owner could answer (errors or open breakers).
    Failed,
}

impl L2Store {
    /// Opens the redb file `DIR/pipeline.redb`, creating `dir` if needed; with `fresh`, deletes
    /// the file first.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created (a parent is a regular file), or the file is not a redb
    /// database, or redb cannot open it.
    pub fn disk(dir: &Path, fresh: bool, namespace: L2Namespace) -> anyhow::Result<Self> {
        use anyhow::Context;
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!("--data {} is a file, not a directory; give a directory", dir.display());
        }
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the data directory {} (is a parent a regular file?)",
                dir.display()
            )
        })?;
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let path = dir.join(DB_FILE);
        if fresh && path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("--fresh: cannot delete {}", path.display()))?;
        }
        let disk = DiskL2::builder(&path)
            .max_bytes(256 << 20)
            .build()
            .with_context(|| format!("cannot use {} as the L2", path.display()))?;
        let node = Node::new(path.display().to_string(), Backend::Disk(disk))?;
        Ok(Self::from_nodes(L2Kind::Disk, vec![node], 1, namespace, Vec::new()))
    }

    /// Connects to the Redis servers at `urls`: one is used as is, several are sharded by the
    /// hash ring (two copies of each key from three servers up). Servers that do not answer
    /// a health check now are counted as unreachable but kept (they may come back); when none
    /// answers, the store is [`L2Kind::Unavailable`] and the L1 serves alone. With `fresh`,
    /// deletes this pipeline's keys on every server that answers.
    ///
    /// # Errors
    ///
    /// A URL that does not parse, or a runtime thread that cannot start.
    pub fn redis(urls: &[String], fresh: bool, namespace: L2Namespace) -> anyhow::Result<Self> {
        use anyhow::Context;
        let mut nodes = Vec::with_capacity(urls.len());
        let mut unreachable = Vec::new();
        for url in urls {
            let redis = RedisL2::builder(url.clone())
                .connect_timeout(REDIS_TIMEOUT)
                .response_timeout(REDIS_TIMEOUT)
                .build()
                .with_context(|| format!("--redis {url}"))?;
            let blocking = BlockingL2::with_timeout(redis, 2 * REDIS_TIMEOUT)?;
            match blocking.health() {
                Ok(()) => {
                    if fresh {
                        blocking.delete_prefix(namespace.prefix()).with_context(|| {
                            format!("--fresh: cannot delete the pipeline's keys on {url}")
                        })?;
                    }
                }
                Err(_) => unreachable.push(url.clone()),
            }
            nodes.push(Node::new(url.clone(), Backend::Remote(blocking))?);
        }
        let (kind, replicas) = if unreachable.len() == urls.len() {
            nodes.clear();
            (L2Kind::Unavailable, 0)
        } else if urls.len() == 1 {
            (L2Kind::Redis, 1)
        } else {
            (L2Kind::Sharded, if urls.len() >= 3 { 2 } else { 1 })
        };
        let mut store = Self::from_nodes(kind, Vec::new(), replicas, namespace, unreachable);
        store.urls = urls.to_vec();
        if kind == L2Kind::Sharded {
            // Every URL joins the ring, reachable now or not: the ids place the keys, so every
            // process must list the same servers, and a node that comes back is used again.
            let mut builder = ShardedL2::builder().replicas(replicas).call_timeout(REDIS_TIMEOUT);
            for url in urls {
                builder = builder.redis_node(url.clone());
            }
            let sharded = Arc::new(builder.build().context("--redis: the sharded L2")?);
            // A call may fail over once per copy before it answers.
            let timeout = REDIS_TIMEOUT * (2 * replicas as u32 + 1);
            let blocking = BlockingL2::with_timeout(sharded.clone(), timeout)?;
            store.nodes =
                vec![Node::new(format!("sharded({})", urls.join(",")), Backend::Remote(blocking))?];
            store.sharded = Some(sharded);
        } else {
            store.nodes = nodes;
        }
        Ok(store)
    }

    /// Connects to the Redis Cluster whose nodes include `seeds`. When it does not answer a
    /// health check now, the store is [`L2Kind::Unavailable`] and the L1 serves alone. With
    /// `fresh`, deletes this pipeline's keys on the cluster.
    ///
    /// # Errors
    ///
    /// A seed URL that does not parse, or a runtime thread that cannot start.
    pub fn redis_cluster(
        seeds: &[String],
        fresh: bool,
        namespace: L2Namespace,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let cluster = RedisClusterL2::builder(seeds.iter().cloned())
            .call_timeout(REDIS_TIMEOUT)
            .build()
            .context("--redis-cluster")?;
        let blocking = BlockingL2::with_timeout(cluster, 4 * REDIS_TIMEOUT)?;
        if blocking.health().is_err() {
            return Ok(Self::from_nodes(
                L2Kind::Unavailable,
                Vec::new(),
                0,
                namespace,
                seeds.to_vec(),
            ));
        }
        if fresh {
            blocking
                .delete_prefix(namespace.prefix())
                .context("--fresh: cannot delete the pipeline's keys on the cluster")?;
        }
        let node = Node::new(format!("cluster({})", seeds.join(",")), Backend::Remote(blocking))?;
        let mut store = Self::from_nodes(L2Kind::Cluster, vec![node], 1, namespace, Vec::new());
        store.urls = seeds.to_vec();
        Ok(store)
    }

    fn from_nodes(
        kind: L2Kind,
        nodes: Vec<Node>,
        replicas: usize,
        namespace: L2Namespace,
        unreachable: Vec<String>,
    ) -> Self {
        Self {
            kind,
            nodes,
            sharded: None,
            urls: Vec::new(),
            replicas,
            namespace,
            codec: ValueCodec::new(),
            errors: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            decode_errors: AtomicU64::new(0),
            unreachable,
        }
    }

    /// Which L2 this is.
    #[must_use]
    pub fn kind(&self) -> L2Kind {
        self.kind
    }

    /// Copies kept of each key.
    #[must_use]
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// The nodes' names (the redb path, or the URLs).
    #[must_use]
    pub fn node_names(&self) -> Vec<String> {
        if self.urls.is_empty() {
            self.nodes.iter().map(|n| n.name.clone()).collect()
        } else {
            self.urls.clone()
        }
    }

    /// URLs that did not answer when the run started.
    #[must_use]
    pub fn unreachable(&self) -> &[String] {
        &self.unreachable
    }

    /// Each node's breaker state.
    #[must_use]
    pub fn breakers(&self) -> Vec<(String, CircuitState)> {
        let mut all: Vec<_> =
            self.nodes.iter().map(|n| (n.name.clone(), n.breaker.state())).collect();
        if let Some(sharded) = &self.sharded {
            for url in &self.urls {
                if let Some(h) = sharded.node_health(url) {
                    all.push((url.clone(), h.breaker().state()));
                }
            }
        }
        all
    }

    /// L2 calls that failed or timed out.
    #[must_use]
    pub fn errors(&self) -> u64 {
        // The sharded L2 fails over inside a call: count its nodes' failed calls too.
        let nodes = self.sharded.as_ref().map_or(0, |s| pool_cache::L2::stats(&**s).failures);
        self.errors.load(Ordering::Relaxed) + nodes
    }

    /// L2 calls not sent because the node's breaker was open.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Records that did not decode (read as misses).
    #[must_use]
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors.load(Ordering::Relaxed)
    }

    fn owners(&self, _key: &[u8]) -> Vec<&Node> {
        // One node: the redb file, one server, or the sharded L2 (which routes by itself).
        self.nodes.iter().collect()
    }

    fn count<T>(&self, result: Result<T, CallError<L2Error>>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(CallError::NotPermitted(_)) => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(CallError::Inner(_)) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Looks `key` up (the sharded L2 reads its owners in ring order, failing over).
    pub fn get(&self, key: u64) -> Lookup {
        if self.nodes.is_empty() {
            return Lookup::Failed;
        }
        let k = self.namespace.key(key.to_be_bytes());
        for node in self.owners(&k) {
            match self.count(node.get(&k)) {
                Some(Some(bytes)) => match self.codec.decode::<Record>(&bytes) {
                    Ok(r) => return Lookup::Hit(r),
                    Err(_) => {
                        self.decode_errors.fetch_add(1, Ordering::Relaxed);
                        return Lookup::Miss;
                    }
                },
                Some(None) => return Lookup::Miss,
                None => continue,
            }
        }
        Lookup::Failed
    }

    /// Whether processes share this L2 (Redis), so computations take leases.
    #[must_use]
    pub fn shared(&self) -> bool {
        matches!(self.kind, L2Kind::Redis | L2Kind::Sharded | L2Kind::Cluster)
    }

    /// Tries to take the lease on computing `key` (see [`Lease`]).
    pub fn lease(&self, key: u64, token: u64) -> Lease {
        if !self.shared() {
            return Lease::Unavailable;
        }
        let mut raw = b"lease:".to_vec();
        raw.extend_from_slice(&key.to_be_bytes());
        let k = self.namespace.key(&raw);
        let token = token.to_le_bytes().to_vec();
        let Some(node) = self.owners(&self.namespace.key(key.to_be_bytes())).first().copied()
        else {
            return Lease::Unavailable;
        };
        match self.count(node.set_if_absent(&k, &token)) {
            Some(true) => Lease::Held { key: k, token },
            Some(false) => Lease::Busy,
            None => Lease::Unavailable,
        }
    }

    /// Releases a lease this process holds (only if it still holds it).
    pub fn release(&self, data_key: u64, lease: &Lease) {
        if let Lease::Held { key, token } = lease
            && let Some(node) =
                self.owners(&self.namespace.key(data_key.to_be_bytes())).first().copied()
        {
            node.compare_and_delete(key, token);
        }
    }

    /// Writes `record` to every owner of `key`; returns whether at least one stored it.
    pub fn set(&self, key: u64, record: &Record) -> bool {
        if self.nodes.is_empty() {
            return false;
        }
        let k = self.namespace.key(key.to_be_bytes());
        let Ok(bytes) = self.codec.encode(record) else {
            return false;
        };
        let mut stored = false;
        for node in self.owners(&k) {
            stored |= self.count(node.set(&k, &bytes)).is_some();
        }
        stored
    }

    /// Makes the disk's writes durable (a checkpoint); nothing to do on Redis.
    ///
    /// # Errors
    ///
    /// The checkpoint's error.
    pub fn flush(&self) -> Result<(), L2Error> {
        for node in &self.nodes {
            if let Backend::Disk(d) = &node.backend {
                d.checkpoint()?;
            }
        }
        Ok(())
    }
}

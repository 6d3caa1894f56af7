//! The L2 the run uses: a redb file, one Redis server, several behind `pool_cluster::ShardedL2`
//! (sharded by the hash ring, two copies of each key from three servers up, failover through
//! per-node health and breakers), a Redis Cluster, or none. It sits behind a [`GuardedL2`], so
//! an L2 that fails as a whole costs a few timeouts and is then skipped until it answers.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pool_cache::{BlockingL2, DiskL2, L2, L2Error, RedisL2};
use pool_cluster::{RedisClusterL2, ShardedL2};
use pool_core::CircuitState;
use pool_metrics::Profiler;
use serde::Serialize;

use super::guarded::GuardedL2;

/// The redb file's name inside the data directory.
pub const DB_FILE: &str = "pipeline.redb";
/// The longest one Redis call may take (connect and response), before the breaker counts it.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a cross-process lease on a computation lasts: longer than one computation takes,
/// short enough that a process killed while holding one delays the others this long at most.
pub const LEASE_TTL: Duration = Duration::from_secs(5);

/// Which L2 served the run (the report's `"l2"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
    /// `--redis` was given but no server answered: the L1 alone served (also the empty
    /// report's value).
    #[default]
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

/// The L2 of a run: which it is, the guarded handle the memo layer uses, and what the report
/// says about it.
pub struct L2Store {
    kind: L2Kind,
    l2: Option<Arc<GuardedL2>>,
    disk: Option<Arc<DiskL2>>,
    sharded: Option<Arc<ShardedL2>>,
    nodes: Vec<String>,
    replicas: usize,
    unreachable: Vec<String>,
    timeout: Option<Duration>,
}

impl fmt::Debug for L2Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L2Store")
            .field("kind", &self.kind)
            .field("nodes", &self.nodes)
            .field("replicas", &self.replicas)
            .finish_non_exhaustive()
    }
}

impl L2Store {
    /// Opens the redb file `DIR/pipeline.redb`, creating `dir` if needed; with `fresh`, deletes
    /// the file first. Its calls are timed in `profiler`.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created (a parent is a regular file), or the file is not a redb
    /// database, or redb cannot open it.
    pub fn disk(dir: &Path, fresh: bool, profiler: &Profiler) -> anyhow::Result<Self> {
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
        let disk = Arc::new(
            DiskL2::builder(&path)
                .max_bytes(256 << 20)
                .build()
                .with_context(|| format!("cannot use {} as the L2", path.display()))?,
        );
        let name = path.display().to_string();
        let guarded = GuardedL2::new(name.clone(), disk.clone(), profiler)?;
        Ok(Self {
            disk: Some(disk),
            ..Self::new(L2Kind::Disk, Some(guarded), vec![name], 1, Vec::new(), None)
        })
    }

    /// Connects to the Redis servers at `urls`: one is used as is, several are sharded by the
    /// hash ring (two copies of each key from three servers up). Servers that do not answer
    /// a health check now are counted as unreachable but kept (they may come back); when none
    /// answers, the store is [`L2Kind::Unavailable`] and the L1 serves alone.
    ///
    /// # Errors
    ///
    /// A URL that does not parse, or a runtime thread that cannot start.
    pub fn redis(urls: &[String], profiler: &Profiler) -> anyhow::Result<Self> {
        let client = |url: &String| {
            RedisL2::builder(url.clone())
                .connect_timeout(REDIS_TIMEOUT)
                .response_timeout(REDIS_TIMEOUT)
                .build()
                .with_context(|| format!("--redis {url}"))
        };
        let mut unreachable = Vec::new();
        for url in urls {
            // A client of its own, closed with the probe (the run's client connects when the
            // cache first uses it).
            let probe = BlockingL2::with_timeout(client(url)?, 2 * REDIS_TIMEOUT)?;
            if probe.health().is_err() {
                unreachable.push(url.clone());
            }
        }
        if unreachable.len() == urls.len() {
            return Ok(Self::new(L2Kind::Unavailable, None, urls.to_vec(), 0, unreachable, None));
        }
        if let [url] = urls {
            let guarded = GuardedL2::new(url.clone(), Arc::new(client(url)?), profiler)?;
            let timeout = Some(2 * REDIS_TIMEOUT);
            return Ok(Self::new(
                L2Kind::Redis,
                Some(guarded),
                urls.to_vec(),
                1,
                unreachable,
                timeout,
            ));
        }
        let replicas = if urls.len() >= 3 { 2 } else { 1 };
        // Every URL joins the ring, reachable now or not: the ids place the keys, so every
        // process must list the same servers, and a node that comes back is used again.
        let mut builder = ShardedL2::builder().replicas(replicas).call_timeout(REDIS_TIMEOUT);
        for url in urls {
            builder = builder.redis_node(url.clone());
        }
        let sharded = Arc::new(builder.build().context("--redis: the sharded L2")?);
        let name = format!("sharded({})", urls.join(","));
        let guarded = GuardedL2::new(name, sharded.clone(), profiler)?;
        // A call may fail over once per copy before it answers.
        let timeout = Some(REDIS_TIMEOUT * (2 * replicas as u32 + 1));
        Ok(Self {
            sharded: Some(sharded),
            ..Self::new(
                L2Kind::Sharded,
                Some(guarded),
                urls.to_vec(),
                replicas,
                unreachable,
                timeout,
            )
        })
    }

    /// Connects to the Redis Cluster whose nodes include `seeds`. When it does not answer a
    /// health check now, the store is [`L2Kind::Unavailable`] and the L1 serves alone.
    ///
    /// # Errors
    ///
    /// A seed URL that does not parse, or a runtime thread that cannot start.
    pub fn redis_cluster(seeds: &[String], profiler: &Profiler) -> anyhow::Result<Self> {
        let client = || {
            RedisClusterL2::builder(seeds.iter().cloned())
                .call_timeout(REDIS_TIMEOUT)
                .build()
                .context("--redis-cluster")
        };
        let timeout = 4 * REDIS_TIMEOUT;
        // A probe client of its own, closed with the probe (the run's client connects when
        // the cache first uses it).
        if BlockingL2::with_timeout(client()?, timeout)?.health().is_err() {
            return Ok(Self::new(
                L2Kind::Unavailable,
                None,
                seeds.to_vec(),
                0,
                seeds.to_vec(),
                None,
            ));
        }
        let name = format!("cluster({})", seeds.join(","));
        let guarded = GuardedL2::new(name, Arc::new(client()?), profiler)?;
        Ok(Self::new(L2Kind::Cluster, Some(guarded), seeds.to_vec(), 1, Vec::new(), Some(timeout)))
    }

    fn new(
        kind: L2Kind,
        l2: Option<GuardedL2>,
        nodes: Vec<String>,
        replicas: usize,
        unreachable: Vec<String>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            kind,
            l2: l2.map(Arc::new),
            disk: None,
            sharded: None,
            nodes,
            replicas,
            unreachable,
            timeout,
        }
    }

    /// Which L2 this is.
    #[must_use]
    pub fn kind(&self) -> L2Kind {
        self.kind
    }

    /// The L2 the memo layer reads and writes (none when it is unavailable).
    #[must_use]
    pub fn l2(&self) -> Option<Arc<dyn L2>> {
        self.l2.clone().map(|g| g as Arc<dyn L2>)
    }

    /// The longest one blocking call may take (`None`: the cache's default).
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Whether other processes can share this L2 (Redis), so computations take leases. A redb
    /// file is locked to one process.
    #[must_use]
    pub fn shared(&self) -> bool {
        matches!(self.kind, L2Kind::Redis | L2Kind::Sharded | L2Kind::Cluster)
    }

    /// Copies kept of each key.
    #[must_use]
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// The nodes' names (the redb path, or the URLs).
    #[must_use]
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.clone()
    }

    /// URLs that did not answer when the run started.
    #[must_use]
    pub fn unreachable(&self) -> &[String] {
        &self.unreachable
    }

    /// The store's breaker, then each sharded node's.
    #[must_use]
    pub fn breakers(&self) -> Vec<(String, CircuitState)> {
        let mut all: Vec<_> = self.l2.iter().map(|g| (g.name().to_string(), g.state())).collect();
        if let Some(sharded) = &self.sharded {
            for url in &self.nodes {
                if let Some(h) = sharded.node_health(url) {
                    all.push((url.clone(), h.breaker().state()));
                }
            }
        }
        all
    }

    /// L2 calls that failed or timed out (the sharded L2 fails over inside a call: its nodes'
    /// failed calls count too).
    #[must_use]
    pub fn errors(&self) -> u64 {
        let nodes = self.sharded.as_ref().map_or(0, |s| L2::stats(&**s).failures);
        self.l2.as_ref().map_or(0, |g| g.errors()) + nodes
    }

    /// L2 calls not sent because the breaker was open.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.l2.as_ref().map_or(0, |g| g.skipped())
    }

    /// Makes the disk's writes durable (a checkpoint); nothing to do on Redis.
    ///
    /// # Errors
    ///
    /// The checkpoint's error.
    pub fn flush(&self) -> Result<(), L2Error> {
        self.disk.as_ref().map_or(Ok(()), |d| d.checkpoint())
    }
}

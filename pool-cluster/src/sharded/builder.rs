//! [`ShardedL2Builder`]: the nodes, the replication factor, timeouts and health settings.

use super::error::{ShardedL2BuildError, ShardedL2BuildErrorKind};
use super::shard::{Shard, ShardInner};
use super::store::{ShardedL2, Topology};
use crate::HashRing;
use crate::health::{HealthConfig, HealthMonitor};
use pool_cache::{L2, RedisL2};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

enum NodeSpec {
    Backend(String, Arc<dyn L2>),
    Redis(String),
}

/// Builds a [`ShardedL2`]; by value, validated in [`build`](Self::build).
///
/// ```
/// use pool_cluster::ShardedL2;
/// use pool_cache::MemoryL2;
/// use std::time::Duration;
///
/// let l2 = ShardedL2::builder()
///     .node("a", MemoryL2::new(1 << 20)?)
///     .node("b", MemoryL2::new(1 << 20)?)
///     .node("c", MemoryL2::new(1 << 20)?)
///     .replicas(2)
///     .call_timeout(Duration::from_millis(200))
///     .build()?;
/// assert_eq!(l2.replicas(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct ShardedL2Builder {
    nodes: Vec<NodeSpec>,
    replicas: usize,
    vnodes: u32,
    call_timeout: Duration,
    health: HealthConfig,
}

impl fmt::Debug for ShardedL2Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedL2Builder")
            .field("nodes", &self.nodes.len())
            .field("replicas", &self.replicas)
            .field("vnodes", &self.vnodes)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ShardedL2Builder {
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            replicas: ShardedL2::DEFAULT_REPLICAS,
            vnodes: HashRing::<String>::DEFAULT_VNODES,
            call_timeout: ShardedL2::DEFAULT_CALL_TIMEOUT,
            health: HealthConfig::default(),
        }
    }
}

impl ShardedL2Builder {
    /// Adds a node: any [`L2`] under the id `id` (the id places it on the ring, so every
    /// process must use the same ids).
    ///
    /// ```
    /// let b = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?);
    /// assert!(b.build().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node(mut self, id: impl Into<String>, l2: impl L2 + 'static) -> Self {
        self.nodes.push(NodeSpec::Backend(id.into(), Arc::new(l2)));
        self
    }

    /// Adds a [`RedisL2`] on `url`, with the URL as the node id; its connect and response
    /// timeouts are the [call timeout](Self::call_timeout). Nothing connects before the first
    /// call.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder()
    ///     .redis_node("redis://127.0.0.1:7001")
    ///     .redis_node("redis://127.0.0.1:7002")
    ///     .build()?;
    /// assert_eq!(l2.node_ids().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn redis_node(mut self, url: impl Into<String>) -> Self {
        self.nodes.push(NodeSpec::Redis(url.into()));
        self
    }

    /// Copies of each key ([`ShardedL2::DEFAULT_REPLICAS`]); must be between 1 and the number
    /// of nodes.
    ///
    /// ```
    /// let b = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?);
    /// assert!(b.replicas(2).build().is_err()); // one node cannot hold two copies
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replicas(mut self, r: usize) -> Self {
        self.replicas = r;
        self
    }

    /// Virtual nodes per node on the ring (default 160, as ketama).
    ///
    /// ```
    /// let b = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?);
    /// assert!(b.vnodes(40).build().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn vnodes(mut self, vnodes: u32) -> Self {
        self.vnodes = vnodes;
        self
    }

    /// The longest one node call may take ([`ShardedL2::DEFAULT_CALL_TIMEOUT`]); a call that
    /// takes longer fails over to the next owner and counts against the node's breaker.
    ///
    /// ```
    /// let b = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?);
    /// assert!(b.call_timeout(std::time::Duration::ZERO).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Probe interval, thresholds, breaker settings and clock of the nodes' health.
    ///
    /// ```
    /// use pool_cluster::{HealthConfig, ShardedL2};
    /// let health = HealthConfig::builder().failure_threshold(3).build()?;
    /// let b = ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).health(health);
    /// assert!(b.build().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn health(mut self, config: HealthConfig) -> Self {
        self.health = config;
        self
    }

    /// Validates the settings and builds the sharded L2 (without connecting anywhere).
    ///
    /// # Errors
    ///
    /// [`ShardedL2BuildError`] for no node, `r = 0` or `r` above the node count, a duplicate
    /// node id, a node URL that does not parse, a zero call timeout, or ring settings the ring
    /// refuses (a vnode count of zero).
    ///
    /// ```
    /// use pool_cluster::{ShardedL2, ShardedL2BuildErrorKind};
    /// let err = ShardedL2::builder()
    ///     .node("a", pool_cache::MemoryL2::new(1024)?)
    ///     .node("a", pool_cache::MemoryL2::new(1024)?)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), &ShardedL2BuildErrorKind::DuplicateNode { id: "a".into() });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<ShardedL2, ShardedL2BuildError> {
        use ShardedL2BuildErrorKind as K;
        if self.nodes.is_empty() {
            return Err(ShardedL2BuildError::new(
                K::NoNodes,
                "a sharded l2 needs at least one node: call node() or redis_node()",
            ));
        }
        if self.replicas == 0 {
            return Err(ShardedL2BuildError::new(K::ZeroReplicas, "replicas must be > 0, got 0"));
        }
        if self.replicas > self.nodes.len() {
            return Err(ShardedL2BuildError::new(
                K::TooManyReplicas { replicas: self.replicas, nodes: self.nodes.len() },
                format!(
                    "replicas must be <= the number of nodes: {} copies need {} nodes, got {}",
                    self.replicas,
                    self.replicas,
                    self.nodes.len()
                ),
            ));
        }
        if self.call_timeout.is_zero() {
            return Err(ShardedL2BuildError::new(
                K::ZeroDuration,
                "call_timeout must be > 0, got 0",
            ));
        }
        let mut seen = HashSet::new();
        let mut backends = Vec::with_capacity(self.nodes.len());
        for spec in self.nodes {
            let (id, l2) = match spec {
                NodeSpec::Backend(id, l2) => (id, l2),
                NodeSpec::Redis(url) => {
                    let l2 = RedisL2::builder(url.clone())
                        .connect_timeout(self.call_timeout)
                        .response_timeout(self.call_timeout)
                        .build()
                        .map_err(|e| {
                            ShardedL2BuildError::with_source(
                                K::InvalidUrl { url: url.clone() },
                                format!("node url {url:?} does not parse: {e}"),
                                e,
                            )
                        })?;
                    (url, Arc::new(l2) as Arc<dyn L2>)
                }
            };
            if !seen.insert(id.clone()) {
                return Err(ShardedL2BuildError::new(
                    K::DuplicateNode { id: id.clone() },
                    format!("node id {id} is given twice; node ids must be distinct"),
                ));
            }
            backends.push((id, l2));
        }
        let monitor = HealthMonitor::new(self.health);
        let mut shards = Vec::with_capacity(backends.len());
        for (id, l2) in backends {
            let health = monitor.add(id.clone()).map_err(|e| {
                ShardedL2BuildError::new(K::DuplicateNode { id: id.clone() }, e.to_string())
            })?;
            shards.push(Shard(Arc::new(ShardInner { id, l2, health })));
        }
        let ring = HashRing::builder()
            .vnodes(self.vnodes)
            .nodes(shards)
            .build()
            .map_err(|e| ShardedL2BuildError::with_source(K::Ring, e.to_string(), e))?;
        Ok(ShardedL2::from_parts(
            Topology { ring, previous: None },
            self.replicas,
            self.call_timeout,
            monitor,
        ))
    }
}

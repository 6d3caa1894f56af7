//! [`ShardedL2`]: routing, replication, read-repair and failover over the nodes of the ring.

use super::builder::ShardedL2Builder;
use super::shard::Shard;
use super::stats::{Counters, ShardedStats, bump};
use crate::HashRing;
use crate::health::{HealthMonitor, NodeHealth, ProberHandle};
use arc_swap::ArcSwap;
use futures::future::join_all;
use pool_cache::{L2, L2Entry, L2Error, L2ErrorKind, L2Future, L2Stats, Put};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The ring now and, while a join is being rebalanced, the ring before it.
pub(crate) struct Topology {
    pub(crate) ring: HashRing<Shard>,
    pub(crate) previous: Option<HashRing<Shard>>,
}

pub(crate) struct Inner {
    pub(crate) topology: ArcSwap<Topology>,
    /// Serialises topology changes (readers never take it).
    pub(crate) writer: Mutex<()>,
    pub(crate) replicas: usize,
    pub(crate) call_timeout: Duration,
    pub(crate) monitor: HealthMonitor,
    pub(crate) counters: Counters,
}

/// One [`L2`] over many L2 nodes (typically one `RedisL2` per `redis-server`), placed by the
/// consistent-hash ring, as go-redis Ring or twemproxy's ketama do it client-side.
///
/// - **Replication**: each key lives on its `r` owners, the first `r` distinct nodes
///   clockwise ([`HashRing::get_n`]). Writes go to all `r` (concurrently) and succeed when at
///   least one stored the value (failed replicas are counted in
///   [`ShardedStats::replica_write_failures`]).
/// - **Reads** go to the first available owner; on a miss (or an error) the next owner is
///   read, and a value found there is written back onto the owners that missed
///   (**read-repair**: a restarted Redis comes back empty, and this refills it).
/// - **Failover**: nodes that are down (by the prober, see
///   [`spawn_prober`](Self::spawn_prober)) or whose breaker is open are skipped with
///   [`HealthMonitor::get_n_healthy`]: only their keys re-route, each to the next available
///   node clockwise. Every node call is bounded by the [call
///   timeout](ShardedL2Builder::call_timeout), so no call hangs on a dead node; when every
///   owner is down the call fails with [`L2ErrorKind::Unavailable`].
/// - **Batches** (`get_many`, `set_many`, `delete_many`) are split per node and the per-node
///   batches sent concurrently, one round trip each.
/// - **Rebalancing** on a join ([`add_node`](Self::add_node)): lazily, a key missing on its
///   new owner is read from its owner in the previous ring and copied over; eagerly,
///   [`copy_moved`](Self::copy_moved) copies the keys the ring's [`RingDiff`](crate::RingDiff)
///   says moved, with bounded concurrency.
///
/// A node that comes back *with* its data (a partition rather than a restart) may serve values
/// deleted or overwritten while it was away until they expire; flush such a node before it
/// rejoins, or keep TTLs short.
///
/// Clones share the nodes, the ring and the health.
///
/// ```
/// use pool_cache::{L2, MemoryL2};
/// use pool_cluster::ShardedL2;
/// use std::time::Duration;
///
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
/// # rt.block_on(async {
/// let l2 = ShardedL2::builder()
///     .node("a", MemoryL2::new(1 << 20)?)
///     .node("b", MemoryL2::new(1 << 20)?)
///     .node("c", MemoryL2::new(1 << 20)?)
///     .replicas(2)
///     .build()?;
/// l2.set(b"user:1", b"Ada", Duration::from_secs(60)).await?;
/// assert_eq!(l2.get(b"user:1").await?.map(|e| e.value), Some(b"Ada".to_vec()));
/// assert_eq!(l2.owners(b"user:1")?.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ShardedL2 {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for ShardedL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedL2")
            .field("nodes", &self.node_ids())
            .field("replicas", &self.inner.replicas)
            .field("call_timeout", &self.inner.call_timeout)
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str) -> L2Error {
    L2Error::custom(
        L2ErrorKind::Unavailable,
        format!("every node that could hold {what} is down; check the servers or add a node"),
    )
}

fn check_key(key: &[u8]) -> Result<(), L2Error> {
    if key.is_empty() {
        Err(L2Error::custom(L2ErrorKind::InvalidKey, "l2 keys must not be empty"))
    } else {
        Ok(())
    }
}

fn check_ttl(ttl: Duration) -> Result<(), L2Error> {
    if ttl.is_zero() {
        Err(L2Error::custom(
            L2ErrorKind::InvalidTtl,
            "l2 ttl must be > 0; delete the key instead of storing it for zero time",
        ))
    } else {
        Ok(())
    }
}

/// True if any node answered true; an error only when no node answered (the last one's, or
/// `Unavailable` when there was no node to ask).
fn any_true(results: Vec<Result<bool, L2Error>>) -> Result<bool, L2Error> {
    let mut any = None;
    let mut last_err = None;
    for r in results {
        match r {
            Ok(b) => *any.get_or_insert(false) |= b,
            Err(e) => last_err = Some(e),
        }
    }
    match (any, last_err) {
        (Some(b), _) => Ok(b),
        (None, e) => Err(e.unwrap_or_else(|| unavailable("the key"))),
    }
}

fn ttl_of(entry: &L2Entry) -> Duration {
    entry.ttl.unwrap_or(Duration::MAX)
}

/// Groups item indices by node, keeping the node: the per-node batches of one round.
type Groups = Vec<(Shard, Vec<usize>)>;

fn push_group(groups: &mut Groups, by_id: &mut HashMap<String, usize>, shard: &Shard, i: usize) {
    // Look up first: the id is copied once per node and batch, not once per key.
    let g = match by_id.get(shard.id()) {
        Some(&g) => g,
        None => {
            groups.push((shard.clone(), Vec::new()));
            by_id.insert(shard.id().to_owned(), groups.len() - 1);
            groups.len() - 1
        }
    };
    groups[g].1.push(i);
}

impl ShardedL2 {
    /// Copies of each key unless the builder says otherwise: 1.
    pub const DEFAULT_REPLICAS: usize = 1;
    /// The longest one node call may take unless the builder says otherwise: 1 s.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(1);

    /// A builder with no nodes, `r = 1`, 160 vnodes and a 1 s call timeout.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// assert_eq!(l2.replicas(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> ShardedL2Builder {
        ShardedL2Builder::default()
    }

    pub(crate) fn from_parts(
        topology: Topology,
        replicas: usize,
        call_timeout: Duration,
        monitor: HealthMonitor,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                topology: ArcSwap::from_pointee(topology),
                writer: Mutex::new(()),
                replicas,
                call_timeout,
                monitor,
                counters: Counters::default(),
            }),
        }
    }

    /// The replication factor.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// assert_eq!(l2.replicas(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn replicas(&self) -> usize {
        self.inner.replicas
    }

    /// The placed node ids, sorted.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder()
    ///     .node("b", pool_cache::MemoryL2::new(1024)?)
    ///     .node("a", pool_cache::MemoryL2::new(1024)?)
    ///     .build()?;
    /// assert_eq!(l2.node_ids(), ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn node_ids(&self) -> Vec<String> {
        let topo = self.inner.topology.load();
        topo.ring.nodes().map(|(s, _)| s.id().to_owned()).collect()
    }

    /// The health of every node: subscribe to changes, or feed probe outcomes by hand.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// assert!(l2.health_monitor().is_available("a"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn health_monitor(&self) -> &HealthMonitor {
        &self.inner.monitor
    }

    /// The health of node `id`, if placed.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// assert!(l2.node_health("a").is_some_and(|h| h.is_up()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn node_health(&self, id: &str) -> Option<Arc<NodeHealth>> {
        self.inner.monitor.node(id)
    }

    /// The ids of `key`'s owners in ring order, ignoring health: where the key lives when
    /// every node is up.
    ///
    /// # Errors
    ///
    /// [`NoNodesError`](crate::NoNodesError) only if the ring has no node (never after a
    /// successful build).
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder()
    ///     .node("a", pool_cache::MemoryL2::new(1024)?)
    ///     .node("b", pool_cache::MemoryL2::new(1024)?)
    ///     .replicas(2)
    ///     .build()?;
    /// let owners = l2.owners(b"k")?;
    /// assert_eq!(owners.len(), 2);
    /// assert_ne!(owners[0], owners[1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owners(&self, key: &[u8]) -> Result<Vec<String>, crate::NoNodesError> {
        let topo = self.inner.topology.load();
        let mut out = Vec::with_capacity(self.inner.replicas);
        topo.ring.get_n(key, self.inner.replicas, &mut out)?;
        Ok(out.into_iter().map(|s| s.id().to_owned()).collect())
    }

    /// The ids of the nodes a call for `key` goes to now, in order: its owners, skipping the
    /// nodes that are down or whose breaker is open (each replaced by the next available node
    /// clockwise). Empty when no node is available.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder()
    ///     .node("a", pool_cache::MemoryL2::new(1024)?)
    ///     .node("b", pool_cache::MemoryL2::new(1024)?)
    ///     .build()?;
    /// let owner = l2.owners(b"k")?[0].clone();
    /// l2.node_health(&owner).expect("placed").breaker().force_open();
    /// assert_ne!(l2.route(b"k"), [owner]);
    /// assert_eq!(l2.route(b"k").len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn route(&self, key: &[u8]) -> Vec<String> {
        let topo = self.inner.topology.load();
        self.targets(&topo.ring, key).into_iter().map(|s| s.id().to_owned()).collect()
    }

    /// Counters of the sharding layer (repairs, previous-owner hits, failed replicas).
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// assert_eq!(l2.sharded_stats(), Default::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn sharded_stats(&self) -> ShardedStats {
        self.inner.counters.snapshot()
    }

    /// Spawns the health prober on `runtime`: every interval each node's
    /// [`L2::health`] is called (bounded by the probe timeout) and recorded, so nodes that
    /// stop answering are marked down after the failure threshold and back up after the
    /// recovery threshold. Dropping the handle stops it.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// let prober = l2.spawn_prober(rt.handle());
    /// assert!(!prober.is_finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_prober(&self, runtime: &tokio::runtime::Handle) -> ProberHandle {
        let weak = Arc::downgrade(&self.inner);
        self.inner.monitor.spawn_prober(runtime, move |id| {
            let weak = weak.clone();
            async move {
                let Some(inner) = weak.upgrade() else { return false };
                let topo = inner.topology.load_full();
                let Some(shard) =
                    topo.ring.nodes().find(|(s, _)| s.id() == id).map(|(s, _)| s.clone())
                else {
                    return false;
                };
                shard.l2().health().await.is_ok()
            }
        })
    }

    /// The available owners of the key with hash `key` in `ring`, in ring order.
    fn targets(&self, ring: &HashRing<Shard>, key: &[u8]) -> Vec<Shard> {
        let mut out = Vec::with_capacity(self.inner.replicas);
        // A built ring always has nodes; an empty result reads as "all down".
        let _ = ring.get_n_filtered(key, self.inner.replicas, &mut out, Shard::is_available);
        out.into_iter().cloned().collect()
    }

    async fn call<'a, T>(&self, shard: &Shard, fut: L2Future<'a, T>) -> Result<T, L2Error> {
        shard.call(self.inner.call_timeout, &self.inner.counters.breaker_rejections, fut).await
    }

    /// Writes `entry` back onto the owners that missed it; failures are counted, not returned.
    async fn repair(&self, key: &[u8], entry: &L2Entry, onto: &[Shard]) {
        let writes =
            onto.iter().map(|s| self.call(s, s.l2().set(key, &entry.value, ttl_of(entry))));
        for r in join_all(writes).await {
            let c = &self.inner.counters;
            bump(if r.is_ok() { &c.repairs } else { &c.repair_failures }, 1);
        }
    }

    async fn get_one(&self, key: &[u8]) -> Result<Option<L2Entry>, L2Error> {
        check_key(key)?;
        let topo = self.inner.topology.load_full();
        let targets = self.targets(&topo.ring, key);
        let mut missed: Vec<Shard> = Vec::new();
        let mut last_err = None;
        for t in &targets {
            match self.call(t, t.l2().get(key)).await {
                Ok(Some(entry)) => {
                    self.repair(key, &entry, &missed).await;
                    return Ok(Some(entry));
                }
                Ok(None) => missed.push(t.clone()),
                Err(e) if e.kind().is_rejected_input() => return Err(e),
                Err(e) => last_err = Some(e),
            }
        }
        if let Some(prev) = &topo.previous {
            for old in self.targets(prev, key) {
                if targets.iter().any(|t| t.id() == old.id()) {
                    continue;
                }
                if let Ok(Some(entry)) = self.call(&old, old.l2().get(key)).await {
                    bump(&self.inner.counters.previous_owner_hits, 1);
                    self.repair(key, &entry, &missed).await;
                    return Ok(Some(entry));
                }
            }
        }
        match (missed.is_empty(), last_err) {
            (false, _) => Ok(None),
            (true, Some(e)) => Err(e),
            (true, None) => Err(unavailable("the key")),
        }
    }

    async fn get_batch(&self, keys: &[&[u8]]) -> Result<Vec<Option<L2Entry>>, L2Error> {
        keys.iter().try_for_each(|k| check_key(k))?;
        let topo = self.inner.topology.load_full();
        let targets: Vec<Vec<Shard>> = keys.iter().map(|k| self.targets(&topo.ring, k)).collect();
        let mut out: Vec<Option<L2Entry>> = vec![None; keys.len()];
        let mut done = vec![false; keys.len()];
        let mut answered = vec![false; keys.len()];
        let mut missed: Vec<Vec<Shard>> = vec![Vec::new(); keys.len()];
        let mut last_err = None;
        for rank in 0..self.inner.replicas {
            let mut groups: Groups = Vec::new();
            let mut by_id = HashMap::new();
            for (i, t) in targets.iter().enumerate() {
                if let (false, Some(s)) = (done[i], t.get(rank)) {
                    push_group(&mut groups, &mut by_id, s, i);
                }
            }
            if groups.is_empty() {
                break;
            }
            let results = self.get_groups(keys, &groups).await;
            for ((shard, idx), res) in groups.iter().zip(results) {
                match res {
                    Ok(values) => {
                        for (&i, v) in idx.iter().zip(values) {
                            answered[i] = true;
                            match v {
                                Some(e) => {
                                    out[i] = Some(e);
                                    done[i] = true;
                                }
                                None => missed[i].push(shard.clone()),
                            }
                        }
                    }
                    Err(e) if e.kind().is_rejected_input() => return Err(e),
                    Err(e) => last_err = Some(e),
                }
            }
        }
        if let Some(prev) = &topo.previous {
            // Every previous owner that is not a current one, rank by rank, as `get` does.
            let previous: Vec<Vec<Shard>> = keys.iter().map(|k| self.targets(prev, k)).collect();
            for rank in 0..self.inner.replicas {
                let mut groups: Groups = Vec::new();
                let mut by_id = HashMap::new();
                for (i, olds) in previous.iter().enumerate() {
                    if let (false, Some(old)) = (done[i], olds.get(rank))
                        && !targets[i].iter().any(|t| t.id() == old.id())
                    {
                        push_group(&mut groups, &mut by_id, old, i);
                    }
                }
                let results = self.get_groups(keys, &groups).await;
                for ((_, idx), res) in groups.iter().zip(results) {
                    for (&i, v) in idx.iter().zip(res.unwrap_or_default()) {
                        if let Some(e) = v {
                            bump(&self.inner.counters.previous_owner_hits, 1);
                            out[i] = Some(e);
                            done[i] = true;
                            answered[i] = true;
                        }
                    }
                }
            }
        }
        if let Some(i) = answered.iter().position(|a| !a) {
            return Err(
                last_err.unwrap_or_else(|| unavailable(&format!("key {}", keys[i].escape_ascii())))
            );
        }
        self.repair_batch(keys, &out, &missed).await;
        Ok(out)
    }

    async fn get_groups(
        &self,
        keys: &[&[u8]],
        groups: &Groups,
    ) -> Vec<Result<Vec<Option<L2Entry>>, L2Error>> {
        join_all(groups.iter().map(|(shard, idx)| async move {
            let batch: Vec<&[u8]> = idx.iter().map(|&i| keys[i]).collect();
            self.call(shard, shard.l2().get_many(&batch)).await
        }))
        .await
    }

    /// One `set_many` per node holding values found elsewhere.
    async fn repair_batch(&self, keys: &[&[u8]], found: &[Option<L2Entry>], missed: &[Vec<Shard>]) {
        let mut groups: Groups = Vec::new();
        let mut by_id = HashMap::new();
        for (i, m) in missed.iter().enumerate() {
            if found[i].is_some() {
                for s in m {
                    push_group(&mut groups, &mut by_id, s, i);
                }
            }
        }
        if groups.is_empty() {
            return;
        }
        let results = join_all(groups.iter().map(|(shard, idx)| async move {
            let puts: Vec<Put<'_>> = idx
                .iter()
                .filter_map(|&i| found[i].as_ref().map(|e| Put::new(keys[i], &e.value, ttl_of(e))))
                .collect();
            (puts.len() as u64, self.call(shard, shard.l2().set_many(&puts)).await)
        }))
        .await;
        for (n, r) in results {
            let c = &self.inner.counters;
            bump(if r.is_ok() { &c.repairs } else { &c.repair_failures }, n);
        }
    }

    async fn set_batch(&self, entries: &[Put<'_>]) -> Result<(), L2Error> {
        for p in entries {
            check_key(p.key)?;
            check_ttl(p.ttl)?;
        }
        let topo = self.inner.topology.load_full();
        let mut groups: Groups = Vec::new();
        let mut by_id = HashMap::new();
        for (i, p) in entries.iter().enumerate() {
            let targets = self.targets(&topo.ring, p.key);
            if targets.is_empty() {
                return Err(unavailable(&format!("key {}", p.key.escape_ascii())));
            }
            for s in &targets {
                push_group(&mut groups, &mut by_id, s, i);
            }
        }
        let results = join_all(groups.iter().map(|(shard, idx)| async move {
            let puts: Vec<Put<'_>> = idx.iter().map(|&i| entries[i]).collect();
            self.call(shard, shard.l2().set_many(&puts)).await
        }))
        .await;
        let mut stored = vec![false; entries.len()];
        let mut last_err = None;
        for ((_, idx), r) in groups.iter().zip(results) {
            match r {
                Ok(()) => idx.iter().for_each(|&i| stored[i] = true),
                Err(e) if e.kind().is_rejected_input() => return Err(e),
                Err(e) => {
                    bump(&self.inner.counters.replica_write_failures, idx.len() as u64);
                    last_err = Some(e);
                }
            }
        }
        match (stored.iter().all(|s| *s), last_err) {
            (true, _) => Ok(()),
            (false, e) => Err(e.unwrap_or_else(|| unavailable("a key of the batch"))),
        }
    }

    /// Owners now and, during a rebalance, the previous owners too: deletes must reach both
    /// or a lazy read would bring the value back.
    fn delete_targets(&self, topo: &Topology, key: &[u8]) -> Vec<Shard> {
        let mut t = self.targets(&topo.ring, key);
        if let Some(prev) = &topo.previous {
            for old in self.targets(prev, key) {
                if !t.iter().any(|s| s.id() == old.id()) {
                    t.push(old);
                }
            }
        }
        t
    }

    async fn delete_batch(&self, keys: &[&[u8]]) -> Result<u64, L2Error> {
        keys.iter().try_for_each(|k| check_key(k))?;
        let topo = self.inner.topology.load_full();
        // Primary owners first: their counts are the result; other copies are removed too.
        let mut primary: Groups = Vec::new();
        let mut others: Groups = Vec::new();
        let (mut p_ids, mut o_ids) = (HashMap::new(), HashMap::new());
        for (i, k) in keys.iter().enumerate() {
            let t = self.delete_targets(&topo, k);
            if t.is_empty() {
                return Err(unavailable(&format!("key {}", k.escape_ascii())));
            }
            push_group(&mut primary, &mut p_ids, &t[0], i);
            for s in &t[1..] {
                push_group(&mut others, &mut o_ids, s, i);
            }
        }
        let (p, o) =
            futures::join!(self.delete_groups(keys, &primary), self.delete_groups(keys, &others));
        let mut removed = 0;
        let mut ok = vec![false; keys.len()];
        let mut last_err = None;
        for ((_, idx), r) in primary.iter().zip(p) {
            match r {
                Ok(n) => {
                    removed += n;
                    idx.iter().for_each(|&i| ok[i] = true);
                }
                Err(e) => last_err = Some(e),
            }
        }
        for ((_, idx), r) in others.iter().zip(o) {
            match r {
                Ok(_) => idx.iter().for_each(|&i| ok[i] = true),
                Err(e) => last_err = Some(e),
            }
        }
        match (ok.iter().all(|b| *b), last_err) {
            (true, _) => Ok(removed),
            (false, e) => Err(e.unwrap_or_else(|| unavailable("a key of the batch"))),
        }
    }

    async fn delete_groups(&self, keys: &[&[u8]], groups: &Groups) -> Vec<Result<u64, L2Error>> {
        join_all(groups.iter().map(|(shard, idx)| async move {
            let batch: Vec<&[u8]> = idx.iter().map(|&i| keys[i]).collect();
            self.call(shard, shard.l2().delete_many(&batch)).await
        }))
        .await
    }

    fn available_shards(&self) -> Vec<Shard> {
        let topo = self.inner.topology.load();
        topo.ring.nodes().map(|(s, _)| s.clone()).filter(Shard::is_available).collect()
    }
}

impl L2 for ShardedL2 {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        Box::pin(self.get_one(key))
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
        Box::pin(async move {
            check_key(key)?;
            let topo = self.inner.topology.load_full();
            let targets = self.delete_targets(&topo, key);
            let results = join_all(targets.iter().map(|s| self.call(s, s.l2().delete(key)))).await;
            any_true(results)
        })
    }

    /// Removes every copy (owners now and, during a rebalance, previous owners), one batch
    /// per node, concurrently; the count is the keys removed from their first available
    /// owner, so with `r > 1` a key whose first owner had lost it is not counted.
    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        Box::pin(self.delete_batch(keys))
    }

    /// Runs `delete_prefix` on every available node concurrently; the count is the sum over
    /// nodes, so with `r > 1` each removed copy counts. Nodes that are down are skipped.
    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        Box::pin(async move {
            if prefix.is_empty() {
                return Err(L2Error::custom(
                    L2ErrorKind::InvalidKey,
                    "delete_prefix needs a non-empty prefix; an empty one would delete everything",
                ));
            }
            let shards = self.available_shards();
            if shards.is_empty() {
                return Err(unavailable("the prefix"));
            }
            let results =
                join_all(shards.iter().map(|s| self.call(s, s.l2().delete_prefix(prefix)))).await;
            results.into_iter().try_fold(0, |acc, r| r.map(|n| acc + n))
        })
    }

    /// `SET NX` on the first owner that answers (the lease's single authority); when it
    /// stored the value, the other owners get a plain copy.
    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        Box::pin(async move {
            check_key(key)?;
            check_ttl(ttl)?;
            let topo = self.inner.topology.load_full();
            let targets = self.targets(&topo.ring, key);
            let mut last_err = None;
            for (i, t) in targets.iter().enumerate() {
                match self.call(t, t.l2().set_if_absent(key, value, ttl)).await {
                    Ok(stored) => {
                        if stored {
                            let rest = &targets[i + 1..];
                            let copies = join_all(
                                rest.iter().map(|s| self.call(s, s.l2().set(key, value, ttl))),
                            );
                            let failed = copies.await.iter().filter(|r| r.is_err()).count();
                            bump(&self.inner.counters.replica_write_failures, failed as u64);
                        }
                        return Ok(stored);
                    }
                    Err(e) if e.kind().is_rejected_input() => return Err(e),
                    Err(e) => last_err = Some(e),
                }
            }
            Err(last_err.unwrap_or_else(|| unavailable("the key")))
        })
    }

    /// `compare_and_delete` on every available owner concurrently; true if any removed it.
    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool> {
        Box::pin(async move {
            check_key(key)?;
            let topo = self.inner.topology.load_full();
            let targets = self.delete_targets(&topo, key);
            let results = join_all(
                targets.iter().map(|s| self.call(s, s.l2().compare_and_delete(key, expected))),
            )
            .await;
            any_true(results)
        })
    }

    /// Ok when at least one available node answers its own `health`.
    fn health(&self) -> L2Future<'_, ()> {
        Box::pin(async move {
            let shards = self.available_shards();
            let results = join_all(shards.iter().map(|s| self.call(s, s.l2().health()))).await;
            let mut last_err = None;
            for r in results {
                match r {
                    Ok(()) => return Ok(()),
                    Err(e) => last_err = Some(e),
                }
            }
            Err(last_err.unwrap_or_else(|| unavailable("any key")))
        })
    }

    /// The sum of every node's counters.
    fn stats(&self) -> L2Stats {
        let topo = self.inner.topology.load();
        let mut total = L2Stats::default();
        for (s, _) in topo.ring.nodes() {
            let n = s.l2().stats();
            total.corrupt += n.corrupt;
            total.too_large += n.too_large;
            total.failures += n.failures;
            total.evicted += n.evicted;
            total.expired += n.expired;
        }
        total
    }
}

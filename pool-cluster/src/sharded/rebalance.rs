//! Changing the nodes of a running [`ShardedL2`]: joins with lazy or eager rebalancing, and
//! leaves.

use super::error::{TopologyError, TopologyErrorKind};
use super::shard::{Shard, ShardInner};
use super::stats::bump;
use super::store::{ShardedL2, Topology};
use crate::RingDiff;
use futures::StreamExt;
use pool_cache::{L2, L2Error};
use std::sync::{Arc, PoisonError};

/// What a join does about the keys that now belong to the new node.
///
/// ```
/// use pool_cache::MemoryL2;
/// use pool_cluster::{Rebalance, ShardedL2};
///
/// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
/// // The new node reads a key it misses from its previous owner until finish_rebalance().
/// l2.add_node("b", MemoryL2::new(1 << 20)?, Rebalance::Lazy)?;
/// assert_eq!(l2.node_ids().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rebalance {
    /// Keep the ring before the join: a key its new owner misses is read from its previous
    /// owner and copied over, until [`ShardedL2::finish_rebalance`]. Enables
    /// [`ShardedL2::copy_moved`] (the eager copy).
    Lazy,
    /// Moved keys read as misses on their new owner (and are recomputed by the caller).
    None,
}

/// What [`ShardedL2::copy_moved`] did.
///
/// ```
/// let r = pool_cluster::CopyReport::default();
/// assert_eq!(r.examined, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyReport {
    /// Keys looked at.
    pub examined: u64,
    /// Keys whose owner changed with the join ([`RingDiff::moves`]).
    pub moved: u64,
    /// Moved keys copied onto their new owner.
    pub copied: u64,
    /// Moved keys the new owner already held (written after the join; not overwritten).
    pub already_there: u64,
    /// Moved keys the previous owner no longer held.
    pub gone: u64,
    /// Moved keys whose read or write failed (they stay readable lazily).
    pub failed: u64,
}

impl ShardedL2 {
    /// Adds node `id` on `l2` to the ring (weight 1). Only keys that now belong to the new node
    /// move, all to it. With [`Rebalance::Lazy`] the previous ring is kept for reads until
    /// [`finish_rebalance`](Self::finish_rebalance) (a second join before that keeps the
    /// older ring, so keys moved twice are still found).
    ///
    /// # Errors
    ///
    /// [`TopologyErrorKind::DuplicateNode`] if `id` is already placed; nothing changes.
    ///
    /// ```
    /// use pool_cache::{L2, MemoryL2};
    /// use pool_cluster::{Rebalance, ShardedL2};
    /// use std::time::Duration;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// # rt.block_on(async {
    /// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
    /// for i in 0..100 {
    ///     l2.set(format!("k{i}").as_bytes(), b"v", Duration::MAX).await?;
    /// }
    /// l2.add_node("b", MemoryL2::new(1 << 20)?, Rebalance::Lazy)?;
    /// for i in 0..100 {
    ///     // keys that moved to "b" are found on "a" and copied over
    ///     assert!(l2.get(format!("k{i}").as_bytes()).await?.is_some());
    /// }
    /// assert!(l2.sharded_stats().previous_owner_hits > 0);
    /// l2.finish_rebalance();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_node(
        &self,
        id: impl Into<String>,
        l2: impl L2 + 'static,
        rebalance: Rebalance,
    ) -> Result<(), TopologyError> {
        let id = id.into();
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let topo = self.inner.topology.load_full();
        if topo.ring.contains(&id) {
            return Err(TopologyError::new(TopologyErrorKind::DuplicateNode { id }));
        }
        let health = self
            .inner
            .monitor
            .add(id.clone())
            .map_err(|e| TopologyError::new(TopologyErrorKind::DuplicateNode { id: e.id }))?;
        let shard = Shard(Arc::new(ShardInner { id: id.clone(), l2: Arc::new(l2), health }));
        let mut ring = topo.ring.clone();
        if let Err(e) = ring.add(shard, 1.0) {
            self.inner.monitor.remove(&id);
            // The ring refuses only duplicates (checked above) or point limits it cannot hit
            // with weight 1 below 2^26 points; report the id either way.
            let _ = e;
            return Err(TopologyError::new(TopologyErrorKind::DuplicateNode { id }));
        }
        let previous = match rebalance {
            Rebalance::Lazy => Some(topo.previous.clone().unwrap_or_else(|| topo.ring.clone())),
            Rebalance::None => None,
        };
        self.inner.topology.store(Arc::new(Topology { ring, previous }));
        Ok(())
    }

    /// Removes node `id` from the ring; its keys re-route to the next owners clockwise (with
    /// `r > 1` they are still on their other replicas). Returns its backend.
    ///
    /// # Errors
    ///
    /// [`TopologyErrorKind::UnknownNode`] if no such node is placed;
    /// [`TopologyErrorKind::LastNodes`] if fewer nodes than the replication factor would stay.
    ///
    /// ```
    /// use pool_cluster::{Rebalance, ShardedL2};
    /// let l2 = ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// l2.add_node("b", pool_cache::MemoryL2::new(1024)?, Rebalance::None)?;
    /// l2.remove_node("a")?;
    /// assert_eq!(l2.node_ids(), ["b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_node(&self, id: &str) -> Result<Arc<dyn L2>, TopologyError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let topo = self.inner.topology.load_full();
        if !topo.ring.contains(id) {
            return Err(TopologyError::new(TopologyErrorKind::UnknownNode { id: id.to_owned() }));
        }
        if topo.ring.len() <= self.inner.replicas {
            return Err(TopologyError::new(TopologyErrorKind::LastNodes));
        }
        let mut ring = topo.ring.clone();
        let removed = ring.remove(id).map_err(|_| {
            TopologyError::new(TopologyErrorKind::UnknownNode { id: id.to_owned() })
        })?;
        // A previous ring that still names the node would read from a node that is gone.
        let previous = topo.previous.as_ref().filter(|p| !p.contains(id)).cloned();
        self.inner.topology.store(Arc::new(Topology { ring, previous }));
        self.inner.monitor.remove(id);
        Ok(removed.0.l2.clone())
    }

    /// Ends lazy rebalancing: reads stop falling back to the ring before the last join.
    /// Returns whether a rebalance was in progress.
    ///
    /// ```
    /// let l2 = pool_cluster::ShardedL2::builder().node("a", pool_cache::MemoryL2::new(1024)?).build()?;
    /// assert!(!l2.finish_rebalance());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish_rebalance(&self) -> bool {
        let _writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let topo = self.inner.topology.load_full();
        if topo.previous.is_none() {
            return false;
        }
        self.inner.topology.store(Arc::new(Topology { ring: topo.ring.clone(), previous: None }));
        true
    }

    /// The eager half of rebalancing: of `keys` (for Redis nodes, say, a `SCAN` of the old
    /// servers: the `L2` trait cannot list keys), copies those whose owner changed with the
    /// last [lazy](Rebalance::Lazy) join, as [`RingDiff::moves`] says, from their previous
    /// owner onto their new owners, at most `concurrency` keys at a time. The copy uses
    /// `set_if_absent`, so a value written after the join is never overwritten. Spawn it
    /// (`tokio::spawn(l2.clone().copy_moved(..))`) to run it in the background; call
    /// [`finish_rebalance`](Self::finish_rebalance) when it is done.
    ///
    /// Without a rebalance in progress it examines nothing.
    ///
    /// # Errors
    ///
    /// None today; a failed copy is counted in [`CopyReport::failed`] (the key stays readable
    /// lazily). The `Result` leaves room for refusing bad input.
    ///
    /// ```
    /// use pool_cache::{L2, MemoryL2};
    /// use pool_cluster::{Rebalance, ShardedL2};
    /// use std::time::Duration;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// # rt.block_on(async {
    /// let l2 = ShardedL2::builder().node("a", MemoryL2::new(1 << 20)?).build()?;
    /// let keys: Vec<Vec<u8>> = (0..200).map(|i| format!("k{i}").into_bytes()).collect();
    /// for k in &keys {
    ///     l2.set(k, b"v", Duration::MAX).await?;
    /// }
    /// l2.add_node("b", MemoryL2::new(1 << 20)?, Rebalance::Lazy)?;
    /// let report = l2.clone().copy_moved(keys, 16).await?;
    /// assert_eq!(report.examined, 200);
    /// assert_eq!(report.copied, report.moved);
    /// assert!(report.moved > 0 && report.moved < 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn copy_moved<I>(self, keys: I, concurrency: usize) -> Result<CopyReport, L2Error>
    where
        I: IntoIterator<Item = Vec<u8>>,
    {
        let topo = self.inner.topology.load_full();
        let mut report = CopyReport::default();
        let Some(prev) = &topo.previous else { return Ok(report) };
        let Ok(diff) = RingDiff::new(prev, &topo.ring) else { return Ok(report) };
        let mut moved = Vec::new();
        for k in keys {
            report.examined += 1;
            if !k.is_empty() && diff.moves(&k) {
                moved.push(k);
            }
        }
        report.moved = moved.len() as u64;
        let this = &self;
        let topo = &topo;
        let mut outcomes = futures::stream::iter(moved)
            .map(|k| async move { this.copy_one(topo, &k).await })
            .buffer_unordered(concurrency.max(1));
        while let Some(o) = outcomes.next().await {
            match o {
                CopyOutcome::Copied => report.copied += 1,
                CopyOutcome::AlreadyThere => report.already_there += 1,
                CopyOutcome::Gone => report.gone += 1,
                CopyOutcome::Failed => report.failed += 1,
            }
        }
        Ok(report)
    }

    async fn copy_one(&self, topo: &Topology, key: &[u8]) -> CopyOutcome {
        let Some(prev) = &topo.previous else { return CopyOutcome::Gone };
        let Ok(from) = prev.get(key) else { return CopyOutcome::Failed };
        let timeout = self.inner.call_timeout;
        let rejections = &self.inner.counters.breaker_rejections;
        let entry = match from.call(timeout, rejections, from.l2().get(key)).await {
            Ok(Some(e)) => e,
            Ok(None) => return CopyOutcome::Gone,
            Err(_) => return CopyOutcome::Failed,
        };
        let mut to = Vec::new();
        let _ = topo.ring.get_n_filtered(key, self.inner.replicas, &mut to, Shard::is_available);
        let ttl = entry.ttl.unwrap_or(std::time::Duration::MAX);
        let mut outcome = CopyOutcome::AlreadyThere;
        for s in to.into_iter().filter(|s| s.id() != from.id()) {
            match s.call(timeout, rejections, s.l2().set_if_absent(key, &entry.value, ttl)).await {
                Ok(true) => {
                    bump(&self.inner.counters.repairs, 1);
                    outcome = CopyOutcome::Copied;
                }
                Ok(false) => {}
                Err(_) => return CopyOutcome::Failed,
            }
        }
        outcome
    }
}

enum CopyOutcome {
    Copied,
    AlreadyThere,
    Gone,
    Failed,
}

//! One shard: a hash table of `u32` indices into a dense entry slab, the eviction policy's
//! lists over the same indices, and optional expiry. Everything here runs under the shard's
//! lock; `cache.rs` decides which lock.
//!
//! Memory for `u64 → u64` (measured in `benches/benches/cache.rs`): 16 bytes of key and value,
//! 8 of policy links, 1 of policy metadata, 4 of sketch, and the table's 5 bytes a bucket at
//! a load of 7/8 or less; no per-entry allocation.

use super::policy::{EntryInfo, PolicyState};
use super::read_buffer::ReadBuffer;
use super::stats::{CacheStats, RemovalCause, Stripe};
use super::timer_wheel::{NEVER, TimerWheel};
use crate::lock::{ReadGuard, StripedRwLock, WriteGuard};
use hashbrown::HashTable;
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

/// The entries a write removed, handed to the listener once the lock is released. The first
/// is kept inline: a steady-state insert evicts exactly one entry and should not allocate.
#[derive(Debug)]
pub(crate) struct Removed<K, V> {
    first: Option<(K, V, RemovalCause)>,
    rest: Vec<(K, V, RemovalCause)>,
}

impl<K, V> Default for Removed<K, V> {
    fn default() -> Self {
        Self { first: None, rest: Vec::new() }
    }
}

impl<K, V> Removed<K, V> {
    pub(crate) fn push(&mut self, k: K, v: V, cause: RemovalCause) {
        if self.first.is_none() {
            self.first = Some((k, v, cause));
        } else {
            self.rest.push((k, v, cause));
        }
    }

    pub(crate) fn into_iter(self) -> impl Iterator<Item = (K, V, RemovalCause)> {
        self.first.into_iter().chain(self.rest)
    }
}

#[derive(Debug)]
pub(crate) struct Shard<K, V, S> {
    /// The shard's data under its lock, whose per-thread stripes also count hits and misses
    /// and buffer LRU and LFU hits. Written only through [`Shard::write`].
    data: StripedRwLock<ShardData<K, V, S>, Stripe>,
}

impl<K, V, S> Shard<K, V, S> {
    pub(crate) fn new(data: ShardData<K, V, S>, stripes: usize) -> Self {
        Self { data: StripedRwLock::new(data, stripes) }
    }

    /// Shared access.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, ShardData<K, V, S>, Stripe> {
        self.data.read()
    }

    /// Exclusive access, with every thread's buffered hits applied first (see
    /// `read_buffer.rs`): the only way to write, so no buffered slab index can outlive the
    /// entry it names.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, ShardData<K, V, S>, Stripe> {
        let mut data = self.data.write();
        if !data.policy.shared_hits() {
            for stripe in self.data.payloads() {
                stripe.reads.drain(|batch| data.apply_hits(batch));
            }
        }
        data
    }

    /// Hits counted by every thread stripe.
    pub(crate) fn hits(&self) -> u64 {
        self.data.payloads().map(Stripe::hits).sum()
    }

    /// Misses counted by every thread stripe.
    pub(crate) fn misses(&self) -> u64 {
        self.data.payloads().map(Stripe::misses).sum()
    }
}

#[derive(Debug)]
pub(crate) struct ShardData<K, V, S> {
    table: HashTable<u32>,
    kv: Vec<(K, V)>,
    /// Entry weights, empty unless the cache has a weigher (every entry then weighs 1).
    weights: Vec<u64>,
    weighted: bool,
    hasher: S,
    policy: PolicyState,
    expiry: Option<TimerWheel>,
    capacity: u64,
    weight: u64,
    counters: CacheStats,
    /// Stripe hits already reported to the policy.
    hits_reported: u64,
    writes: u32,
}

impl<K, V, S> ShardData<K, V, S> {
    /// Applies a batch of buffered hits (slab indices, oldest first) to the policy. (Reading
    /// the batch's links ahead in independent loads, so that its misses overlap, was tried
    /// for LRU: no gain measurable in `interleaved_hit`.)
    fn apply_hits(&mut self, batch: &[u32]) {
        batch.iter().for_each(|&i| self.policy.touch(i));
    }
}

struct Info<'a, K, V, S> {
    kv: &'a [(K, V)],
    weights: &'a [u64],
    hasher: &'a S,
    /// One entry's hash already known to the caller (index, hash), so that removing an entry
    /// hashes its key once rather than once for the table and again for the sketch.
    known: (u32, u64),
}

impl<'a, K, V, S> Info<'a, K, V, S> {
    fn new(kv: &'a [(K, V)], weights: &'a [u64], hasher: &'a S) -> Self {
        Self { kv, weights, hasher, known: (NIL_INDEX, 0) }
    }
}

/// No entry: slab indices stay below `u32::MAX`.
const NIL_INDEX: u32 = u32::MAX;

impl<K: Hash, V, S: BuildHasher> EntryInfo for Info<'_, K, V, S> {
    #[inline]
    fn weight(&self, idx: u32) -> u64 {
        if self.weights.is_empty() { 1 } else { self.weights[idx as usize] }
    }

    #[inline]
    fn hash(&self, idx: u32) -> u64 {
        if idx == self.known.0 {
            return self.known.1;
        }
        self.hasher.hash_one(&self.kv[idx as usize].0)
    }
}

/// Deadlines of one write: the hard (write-based) one and the effective one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    pub(crate) hard: u64,
    pub(crate) effective: u64,
}

impl Deadlines {
    pub(crate) const NONE: Deadlines = Deadlines { hard: NEVER, effective: NEVER };
}

/// How often (in writes) a shard folds the read path's hit count into its policy.
const HIT_SYNC_INTERVAL: u32 = 64;

impl<K: Hash + Eq, V, S: BuildHasher> ShardData<K, V, S> {
    pub(crate) fn new(
        policy: PolicyState,
        capacity: u64,
        weighted: bool,
        hasher: S,
        expiry_now: Option<u64>,
    ) -> Self {
        Self {
            table: HashTable::new(),
            kv: Vec::new(),
            weights: Vec::new(),
            weighted,
            hasher,
            policy,
            expiry: expiry_now.map(TimerWheel::new),
            capacity,
            weight: 0,
            counters: CacheStats::default(),
            hits_reported: 0,
            writes: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.kv.len()
    }

    pub(crate) fn weight(&self) -> u64 {
        self.weight
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    pub(crate) fn counters(&self) -> &CacheStats {
        &self.counters
    }

    /// Whether hits may be served under the read lock.
    #[inline]
    pub(crate) fn shared_hits(&self) -> bool {
        self.policy.shared_hits()
    }

    pub(crate) fn window_capacity(&self) -> Option<u64> {
        self.policy.window_capacity()
    }

    #[inline]
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.table.find(hash, |&i| self.kv[i as usize].0.borrow() == key).copied()
    }

    #[inline]
    fn live(&self, idx: u32, now: u64) -> bool {
        self.expiry.as_ref().is_none_or(|e| !e.is_expired(idx, now))
    }

    /// Whether the key is present and live, without counting as an access.
    pub(crate) fn contains<Q>(&self, hash: u64, key: &Q, now: u64) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find(hash, key).is_some_and(|i| self.live(i, now))
    }

    /// The live entry for `key` as a hit sees it: its idle deadline (if any) renewed.
    #[inline]
    fn hit_index<Q>(&self, hash: u64, key: &Q, now: u64, tti: Option<u64>) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.find(hash, key).filter(|&i| self.live(i, now))?;
        if let (Some(tti), Some(e)) = (tti, &self.expiry) {
            e.touch_shared(i, now, tti);
        }
        Some(i)
    }

    /// A lookup under the read lock (policies with [`PolicyState::shared_hits`]).
    #[inline]
    pub(crate) fn get_shared<Q>(&self, hash: u64, key: &Q, now: u64, tti: Option<u64>) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: Clone,
    {
        let i = self.hit_index(hash, key, now, tti)?;
        self.policy.touch_shared(i);
        Some(self.kv[i as usize].1.clone())
    }

    /// A lookup under the read lock for the policies that reorder on a hit: the hit goes to
    /// the calling thread's own buffer `reads`. `None` when the buffer is full (nothing
    /// recorded, nothing counted): the caller takes the write lock and [`Self::get_exclusive`].
    #[inline]
    pub(crate) fn get_buffered<Q>(
        &self,
        hash: u64,
        key: &Q,
        now: u64,
        tti: Option<u64>,
        reads: &ReadBuffer,
    ) -> Option<Option<V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: Clone,
    {
        let Some(i) = self.find(hash, key).filter(|&i| self.live(i, now)) else {
            return Some(None);
        };
        if !reads.push(i) {
            return None;
        }
        if let (Some(tti), Some(e)) = (tti, &self.expiry) {
            e.touch_shared(i, now, tti);
        }
        Some(Some(self.kv[i as usize].1.clone()))
    }

    /// A lookup under the write lock (exact LRU and LFU move the entry on a hit).
    pub(crate) fn get_exclusive<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        now: u64,
        tti: Option<u64>,
    ) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: Clone,
    {
        let i = self.hit_index(hash, key, now, tti)?;
        self.policy.touch(i);
        Some(self.kv[i as usize].1.clone())
    }

    /// Reads an entry without touching the policy (for `peek`, iteration and compute).
    pub(crate) fn peek<Q>(&self, hash: u64, key: &Q, now: u64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find(hash, key).filter(|&i| self.live(i, now)).map(|i| &self.kv[i as usize].1)
    }

    /// Starts tracking deadlines (the first per-entry TTL on a cache built without expiry):
    /// existing entries never expire. O(n) once.
    pub(crate) fn enable_expiry(&mut self, now: u64) {
        if self.expiry.is_none() {
            let mut wheel = TimerWheel::new(now);
            for i in 0..self.kv.len() as u32 {
                wheel.push(i, NEVER, NEVER);
            }
            self.expiry = Some(wheel);
        }
    }

    /// Whether an entry weighing `weight` can ever fit.
    pub(crate) fn fits(&self, weight: u64) -> bool {
        weight <= self.capacity
    }

    /// Counts an entry refused for its weight.
    pub(crate) fn count_too_heavy(&mut self) {
        self.counters.too_heavy += 1;
    }

    /// Inserts or replaces; evicts down to capacity. The caller checked [`Self::fits`].
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        (weight, deadlines): (u64, Deadlines),
        now: u64,
        removed: &mut Removed<K, V>,
    ) {
        self.maintain(now, removed);
        if let Some(i) = self.find(hash, &key) {
            let old_weight = self.entry_weight(i);
            let old = std::mem::replace(&mut self.kv[i as usize].1, value);
            if self.weighted {
                self.weights[i as usize] = weight;
            }
            self.weight = self.weight - old_weight + weight;
            self.policy.update(i, old_weight, weight);
            if let Some(e) = &mut self.expiry {
                e.reset(i, deadlines.hard, deadlines.effective);
            }
            self.counters.replacements += 1;
            removed.push(key, old, RemovalCause::Replaced);
        } else if let Err((key, value)) = self.replace_lru_victim(hash, key, value, removed) {
            let i = self.kv.len() as u32;
            self.reserve_one();
            self.kv.push((key, value));
            if self.weighted {
                self.weights.push(weight);
            }
            let (kv, hasher) = (&self.kv, &self.hasher);
            self.table.insert_unique(hash, i, |&j| hasher.hash_one(&kv[j as usize].0));
            self.weight += weight;
            self.policy.push(i, hash, weight);
            if let Some(e) = &mut self.expiry {
                e.push(i, deadlines.hard, deadlines.effective);
            }
            self.counters.inserts += 1;
        }
        self.evict_overflow(removed);
    }

    /// A new entry in a full unweighted LRU shard without expiry takes the slot of the entry it
    /// evicts: the same outcome as appending it and evicting the tail, without moving the slab's
    /// last entry into the hole (a rehash, a table update and a list relocation). Hands the
    /// entry back when the shard is not in that state.
    fn replace_lru_victim(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        removed: &mut Removed<K, V>,
    ) -> Result<(), (K, V)> {
        let PolicyState::Lru(lru) = &mut self.policy else { return Err((key, value)) };
        if self.weighted || self.expiry.is_some() || self.kv.len() as u64 != self.capacity {
            return Err((key, value));
        }
        let Some(v) = lru.victim() else { return Err((key, value)) };
        let old_hash = self.hasher.hash_one(&self.kv[v as usize].0);
        if let Ok(slot) = self.table.find_entry(old_hash, |&j| j == v) {
            slot.remove();
        }
        // The slot holds the new key before the table may rehash (its hasher reads the slab).
        let (old_k, old_v) = std::mem::replace(&mut self.kv[v as usize], (key, value));
        let (kv, hasher) = (&self.kv, &self.hasher);
        self.table.insert_unique(hash, v, |&j| hasher.hash_one(&kv[j as usize].0));
        lru.touch(v);
        self.counters.inserts += 1;
        self.counters.evictions += 1;
        removed.push(old_k, old_v, RemovalCause::Size);
        Ok(())
    }

    /// Grows the slab without overshooting the capacity: `Vec`'s doubling would leave up to
    /// half of a full cache's slab unused (measured: 24 → 16 bytes an entry at 1M).
    fn reserve_one(&mut self) {
        if self.kv.len() < self.kv.capacity() {
            return;
        }
        let len = self.kv.len() as u64;
        let target = if self.weighted {
            (len * 2).max(4)
        } else {
            (len * 2).max(4).min(self.capacity.max(len + 1))
        };
        let extra = (target - len) as usize;
        self.kv.reserve_exact(extra);
        self.policy.reserve_exact(extra);
        if self.weighted {
            self.weights.reserve_exact(extra);
        }
    }

    fn entry_weight(&self, i: u32) -> u64 {
        if self.weighted { self.weights[i as usize] } else { 1 }
    }

    /// Removes the entry at slab index `i`: policy and expiry first (they may read it), then
    /// the table slot, then `swap_remove`, re-pointing the table at the entry that moved in.
    fn remove_at(&mut self, i: u32) -> (K, V) {
        let mut info = Info::new(&self.kv, &self.weights, &self.hasher);
        let hash = info.hash(i);
        info.known = (i, hash);
        let w = info.weight(i);
        self.policy.remove(i, &info);
        if let Some(e) = &mut self.expiry {
            e.remove(i);
        }
        if let Ok(slot) = self.table.find_entry(hash, |&j| j == i) {
            slot.remove();
        }
        let last = (self.kv.len() - 1) as u32;
        let (k, v) = self.kv.swap_remove(i as usize);
        if self.weighted {
            self.weights.swap_remove(i as usize);
        }
        self.weight -= w;
        if i != last {
            let moved = self.hasher.hash_one(&self.kv[i as usize].0);
            if let Some(slot) = self.table.find_mut(moved, |&j| j == last) {
                *slot = i;
            }
        }
        (k, v)
    }

    pub(crate) fn remove<Q>(&mut self, hash: u64, key: &Q, now: u64) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.find(hash, key)?;
        let live = self.live(i, now);
        let (k, v) = self.remove_at(i);
        if live {
            self.counters.explicit_removals += 1;
            Some((k, v))
        } else {
            self.counters.expirations += 1;
            None
        }
    }

    /// Removes the entry a refused write was meant to replace (counted as a replacement).
    pub(crate) fn remove_replaced(&mut self, hash: u64, key: &K) -> Option<(K, V)> {
        let i = self.find(hash, key)?;
        self.counters.replacements += 1;
        Some(self.remove_at(i))
    }

    fn evict_overflow(&mut self, removed: &mut Removed<K, V>) {
        while self.weight > self.capacity {
            let info = Info::new(&self.kv, &self.weights, &self.hasher);
            let Some(victim) = self.policy.evict(&info) else { break };
            let (k, v) = self.remove_at(victim.idx);
            self.counters.evictions += 1;
            if victim.rejected {
                self.counters.admission_rejections += 1;
            }
            removed.push(k, v, RemovalCause::Size);
        }
    }

    /// Write-path upkeep: reclaim expired entries, and every few writes report the read
    /// path's hits to the policy (aging and hill climbing need them).
    pub(crate) fn maintain(&mut self, now: u64, removed: &mut Removed<K, V>) {
        if let Some(e) = &mut self.expiry {
            e.advance(now);
        }
        while let Some(i) = self.expiry.as_ref().and_then(TimerWheel::pop_expired) {
            let (k, v) = self.remove_at(i);
            self.counters.expirations += 1;
            removed.push(k, v, RemovalCause::Expired);
        }
        self.writes = self.writes.wrapping_add(1);
    }

    /// Whether it is time to report hits (see [`Self::report_hits`]).
    pub(crate) fn hits_due(&self) -> bool {
        self.writes.is_multiple_of(HIT_SYNC_INTERVAL)
    }

    /// Hands the policy the hits counted since the last report; `total` is the shard's
    /// [`Shard::hits`].
    pub(crate) fn report_hits(&mut self, total: u64) {
        let delta = total.saturating_sub(self.hits_reported);
        self.hits_reported = total;
        // Also with no new hits: TinyLFU's climber closes its samples here.
        self.policy.record_hits(delta);
    }

    pub(crate) fn set_capacity(&mut self, capacity: u64, removed: &mut Removed<K, V>) {
        self.capacity = capacity;
        self.policy.set_capacity(capacity);
        self.evict_overflow(removed);
    }

    /// Removes every entry for which `keep` is false (cause `cause`).
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(&K, &V) -> bool,
        cause: RemovalCause,
        removed: &mut Removed<K, V>,
    ) {
        let mut i = 0;
        while i < self.kv.len() as u32 {
            let (k, v) = &self.kv[i as usize];
            if keep(k, v) {
                i += 1;
            } else {
                // swap_remove brings an unvisited entry into `i`: look at `i` again.
                let (k, v) = self.remove_at(i);
                match cause {
                    RemovalCause::Expired => self.counters.expirations += 1,
                    _ => self.counters.explicit_removals += 1,
                }
                removed.push(k, v, cause);
            }
        }
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self, removed: &mut Removed<K, V>) {
        self.table.clear();
        self.policy.clear();
        if let Some(e) = &mut self.expiry {
            e.clear();
        }
        self.weights.clear();
        self.weight = 0;
        self.counters.explicit_removals += self.kv.len() as u64;
        for (k, v) in self.kv.drain(..) {
            removed.push(k, v, RemovalCause::Explicit);
        }
    }

    /// Live entries (for iteration).
    pub(crate) fn entries(&self, now: u64) -> impl Iterator<Item = &(K, V)> {
        self.kv.iter().enumerate().filter(move |(i, _)| self.live(*i as u32, now)).map(|(_, e)| e)
    }

    /// Entry indices in eviction order, for tests.
    #[cfg(test)]
    pub(crate) fn eviction_order_keys(&self) -> Vec<&K> {
        self.policy.eviction_order().into_iter().map(|i| &self.kv[i as usize].0).collect()
    }
}

//! The write-behind queue: bounded, coalesced per L2 key, drained by one thread that retries
//! with backoff while the L2 is down.

use super::stats::{Counters, bump};
use crate::l2::{BlockingL2, Put};
use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One queued write.
pub(crate) struct Pending<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    pub(crate) bytes: Vec<u8>,
    pub(crate) ttl: Duration,
    seq: u64,
}

impl<K, V> Pending<K, V> {
    pub(crate) fn new(key: K, value: V, bytes: Vec<u8>, ttl: Duration) -> Self {
        Self { key, value, bytes, ttl, seq: 0 }
    }
}

struct State<K, V> {
    map: hashbrown::HashMap<Vec<u8>, Pending<K, V>>,
    /// Arrival order of the keys in `map` (a rewrite keeps its key's place).
    order: BTreeMap<u64, Vec<u8>>,
    next_seq: u64,
    /// Writes taken by the thread and not yet delivered or put back.
    in_flight: usize,
    closed: bool,
    stop: bool,
}

/// Why a push was refused.
pub(crate) enum PushError {
    Full,
    Closed,
}

pub(crate) struct Queue<K, V> {
    state: Mutex<State<K, V>>,
    /// Signalled when room frees up.
    space: Condvar,
    /// Signalled when there is work (or on stop).
    work: Condvar,
    /// Signalled when the queue may have drained.
    idle: Condvar,
    /// Signalled only on stop: ends a backoff sleep early.
    wake: Condvar,
    /// Held by the thread while it delivers a batch, and by invalidations while they remove a
    /// key: an invalidation never races a delivery of the key it removes.
    deliver: Mutex<()>,
    capacity: usize,
    batch: usize,
    backoff: (Duration, Duration),
    counters: Arc<Counters>,
}

impl<K, V> Queue<K, V> {
    pub(crate) fn new(
        capacity: usize,
        batch: usize,
        backoff: (Duration, Duration),
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                map: hashbrown::HashMap::new(),
                order: BTreeMap::new(),
                next_seq: 0,
                in_flight: 0,
                closed: false,
                stop: false,
            }),
            space: Condvar::new(),
            work: Condvar::new(),
            idle: Condvar::new(),
            wake: Condvar::new(),
            deliver: Mutex::new(()),
            capacity,
            batch,
            backoff,
            counters,
        }
    }

    /// Queues a write (replacing a queued write of the same key in place), waiting at most
    /// `timeout` for room.
    pub(crate) fn push(
        &self,
        l2_key: Vec<u8>,
        mut write: Pending<K, V>,
        timeout: Duration,
    ) -> Result<(), (Pending<K, V>, PushError)> {
        let deadline = Instant::now().checked_add(timeout);
        let mut s = self.state.lock();
        let mut timed_out = false;
        loop {
            if s.closed {
                return Err((write, PushError::Closed));
            }
            if let Some(p) = s.map.get_mut(&l2_key) {
                write.seq = p.seq;
                *p = write;
                return Ok(());
            }
            if s.map.len() + s.in_flight < self.capacity {
                write.seq = s.next_seq;
                s.next_seq += 1;
                s.order.insert(write.seq, l2_key.clone());
                s.map.insert(l2_key, write);
                self.work.notify_one();
                return Ok(());
            }
            // Checked after the coalescing test above: a batch that failed and was put back
            // while this write waited may hold its key again, and then it needs no room.
            if timed_out {
                return Err((write, PushError::Full));
            }
            timed_out = match deadline {
                Some(d) => self.space.wait_until(&mut s, d).timed_out(),
                None => {
                    self.space.wait(&mut s);
                    false
                }
            };
        }
    }

    /// Drops the queued writes whose L2 key matches, after any delivery in progress ends.
    pub(crate) fn remove_where(&self, mut matches: impl FnMut(&[u8]) -> bool) -> usize {
        let _delivering = self.deliver.lock();
        let mut s = self.state.lock();
        let doomed: Vec<Vec<u8>> = s.map.keys().filter(|k| matches(k)).cloned().collect();
        for k in &doomed {
            if let Some(p) = s.map.remove(k) {
                s.order.remove(&p.seq);
            }
        }
        self.space.notify_all();
        self.idle.notify_all();
        doomed.len()
    }

    pub(crate) fn depth(&self) -> usize {
        let s = self.state.lock();
        s.map.len() + s.in_flight
    }

    /// Waits until nothing is queued or in flight, at most `timeout`; the writes left.
    pub(crate) fn drain(&self, timeout: Duration) -> usize {
        let deadline = Instant::now().checked_add(timeout);
        let mut s = self.state.lock();
        loop {
            let left = s.map.len() + s.in_flight;
            if left == 0 || s.stop {
                return left;
            }
            self.work.notify_one();
            match deadline {
                Some(d) => {
                    if self.idle.wait_until(&mut s, d).timed_out() {
                        return s.map.len() + s.in_flight;
                    }
                }
                None => self.idle.wait(&mut s),
            }
        }
    }

    /// Refuses new writes from now on.
    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.space.notify_all();
    }

    /// Stops the thread (after its current attempt) and takes back what is left, in order.
    pub(crate) fn stop(&self) -> Vec<(K, V)> {
        // Wait out a delivery in progress (bounded by the L2 timeout): its batch is out of the
        // map until it lands or is put back, and must not be missed here. Lock order as
        // everywhere: `deliver`, then `state`.
        let _delivering = self.deliver.lock();
        let mut s = self.state.lock();
        s.closed = true;
        s.stop = true;
        self.work.notify_all();
        self.wake.notify_all();
        self.space.notify_all();
        let order = std::mem::take(&mut s.order);
        let mut left = Vec::with_capacity(order.len());
        for (_, k) in order {
            if let Some(p) = s.map.remove(&k) {
                left.push((p.key, p.value));
            }
        }
        left
    }

    /// The delivery thread's loop: returns once stopped.
    pub(crate) fn run(&self, l2: &BlockingL2) {
        let mut backoff = self.backoff.0;
        loop {
            {
                let mut s = self.state.lock();
                while s.map.is_empty() && !s.stop {
                    self.idle.notify_all();
                    self.work.wait(&mut s);
                }
                if s.stop {
                    self.idle.notify_all();
                    return;
                }
            }
            let delivering = self.deliver.lock();
            let batch: Vec<(Vec<u8>, Pending<K, V>)> = {
                let mut s = self.state.lock();
                let seqs: Vec<u64> = s.order.keys().take(self.batch).copied().collect();
                let mut batch = Vec::with_capacity(seqs.len());
                for seq in seqs {
                    if let Some(k) = s.order.remove(&seq)
                        && let Some(p) = s.map.remove(&k)
                    {
                        batch.push((k, p));
                    }
                }
                s.in_flight = batch.len();
                batch
            };
            if batch.is_empty() {
                continue;
            }
            let puts: Vec<Put<'_>> =
                batch.iter().map(|(k, p)| Put::new(k, &p.bytes, p.ttl)).collect();
            let mut result = l2.set_many(&puts);
            drop(puts);
            if result.as_ref().is_err_and(|e| e.kind().is_rejected_input()) {
                // One write the L2 will never take (too large, say) refuses the whole batch:
                // deliver one by one, and count and drop only the refused ones.
                result = Ok(());
                for (k, p) in &batch {
                    match l2.set(k, &p.bytes, p.ttl) {
                        Err(e) if e.kind().is_rejected_input() => {
                            bump(&self.counters.l2_errors, 1);
                            bump(&self.counters.queue_refused, 1);
                        }
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                        Ok(()) => {}
                    }
                }
            }
            let mut s = self.state.lock();
            s.in_flight = 0;
            match result {
                Ok(()) => {
                    let bytes: usize = batch.iter().map(|(_, p)| p.bytes.len()).sum();
                    bump(&self.counters.queue_delivered, batch.len() as u64);
                    bump(&self.counters.l2_bytes_written, bytes as u64);
                    backoff = self.backoff.0;
                    drop(delivering);
                    self.space.notify_all();
                    self.idle.notify_all();
                }
                Err(_) => {
                    bump(&self.counters.l2_errors, 1);
                    bump(&self.counters.queue_retries, 1);
                    // Put the batch back, unless a newer write of the same key arrived.
                    for (k, p) in batch {
                        if !s.map.contains_key(&k) {
                            s.order.insert(p.seq, k.clone());
                            s.map.insert(k, p);
                        }
                    }
                    drop(delivering);
                    self.idle.notify_all();
                    // A writer waiting for room may now coalesce with a key put back.
                    self.space.notify_all();
                    if !s.stop {
                        let _ = self.wake.wait_for(&mut s, backoff);
                    }
                    backoff = (backoff * 2).min(self.backoff.1);
                }
            }
        }
    }
}

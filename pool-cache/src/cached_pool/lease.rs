//! The cross-process compute lease (memcache-style, Nishtala et al., NSDI 2013).

use super::error::CallError;
use super::pool::{CachedPool, Inner, Memo, bump};
use crate::codec::ValueCodec;
use crate::l2::BlockingL2;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One caller's attempt to get a key's value computed once across processes.
pub(crate) struct Lease<'a, I, O> {
    inner: &'a Inner<I, O>,
    l2: &'a BlockingL2,
    codec: &'a ValueCodec,
    value_key: Vec<u8>,
    lease_key: Vec<u8>,
    token: [u8; 16],
}

/// A token no other lease attempt shares: blake3 over the process id, the wall time, a
/// process-wide counter and the thread.
fn random_token() -> [u8; 16] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = blake3::Hasher::new();
    h.update(&std::process::id().to_le_bytes());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    h.update(&now.as_nanos().to_le_bytes());
    h.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update(format!("{:?}", std::thread::current().id()).as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    out
}

impl<'a, I, O> Lease<'a, I, O>
where
    I: Serialize + Clone + Send + 'static,
    O: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// A lease attempt on `key`, or `None` when this pool takes none (leases off, or no L2):
    /// then the caller just computes.
    pub(crate) fn new(inner: &'a Inner<I, O>, key: [u8; 32]) -> Option<Self> {
        let (l2, prefix, codec) = inner.cache.l2_parts().filter(|_| inner.leases)?;
        let mut value_key = prefix.to_vec();
        value_key.extend_from_slice(&key);
        let mut lease_key = value_key.clone();
        lease_key.extend_from_slice(b":lease");
        Some(Self { inner, l2, codec, value_key, lease_key, token: random_token() })
    }

    /// The value, and whether it is already in the L2 (so the cache need not write it).
    pub(crate) fn obtain(
        &self,
        input: &I,
        computed: &Cell<bool>,
    ) -> Result<(Memo<O>, bool), CallError> {
        let (inner, l2) = (self.inner, self.l2);
        let deadline = Instant::now() + inner.max_wait;
        let mut backoff = inner.poll_backoff.0;
        let mut waited = false;
        loop {
            match l2.set_if_absent(&self.lease_key, &self.token, inner.lease_ttl) {
                Ok(true) => {
                    if waited {
                        bump(&inner.counters.local().lease_takeovers, 1);
                    }
                    return self.compute_as_holder(input, computed);
                }
                Ok(false) => {
                    if !waited {
                        waited = true;
                        bump(&inner.counters.local().lease_waits, 1);
                    }
                    if let Some(memo) = self.read_value() {
                        return Ok((memo, true));
                    }
                }
                Err(_) => {
                    // The L2 is unreachable: compute here (the cache tries to store it).
                    bump(&inner.counters.local().l2_errors, 1);
                    computed.set(true);
                    return CachedPool::compute(inner, input).map(|m| (m, false));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                bump(&inner.counters.local().wait_timeouts, 1);
                computed.set(true);
                return CachedPool::compute(inner, input).map(|m| (m, false));
            }
            std::thread::sleep(backoff.min(deadline - now));
            backoff = (backoff * 2).min(inner.poll_backoff.1);
        }
    }

    fn read_value(&self) -> Option<Memo<O>> {
        match self.l2.get(&self.value_key) {
            Ok(Some(entry)) => {
                let memo = self.codec.read::<Memo<O>>(&entry.value)?;
                bump(&self.inner.counters.local().lease_l2_hits, 1);
                Some(memo)
            }
            Ok(None) => None,
            Err(_) => {
                bump(&self.inner.counters.local().l2_errors, 1);
                None
            }
        }
    }

    /// Holding the lease: re-read, compute while renewing, write, release.
    fn compute_as_holder(
        &self,
        input: &I,
        computed: &Cell<bool>,
    ) -> Result<(Memo<O>, bool), CallError> {
        if let Some(memo) = self.read_value() {
            self.release();
            return Ok((memo, true));
        }
        computed.set(true);
        let result = self.compute_renewing(input);
        let stored = match &result {
            Ok(memo) => self.write_value(memo),
            Err(_) => false,
        };
        self.release();
        result.map(|m| (m, stored))
    }

    fn compute_renewing(&self, input: &I) -> Result<Memo<O>, CallError> {
        let mut handle = CachedPool::submit_timed(self.inner, input)?;
        let every = (self.inner.lease_ttl / 3).max(Duration::from_millis(1));
        loop {
            match handle.join_timeout(every) {
                Ok(r) => return r.map_err(CachedPool::<I, O>::failed),
                Err(h) => {
                    handle = h;
                    self.renew();
                }
            }
        }
    }

    /// Extends the lease if it is still ours (a get, then a set: a lease taken by another in
    /// between costs at most a duplicate computation).
    fn renew(&self) {
        match self.l2.get(&self.lease_key) {
            Ok(Some(e)) if e.value == self.token => {
                if self.l2.set(&self.lease_key, &self.token, self.inner.lease_ttl).is_err() {
                    bump(&self.inner.counters.local().l2_errors, 1);
                }
            }
            Ok(_) => {}
            Err(_) => bump(&self.inner.counters.local().l2_errors, 1),
        }
    }

    fn write_value(&self, memo: &Memo<O>) -> bool {
        let Ok(bytes) = self.codec.encode(memo) else { return false };
        let ttl = self.inner.ttl.unwrap_or(Duration::MAX);
        match self.l2.set(&self.value_key, &bytes, ttl) {
            Ok(()) => true,
            Err(_) => {
                bump(&self.inner.counters.local().l2_errors, 1);
                false
            }
        }
    }

    fn release(&self) {
        if self.l2.compare_and_delete(&self.lease_key, &self.token).is_err() {
            bump(&self.inner.counters.local().l2_errors, 1);
        }
    }
}

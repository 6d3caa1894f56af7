//! A thread's buffer of hits for the policies that reorder entries on a hit (exact LRU, LFU):
//! Caffeine's read buffer, one per thread stripe of a shard's lock.
//!
//! A hit under such a policy used to take the shard's write lock to relink the entry: on two
//! threads both cores then wrote the same lock and list lines on every hit. Now the hit takes
//! the read lock like a TinyLFU hit, and records the entry's slab index in its thread's buffer
//! (the stripe line its read lock already wrote). Every write lock applies the buffers before
//! it does anything else (`Shard::write`), so:
//!
//! * an index is applied before anything can move or remove its entry: slab indices change
//!   only under the write lock, and none is taken without draining first;
//! * one thread's hits are applied in the order it made them, before any eviction that
//!   follows them, so LRU stays exact for a single thread (the model test checks it against
//!   a reference). Hits of different threads since the last write are applied stripe by
//!   stripe: concurrent hits have no order of their own to keep;
//! * nothing is dropped: a full buffer makes its hit take the write lock, which drains it.
//!
//! Only the stripe's owner pushes (under the read lock), and only a writer drains (under the
//! write lock, which excludes every reader): the two never run at once, and the lock's
//! acquire and release order them, so relaxed atomics are enough.

use crate::sync::{AtomicU32, Ordering};

/// Hits a buffer holds before a hit has to take the write lock: with the counters and the
/// reader count it fills the stripe's 128 bytes (checked in `stats.rs`), so the buffer costs
/// no memory.
#[cfg(not(shuttle))]
pub(crate) const READ_BUFFER_LEN: usize = 24;
/// Under shuttle, short enough that the models' few hits also fill it.
#[cfg(shuttle)]
pub(crate) const READ_BUFFER_LEN: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    len: AtomicU32,
    slots: [AtomicU32; READ_BUFFER_LEN],
}

impl ReadBuffer {
    /// Records a hit on slab index `idx`; `false` (nothing recorded) when full. Only the
    /// stripe's owner may call this, and only under the shard's read lock.
    #[inline]
    pub(crate) fn push(&self, idx: u32) -> bool {
        let n = self.len.load(Ordering::Relaxed) as usize;
        let Some(slot) = self.slots.get(n) else { return false };
        slot.store(idx, Ordering::Relaxed);
        self.len.store(n as u32 + 1, Ordering::Relaxed);
        true
    }

    /// Hands the recorded indices to `apply` in one batch, oldest first, and empties the
    /// buffer (`apply` is not called when it is empty). Only under the shard's write lock.
    #[inline]
    pub(crate) fn drain(&self, apply: impl FnOnce(&[u32])) {
        let n = self.len.load(Ordering::Relaxed) as usize;
        if n == 0 {
            return;
        }
        let mut batch = [0u32; READ_BUFFER_LEN];
        for (to, from) in batch.iter_mut().zip(&self.slots[..n]) {
            *to = from.load(Ordering::Relaxed);
        }
        self.len.store(0, Ordering::Relaxed);
        apply(&batch[..n]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_refuses_when_full_and_empties_on_drain() {
        let b = ReadBuffer::default();
        for i in 0..READ_BUFFER_LEN as u32 {
            assert!(b.push(i * 3));
        }
        assert!(!b.push(99), "a full buffer refuses");
        let mut seen = Vec::new();
        b.drain(|batch| seen.extend_from_slice(batch));
        assert_eq!(seen, (0..READ_BUFFER_LEN as u32).map(|i| i * 3).collect::<Vec<_>>());
        b.drain(|_| panic!("drained twice"));
        assert!(b.push(7));
        b.drain(|batch| assert_eq!(batch, [7]));
    }
}

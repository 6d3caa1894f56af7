//! W-TinyLFU's memory of the candidates its admission filter rejected, and when: the evidence
//! that the filter is turning away keys that recency alone would have kept.
//!
//! A direct-mapped table of `u32` slots, each an 8-bit fingerprint of the key's hash and the
//! low 24 bits of the shard's request clock at the rejection. Sized from the entries resident
//! (about half a slot each, so at most 2 bytes an entry), never from the capacity, and grown as
//! the cache fills. A lookup takes the key out of the table, so one rejection is forgiven once.
//!
//! A collision can only make a returning key look new (its slot was overwritten) or, with
//! probability 1/256 per occupied slot, make a new key look returning; either costs one
//! admission decision, never correctness.

/// The smallest table.
const MIN_SLOTS: usize = 64;
/// Request-clock bits kept in a slot.
const TIME_BITS: u32 = 24;
const TIME_MASK: u32 = (1 << TIME_BITS) - 1;

#[derive(Debug)]
pub(crate) struct Ghost {
    slots: Box<[u32]>,
}

impl Ghost {
    pub(crate) fn new() -> Self {
        Self { slots: vec![0; MIN_SLOTS].into_boxed_slice() }
    }

    /// Grows the table to half a slot per resident entry once the entries outgrow it by a
    /// quarter (geometric growth, O(1) amortised). Forgets what it held: it is a hint.
    pub(crate) fn ensure_capacity(&mut self, resident: u64) {
        let want = usize::try_from(resident / 2).unwrap_or(usize::MAX).max(MIN_SLOTS);
        if want > self.slots.len() + self.slots.len() / 4 {
            self.slots = vec![0; want].into_boxed_slice();
        }
    }

    #[inline]
    fn slot(&self, hash: u64) -> usize {
        // Multiply-shift range reduction on bits the sketch and the shard choice do not favour.
        (((hash >> 32) * self.slots.len() as u64) >> 32) as usize
    }

    #[inline]
    fn fingerprint(hash: u64) -> u32 {
        // Never 0, so an empty slot matches nothing.
        ((hash as u32) & 0xFF).max(1) << TIME_BITS
    }

    /// Remembers that the key with `hash` was rejected at request `now`.
    pub(crate) fn record(&mut self, hash: u64, now: u64) {
        let i = self.slot(hash);
        self.slots[i] = Self::fingerprint(hash) | (now as u32 & TIME_MASK);
    }

    /// Whether the key with `hash` was rejected at most `within` requests before `now` (at most
    /// 2^23: a slot keeps 24 bits of time, so in a shard of more entries than that a stale
    /// slot could not be told from a recent one); forgets it either way.
    pub(crate) fn take_recent(&mut self, hash: u64, now: u64, within: u64) -> bool {
        let i = self.slot(hash);
        let s = self.slots[i];
        if s & !TIME_MASK != Self::fingerprint(hash) {
            return false;
        }
        self.slots[i] = 0;
        let age = (now as u32).wrapping_sub(s) & TIME_MASK;
        u64::from(age) <= within.min(u64::from(TIME_MASK / 2))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_is_found_once_and_only_within_the_distance() {
        let mut g = Ghost::new();
        let h = 0xDEAD_BEEF_1234_5678;
        g.record(h, 1000);
        assert!(!g.take_recent(h ^ 0x77, 1001, 500), "another fingerprint matched");
        assert!(g.take_recent(h, 1400, 500));
        assert!(!g.take_recent(h, 1401, 500), "forgiven twice");
        g.record(h, 1000);
        assert!(!g.take_recent(h, 1600, 500), "too old, yet found");
        g.record(h, 1000);
        assert!(!g.take_recent(h, 1000 + (1 << 23) + 1, u64::MAX), "beyond the clock's reach");
    }

    #[test]
    fn grows_with_the_entries_not_before() {
        let mut g = Ghost::new();
        g.ensure_capacity(100);
        assert_eq!(g.len(), MIN_SLOTS);
        g.ensure_capacity(10_000);
        assert_eq!(g.len(), 5_000);
        g.ensure_capacity(11_000);
        assert_eq!(g.len(), 5_000, "grew by less than a quarter");
    }
}

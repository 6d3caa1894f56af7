//! Write epochs: how a load that began before a write or an invalidation of its key knows to
//! keep its (possibly stale) value to its own callers instead of storing it over the newer
//! state.
//!
//! There used to be one epoch for the whole cache, bumped by every write, a load's own store
//! included: two overlapping loads of *different* keys then discarded each other's values,
//! which reached neither tier and were loaded again (the pipeline example computed 534 times
//! for 346 distinct keys on two threads). Now a load's own store bumps nothing (only one load
//! of a key runs at a time), and the epochs are striped by key hash: a caller's write of
//! another key lands on a load's stripe with probability 1/[`STRIPES`], and then costs one
//! extra load, never a stale value. Prefix and whole-cache invalidations bump the global
//! epoch every mark reads.

use crate::sync::{AtomicU64, Ordering};
use std::hash::{BuildHasher, Hash};

/// Stripes of per-key epochs (a power of two).
pub(super) const STRIPES: usize = 1024;

/// The epochs of one cache.
#[derive(Debug)]
pub(super) struct Epochs {
    global: AtomicU64,
    stripes: Box<[AtomicU64]>,
    hasher: std::hash::RandomState,
}

/// What a load saw when it began: compare it with [`Epochs::unchanged`] before storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark {
    global: u64,
    stripe: u64,
    index: usize,
}

impl Default for Epochs {
    fn default() -> Self {
        Self {
            global: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            hasher: std::hash::RandomState::new(),
        }
    }
}

impl Epochs {
    fn index<K: Hash>(&self, key: &K) -> usize {
        // Truncation is the point: the low bits pick the stripe.
        (self.hasher.hash_one(key) as usize) & (STRIPES - 1)
    }

    /// The epochs `key`'s load must still find when it stores its value.
    pub(super) fn mark<K: Hash>(&self, key: &K) -> Mark {
        let index = self.index(key);
        Mark {
            global: self.global.load(Ordering::Acquire),
            stripe: self.stripes[index].load(Ordering::Acquire),
            index,
        }
    }

    /// Whether no write or invalidation of the marked key (or of everything) came since.
    pub(super) fn unchanged(&self, mark: Mark) -> bool {
        self.global.load(Ordering::Acquire) == mark.global
            && self.stripes[mark.index].load(Ordering::Acquire) == mark.stripe
    }

    /// A write or an invalidation of `key`.
    pub(super) fn bump_key<K: Hash>(&self, key: &K) {
        self.stripes[self.index(key)].fetch_add(1, Ordering::AcqRel);
    }

    /// An invalidation of many keys at once (a prefix, or all).
    pub(super) fn bump_all(&self) {
        self.global.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_of_one_key_leaves_a_load_of_another_unchanged_unless_they_share_a_stripe() {
        let e = Epochs::default();
        let a = e.mark(&1u64);
        let other = (2u64..).find(|k| e.index(k) != a.index).expect("another stripe");
        e.bump_key(&other);
        assert!(e.unchanged(a));
        e.bump_key(&1u64);
        assert!(!e.unchanged(a));
    }

    #[test]
    fn bump_all_changes_every_mark() {
        let e = Epochs::default();
        let marks: Vec<Mark> = (0..100u64).map(|k| e.mark(&k)).collect();
        e.bump_all();
        assert!(marks.iter().all(|m| !e.unchanged(*m)));
        assert!(e.unchanged(e.mark(&5u64)));
    }
}

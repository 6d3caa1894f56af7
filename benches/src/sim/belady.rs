//! Belady's optimal offline policy (MIN): on a miss with a full cache, drop whichever key — the
//! resident ones or the newcomer — is next requested furthest in the future.
//!
//! Allowing the newcomer to be the one dropped (bypass) makes this the true upper bound, also for
//! policies with an admission filter such as W-TinyLFU that decline to insert.
//!
//! Cost: one backward pass computes every request's next use (`O(n)` with a hash map), then the
//! replay keeps the residents in a max-heap keyed by next use, `O(n log c)`. The heap uses lazy
//! deletion: a hit pushes the key's new next use and leaves the old entry behind; such stale
//! entries always carry a next use `<= now`, below every live one (live next uses are `> now`),
//! so they never reach the top while a live entry is there, and a periodic sweep keeps the heap
//! within a constant factor of `c`.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::num::NonZeroUsize;

/// "Never requested again".
const NEVER: usize = usize::MAX;

/// A trace prepared for Belady replays: every request's next-use index, computed once and reused
/// for each capacity.
///
/// ```
/// use pool_benches::sim::belady::NextUse;
/// use std::num::NonZeroUsize;
///
/// // With room for 2, MIN misses the first touch of each key (bypassing 3, needed last) and the
/// // final 3; the 4 requests for 1 and 2 in between hit.
/// let keys = [1, 2, 3, 1, 2, 1, 2, 3];
/// let hits = NextUse::new(&keys).hits(NonZeroUsize::new(2).unwrap());
/// assert_eq!(hits, 4);
/// ```
#[derive(Debug, Clone)]
pub struct NextUse<'a> {
    keys: &'a [u64],
    next: Vec<usize>,
}

impl<'a> NextUse<'a> {
    /// Computes the next use of every request in `keys` (one backward pass).
    pub fn new(keys: &'a [u64]) -> Self {
        let mut next = vec![NEVER; keys.len()];
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for (i, &key) in keys.iter().enumerate().rev() {
            if let Some(later) = seen.insert(key, i) {
                next[i] = later;
            }
        }
        Self { keys, next }
    }

    /// The number of requests.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the trace is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The hits Belady's MIN scores on this trace with room for `capacity` keys.
    pub fn hits(&self, capacity: NonZeroUsize) -> u64 {
        let capacity = capacity.get();
        let mut resident: HashSet<u64> = HashSet::with_capacity(capacity.min(self.keys.len()));
        // (next use, key): the top is the resident requested furthest in the future.
        let mut heap: BinaryHeap<(usize, u64)> = BinaryHeap::new();
        let sweep_at = capacity.saturating_mul(2).saturating_add(1024);
        let mut hits = 0u64;
        for (now, (&key, &next)) in self.keys.iter().zip(&self.next).enumerate() {
            if resident.contains(&key) {
                hits += 1;
                heap.push((next, key));
            } else if resident.len() < capacity {
                resident.insert(key);
                heap.push((next, key));
            } else {
                // The cache is full, so it holds a live entry, and live entries outrank stale
                // ones: the top is live.
                match heap.peek() {
                    Some(&(furthest, victim)) if next < furthest => {
                        heap.pop();
                        resident.remove(&victim);
                        resident.insert(key);
                        heap.push((next, key));
                    }
                    // The newcomer is needed no sooner than every resident: bypass it.
                    _ => {}
                }
            }
            if heap.len() > sweep_at {
                heap.retain(|&(use_at, _)| use_at > now);
            }
        }
        hits
    }
}

/// Belady's MIN hit count for one capacity; see [`NextUse`] to reuse the precomputation across
/// capacities.
///
/// ```
/// use pool_benches::sim::belady;
/// use std::num::NonZeroUsize;
///
/// // A loop over 3 keys with room for 2: MIN keeps one key fixed and hits it every round.
/// let keys: Vec<u64> = (0..30).map(|i| i % 3).collect();
/// assert!(belady::hits(&keys, NonZeroUsize::new(2).unwrap()) >= 13);
/// ```
pub fn hits(keys: &[u64], capacity: NonZeroUsize) -> u64 {
    NextUse::new(keys).hits(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive optimum over every eviction (and bypass) choice, for tiny traces.
    fn brute_force(keys: &[u64], capacity: usize, resident: &mut Vec<u64>) -> u64 {
        let Some((&key, rest)) = keys.split_first() else {
            return 0;
        };
        if resident.contains(&key) {
            return 1 + brute_force(rest, capacity, resident);
        }
        // Bypass.
        let mut best = brute_force(rest, capacity, resident);
        if resident.len() < capacity {
            resident.push(key);
            best = best.max(brute_force(rest, capacity, resident));
            resident.pop();
        } else {
            for i in 0..resident.len() {
                let old = std::mem::replace(&mut resident[i], key);
                best = best.max(brute_force(rest, capacity, resident));
                resident[i] = old;
            }
        }
        best
    }

    #[test]
    fn matches_brute_force_on_small_traces() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..300 {
            let len = 1 + round % 12;
            let alphabet = 2 + (round % 5) as u64;
            let keys: Vec<u64> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state % alphabet
                })
                .collect();
            for capacity in 1..=3 {
                let want = brute_force(&keys, capacity, &mut Vec::new());
                let got = hits(&keys, NonZeroUsize::new(capacity).unwrap());
                assert_eq!(got, want, "keys {keys:?} capacity {capacity}");
            }
        }
    }

    /// MIN by linear scans, `O(n c)`, no heap and no sweeps: a reference for long traces.
    fn scan_min(keys: &[u64], capacity: usize) -> u64 {
        let next_use = |from: usize, key: u64| {
            keys[from..].iter().position(|&k| k == key).map_or(usize::MAX, |p| from + p)
        };
        let mut resident: Vec<u64> = Vec::new();
        let mut hits = 0;
        for (i, &key) in keys.iter().enumerate() {
            if resident.contains(&key) {
                hits += 1;
            } else if resident.len() < capacity {
                resident.push(key);
            } else {
                let (slot, furthest) = resident
                    .iter()
                    .enumerate()
                    .map(|(slot, &k)| (slot, next_use(i + 1, k)))
                    .max_by_key(|&(_, n)| n)
                    .unwrap();
                if next_use(i + 1, key) < furthest {
                    resident[slot] = key;
                }
            }
        }
        hits
    }

    #[test]
    fn heap_sweeps_keep_results_exact() {
        // 5000 requests push the heap through several sweeps at these capacities.
        let keys: Vec<u64> = (0..5_000u64).map(|i| (i * 7919 + i / 13) % 23).collect();
        for capacity in [1, 2, 5, 11] {
            let got = hits(&keys, NonZeroUsize::new(capacity).unwrap());
            assert_eq!(got, scan_min(&keys, capacity), "capacity {capacity}");
        }
    }
}

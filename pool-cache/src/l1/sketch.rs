//! A count-min sketch of 4-bit counters with periodic aging: TinyLFU's frequency filter.
//!
//! Four counters per key, one from each quarter of a `u64` word chosen by a different mix of the
//! key's hash; the estimate is their minimum and an increment bumps only the counters equal to
//! it (conservative update, fewer over-estimates). After `sample_size` increments (ten times
//! the capacity, as Caffeine does) every counter is halved, so the sketch forgets old
//! popularity. Sized as Caffeine does, one word (16 counters) per *resident entry* rounded up to
//! a power of two — 8 bytes an entry — with a floor for small caches (see `MIN_WORDS`). The table
//! starts at the floor and doubles as the cache fills ([`Sketch::ensure_capacity`]), never from
//! the capacity: with a weigher the capacity is a weight (say bytes), and a 64 MiB budget sized
//! as 64M entries reserved 516 MiB of sketch. Doubling keeps every estimate: a key's word is the
//! low bits of a mix of its hash, so word `i` of the larger table is old word `i & old_mask`, and
//! the old table is copied into each half.
//!
//! The hash the sketch sees is the cache's per-instance seeded hash re-mixed with a per-sketch
//! seed, so an attacker cannot aim many keys at the same counters without knowing both.

/// The smallest table: 16K counters (8 KiB). Below this, small caches facing a much larger key
/// space saturate the sketch with collisions and admission turns into noise: on the glimpse
/// trace (2,529 keys) at capacity 250, W-TinyLFU hit .05 with 2K counters and .16 with 8K.
const MIN_WORDS: u64 = 1024;

/// The largest table: 2^32 words (32 GiB), four times the `u32` index space of a shard's slab.
const MAX_WORDS: u64 = 1 << 32;

/// Counter-halving mask: keeps the low three bits of every nibble after a right shift.
const RESET_MASK: u64 = 0x7777_7777_7777_7777;

/// Odd multipliers from SplitMix64 / xxhash; any odd constants with good bit spread work.
const SEEDS: [u64; 4] =
    [0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB, 0xC2B2_AE3D_27D4_EB4F];

#[derive(Debug)]
pub(crate) struct Sketch {
    table: Box<[u64]>,
    mask: u64,
    seed: u64,
    additions: u64,
    sample_size: u64,
}

impl Sketch {
    /// A table of `MIN_WORDS` that ages every `10 × entries` additions.
    pub(crate) fn new(entries: u64, seed: u64) -> Self {
        Self {
            table: vec![0; MIN_WORDS as usize].into_boxed_slice(),
            mask: MIN_WORDS - 1,
            seed,
            additions: 0,
            sample_size: Self::sample_size_for(entries),
        }
    }

    fn sample_size_for(entries: u64) -> u64 {
        entries.saturating_mul(10).max(16)
    }

    /// The number of words (16 counters each).
    pub(crate) fn words(&self) -> u64 {
        self.mask + 1
    }

    /// Grows the table to one word per entry for `entries` resident entries (rounded up to a
    /// power of two, at most `MAX_WORDS`), keeping every estimate. O(new size), and since the
    /// table only doubles, O(1) amortised per entry added.
    pub(crate) fn ensure_capacity(&mut self, entries: u64) {
        let want =
            entries.checked_next_power_of_two().unwrap_or(MAX_WORDS).clamp(MIN_WORDS, MAX_WORDS);
        let old = self.words();
        if want <= old {
            return;
        }
        let mut table = Vec::with_capacity(want as usize);
        for _ in 0..want / old {
            table.extend_from_slice(&self.table);
        }
        self.table = table.into_boxed_slice();
        self.mask = want - 1;
    }

    /// Ages every `10 × entries` additions from now on.
    pub(crate) fn set_sample_entries(&mut self, entries: u64) {
        self.sample_size = Self::sample_size_for(entries);
    }

    #[inline]
    fn slots(&self, hash: u64) -> [(usize, u32); 4] {
        let h = (hash ^ self.seed).wrapping_mul(SEEDS[0]);
        let h = h ^ (h >> 32);
        std::array::from_fn(|i| {
            let x = h.wrapping_mul(SEEDS[i]);
            let x = x ^ (x >> 29);
            // Word from the low bits, nibble (0..16) from the top four.
            ((x & self.mask) as usize, ((x >> 60) as u32) << 2)
        })
    }

    pub(crate) fn estimate(&self, hash: u64) -> u8 {
        self.slots(hash)
            .iter()
            .map(|&(w, shift)| ((self.table[w] >> shift) & 15) as u8)
            .min()
            .unwrap_or(0)
    }

    /// Records one access of the key (a miss): adds 1 to its counters and counts it toward the
    /// aging period. Returns whether the sketch aged.
    pub(crate) fn add(&mut self, hash: u64) -> bool {
        self.add_counts(hash, 1, true)
    }

    /// Folds `n` hits that a resident entry recorded into its counters (saturating at 15)
    /// without counting them toward the aging period: they were counted when they happened
    /// ([`Sketch::count_accesses`]). Counting them twice aged the sketch up to twice as often
    /// as Caffeine's one halving per `10 × capacity` accesses. Returns whether the sketch aged.
    pub(crate) fn fold(&mut self, hash: u64, n: u8) -> bool {
        self.add_counts(hash, n, false)
    }

    fn add_counts(&mut self, hash: u64, n: u8, counted: bool) -> bool {
        if n == 0 {
            return false;
        }
        let slots = self.slots(hash);
        let min = slots.iter().map(|&(w, s)| ((self.table[w] >> s) & 15) as u8).min().unwrap_or(0);
        let target = min.saturating_add(n).min(15);
        if target > min {
            for &(w, s) in &slots {
                let c = ((self.table[w] >> s) & 15) as u8;
                if c < target {
                    self.table[w] = (self.table[w] & !(15 << s)) | (u64::from(target) << s);
                }
            }
        }
        if counted {
            self.additions += u64::from(n);
        }
        if self.additions >= self.sample_size {
            self.age();
            return true;
        }
        false
    }

    /// Counts `n` accesses toward the aging period without touching any counter (hits that
    /// the entries themselves recorded). Returns whether the sketch aged.
    pub(crate) fn count_accesses(&mut self, n: u64) -> bool {
        self.additions += n;
        if self.additions >= self.sample_size {
            self.age();
            return true;
        }
        false
    }

    fn age(&mut self) {
        for w in self.table.iter_mut() {
            *w = (*w >> 1) & RESET_MASK;
        }
        self.additions /= 2;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_saturate_and_age() {
        let mut s = Sketch::new(1000, 42);
        for _ in 0..20 {
            s.add(7);
        }
        assert_eq!(s.estimate(7), 15);
        assert!(s.estimate(8) <= 1, "an unrelated key is (almost) never counted");
        s.age();
        assert_eq!(s.estimate(7), 7);
    }

    #[test]
    fn starts_at_the_floor_and_grows_keeping_estimates() {
        let mut s = Sketch::new(u64::MAX, 5);
        assert_eq!(s.words(), MIN_WORDS, "sized from the entry hint, not allocated for it");
        let keys: Vec<u64> = (0..3000u64).map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        for (i, &k) in keys.iter().enumerate() {
            for _ in 0..(i % 7) {
                s.add(k);
            }
        }
        let before: Vec<u8> = keys.iter().map(|&k| s.estimate(k)).collect();
        s.ensure_capacity(5000);
        assert_eq!(s.words(), 8192);
        let after: Vec<u8> = keys.iter().map(|&k| s.estimate(k)).collect();
        assert_eq!(before, after, "growing lost or changed counts");
        s.ensure_capacity(10);
        assert_eq!(s.words(), 8192, "never shrinks");
    }

    #[test]
    fn ages_after_sample_size() {
        let mut s = Sketch::new(16, 1);
        let mut aged = false;
        for i in 0..160 {
            aged |= s.add(i);
        }
        assert!(aged);
    }

    #[test]
    fn folded_hits_raise_the_estimate_but_not_the_aging_clock() {
        let mut s = Sketch::new(16, 3);
        assert!(!s.fold(9, 12));
        assert_eq!(s.estimate(9), 12);
        // 160 folded hits: counted already when they happened, so no aging.
        for i in 0..160 {
            assert!(!s.fold(1000 + i, 1));
        }
        assert_eq!(s.additions, 0);
    }
}

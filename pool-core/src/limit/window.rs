//! The breaker's sliding windows: count-based (a lock-free ring of outcomes with running counts)
//! and time-based (per-second buckets under a lock).

use crate::sync::{AtomicU32, AtomicU64, Mutex, Ordering};

/// Bits of an outcome as stored in a ring slot: 0 means an empty slot.
pub(crate) const CALL: u32 = 1;
pub(crate) const FAILED: u32 = 2;
pub(crate) const SLOW: u32 = 4;

/// Running counts packed in one word, 21 bits each (calls | failures << 21 | slow << 42), so one
/// `fetch_add` and one `fetch_sub` update all three; windows are capped below 2^21 calls.
const FIELD: u32 = 21;
const MASK: u64 = (1 << FIELD) - 1;
pub(crate) const MAX_WINDOW: u32 = (1 << FIELD) - 1;

fn pack(outcome: u32) -> u64 {
    u64::from(outcome & CALL)
        | (u64::from((outcome & FAILED) >> 1) << FIELD)
        | (u64::from((outcome & SLOW) >> 2) << (2 * FIELD))
}

/// Calls, failures and slow calls in the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) calls: u64,
    pub(crate) failed: u64,
    pub(crate) slow: u64,
}

fn unpack(w: u64) -> Counts {
    Counts { calls: w & MASK, failed: (w >> FIELD) & MASK, slow: (w >> (2 * FIELD)) & MASK }
}

/// Last `N` outcomes. Each record swaps its outcome into the next slot, adds its own bits to the
/// running counts first and subtracts the evicted slot's bits second: every value is added once
/// and subtracted at most once, after it was added, so no field ever borrows from its neighbour.
pub(crate) struct CountWindow {
    slots: Box<[AtomicU32]>,
    head: AtomicU64,
    counts: AtomicU64,
}

impl CountWindow {
    pub(crate) fn new(size: u32) -> Self {
        Self {
            slots: (0..size.max(1)).map(|_| AtomicU32::new(0)).collect(),
            head: AtomicU64::new(0),
            counts: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn record(&self, outcome: u32) -> Counts {
        let i = (self.head.fetch_add(1, Ordering::Relaxed) % self.slots.len() as u64) as usize;
        let old = self.slots[i].swap(outcome, Ordering::AcqRel);
        let add = pack(outcome);
        let sub = pack(old);
        if add == sub {
            return unpack(self.counts.load(Ordering::Acquire));
        }
        self.counts.fetch_add(add, Ordering::AcqRel);
        unpack(self.counts.fetch_sub(sub, Ordering::AcqRel).wrapping_sub(sub))
    }

    pub(crate) fn counts(&self) -> Counts {
        unpack(self.counts.load(Ordering::Acquire))
    }

    pub(crate) fn reset(&self) {
        // Subtract what each slot held, so concurrent stale recorders keep the counts consistent.
        for s in self.slots.iter() {
            let old = s.swap(0, Ordering::AcqRel);
            self.counts.fetch_sub(pack(old), Ordering::AcqRel);
        }
    }
}

/// Outcomes of the last `N` whole seconds, one bucket per second.
pub(crate) struct TimeWindow {
    inner: Mutex<TimeBuckets>,
}

struct TimeBuckets {
    /// (second, counts) per bucket; a bucket whose second is outside the window is stale.
    buckets: Box<[(u64, Counts)]>,
    total: Counts,
    last_sec: u64,
}

impl TimeWindow {
    pub(crate) fn new(seconds: u32) -> Self {
        let n = seconds.max(1) as usize;
        Self {
            inner: Mutex::new(TimeBuckets {
                buckets: vec![(0, Counts::default()); n].into_boxed_slice(),
                total: Counts::default(),
                last_sec: 0,
            }),
        }
    }

    pub(crate) fn record(&self, now_nanos: u64, outcome: u32) -> Counts {
        let mut w = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let sec = now_nanos / 1_000_000_000;
        w.advance(sec);
        let n = w.buckets.len() as u64;
        let b = &mut w.buckets[(sec % n) as usize];
        b.0 = sec;
        let add = unpack(pack(outcome));
        b.1.calls += add.calls;
        b.1.failed += add.failed;
        b.1.slow += add.slow;
        w.total.calls += add.calls;
        w.total.failed += add.failed;
        w.total.slow += add.slow;
        w.total
    }

    pub(crate) fn counts(&self, now_nanos: u64) -> Counts {
        let mut w = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        w.advance(now_nanos / 1_000_000_000);
        w.total
    }

    pub(crate) fn reset(&self) {
        let mut w = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        w.buckets.iter_mut().for_each(|b| b.1 = Counts::default());
        w.total = Counts::default();
    }
}

impl TimeBuckets {
    /// Empties the buckets of the seconds that slid out of the window since `last_sec`.
    fn advance(&mut self, sec: u64) {
        if sec <= self.last_sec {
            return;
        }
        let n = self.buckets.len() as u64;
        // At most one lap: past that, every bucket is stale anyway.
        let from = self.last_sec.saturating_add(1).max(sec.saturating_sub(n - 1));
        for s in from..=sec {
            let i = (s % n) as usize;
            let old = std::mem::take(&mut self.buckets[i].1);
            self.total.calls -= old.calls;
            self.total.failed -= old.failed;
            self.total.slow -= old.slow;
            self.buckets[i].0 = s;
        }
        self.last_sec = sec;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_window_keeps_last_n() {
        let w = CountWindow::new(3);
        w.record(CALL | FAILED);
        w.record(CALL);
        let c = w.record(CALL | SLOW);
        assert_eq!(c, Counts { calls: 3, failed: 1, slow: 1 });
        let c = w.record(CALL);
        assert_eq!(c, Counts { calls: 3, failed: 0, slow: 1 });
        w.reset();
        assert_eq!(w.counts(), Counts::default());
    }

    #[test]
    fn time_window_forgets_old_seconds() {
        let w = TimeWindow::new(2);
        let s = 1_000_000_000;
        w.record(0, CALL | FAILED);
        w.record(s, CALL);
        assert_eq!(w.counts(s), Counts { calls: 2, failed: 1, slow: 0 });
        assert_eq!(w.counts(2 * s), Counts { calls: 1, failed: 0, slow: 0 });
        assert_eq!(w.counts(100 * s), Counts::default());
    }
}

//! Expiry bookkeeping: per-entry deadlines and a hierarchical timer wheel that reclaims expired
//! entries in O(1) amortised time.
//!
//! Six levels of 64 buckets, each level's bucket 64 times wider than the one below: 1.05 ms,
//! 67 ms, 4.3 s, 4.6 min, 4.9 h and 13 days (powers of two of nanoseconds, so a bucket is a
//! shift and a mask; the layout follows Caffeine's `TimerWheel` with a finer first level). An
//! entry sits in the bucket of its deadline on the lowest level whose span covers the time left;
//! when the wheel turns past a bucket its entries either expire or drop to a finer level, so an
//! entry moves at most six times in its life. Lookups check the deadline itself, so an expired
//! entry is never returned even before the wheel reaches it.

use super::list::{Link, List, NIL, swap_remove_index};
use crate::sync::{AtomicU64, Ordering};

/// "Never expires".
pub(crate) const NEVER: u64 = u64::MAX;
const LEVELS: usize = 6;
const BUCKETS: usize = 64;
const SHIFTS: [u32; LEVELS] = [20, 26, 32, 38, 44, 50];
const EXPIRED_BUCKET: u16 = (LEVELS * BUCKETS) as u16;
const NO_BUCKET: u16 = u16::MAX;

#[derive(Debug)]
pub(crate) struct TimerWheel {
    /// The effective deadline; readers move it forward for time-to-idle.
    deadline: Vec<AtomicU64>,
    /// The write-based deadline (time-to-live or per-entry); time-to-idle never passes it.
    hard: Vec<u64>,
    bucket_of: Vec<u16>,
    links: Vec<Link>,
    buckets: Vec<List>,
    /// The time of the last `advance`.
    now: u64,
}

impl TimerWheel {
    pub(crate) fn new(now: u64) -> Self {
        Self {
            deadline: Vec::new(),
            hard: Vec::new(),
            bucket_of: Vec::new(),
            links: Vec::new(),
            buckets: vec![List::default(); LEVELS * BUCKETS + 1],
            now,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.deadline.clear();
        self.hard.clear();
        self.bucket_of.clear();
        self.links.clear();
        self.buckets.iter_mut().for_each(|b| *b = List::default());
    }

    fn bucket_for(&self, deadline: u64) -> u16 {
        if deadline == NEVER {
            return NO_BUCKET;
        }
        if deadline <= self.now {
            return EXPIRED_BUCKET;
        }
        let left = deadline - self.now;
        let level = (0..LEVELS - 1).find(|&l| left < 1u64 << (SHIFTS[l] + 6)).unwrap_or(LEVELS - 1);
        (level * BUCKETS + ((deadline >> SHIFTS[level]) as usize & (BUCKETS - 1))) as u16
    }

    fn schedule(&mut self, idx: u32) {
        let deadline = *self.deadline[idx as usize].get_mut();
        let b = self.bucket_for(deadline);
        self.bucket_of[idx as usize] = b;
        if b != NO_BUCKET {
            self.buckets[b as usize].push_front(&mut self.links, idx);
        }
    }

    fn unschedule(&mut self, idx: u32) {
        let b = self.bucket_of[idx as usize];
        if b != NO_BUCKET {
            self.buckets[b as usize].unlink(&mut self.links, idx);
            self.bucket_of[idx as usize] = NO_BUCKET;
        }
    }

    /// A new entry at `idx` (the last index) with write-based deadline `hard` and effective
    /// deadline `deadline` (`≤ hard`).
    pub(crate) fn push(&mut self, idx: u32, hard: u64, deadline: u64) {
        debug_assert_eq!(idx as usize, self.links.len());
        self.deadline.push(AtomicU64::new(deadline));
        self.hard.push(hard);
        self.bucket_of.push(NO_BUCKET);
        self.links.push(Link::UNLINKED);
        self.schedule(idx);
    }

    /// The entry at `idx` was rewritten: new deadlines, new place in the wheel.
    pub(crate) fn reset(&mut self, idx: u32, hard: u64, deadline: u64) {
        self.unschedule(idx);
        *self.deadline[idx as usize].get_mut() = deadline;
        self.hard[idx as usize] = hard;
        self.schedule(idx);
    }

    #[inline]
    pub(crate) fn is_expired(&self, idx: u32, now: u64) -> bool {
        self.deadline[idx as usize].load(Ordering::Relaxed) <= now
    }

    /// Time-to-idle on a hit under the read lock: push the deadline to `now + tti` (never past
    /// the hard deadline). The entry stays in its old bucket; the wheel re-files it when it gets
    /// there. Skips the store when the deadline would move by less than a millisecond, so a hot
    /// entry is not written on every hit.
    #[inline]
    pub(crate) fn touch_shared(&self, idx: u32, now: u64, tti: u64) {
        let cell = &self.deadline[idx as usize];
        let new = now.saturating_add(tti).min(self.hard[idx as usize]);
        if new > cell.load(Ordering::Relaxed).saturating_add(1 << 20) {
            cell.store(new, Ordering::Relaxed);
        }
    }

    pub(crate) fn remove(&mut self, idx: u32) {
        self.unschedule(idx);
        swap_remove_index(&mut self.deadline, idx);
        swap_remove_index(&mut self.hard, idx);
        swap_remove_index(&mut self.bucket_of, idx);
        if let (_, Some(moved)) = swap_remove_index(&mut self.links, idx) {
            let b = self.bucket_of[idx as usize];
            if b != NO_BUCKET {
                self.buckets[b as usize].relocate(&mut self.links, moved, idx);
            }
        }
    }

    /// Turns the wheel to `now`: entries whose deadline passed move to the expired list (see
    /// [`Self::pop_expired`]), the others in the buckets passed drop to a finer level.
    pub(crate) fn advance(&mut self, now: u64) {
        if now <= self.now {
            return;
        }
        let prev = self.now;
        self.now = now;
        for (level, &shift) in SHIFTS.iter().enumerate() {
            let (from, to) = (prev >> shift, now >> shift);
            if from == to {
                break;
            }
            let turns = (to - from).min(BUCKETS as u64 - 1);
            for t in 0..=turns {
                let b = level * BUCKETS + ((from + t) as usize & (BUCKETS - 1));
                self.refile_bucket(b);
            }
        }
    }

    fn refile_bucket(&mut self, b: usize) {
        let list = std::mem::take(&mut self.buckets[b]);
        let mut cur = list.front().unwrap_or(NIL);
        while cur != NIL {
            let next = self.links[cur as usize].next;
            self.bucket_of[cur as usize] = NO_BUCKET;
            self.schedule(cur);
            cur = next;
        }
    }

    /// An entry the wheel found expired, to be removed by the caller.
    pub(crate) fn pop_expired(&self) -> Option<u32> {
        self.buckets[EXPIRED_BUCKET as usize].back()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wheel_expires_in_deadline_order_of_buckets() {
        let mut e = TimerWheel::new(0);
        let ms = 1_000_000;
        e.push(0, 5 * ms, 5 * ms);
        e.push(1, 10_000 * ms, 10_000 * ms);
        e.push(2, NEVER, NEVER);
        e.advance(4 * ms);
        assert_eq!(e.pop_expired(), None);
        e.advance(7 * ms);
        assert_eq!(e.pop_expired(), Some(0));
        e.remove(0);
        // Entry 2 moved into slot 0, entry 1 stays at 1.
        assert!(!e.is_expired(0, u64::MAX - 1));
        e.advance(20_000 * ms);
        assert_eq!(e.pop_expired(), Some(1));
        e.remove(1);
        assert_eq!(e.pop_expired(), None);
    }
}

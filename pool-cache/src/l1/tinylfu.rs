//! W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
//! 2017; the Caffeine variant with a hill-climbed window). See `POLICY.md` beside this file.
//!
//! Hits run under the shard's *read* lock, so they cannot relink lists. Each entry instead has
//! one atomic metadata byte: an "accessed" bit and a 4-bit count of hits while resident. The
//! lists are kept in CLOCK fashion: when eviction looks at a list's tail and finds the accessed
//! bit set, it clears the bit and gives the entry its promotion then (window → window front,
//! probation → protected, protected → protected front). Every such step consumes a bit that a
//! hit set, so eviction stays O(1) amortised. The resident hit count is folded into the sketch
//! when the entry leaves, so the sketch sees every access without a hit ever writing to it.

use super::ghost::Ghost;
use super::list::{Link, List, swap_remove_index};
use super::policy::{EntryInfo, Victim};
use super::sketch::Sketch;
use crate::sync::{AtomicU8, Ordering};

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;
const REGION_MASK: u8 = 0b11;
const ACCESSED: u8 = 0b100;
const FREQ_SHIFT: u8 = 4;

/// Caffeine's constants: the window starts at 1% of the capacity, protected takes 80% of
/// the main region, the hill climber steps by 6.25% of the capacity, decays its step by 2% a
/// sample and restarts after a hit-rate change of 5 points.
const INITIAL_WINDOW_PERCENT: f64 = 0.01;
const PROTECTED_PERCENT: f64 = 0.80;
const STEP_PERCENT: f64 = 0.0625;
const STEP_DECAY: f64 = 0.98;
const RESTART_THRESHOLD: f64 = 0.05;
/// The least margin by which a period's regret rate (misses that LRU would have hit, over
/// requests) must exceed `REGRET_RATIO` times its hit rate to count toward a trial of the
/// whole capacity as window, and by which the trial must then raise the hit rate to be kept
/// (see `check_regret`).
const REGRET_MARGIN: f64 = 0.01;
/// How many times the hit rate the regret rate must exceed (plus `REGRET_MARGIN`) to start a
/// trial. At 1, early periods of P12 @ 160000 (hit rate .05, regrets .075) started trials there
/// that its warming hit rate then kept, and the window stayed near LRU (.429 against .460).
/// On the families this is for, regrets run far above hits: backf @ 200 hit .000–.008 with
/// regrets .06–.25 a period, `synth:burst` @ 250 .00–.05 with .33–.36.
const REGRET_RATIO: f64 = 2.0;
/// Climbing samples after a kept trial of the full window before the old window is tried
/// again (multiplied by four after each loss: each lost return costs a sample at the old
/// window, 3.6 points on `synth:burst` @ 250 with a wait of 2 doubling).
const RETURN_WAIT: u32 = 4;
/// The longest wait between trials of the full window, in climbing samples.
const MAX_TRIAL_BACKOFF: u32 = 1024;
/// A candidate whose frequency does not beat the victim's is still admitted with probability
/// 1/128 once it is warm (estimate ≥ 6), so an attacker cannot pin a victim by flooding its
/// sketch counters with colliding keys (Caffeine's hash-flooding defence).
const JITTER_MIN_FREQ: u8 = 6;
const JITTER_MASK: u64 = 127;

/// A trial of the whole capacity as window (see `TinyLfu::check_regret`).
#[derive(Debug, Clone, Copy)]
struct Trial {
    /// The window before the trial, restored if it fails.
    window: u64,
    /// The hit rate of the last sample before it.
    before: f64,
    /// A trial of the whole capacity (not a return to the window before one).
    to_full: bool,
}

#[derive(Debug)]
pub(crate) struct TinyLfu {
    links: Vec<Link>,
    meta: Vec<AtomicU8>,
    lists: [List; 3],
    weights: [u64; 3],
    max: u64,
    /// The capacity is a weight (a weigher is set), not an entry count.
    weighted: bool,
    /// Entries the aging and climbing periods are counted in (`10 ×` this many requests): the
    /// capacity, or with a weigher the most entries ever resident (a weight says nothing about
    /// how many entries fit).
    entries: u64,
    window_max: u64,
    protected_max: u64,
    sketch: Sketch,
    /// Recently rejected candidates.
    ghost: Ghost,
    /// The shard's request clock (misses as they come, hits as they are reported).
    now: u64,
    rng: u64,
    // Hill climber.
    sample_hits: u64,
    sample_misses: u64,
    /// Misses in this sample on keys that admission rejected so recently that LRU would have
    /// hit them (see `returning`).
    sample_regrets: u64,
    /// The sample's request count at which `check_regret` looks next.
    next_regret_check: u64,
    /// An open trial of the whole capacity as window.
    trial: Option<Trial>,
    /// Climbing samples to wait before the next trial, and the wait after the last failed one.
    cooldown: u32,
    backoff: u32,
    /// After a kept trial of the full window: the window before it, tried again after
    /// `return_wait` samples (see `judge_trial`), and the wait's multiplier.
    return_to: Option<u64>,
    return_wait: u32,
    return_backoff: u32,
    prev_hit_rate: f64,
    step: f64,
    /// How far the last climb actually moved the window (0 when clamped at a bound).
    last_move: i64,
}

#[inline]
fn region(m: u8) -> u8 {
    m & REGION_MASK
}

#[inline]
fn freq(m: u8) -> u8 {
    m >> FREQ_SHIFT
}

impl TinyLfu {
    pub(crate) fn new(capacity: u64, seed: u64, weighted: bool) -> Self {
        let entries = if weighted { 1 } else { capacity };
        let mut p = Self {
            links: Vec::new(),
            meta: Vec::new(),
            lists: [List::default(); 3],
            weights: [0; 3],
            max: 0,
            weighted,
            entries,
            window_max: 0,
            protected_max: 0,
            sketch: Sketch::new(entries, seed),
            ghost: Ghost::new(),
            now: 0,
            rng: seed | 1,
            sample_hits: 0,
            sample_misses: 0,
            sample_regrets: 0,
            next_regret_check: 0,
            trial: None,
            cooldown: 0,
            backoff: 0,
            return_to: None,
            return_wait: 0,
            return_backoff: 0,
            prev_hit_rate: 0.0,
            step: -STEP_PERCENT * capacity as f64,
            last_move: 1,
        };
        p.set_capacity(capacity);
        p
    }

    pub(crate) fn set_capacity(&mut self, capacity: u64) {
        self.max = capacity;
        if !self.weighted && self.entries != capacity {
            self.entries = capacity;
            self.sketch.set_sample_entries(capacity);
        }
        // Windows remembered for trials were shares of the old capacity.
        self.trial = None;
        self.return_to = None;
        self.window_max = ((capacity as f64 * INITIAL_WINDOW_PERCENT) as u64).max(1).min(capacity);
        self.protected_max = ((capacity - self.window_max) as f64 * PROTECTED_PERCENT) as u64;
    }

    pub(crate) fn window_max(&self) -> u64 {
        self.window_max
    }

    pub(crate) fn clear(&mut self) {
        self.links.clear();
        self.meta.clear();
        self.lists = [List::default(); 3];
        self.weights = [0; 3];
    }

    #[inline]
    fn meta(&mut self, idx: u32) -> &mut u8 {
        self.meta[idx as usize].get_mut()
    }

    /// A hit under the read lock: set the accessed bit, count the hit (saturating at 15). Skips
    /// the store when nothing changes, so a hot entry's line is not written on every hit.
    #[inline]
    pub(crate) fn touch_shared(&self, idx: u32) {
        let cell = &self.meta[idx as usize];
        let m = cell.load(Ordering::Relaxed);
        let f = freq(m);
        let new =
            if f < 15 { (m & 0x0F) | ACCESSED | ((f + 1) << FREQ_SHIFT) } else { m | ACCESSED };
        if new != m {
            // Lossy on a race with another reader: a missed count is harmless.
            cell.store(new, Ordering::Relaxed);
        }
    }

    pub(crate) fn reserve_exact(&mut self, extra: usize) {
        self.links.reserve_exact(extra);
        self.meta.reserve_exact(extra);
    }

    pub(crate) fn push(&mut self, idx: u32, hash: u64, weight: u64) {
        debug_assert_eq!(idx as usize, self.links.len());
        self.links.push(Link::UNLINKED);
        self.now += 1;
        self.meta.push(AtomicU8::new(WINDOW));
        if self.returning(hash) {
            self.sample_regrets += 1;
        }
        self.lists[WINDOW as usize].push_front(&mut self.links, idx);
        self.weights[WINDOW as usize] += weight;
        self.sample_misses += 1;
        // The entries resident before this one: never above an unweighted capacity, so a full
        // shard's table is the capacity rounded up to a power of two, not twice that.
        let resident = self.links.len() as u64 - 1;
        if resident > self.sketch.words() {
            self.sketch.ensure_capacity(resident);
        }
        self.ghost.ensure_capacity(resident);
        if self.weighted && resident > self.entries {
            self.entries = resident;
            self.sketch.set_sample_entries(resident);
        }
        if self.sketch.add(hash) {
            self.age_resident();
        }
        // No climb here: a sample closes only where the hits are brought up to date
        // (`record_hits`), or its hit rate would count misses up to now but hits only up to
        // the last report.
    }

    /// Whether this miss is a *regret*: the key was rejected by admission so recently that an
    /// LRU cache of this size would still hold it (its previous request lies at most about
    /// `capacity` requests back: the rejection came a window's stay after it). Keys of a loop
    /// longer than the cache come back only after more than `capacity` requests and are no
    /// regret: no window size would have kept them.
    fn returning(&mut self, hash: u64) -> bool {
        let resident = self.links.len() as u64;
        let within = resident.saturating_sub(self.window_len());
        self.ghost.take_recent(hash, self.now, within)
    }

    /// Entries in the window now.
    fn window_len(&self) -> u64 {
        u64::from(self.lists[WINDOW as usize].len())
    }

    pub(crate) fn update(&mut self, idx: u32, old: u64, new: u64) {
        let r = region(*self.meta(idx)) as usize;
        self.weights[r] = self.weights[r] - old + new;
        self.touch_shared(idx);
    }

    pub(crate) fn remove(&mut self, idx: u32, info: &impl EntryInfo) {
        let m = *self.meta(idx);
        let r = region(m) as usize;
        self.lists[r].unlink(&mut self.links, idx);
        self.weights[r] -= info.weight(idx);
        // Fold the hits it collected while resident back into the sketch: its history
        // survives eviction, as in Caffeine where every access goes to the sketch.
        if self.sketch.fold(info.hash(idx), freq(m)) {
            self.age_resident();
        }
        swap_remove_index(&mut self.meta, idx);
        if let (_, Some(moved)) = swap_remove_index(&mut self.links, idx) {
            let r = region(*self.meta(idx)) as usize;
            self.lists[r].relocate(&mut self.links, moved, idx);
        }
    }

    /// The read path's hits since the last report (possibly none), every
    /// `HIT_SYNC_INTERVAL` writes: the one place a hill-climbing sample may close, since only
    /// here are both its hits and its misses counted up to the same request.
    pub(crate) fn record_hits(&mut self, hits: u64) {
        self.sample_hits += hits;
        self.now += hits;
        if self.sketch.count_accesses(hits) {
            self.age_resident();
        }
        self.check_regret();
        self.climb();
    }

    /// Every `capacity` requests within a climbing sample: if admission has turned away, since
    /// the sample began, more than `REGRET_RATIO` times as many keys that recency alone would
    /// have hit as the cache hit at all (a back-and-forth scan, short bursts), the frequency
    /// filter may be failing where LRU (the whole capacity as window) would win. The window
    /// then opens fully at once, as a *trial* that lasts one climbing sample. The climber,
    /// stepping 6.25% per `10 × capacity` requests, would take 160 × capacity requests to get
    /// there: longer than many such traces.
    ///
    /// The trial is judged like a climbing step (see `climb`), against the previous sample's
    /// hit rate: kept if the hit rate rose by `REGRET_MARGIN`, undone otherwise, and then no
    /// new trial for twice as many samples as after the last failed one. Rates are cumulative
    /// over the sample so far, so one bursty period cannot start a trial. A loop longer than
    /// the cache never starts one (its keys return after more than `capacity` requests: no
    /// regret), nor does any workload where the cache hits more than LRU could gain.
    fn check_regret(&mut self) {
        let requests = self.sample_hits + self.sample_misses;
        if self.trial.is_some() || requests < self.next_regret_check {
            return;
        }
        self.next_regret_check = requests + self.entries.max(64);
        if self.cooldown > 0 || self.window_max == self.max {
            return;
        }
        let hit_rate = self.sample_hits as f64 / requests as f64;
        let regret_rate = self.sample_regrets as f64 / requests as f64;
        if regret_rate > REGRET_RATIO * hit_rate + REGRET_MARGIN {
            self.start_trial(self.max, self.prev_hit_rate);
        }
    }

    /// Closes a trial (see `check_regret`) with the hit rate of its sample: kept if it beat
    /// the sample before it by `REGRET_MARGIN`, undone otherwise.
    ///
    /// A kept trial of the full window is itself put to the test: after `RETURN_WAIT` samples
    /// the old window gets a trial of one sample back, and wins if it beats the full window by
    /// the same margin; each loss makes the wait four times longer. A workload whose phase
    /// change started a trial that the new phase, not the window, then won (P12 @ 20000)
    /// returns to its small window within a few samples instead of climbing down 6.25% at a
    /// time.
    fn judge_trial(&mut self, trial: Trial, hit_rate: f64) {
        let kept = hit_rate > trial.before + REGRET_MARGIN;
        match (trial.to_full, kept) {
            (true, false) => {
                self.set_window(trial.window);
                self.backoff = (self.backoff * 2).clamp(1, MAX_TRIAL_BACKOFF);
                self.cooldown = self.backoff;
            }
            (true, true) => {
                self.backoff = 0;
                self.return_to = Some(trial.window);
                self.return_backoff = 1;
                self.return_wait = RETURN_WAIT;
            }
            (false, false) => {
                self.set_window(trial.window);
                self.return_backoff = (self.return_backoff * 4).clamp(1, MAX_TRIAL_BACKOFF);
                self.return_wait = RETURN_WAIT * self.return_backoff;
            }
            (false, true) => self.return_to = None,
        }
        // The climber resumes from here, waiting for a restart-sized change before it moves.
        self.last_move = 0;
        self.prev_hit_rate = hit_rate;
        self.restart_sample();
    }

    /// Starts a trial of `window` for one climbing sample.
    fn start_trial(&mut self, window: u64, before: f64) {
        self.trial = Some(Trial { window: self.window_max, before, to_full: window == self.max });
        self.set_window(window);
        self.restart_sample();
    }

    fn set_window(&mut self, window: u64) {
        self.window_max = window;
        self.protected_max = ((self.max - window) as f64 * PROTECTED_PERCENT) as u64;
    }

    fn restart_sample(&mut self) {
        self.sample_hits = 0;
        self.sample_misses = 0;
        self.sample_regrets = 0;
        self.next_regret_check = self.entries.max(64);
    }

    /// Halve every resident hit count along with the sketch (O(n) once per `10 × capacity`
    /// accesses, so O(1) amortised). Rounded up: an entry's frequency is split between the
    /// sketch (before it was admitted) and this count (since), and halving both parts rounded
    /// down loses up to one more than halving the sum would. Rounded down, residents lost ties
    /// they should win: on the loop trace at 256, 5% of duels admitted the candidate, against
    /// 1.5% rounded up.
    fn age_resident(&mut self) {
        for m in &mut self.meta {
            let m = m.get_mut();
            *m = (*m & 0x0F) | (freq(*m).div_ceil(2) << FREQ_SHIFT);
        }
    }

    /// Caffeine's simple hill climber: after each sample of `10 × capacity` requests, keep
    /// moving the window boundary in the direction that raised the hit rate, with a decaying
    /// step that restarts at 6.25% when the hit rate jumps by 5 points (a workload change).
    ///
    /// One departure from Caffeine: when the last climb was clamped at a bound (window 0 or
    /// the whole capacity) it did not move the window, so the hit-rate change since is not its
    /// doing and does not turn the climber around; the climber waits at the bound until a
    /// change large enough to restart it, then searches away from the bound. Caffeine reverses
    /// on any drop, so at the bound sampling noise of a few hundredths of a point sends the
    /// window out by a full step and back: on the loop trace at 1000 (optimum: window 0) that
    /// cost a 5-point dip about every fifth sample.
    fn climb(&mut self) {
        let requests = self.sample_hits + self.sample_misses;
        // Samples of 3× or 1× the capacity were tried: noisier, worse on 11 of 14 rows.
        if requests < self.entries.saturating_mul(10).max(64) {
            return;
        }
        let hit_rate = self.sample_hits as f64 / requests as f64;
        if let Some(trial) = self.trial.take() {
            self.judge_trial(trial, hit_rate);
            return;
        }
        self.cooldown = self.cooldown.saturating_sub(1);
        if let Some(window) = self.return_to {
            if self.return_wait == 0 {
                self.prev_hit_rate = hit_rate;
                self.start_trial(window, hit_rate);
                return;
            }
            self.return_wait -= 1;
        }
        let change = hit_rate - self.prev_hit_rate;
        let stuck = self.last_move == 0;
        let amount = if stuck && self.window_max == 0 && change.abs() >= RESTART_THRESHOLD {
            // A workload change: the only way to search from a bound is away from it.
            self.step.abs()
        } else if stuck && self.window_max == self.max && change.abs() >= RESTART_THRESHOLD {
            -self.step.abs()
        } else if change >= 0.0 || stuck {
            self.step
        } else {
            -self.step
        };
        self.step = if change.abs() >= RESTART_THRESHOLD {
            STEP_PERCENT * self.max as f64 * amount.signum()
        } else {
            STEP_DECAY * amount
        };
        self.prev_hit_rate = hit_rate;
        self.restart_sample();
        let window = (self.window_max as f64 + amount).clamp(0.0, self.max as f64) as u64;
        self.last_move = window as i64 - self.window_max as i64;
        self.window_max = window;
        self.protected_max = ((self.max - window) as f64 * PROTECTED_PERCENT) as u64;
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: only needs to be unpredictable to keys, and the seed is per cache.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn move_to(&mut self, idx: u32, to: u8, weight: u64) {
        let m = *self.meta(idx);
        let from = region(m);
        self.lists[from as usize].unlink(&mut self.links, idx);
        self.weights[from as usize] -= weight;
        self.lists[to as usize].push_front(&mut self.links, idx);
        self.weights[to as usize] += weight;
        *self.meta(idx) = (m & !(REGION_MASK | ACCESSED)) | to;
    }

    /// Takes the accessed bit of `idx`, returning whether it was set.
    fn take_accessed(&mut self, idx: u32) -> bool {
        let m = self.meta(idx);
        let was = *m & ACCESSED != 0;
        *m &= !ACCESSED;
        was
    }

    /// The window's least recently used entry, giving accessed entries a second chance.
    fn window_victim(&mut self) -> Option<u32> {
        let mut budget = self.lists[WINDOW as usize].len();
        while let Some(t) = self.lists[WINDOW as usize].back() {
            if budget > 0 && self.take_accessed(t) {
                self.lists[WINDOW as usize].move_to_front(&mut self.links, t);
                budget -= 1;
                continue;
            }
            return Some(t);
        }
        None
    }

    /// Moves protected overflow to probation's front, second chance for accessed entries.
    fn demote_protected(&mut self, info: &impl EntryInfo) {
        let mut budget = self.lists[PROTECTED as usize].len();
        while self.weights[PROTECTED as usize] > self.protected_max {
            let Some(t) = self.lists[PROTECTED as usize].back() else { return };
            if budget > 0 && self.take_accessed(t) {
                self.lists[PROTECTED as usize].move_to_front(&mut self.links, t);
                budget -= 1;
                continue;
            }
            self.move_to(t, PROBATION, info.weight(t));
        }
    }

    /// The main region's victim: probation's least recently used entry after promoting the
    /// accessed ones to protected.
    fn main_victim(&mut self, info: &impl EntryInfo) -> Option<u32> {
        let mut budget =
            self.lists[PROBATION as usize].len() + self.lists[PROTECTED as usize].len();
        loop {
            if let Some(t) = self.lists[PROBATION as usize].back() {
                if budget > 0 && self.take_accessed(t) {
                    self.move_to(t, PROTECTED, info.weight(t));
                    self.demote_protected(info);
                    budget -= 1;
                    continue;
                }
                return Some(t);
            }
            // Probation is empty: the protected tail is the victim.
            return self.lists[PROTECTED as usize].back();
        }
    }

    /// The frequency of entry `idx`, whose key hashes to `hash`.
    fn frequency(&mut self, idx: u32, hash: u64) -> u8 {
        let resident = freq(*self.meta(idx));
        self.sketch.estimate(hash).saturating_add(resident).min(15)
    }

    /// Whether the candidate (its key hashing to `candidate_hash`) displaces the victim.
    fn admit(
        &mut self,
        candidate: u32,
        candidate_hash: u64,
        victim: u32,
        info: &impl EntryInfo,
    ) -> bool {
        let c = self.frequency(candidate, candidate_hash);
        let v = self.frequency(victim, info.hash(victim));
        if c > v {
            true
        } else if c < JITTER_MIN_FREQ {
            false
        } else {
            self.next_random() & JITTER_MASK == 0
        }
    }

    pub(crate) fn evict(&mut self, info: &impl EntryInfo) -> Option<Victim> {
        // Each pass moves one entry across the window/main boundary or returns. An entry
        // crosses from main to window only while main is over its share, and back only while
        // main has room, so the passes end in a duel within `2 × len + 2`.
        for _ in 0..=2 * self.links.len() + 2 {
            let main = self.weights[PROBATION as usize] + self.weights[PROTECTED as usize];
            let main_max = self.max - self.window_max;
            if self.weights[WINDOW as usize] > self.window_max || main == 0 {
                let Some(candidate) = self.window_victim() else { break };
                let w = info.weight(candidate);
                if main + w <= main_max {
                    self.move_to(candidate, PROBATION, w);
                    continue;
                }
                let Some(victim) = self.main_victim(info) else {
                    // Main is empty yet too small for the candidate: it cannot stay.
                    return Some(Victim { idx: candidate, rejected: true });
                };
                let hash = info.hash(candidate);
                if self.admit(candidate, hash, victim, info) {
                    self.move_to(candidate, PROBATION, w);
                    return Some(Victim { idx: victim, rejected: false });
                }
                self.ghost.record(hash, self.now);
                return Some(Victim { idx: candidate, rejected: true });
            }
            if main > main_max {
                // The window grew (hill climbing) or the capacity shrank: like Caffeine's
                // `increaseWindow`, main's least recently used entries join the window, where
                // they will still have to win a duel to stay. Evicting them outright would let
                // a scan flush the hot set whenever the climber widens the window.
                let Some(t) = self.lists[PROBATION as usize]
                    .back()
                    .or_else(|| self.lists[PROTECTED as usize].back())
                else {
                    break;
                };
                self.move_to(t, WINDOW, info.weight(t));
                continue;
            }
            break;
        }
        self.main_victim(info)
            .or_else(|| self.window_victim())
            .map(|idx| Victim { idx, rejected: false })
    }

    #[cfg(test)]
    pub(crate) fn eviction_order(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for r in [WINDOW, PROBATION, PROTECTED] {
            let mut v: Vec<u32> = self.lists[r as usize].iter(&self.links).collect();
            v.reverse();
            out.extend(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hill-climbing sample closes only when the hits are brought up to date: misses alone,
    /// however many, never move the window (a sample that closed on a miss counted misses up
    /// to that request but hits only up to the last report, and its noisy hit rate sent the
    /// window off an optimum at 0 on a loop).
    #[test]
    fn a_climbing_sample_closes_only_where_hits_are_reported() {
        let mut p = TinyLfu::new(200, 7, false);
        let start = p.window_max();
        for i in 0..5_000u32 {
            p.push(i, u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15), 1);
        }
        assert_eq!(p.window_max(), start, "a climb ran on a miss");
        p.record_hits(0);
        assert_ne!(p.window_max(), start, "the sample of 5000 misses did not close");
    }
}

//! The shard lock: a read-write lock whose readers write only their own thread's cache line.
//!
//! Why not `parking_lot::RwLock`: its read lock is a `lock cmpxchg` on the lock word and its
//! unlock a `lock xadd` on the same word. On two cores that word travels between them on every
//! hit, and even on one core the two locked instructions were 55% of a hit in `perf` (each one
//! waits for every earlier load and store, so consecutive lookups stop overlapping their cache
//! misses). Why not crossbeam's `ShardedLock`: its readers do stay on their own stripe, but its
//! writer locks all eight stripes' `RwLock`s one by one, which halved a miss-heavy `cachesim`
//! replay (60% of requests write).
//!
//! Here each live thread owns a cache-padded stripe (see [`thread_slot`]) holding its reader
//! count and a payload (the shard's hit and miss counters, so a hit writes one line). A reader
//! raises its count with one locked add (the store-load fence a reader cannot do without) and
//! lowers it with a plain release store; it then checks `writing`, a word that only changes when
//! a writer comes, so it stays shared in every core's cache. A writer takes a mutex (writers
//! queue there), raises `writing`, and waits for every stripe's count to reach zero: plain loads
//! of lines that are in its cache unless their reader ran since. A reader that finds a writer
//! steps back and waits on the writers' mutex, so it never holds a count while it waits.
//!
//! The interlock is Dekker's: the reader's add and the writer's raise are both `SeqCst`, as are
//! the loads after them, so in the single order of `SeqCst` operations at least one of the two
//! sees the other. Measured in `benches/benches/cache.rs` (`interleaved`) against the
//! `parking_lot` lock it replaced; see `src/l1/POLICY.md` ("Locking").
//!
//! This file holds the crate's only `unsafe`: the guards' dereferences and the `Sync` impl.
//! `MIRIFLAGS="-Zmiri-disable-weak-memory-emulation -Zmiri-many-seeds=0..8" cargo +nightly miri
//! test -p pool-cache --lib lock` runs its tests under miri, and `RUSTFLAGS="--cfg shuttle" cargo
//! test -p pool-cache --features shuttle --lib lock` its shuttle model. Miri's weak-memory
//! emulation stays off because the nightly here (2026-05-19) predates its fix for SC loads that
//! read a store C++20 rules out (rust-lang/miri#5104, fixed by #5111): there, a writer's `SeqCst`
//! load of a stripe may return the reader's earlier release store although the reader's later
//! `SeqCst` add precedes that load in the `SeqCst` order. C++20's coherence-ordered-before rule
//! forbids that read, and the interlock relies on the rule.

use crate::sync::{AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering, yield_now};
use crossbeam_utils::CachePadded;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// A thread's stripe of a lock: its reader count and a payload it alone writes (see
/// [`Exclusive`]).
#[derive(Debug, Default)]
pub(crate) struct Stripe<P> {
    readers: AtomicUsize,
    payload: P,
}

/// Whether the calling thread owns the stripe it was given: then only it ever writes there, and
/// a counter in the payload may add with a plain load and store instead of a locked add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exclusive {
    /// The thread's own stripe.
    Yes,
    /// The last stripe, shared by the threads beyond the exclusive ones.
    No,
}

/// A read-write lock over `T` with one `P` per thread stripe. Not reentrant: a thread that
/// holds a read guard and asks for another may wait forever on a waiting writer (as with
/// `parking_lot`), and one that holds a read guard and asks for the write lock will.
pub(crate) struct StripedRwLock<T, P> {
    /// Serialises writers; a reader that met a writer waits here for it to finish.
    writers: Mutex<()>,
    /// True while a writer holds, or is about to hold, the data.
    writing: CachePadded<AtomicBool>,
    /// One per exclusive thread slot, then one shared by every other thread.
    stripes: Box<[CachePadded<Stripe<P>>]>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&T` to several threads at once only through read guards and `&mut
// T` to one thread only through a write guard, never both (see `read` and `write`), which is
// `std::sync::RwLock`'s contract and needs the same bounds: `T: Send` for the writer's `&mut T`
// on any thread, `T: Sync` for the shared `&T`s. The stripes are atomics and `P: Sync`.
unsafe impl<T: Send + Sync, P: Sync> Sync for StripedRwLock<T, P> {}

impl<T, P: Default> StripedRwLock<T, P> {
    /// A lock with `exclusive` thread stripes plus the shared one.
    pub(crate) fn new(value: T, exclusive: usize) -> Self {
        Self {
            writers: Mutex::new(()),
            writing: CachePadded::new(AtomicBool::new(false)),
            stripes: (0..=exclusive).map(|_| CachePadded::new(Stripe::default())).collect(),
            data: UnsafeCell::new(value),
        }
    }
}

impl<T, P> StripedRwLock<T, P> {
    /// The calling thread's stripe and whether it owns it.
    #[inline]
    fn own_stripe(&self) -> (&Stripe<P>, Exclusive) {
        let shared = self.stripes.len() - 1;
        match thread_slot() {
            slot if slot < shared => (&self.stripes[slot], Exclusive::Yes),
            _ => (&self.stripes[shared], Exclusive::No),
        }
    }

    /// The calling thread's payload, for counting outside a read guard.
    #[inline]
    pub(crate) fn local(&self) -> (&P, Exclusive) {
        let (stripe, exclusive) = self.own_stripe();
        (&stripe.payload, exclusive)
    }

    /// Every stripe's payload, to sum them.
    pub(crate) fn payloads(&self) -> impl Iterator<Item = &P> {
        self.stripes.iter().map(|s| &s.payload)
    }

    /// Shared access. Writes nothing but the calling thread's own stripe unless a writer is
    /// there, in which case it waits for it.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T, P> {
        let (stripe, exclusive) = self.own_stripe();
        loop {
            stripe.readers.fetch_add(1, Ordering::SeqCst);
            if !self.writing.load(Ordering::SeqCst) {
                return ReadGuard { lock: self, stripe, exclusive, not_send: PhantomData };
            }
            self.read_slow(stripe);
        }
    }

    /// Steps back from a writer (so that it can finish) and waits for it.
    #[cold]
    fn read_slow(&self, stripe: &Stripe<P>) {
        stripe.readers.fetch_sub(1, Ordering::Release);
        drop(self.writers.lock());
    }

    /// Exclusive access: waits for the other writers, then for the readers to leave.
    pub(crate) fn write(&self) -> WriteGuard<'_, T, P> {
        let queue = self.writers.lock();
        self.writing.store(true, Ordering::SeqCst);
        for stripe in self.stripes.iter() {
            let mut spins = 0u32;
            while stripe.readers.load(Ordering::SeqCst) != 0 {
                // A reader holds its count for one lookup (or one shard's iteration snapshot):
                // spin briefly, then give up the core in case it was preempted.
                if spins < 64 {
                    std::hint::spin_loop();
                    spins += 1;
                } else {
                    yield_now();
                }
            }
        }
        WriteGuard { lock: self, _queue: queue }
    }
}

impl<T: fmt::Debug, P> fmt::Debug for StripedRwLock<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripedRwLock")
            .field("stripes", &self.stripes.len())
            .field("writing", &self.writing.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Shared access to a [`StripedRwLock`]'s data. Not `Send`: its drop lowers the count of the
/// thread's own stripe with a plain store, which only that thread may do.
pub(crate) struct ReadGuard<'a, T, P> {
    lock: &'a StripedRwLock<T, P>,
    stripe: &'a Stripe<P>,
    exclusive: Exclusive,
    not_send: PhantomData<*const ()>,
}

impl<T, P> ReadGuard<'_, T, P> {
    /// The payload of the stripe this reader counts on.
    #[inline]
    pub(crate) fn local(&self) -> (&P, Exclusive) {
        (&self.stripe.payload, self.exclusive)
    }
}

impl<T, P> Deref for ReadGuard<'_, T, P> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: while this guard lives its stripe's count includes it, and it saw `writing`
        // false after raising that count (both `SeqCst`). A writer sets `writing` (`SeqCst`)
        // before it reads the counts and takes `&mut T` only after reading each at zero, so it
        // either waits for this guard's release store or this guard saw its `writing` and
        // stepped back. The release store (or a previous writer's release of `writing` read by
        // our `SeqCst` load) orders every write to `T` before or after all reads through here.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, P> Drop for ReadGuard<'_, T, P> {
    #[inline]
    fn drop(&mut self) {
        match self.exclusive {
            Exclusive::Yes => {
                // Only this thread writes its own stripe's count: no locked instruction needed.
                let n = self.stripe.readers.load(Ordering::Relaxed);
                self.stripe.readers.store(n - 1, Ordering::Release);
            }
            Exclusive::No => {
                self.stripe.readers.fetch_sub(1, Ordering::Release);
            }
        }
    }
}

impl<T: fmt::Debug, P> fmt::Debug for ReadGuard<'_, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to a [`StripedRwLock`]'s data.
pub(crate) struct WriteGuard<'a, T, P> {
    lock: &'a StripedRwLock<T, P>,
    _queue: MutexGuard<'a, ()>,
}

impl<T, P> WriteGuard<'_, T, P> {
    /// The calling thread's payload.
    #[inline]
    pub(crate) fn local(&self) -> (&P, Exclusive) {
        self.lock.local()
    }
}

impl<T, P> Deref for WriteGuard<'_, T, P> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: as for `deref_mut`; a shared borrow of the guard is a shared borrow of `T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, P> DerefMut for WriteGuard<'_, T, P> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the writers' mutex, so no other write guard exists; it set
        // `writing` and then read every stripe's count at zero (`SeqCst`), so every reader
        // either left (its release store happened before our load) or will see `writing` and
        // step back without touching `T`, until this guard's drop clears it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T, P> Drop for WriteGuard<'_, T, P> {
    #[inline]
    fn drop(&mut self) {
        // Before `_queue` unlocks the mutex (fields drop after this): a reader waiting on the
        // mutex wakes to find `writing` already false.
        self.lock.writing.store(false, Ordering::Release);
    }
}

impl<T: fmt::Debug, P> fmt::Debug for WriteGuard<'_, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Hands out small thread slots, reusing those of exited threads, so that each live thread
/// below a lock's stripe count owns its stripe in every lock.
static SLOTS: std::sync::Mutex<Vec<bool>> = std::sync::Mutex::new(Vec::new());

struct SlotGuard(usize);

impl SlotGuard {
    fn claim() -> Self {
        let mut used = SLOTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = match used.iter().position(|u| !u) {
            Some(i) => i,
            None => {
                used.push(false);
                used.len() - 1
            }
        };
        used[slot] = true;
        SlotGuard(slot)
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut used = SLOTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        used[self.0] = false;
    }
}

#[cfg(not(shuttle))]
thread_local! {
    static SLOT: SlotGuard = SlotGuard::claim();
}

// Shuttle runs all its threads on one OS thread: they need its thread-locals to get a slot each.
#[cfg(shuttle)]
shuttle::thread_local! {
    static SLOT: SlotGuard = SlotGuard::claim();
}

/// This thread's slot, unique among live threads; `usize::MAX` (the shared stripe) while the
/// thread is being torn down, since its slot may already be someone else's.
#[inline]
pub(crate) fn thread_slot() -> usize {
    SLOT.try_with(|s| s.0).unwrap_or(usize::MAX)
}

/// Shuttle explores the interleavings of the reader/writer interlock (`RUSTFLAGS="--cfg shuttle"
/// cargo test -p pool-cache --features shuttle --lib lock`): one exclusive stripe for three
/// threads, so the plain-store path and the shared stripe both meet writers.
#[cfg(all(test, shuttle))]
#[allow(clippy::unwrap_used)]
mod shuttle_tests {
    use super::*;
    use shuttle::sync::Arc;
    use shuttle::thread;

    #[test]
    fn readers_and_writers_interlock_under_any_interleaving() {
        shuttle::check_random(
            || {
                let lock = Arc::new(StripedRwLock::<(u64, u64), ()>::new((0, 0), 1));
                let threads: Vec<_> = (0..3)
                    .map(|t| {
                        let lock = lock.clone();
                        thread::spawn(move || {
                            for i in 0..3 {
                                if (i + t) % 2 == 0 {
                                    let mut w = lock.write();
                                    w.0 += 1;
                                    thread::yield_now();
                                    w.1 += 1;
                                } else {
                                    let r = lock.read();
                                    let a = r.0;
                                    thread::yield_now();
                                    assert_eq!((a, r.0), (r.1, r.1), "a reader saw a write");
                                }
                            }
                        })
                    })
                    .collect();
                for h in threads {
                    h.join().unwrap();
                }
                let writes =
                    (0..3u64).map(|t| (0..3).filter(|i| (i + t) % 2 == 0).count()).sum::<usize>();
                assert_eq!(*lock.read(), (writes as u64, writes as u64));
            },
            5000,
        );
    }
}

#[cfg(all(test, not(shuttle)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    /// Miri runs these too, so the counts are small there.
    const ROUNDS: usize = if cfg!(miri) { 30 } else { 20_000 };

    /// Writers keep `a == b` at every release; readers must never see them differ, and no
    /// increment may be lost. Two exclusive stripes for four threads: whichever threads' slots
    /// lie beyond them share the last stripe, so both kinds of stripe are exercised.
    #[test]
    fn readers_never_see_a_half_done_write() {
        let lock = Arc::new(StripedRwLock::<(u64, u64), AtomicU64>::new((0, 0), 2));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    let mut torn = 0;
                    for i in 0..ROUNDS {
                        if (i + t) % 3 == 0 {
                            let mut w = lock.write();
                            w.0 += 1;
                            std::hint::black_box(&mut *w);
                            w.1 += 1;
                        } else {
                            let r = lock.read();
                            if r.0 != r.1 {
                                torn += 1;
                            }
                            r.local().0.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    torn
                })
            })
            .collect();
        let torn: u64 = threads.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(torn, 0);
        let writes: usize = (0..4).map(|t| (0..ROUNDS).filter(|i| (i + t) % 3 == 0).count()).sum();
        let (a, b) = *lock.read();
        assert_eq!((a, b), (writes as u64, writes as u64));
        let reads: u64 = lock.payloads().map(|p| p.load(Ordering::Relaxed)).sum();
        assert_eq!(reads as usize, 4 * ROUNDS - writes);
    }

    #[test]
    fn guards_release_their_counts() {
        let lock = StripedRwLock::<u64, ()>::new(1, 1);
        {
            let a = lock.read();
            let b = lock.read();
            assert_eq!(*a + *b, 2);
        }
        *lock.write() += 1;
        assert_eq!(*lock.read(), 2);
        assert!(lock.stripes.iter().all(|s| s.readers.load(Ordering::Relaxed) == 0));
        assert!(!lock.writing.load(Ordering::Relaxed));
    }

    /// A reader that panics while holding the lock still releases it.
    #[test]
    fn a_panicking_reader_releases_the_lock() {
        let lock = Arc::new(StripedRwLock::<u64, ()>::new(0, 1));
        let l = lock.clone();
        let r = std::thread::spawn(move || {
            let g = l.read();
            if *g == 0 {
                panic!("reader panics under the lock");
            }
        })
        .join();
        assert!(r.is_err());
        *lock.write() += 1;
        assert_eq!(*lock.read(), 1);
    }
}

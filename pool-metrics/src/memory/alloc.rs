//! A counting global allocator: the library's only `unsafe`.
//!
//! `GlobalAlloc` is an `unsafe trait`, so a wrapper that counts bytes cannot be written
//! without `unsafe impl`. Each method only forwards its arguments unchanged to the wrapped
//! allocator, whose contract the caller (the Rust runtime) already upholds, and adds the
//! size to a counter afterwards; nothing here touches the memory itself.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

thread_local! {
    // `const` initialised and without a destructor, so touching them from inside the global
    // allocator neither allocates nor registers a TLS destructor (which would recurse).
    static THREAD_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static THREAD_ALLOCATED_BYTES: Cell<u64> = const { Cell::new(0) };
}

/// A global allocator wrapper that counts heap allocations, process-wide (live and total
/// bytes, allocation calls) and per thread (allocation calls and bytes made by the calling
/// thread). Install it yourself, then give it to a [`MemoryMonitor`](crate::MemoryMonitor)
/// or read the counts:
///
/// ```
/// use pool_metrics::CountingAlloc;
///
/// #[global_allocator]
/// static ALLOC: CountingAlloc = CountingAlloc::system();
///
/// fn main() {
///     let before = ALLOC.live_bytes();
///     let v = vec![0u8; 1 << 20];
///     assert!(ALLOC.live_bytes() >= before + (1 << 20));
///     drop(v);
///
///     // A zero-allocation check that other threads cannot disturb: only this thread's
///     // allocations count.
///     let mut buffer = Vec::with_capacity(16);
///     let (_, allocations) = ALLOC.count_thread(|| buffer.extend_from_slice(b"fits"));
///     assert_eq!(allocations, 0);
///     let (_, allocations) = ALLOC.count_thread(|| buffer.extend_from_slice(&[0; 64]));
///     assert_eq!(allocations, 1); // the growth past 16 bytes
/// }
/// ```
///
/// The per-thread counts are kept in thread-locals shared by every `CountingAlloc` in the
/// process (only one can be the global allocator, and it is the one that sees the
/// allocations); a `realloc` counts as one allocation of its new size.
///
/// Cost: three relaxed atomic adds per allocation on counters shared by every thread, one per
/// free, and two thread-local increments per allocation; allocation-heavy code on many cores
/// will see the shared cache line bounce.
#[derive(Debug)]
pub struct CountingAlloc<A = System> {
    inner: A,
    allocations: AtomicU64,
    allocated: AtomicU64,
    freed: AtomicU64,
}

impl CountingAlloc<System> {
    /// Wraps the system allocator.
    ///
    /// ```
    /// static A: pool_metrics::CountingAlloc = pool_metrics::CountingAlloc::system();
    /// assert_eq!(A.live_bytes(), 0); // not installed, so nothing counted
    /// ```
    pub const fn system() -> Self {
        Self::new(System)
    }
}

impl<A> CountingAlloc<A> {
    /// Wraps `inner`.
    ///
    /// ```
    /// use std::alloc::{GlobalAlloc, Layout, System};
    ///
    /// let a = pool_metrics::CountingAlloc::new(System);
    /// let layout = Layout::new::<u64>();
    /// // Used directly (not installed), it still counts what goes through it.
    /// // SAFETY: a non-zero-size layout, freed with the same layout.
    /// unsafe { a.dealloc(a.alloc(layout), layout) };
    /// assert_eq!((a.allocations(), a.allocated_bytes(), a.live_bytes()), (1, 8, 0));
    /// ```
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            allocations: AtomicU64::new(0),
            allocated: AtomicU64::new(0),
            freed: AtomicU64::new(0),
        }
    }

    /// Bytes allocated and not yet freed, by every thread.
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system();
    /// assert_eq!(a.live_bytes(), 0);
    /// ```
    pub fn live_bytes(&self) -> u64 {
        // Read `freed` first: a free that lands between the loads makes the result larger,
        // never wrapped below zero.
        let freed = self.freed.load(Relaxed);
        self.allocated.load(Relaxed).saturating_sub(freed)
    }

    /// Bytes ever allocated, by every thread.
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system();
    /// assert_eq!(a.allocated_bytes(), 0);
    /// ```
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated.load(Relaxed)
    }

    /// Allocation calls (`alloc`, `alloc_zeroed`, `realloc`) ever made, by every thread.
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system();
    /// assert_eq!(a.allocations(), 0);
    /// ```
    pub fn allocations(&self) -> u64 {
        self.allocations.load(Relaxed)
    }

    /// Allocation calls made so far by the calling thread, through whichever `CountingAlloc`
    /// is installed. Other threads' allocations never show here, so tests running in
    /// parallel can each check their own.
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system(); // not installed in doctests
    /// let before = a.thread_allocations();
    /// let v = vec![1u8; 10];
    /// assert_eq!(a.thread_allocations(), before); // nothing counted: not the global allocator
    /// # drop(v);
    /// ```
    pub fn thread_allocations(&self) -> u64 {
        THREAD_ALLOCATIONS.with(Cell::get)
    }

    /// Bytes allocated so far by the calling thread (see
    /// [`thread_allocations`](Self::thread_allocations)).
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system();
    /// assert_eq!(a.thread_allocated_bytes(), a.thread_allocated_bytes());
    /// ```
    pub fn thread_allocated_bytes(&self) -> u64 {
        THREAD_ALLOCATED_BYTES.with(Cell::get)
    }

    /// Runs `f` and returns its result with the number of allocation calls the calling thread
    /// made during it (allocations `f` causes on other threads are not counted).
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system(); // see the type's example for installed use
    /// let (sum, allocations) = a.count_thread(|| (1..=4).sum::<u32>());
    /// assert_eq!((sum, allocations), (10, 0));
    /// ```
    pub fn count_thread<T>(&self, f: impl FnOnce() -> T) -> (T, u64) {
        let before = self.thread_allocations();
        let out = f();
        (out, self.thread_allocations().wrapping_sub(before))
    }

    fn count_allocation(&self, size: usize) {
        self.allocations.fetch_add(1, Relaxed);
        self.allocated.fetch_add(size as u64, Relaxed);
        // `try_with`: a `const` Cell has no destructor, so this never fails in practice; if a
        // platform ever tears thread-locals down first, the count is skipped, not a panic.
        let _ = THREAD_ALLOCATIONS.try_with(|c| c.set(c.get().wrapping_add(1)));
        let _ = THREAD_ALLOCATED_BYTES.try_with(|c| c.set(c.get().wrapping_add(size as u64)));
    }
}

// SAFETY: every method forwards `layout` and `ptr` unchanged to `inner`, which is itself a
// `GlobalAlloc` whose requirements the caller already meets, and returns its result
// unchanged; the counters are plain atomics and allocation-free thread-locals and never
// affect the memory handed out.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            self.count_allocation(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `inner` with `layout` (our alloc forwarded it).
        unsafe { self.inner.dealloc(ptr, layout) };
        self.freed.fetch_add(layout.size() as u64, Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            self.count_allocation(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` came from `inner` through us; `new_size` is the caller's.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            self.freed.fetch_add(layout.size() as u64, Relaxed);
            self.count_allocation(new_size);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_alloc_realloc_and_free() {
        let a = CountingAlloc::system();
        let layout = Layout::from_size_align(100, 8).unwrap();
        let thread_before = a.thread_allocations();
        // SAFETY: a non-zero-size layout; the pointer is freed with the layout it was
        // allocated (then reallocated) with.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(a.live_bytes(), 100);
            let p = a.realloc(p, layout, 300);
            assert!(!p.is_null());
            assert_eq!(a.live_bytes(), 300);
            a.dealloc(p, Layout::from_size_align(300, 8).unwrap());
        }
        assert_eq!(a.live_bytes(), 0);
        assert_eq!(a.allocated_bytes(), 400);
        assert_eq!(a.allocations(), 2);
        // The unit-test binary's global allocator is the system one, so only `a`'s own two
        // calls went through the per-thread counters on this thread.
        assert_eq!(a.thread_allocations() - thread_before, 2);
    }

    #[test]
    fn thread_counts_are_per_thread() {
        let a = CountingAlloc::system();
        let layout = Layout::from_size_align(64, 8).unwrap();
        let (_, mine) = a.count_thread(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let (_, theirs) = a.count_thread(|| {
                        for _ in 0..10 {
                            // SAFETY: non-zero-size layout, freed with the same layout.
                            unsafe { a.dealloc(a.alloc(layout), layout) };
                        }
                    });
                    assert_eq!(theirs, 10);
                });
            });
            // SAFETY: as above.
            unsafe { a.dealloc(a.alloc(layout), layout) };
        });
        assert_eq!(mine, 1, "the other thread's ten allocations must not count here");
        assert_eq!(a.allocations(), 11);
    }
}

//! A counting global allocator: the library's only `unsafe`.
//!
//! `GlobalAlloc` is an `unsafe trait`, so a wrapper that counts bytes cannot be written
//! without `unsafe impl`. Each method only forwards its arguments unchanged to the wrapped
//! allocator, whose contract the caller (the Rust runtime) already upholds, and adds the
//! size to a counter afterwards; nothing here touches the memory itself.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A global allocator wrapper that counts live heap bytes. Install it yourself, then give it
/// to a [`MemoryMonitor`](crate::MemoryMonitor) (or read [`live_bytes`](Self::live_bytes)):
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
/// }
/// ```
///
/// Cost: two relaxed atomic adds per allocation and per free, on counters shared by every
/// thread; allocation-heavy code on many cores will see the cache line bounce.
#[derive(Debug)]
pub struct CountingAlloc<A = System> {
    inner: A,
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
    /// let a = pool_metrics::CountingAlloc::new(std::alloc::System);
    /// assert_eq!(a.allocated_bytes(), 0);
    /// ```
    pub const fn new(inner: A) -> Self {
        Self { inner, allocated: AtomicU64::new(0), freed: AtomicU64::new(0) }
    }

    /// Bytes allocated and not yet freed.
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

    /// Bytes ever allocated.
    ///
    /// ```
    /// let a = pool_metrics::CountingAlloc::system();
    /// assert_eq!(a.allocated_bytes(), 0);
    /// ```
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated.load(Relaxed)
    }
}

// SAFETY: every method forwards `layout` and `ptr` unchanged to `inner`, which is itself a
// `GlobalAlloc` whose requirements the caller already meets, and returns its result
// unchanged; the counters are plain atomics and never affect the memory handed out.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, passed through.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            self.allocated.fetch_add(layout.size() as u64, Relaxed);
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
            self.allocated.fetch_add(layout.size() as u64, Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` came from `inner` through us; `new_size` is the caller's.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            self.freed.fetch_add(layout.size() as u64, Relaxed);
            self.allocated.fetch_add(new_size as u64, Relaxed);
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
    }
}

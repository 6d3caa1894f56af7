//! The one place that imports locks and the snapshot cell.
//!
//! Normally a [`SnapshotCell`] is an [`arc_swap::ArcSwap`]: readers load the current snapshot
//! without locking and without writing to a shared counter. Under `--cfg shuttle` (with the
//! `shuttle` feature) it is a shuttle mutex around an `Arc`, so shuttle's scheduler can
//! interleave readers and writers and check the writers' load-modify-store protocol:
//! `RUSTFLAGS="--cfg shuttle" cargo test -p pool-cluster --features shuttle --lib shuttle`.

pub(crate) use std::sync::Arc;

/// The random placement's generator counter: a plain `fetch_add` that orders nothing, so it
/// stays std's under shuttle too.
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(not(shuttle))]
pub(crate) use std::sync::Mutex;

#[cfg(shuttle)]
pub(crate) use shuttle::sync::Mutex;

/// What [`SnapshotCell::load`] hands out: derefs to the `Arc<T>`.
#[cfg(not(shuttle))]
pub(crate) type SnapshotGuard<T> = arc_swap::Guard<Arc<T>>;
/// What [`SnapshotCell::load`] hands out: derefs to the `Arc<T>`.
#[cfg(shuttle)]
pub(crate) type SnapshotGuard<T> = Arc<T>;

/// An `Arc<T>` that readers load and writers replace atomically.
#[cfg(not(shuttle))]
#[derive(Debug)]
pub(crate) struct SnapshotCell<T>(arc_swap::ArcSwap<T>);

#[cfg(not(shuttle))]
impl<T> SnapshotCell<T> {
    pub(crate) fn new(value: Arc<T>) -> Self {
        Self(arc_swap::ArcSwap::new(value))
    }
    pub(crate) fn load(&self) -> SnapshotGuard<T> {
        self.0.load()
    }
    pub(crate) fn load_full(&self) -> Arc<T> {
        self.0.load_full()
    }
    pub(crate) fn store(&self, value: Arc<T>) {
        self.0.store(value);
    }
}

/// An `Arc<T>` that readers load and writers replace atomically.
#[cfg(shuttle)]
#[derive(Debug)]
pub(crate) struct SnapshotCell<T>(shuttle::sync::Mutex<Arc<T>>);

#[cfg(shuttle)]
impl<T> SnapshotCell<T> {
    pub(crate) fn new(value: Arc<T>) -> Self {
        Self(shuttle::sync::Mutex::new(value))
    }
    fn lock(&self) -> shuttle::sync::MutexGuard<'_, Arc<T>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    pub(crate) fn load(&self) -> SnapshotGuard<T> {
        Arc::clone(&self.lock())
    }
    pub(crate) fn load_full(&self) -> Arc<T> {
        Arc::clone(&self.lock())
    }
    pub(crate) fn store(&self, value: Arc<T>) {
        *self.lock() = value;
    }
}

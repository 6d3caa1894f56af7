//! The one place that imports locks and atomics.
//!
//! Under `--cfg shuttle` (with the `shuttle` feature) these are shuttle's model-checked versions,
//! so the concurrent paths (sharded locking, single-flight loading) can be explored by shuttle's
//! randomized scheduler:
//! `RUSTFLAGS="--cfg shuttle" cargo test -p pool-cache --features shuttle --test shuttle`.
//! Otherwise they are `parking_lot`'s locks (no poisoning, smaller lock words) and std's atomics.
#![allow(unused_imports, dead_code)]

#[cfg(not(shuttle))]
pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering},
};

/// The lock of one cache shard. `Plain` is one `parking_lot` read-write lock: a hit's read lock
/// writes the lock word, which two cores then pass back and forth. `Striped` (the builder's
/// `read_mostly`) is crossbeam's `ShardedLock`: a reader locks only its own thread's stripe (its
/// own cache line), so hits on two cores never write a shared line, but a writer must lock all
/// eight stripes. See `src/l1/POLICY.md` ("Locking") for the measurements.
#[derive(Debug)]
pub(crate) enum ShardLock<T> {
    Plain(RwLock<T>),
    #[cfg(not(shuttle))]
    Striped(crossbeam_utils::sync::ShardedLock<T>),
}

pub(crate) enum ShardReadGuard<'a, T> {
    Plain(RwLockReadGuard<'a, T>),
    #[cfg(not(shuttle))]
    Striped(crossbeam_utils::sync::ShardedLockReadGuard<'a, T>),
}

pub(crate) enum ShardWriteGuard<'a, T> {
    Plain(RwLockWriteGuard<'a, T>),
    #[cfg(not(shuttle))]
    Striped(crossbeam_utils::sync::ShardedLockWriteGuard<'a, T>),
}

impl<T> ShardLock<T> {
    pub(crate) fn new(value: T, striped: bool) -> Self {
        #[cfg(not(shuttle))]
        if striped {
            return ShardLock::Striped(crossbeam_utils::sync::ShardedLock::new(value));
        }
        let _ = striped;
        ShardLock::Plain(RwLock::new(value))
    }

    #[inline]
    pub(crate) fn read(&self) -> ShardReadGuard<'_, T> {
        match self {
            ShardLock::Plain(l) => ShardReadGuard::Plain(l.read()),
            // Poisoning only records a panic under the lock; the shard's invariants hold
            // whenever user code (a weigher, `compute`'s closure) can panic.
            #[cfg(not(shuttle))]
            ShardLock::Striped(l) => {
                ShardReadGuard::Striped(l.read().unwrap_or_else(std::sync::PoisonError::into_inner))
            }
        }
    }

    #[inline]
    pub(crate) fn write(&self) -> ShardWriteGuard<'_, T> {
        match self {
            ShardLock::Plain(l) => ShardWriteGuard::Plain(l.write()),
            #[cfg(not(shuttle))]
            ShardLock::Striped(l) => ShardWriteGuard::Striped(
                l.write().unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
        }
    }
}

impl<T> std::ops::Deref for ShardReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match self {
            ShardReadGuard::Plain(g) => g,
            #[cfg(not(shuttle))]
            ShardReadGuard::Striped(g) => g,
        }
    }
}

impl<T> std::ops::Deref for ShardWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match self {
            ShardWriteGuard::Plain(g) => g,
            #[cfg(not(shuttle))]
            ShardWriteGuard::Striped(g) => g,
        }
    }
}

impl<T> std::ops::DerefMut for ShardWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        match self {
            ShardWriteGuard::Plain(g) => g,
            #[cfg(not(shuttle))]
            ShardWriteGuard::Striped(g) => g,
        }
    }
}

/// `parking_lot`'s condition variable with the guard-passing shape shuttle's also gets.
#[cfg(not(shuttle))]
#[derive(Debug, Default)]
pub(crate) struct Condvar(parking_lot::Condvar);

#[cfg(not(shuttle))]
impl Condvar {
    pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0.wait(&mut guard);
        guard
    }
    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

#[cfg(not(shuttle))]
pub(crate) use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

#[cfg(shuttle)]
pub(crate) use shuttle::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering},
};

/// Shuttle's locks poison and return `LockResult`; these wrappers give them `parking_lot`'s
/// infallible shape so the cache code is the same under both configurations.
#[cfg(shuttle)]
mod shuttle_locks {
    pub(crate) use shuttle::sync::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

    #[derive(Debug, Default)]
    pub(crate) struct RwLock<T>(shuttle::sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(shuttle::sync::RwLock::new(value))
        }
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(|e| e.into_inner())
        }
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(|e| e.into_inner())
        }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Condvar(shuttle::sync::Condvar);

    impl Condvar {
        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(|e| e.into_inner())
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(shuttle::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(shuttle::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

#[cfg(shuttle)]
pub(crate) use shuttle_locks::{
    Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

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
    atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering},
};

#[cfg(shuttle)]
pub(crate) use shuttle::thread::yield_now;
/// Gives up the core while spinning; under shuttle, lets its scheduler run another thread.
#[cfg(not(shuttle))]
pub(crate) use std::thread::yield_now;

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
    atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering},
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

/// The calling thread's id (shuttle's own under `--cfg shuttle`, where every model thread
/// shares one OS thread).
#[cfg(not(shuttle))]
pub(crate) fn current_thread_id() -> std::thread::ThreadId {
    std::thread::current().id()
}

/// The calling thread's id (shuttle's own under `--cfg shuttle`, where every model thread
/// shares one OS thread).
#[cfg(shuttle)]
pub(crate) fn current_thread_id() -> shuttle::thread::ThreadId {
    shuttle::thread::current().id()
}

#[cfg(not(shuttle))]
pub(crate) type ThreadId = std::thread::ThreadId;
#[cfg(shuttle)]
pub(crate) type ThreadId = shuttle::thread::ThreadId;

//! The one place that imports locks, atomics and threads.
//!
//! Under `--cfg shuttle` these are shuttle's model-checked versions, so the concurrent paths of
//! this crate can be explored by shuttle's randomized scheduler; otherwise they are std's. The
//! models (tests whose names contain `shuttle`) run with `RUSTFLAGS="--cfg shuttle"
//! CARGO_TARGET_DIR=target/shuttle cargo test -p pool-core --features shuttle --lib --test limits
//! shuttle`; the other tests use these primitives outside a shuttle execution, so they are run
//! without the flag.
#![allow(unused_imports, dead_code)]

#[cfg(not(shuttle))]
pub(crate) use std::sync::{
    Arc, Condvar, Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering},
};
#[cfg(not(shuttle))]
pub(crate) use std::sync::{Weak, atomic::AtomicU8};
#[cfg(not(shuttle))]
pub(crate) use std::thread;

#[cfg(shuttle)]
pub(crate) use shuttle::sync::{
    Arc, Condvar, Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering},
};
#[cfg(shuttle)]
pub(crate) use shuttle::sync::{Weak, atomic::AtomicU8};
#[cfg(shuttle)]
pub(crate) use shuttle::thread;

/// Locks `m`, recovering from poisoning.
///
/// Every lock in this crate guards data that is updated only in short sections with no user
/// code inside (callbacks, loaders and listeners run after the lock is released), so a panic
/// elsewhere cannot leave it half-written: a poisoned lock still holds consistent data.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

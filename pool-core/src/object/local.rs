//! `LocalObjectPool<T>`: the same pool for one thread, without a lock.
//!
//! The shared pool pays an uncontended lock on pull and on return (four atomic read-modify-writes
//! in all); a pool that one thread owns (a worker's scratch buffers, or one kept in a
//! `thread_local!`) needs none, so pull + return costs a `RefCell` borrow and a `Vec` push/pop.

use std::cell::RefCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::object::pool::{
    ObjectPoolBuildError, ObjectPoolBuilder, ObjectPoolStats, Recycler, Store,
};

/// A bounded object pool for a single thread (`!Sync`): no lock, no atomics.
///
/// # Examples
///
/// ```
/// use pool_core::ObjectPool;
///
/// let scratch = ObjectPool::builder(|| Vec::<u8>::with_capacity(256))
///     .reset(Vec::clear)
///     .build_local()
///     .unwrap();
/// scratch.pull().extend_from_slice(b"abc");
/// assert!(scratch.pull().is_empty());
/// assert_eq!(scratch.stats().reused, 1);
/// ```
pub struct LocalObjectPool<T> {
    store: RefCell<Store<T>>,
    recycler: Recycler<T>,
}

impl<T> fmt::Debug for LocalObjectPool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalObjectPool")
            .field("max_retained", &self.recycler.max_retained)
            .finish_non_exhaustive()
    }
}

impl<T: Send> ObjectPoolBuilder<T> {
    /// Builds a single-thread pool instead of a shared one.
    ///
    /// # Errors
    ///
    /// [`ObjectPoolBuildError`] ([`crate::ObjectPoolBuildErrorKind::ZeroMaxRetained`]) when `max_retained` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = pool_core::ObjectPool::builder(String::new).build_local().unwrap();
    /// assert_eq!(*p.pull(), "");
    /// ```
    pub fn build_local(self) -> Result<LocalObjectPool<T>, ObjectPoolBuildError> {
        let recycler = self.into_recycler()?;
        Ok(LocalObjectPool { store: RefCell::new(Store::new(recycler.max_retained)), recycler })
    }
}

impl<T> LocalObjectPool<T> {
    /// Takes an idle object, or builds one; it returns to the pool when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = pool_core::ObjectPool::builder(|| 3u8).build_local().unwrap();
    /// assert_eq!(*p.pull(), 3);
    /// ```
    #[inline]
    pub fn pull(&self) -> LocalPooled<'_, T> {
        let item = self.store.borrow_mut().take();
        // Built outside the borrow: `create` may itself use this pool.
        let value = item.unwrap_or_else(|| (self.recycler.create)());
        LocalPooled { pool: self, value: Some(value) }
    }

    #[inline]
    fn give_back(&self, value: T) {
        match self.recycler.prepare(value) {
            None => self.store.borrow_mut().count_dropped(),
            Some(v) => {
                // Dropped after the borrow ends: `T`'s destructor may use this pool.
                let extra = self.store.borrow_mut().keep(v, self.recycler.max_retained);
                drop(extra);
            }
        }
    }

    /// Counters and the number of idle objects.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = pool_core::ObjectPool::builder(|| 3u8).build_local().unwrap();
    /// drop(p.pull());
    /// assert_eq!(p.stats().retained, 1);
    /// ```
    #[must_use]
    pub fn stats(&self) -> ObjectPoolStats {
        self.store.borrow().stats()
    }
}

/// An object on loan from a [`LocalObjectPool`]; returned (reset) on drop.
///
/// # Examples
///
/// ```
/// let p = pool_core::ObjectPool::builder(String::new).build_local().unwrap();
/// let mut s = p.pull();
/// s.push('x');
/// assert_eq!(s.len(), 1);
/// ```
pub struct LocalPooled<'a, T> {
    pool: &'a LocalObjectPool<T>,
    value: Option<T>,
}

impl<T> LocalPooled<'_, T> {
    /// Keeps the object; it never returns to the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = pool_core::ObjectPool::builder(|| 1u8).build_local().unwrap();
    /// assert_eq!(p.pull().detach(), 1);
    /// ```
    #[must_use]
    pub fn detach(mut self) -> T {
        match self.value.take() {
            Some(v) => v,
            None => unreachable!("pooled object taken twice"),
        }
    }
}

impl<T> Deref for LocalPooled<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.value {
            Some(v) => v,
            None => unreachable!("pooled object used after detach"),
        }
    }
}

impl<T> DerefMut for LocalPooled<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.value {
            Some(v) => v,
            None => unreachable!("pooled object used after detach"),
        }
    }
}

impl<T> Drop for LocalPooled<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(v) = self.value.take() {
            self.pool.give_back(v);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for LocalPooled<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LocalPooled").field(&**self).finish()
    }
}

//! `ObjectPool<T>`: reuse of cheap-to-keep, costly-to-build objects (buffers, parsers), like Go's
//! `sync.Pool` but bounded and with statistics.
//!
//! Measured (see `benches/benches/limits.rs`, group `object_pool/*`, and the issue-5 note): a
//! pull + return costs one uncontended lock round trip on each side (about 55–70 ns on the
//! 2-core reference box), so pooling a plain `Vec::with_capacity(64)` (malloc + free: about
//! 12 ns) *loses*; pooling pays once building the object costs more than that round trip: in the
//! `object_pool/crossover` group the break-even lies between 16 and 64 rounds of the stand-in
//! construction work (≈ 12 ns and ≈ 80 ns to build). For single-threaded reuse,
//! [`crate::LocalObjectPool`] has no lock at all.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::sync::{Arc, Mutex, lock};

/// The pool's effective configuration, and its default as an associated constant.
///
/// # Examples
///
/// ```
/// use pool_core::{ObjectPool, ObjectPoolConfig};
/// let pool = ObjectPool::new(String::new);
/// assert_eq!(pool.config().max_retained, ObjectPoolConfig::DEFAULT_MAX_RETAINED);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectPoolConfig {
    /// Most idle objects kept; extra returns are dropped.
    pub max_retained: usize,
}

impl ObjectPoolConfig {
    /// Default most idle objects kept.
    pub const DEFAULT_MAX_RETAINED: usize = 64;
}

pub(crate) type Create<T> = Box<dyn Fn() -> T + Send + Sync>;
pub(crate) type Reset<T> = Box<dyn Fn(&mut T) + Send + Sync>;
pub(crate) type Reusable<T> = Box<dyn Fn(&T) -> bool + Send + Sync>;

/// The idle objects and the counters: one type for both pools (behind a `Mutex` in
/// [`ObjectPool`], a `RefCell` in [`crate::LocalObjectPool`]). Counted under the borrow the pool
/// takes anyway, so statistics cost no extra atomics.
pub(crate) struct Store<T> {
    items: Vec<T>,
    created: u64,
    reused: u64,
    dropped: u64,
}

impl<T> Store<T> {
    pub(crate) fn new(max_retained: usize) -> Self {
        // Reserve up front (capped): pushes on return then never reallocate under the lock.
        Self {
            items: Vec::with_capacity(max_retained.min(1024)),
            created: 0,
            reused: 0,
            dropped: 0,
        }
    }

    /// An idle object, counted as reused; or `None`, counted as a creation the caller makes
    /// outside the borrow (`create` may use the pool itself).
    #[inline]
    pub(crate) fn take(&mut self) -> Option<T> {
        let item = self.items.pop();
        if item.is_some() {
            self.reused += 1;
        } else {
            self.created += 1;
        }
        item
    }

    /// Keeps `value` if fewer than `max_retained` are idle; otherwise counts it as dropped and
    /// hands it back, so the caller drops it after releasing the borrow.
    #[inline]
    pub(crate) fn keep(&mut self, value: T, max_retained: usize) -> Option<T> {
        if self.items.len() < max_retained {
            self.items.push(value);
            None
        } else {
            self.dropped += 1;
            Some(value)
        }
    }

    /// Counts an object that failed its reusability check.
    #[inline]
    pub(crate) fn count_dropped(&mut self) {
        self.dropped += 1;
    }

    pub(crate) fn stats(&self) -> ObjectPoolStats {
        ObjectPoolStats {
            created: self.created,
            reused: self.reused,
            dropped: self.dropped,
            retained: self.items.len(),
        }
    }
}

/// What both pools do with an object outside the borrow: build one, and check and reset one
/// on its way back.
pub(crate) struct Recycler<T> {
    pub(crate) create: Create<T>,
    pub(crate) reset: Option<Reset<T>>,
    pub(crate) is_reusable: Option<Reusable<T>>,
    pub(crate) max_retained: usize,
}

impl<T> Recycler<T> {
    /// The object reset and ready to keep, or `None` when `is_reusable` rejects it (it is
    /// dropped here, outside any borrow).
    #[inline]
    pub(crate) fn prepare(&self, mut value: T) -> Option<T> {
        if self.is_reusable.as_ref().is_some_and(|ok| !ok(&value)) {
            return None;
        }
        if let Some(reset) = &self.reset {
            reset(&mut value);
        }
        Some(value)
    }
}

/// A bounded pool of reusable objects.
///
/// # Examples
///
/// ```
/// use pool_core::ObjectPool;
///
/// let buffers = ObjectPool::builder(|| Vec::<u8>::with_capacity(4096))
///     .reset(|v| v.clear())
///     .is_reusable(|v| v.capacity() <= 1 << 20) // don't keep a buffer that grew huge
///     .max_retained(32)
///     .build()
///     .unwrap();
/// {
///     let mut buf = buffers.pull();
///     buf.extend_from_slice(b"hello");
/// } // cleared and returned here
/// let buf = buffers.pull();
/// assert!(buf.is_empty());
/// assert_eq!(buffers.stats().reused, 1);
/// ```
///
/// A cheap handle: clones share one pool (one `Arc`).
pub struct ObjectPool<T> {
    inner: Arc<Shared<T>>,
}

struct Shared<T> {
    store: Mutex<Store<T>>,
    recycler: Recycler<T>,
    config: ObjectPoolConfig,
}

impl<T> Clone for ObjectPool<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<T: Send> fmt::Debug for ObjectPool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectPool")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Counters of an [`ObjectPool`].
///
/// # Examples
///
/// ```
/// let pool = pool_core::ObjectPool::new(String::new);
/// drop(pool.pull());
/// let s = pool.stats();
/// assert_eq!((s.created, s.reused, s.dropped, s.retained), (1, 0, 0, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectPoolStats {
    /// Objects built by the create function.
    pub created: u64,
    /// Pulls served from the pool.
    pub reused: u64,
    /// Returned objects discarded: not reusable, or the pool was full.
    pub dropped: u64,
    /// Objects idle in the pool now.
    pub retained: usize,
}

/// What is wrong with an object-pool configuration; [`kind`](Self::kind) says what.
///
/// # Examples
///
/// ```
/// let err = pool_core::ObjectPool::builder(String::new).max_retained(0).build().unwrap_err();
/// assert_eq!(err.to_string(), "max_retained must be > 0, got 0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPoolBuildError {
    kind: ObjectPoolBuildErrorKind,
}

/// The kind of an [`ObjectPoolBuildError`].
///
/// # Examples
///
/// ```
/// use pool_core::{ObjectPool, ObjectPoolBuildErrorKind};
/// let err = ObjectPool::builder(String::new).max_retained(0).build().unwrap_err();
/// assert_eq!(err.kind(), &ObjectPoolBuildErrorKind::ZeroMaxRetained);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectPoolBuildErrorKind {
    /// `max_retained` was 0: nothing could ever be reused.
    ZeroMaxRetained,
}

impl ObjectPoolBuildError {
    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_core::{ObjectPool, ObjectPoolBuildErrorKind};
    /// let err = ObjectPool::builder(String::new).max_retained(0).build_local().unwrap_err();
    /// assert_eq!(err.kind(), &ObjectPoolBuildErrorKind::ZeroMaxRetained);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ObjectPoolBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for ObjectPoolBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ObjectPoolBuildErrorKind::ZeroMaxRetained => {
                f.write_str("max_retained must be > 0, got 0")
            }
        }
    }
}

impl std::error::Error for ObjectPoolBuildError {}

/// Builder for [`ObjectPool`].
///
/// # Examples
///
/// ```
/// let pool = pool_core::ObjectPool::builder(String::new).reset(String::clear).build()?;
/// assert_eq!(pool.config().max_retained, pool_core::ObjectPoolConfig::DEFAULT_MAX_RETAINED);
/// # Ok::<(), pool_core::ObjectPoolBuildError>(())
/// ```
#[must_use]
pub struct ObjectPoolBuilder<T> {
    pub(crate) create: Create<T>,
    pub(crate) reset: Option<Reset<T>>,
    pub(crate) is_reusable: Option<Reusable<T>>,
    pub(crate) max_retained: usize,
}

impl<T> fmt::Debug for ObjectPoolBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectPoolBuilder")
            .field("max_retained", &self.max_retained)
            .finish_non_exhaustive()
    }
}

impl<T: Send> ObjectPoolBuilder<T> {
    /// Runs on every returned object before it is kept (clear a buffer, reset a parser).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::builder(Vec::<u8>::new).reset(|v| v.clear()).build()?;
    /// pool.pull().push(1);
    /// assert!(pool.pull().is_empty(), "cleared on return");
    /// # Ok::<(), pool_core::ObjectPoolBuildError>(())
    /// ```
    pub fn reset(mut self, f: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        self.reset = Some(Box::new(f));
        self
    }

    /// Decides whether a returned object is worth keeping; `false` drops it.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::builder(Vec::<u8>::new)
    ///     .is_reusable(|v| v.capacity() < 1024)
    ///     .build()?;
    /// pool.pull().reserve(4096);
    /// assert_eq!((pool.stats().dropped, pool.stats().retained), (1, 0));
    /// # Ok::<(), pool_core::ObjectPoolBuildError>(())
    /// ```
    pub fn is_reusable(mut self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.is_reusable = Some(Box::new(f));
        self
    }

    /// Most idle objects kept (default [`ObjectPoolConfig::DEFAULT_MAX_RETAINED`]); extra
    /// returns are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::builder(Vec::<u8>::new).max_retained(1).build()?;
    /// drop((pool.pull(), pool.pull()));
    /// assert_eq!((pool.stats().retained, pool.stats().dropped), (1, 1));
    /// assert_eq!(pool.config().max_retained, 1);
    /// # Ok::<(), pool_core::ObjectPoolBuildError>(())
    /// ```
    pub fn max_retained(mut self, n: usize) -> Self {
        self.max_retained = n;
        self
    }

    /// Builds the pool, empty.
    ///
    /// # Errors
    ///
    /// [`ObjectPoolBuildError`] ([`ObjectPoolBuildErrorKind::ZeroMaxRetained`]) when
    /// `max_retained` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::builder(String::new).build()?;
    /// assert_eq!(pool.stats().retained, 0);
    /// # Ok::<(), pool_core::ObjectPoolBuildError>(())
    /// ```
    pub fn build(self) -> Result<ObjectPool<T>, ObjectPoolBuildError> {
        let recycler = self.into_recycler()?;
        Ok(ObjectPool::from_recycler(recycler))
    }

    /// The validated callbacks and bound, for either kind of pool.
    pub(crate) fn into_recycler(self) -> Result<Recycler<T>, ObjectPoolBuildError> {
        if self.max_retained == 0 {
            return Err(ObjectPoolBuildError { kind: ObjectPoolBuildErrorKind::ZeroMaxRetained });
        }
        Ok(Recycler {
            create: self.create,
            reset: self.reset,
            is_reusable: self.is_reusable,
            max_retained: self.max_retained,
        })
    }
}

impl<T: Send> ObjectPool<T> {
    /// A pool that builds objects with `create`, keeps up to
    /// [`ObjectPoolConfig::DEFAULT_MAX_RETAINED`], and does not reset them. Infallible: every
    /// input is valid.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::new(|| vec![0u8; 1024]);
    /// assert_eq!(pool.pull().len(), 1024);
    /// ```
    pub fn new(create: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self::from_recycler(Recycler {
            create: Box::new(create),
            reset: None,
            is_reusable: None,
            max_retained: ObjectPoolConfig::DEFAULT_MAX_RETAINED,
        })
    }

    fn from_recycler(recycler: Recycler<T>) -> Self {
        let config = ObjectPoolConfig { max_retained: recycler.max_retained };
        Self {
            inner: Arc::new(Shared {
                store: Mutex::new(Store::new(recycler.max_retained)),
                recycler,
                config,
            }),
        }
    }

    /// A builder for reset, reusability check and bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::builder(String::new).max_retained(4).build().unwrap();
    /// assert_eq!(pool.config().max_retained, 4);
    /// ```
    pub fn builder(create: impl Fn() -> T + Send + Sync + 'static) -> ObjectPoolBuilder<T> {
        ObjectPoolBuilder {
            create: Box::new(create),
            reset: None,
            is_reusable: None,
            max_retained: ObjectPoolConfig::DEFAULT_MAX_RETAINED,
        }
    }

    /// Takes an idle object, or builds one; it returns to the pool when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::new(|| 5u32);
    /// assert_eq!(*pool.pull(), 5);
    /// ```
    pub fn pull(&self) -> PooledObject<'_, T> {
        let item = lock(&self.inner.store).take();
        let value = item.unwrap_or_else(|| (self.inner.recycler.create)());
        PooledObject { pool: self, value: Some(value) }
    }

    fn give_back(&self, value: T) {
        let inner = &*self.inner;
        match inner.recycler.prepare(value) {
            None => lock(&inner.store).count_dropped(),
            Some(v) => {
                // An object over the bound comes back and drops after the lock is released.
                let extra = lock(&inner.store).keep(v, inner.recycler.max_retained);
                drop(extra);
            }
        }
    }

    /// The effective configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ObjectPool::new(String::new).config().max_retained, 64);
    /// ```
    #[must_use]
    pub fn config(&self) -> &ObjectPoolConfig {
        &self.inner.config
    }

    /// Counters and the number of idle objects.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pool_core::ObjectPool::new(String::new).stats().created, 0);
    /// ```
    #[must_use]
    pub fn stats(&self) -> ObjectPoolStats {
        lock(&self.inner.store).stats()
    }
}

/// An object on loan from an [`ObjectPool`]; returned (reset) on drop.
///
/// # Examples
///
/// ```
/// let pool = pool_core::ObjectPool::new(String::new);
/// let mut s = pool.pull();
/// s.push_str("x");
/// assert_eq!(s.as_str(), "x");
/// ```
pub struct PooledObject<'a, T: Send> {
    pool: &'a ObjectPool<T>,
    value: Option<T>,
}

impl<T: Send> PooledObject<'_, T> {
    /// Keeps the object; it never returns to the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = pool_core::ObjectPool::new(|| 9u8);
    /// let v: u8 = pool.pull().detach();
    /// assert_eq!((v, pool.stats().retained), (9, 0));
    /// ```
    #[must_use]
    pub fn detach(mut self) -> T {
        match self.value.take() {
            Some(v) => v,
            None => unreachable!("pooled object taken twice"),
        }
    }
}

impl<T: Send> Deref for PooledObject<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.value {
            Some(v) => v,
            None => unreachable!("pooled object used after detach"),
        }
    }
}

impl<T: Send> DerefMut for PooledObject<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.value {
            Some(v) => v,
            None => unreachable!("pooled object used after detach"),
        }
    }
}

impl<T: Send> Drop for PooledObject<'_, T> {
    fn drop(&mut self) {
        if let Some(v) = self.value.take() {
            self.pool.give_back(v);
        }
    }
}

impl<T: Send + fmt::Debug> fmt::Debug for PooledObject<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledObject").field(&**self).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reset_and_reusable() {
        let pool = ObjectPool::builder(|| Vec::<u8>::with_capacity(8))
            .reset(|v| v.clear())
            .is_reusable(|v| v.capacity() <= 64)
            .max_retained(2)
            .build()
            .unwrap();
        let (mut a, b, c) = (pool.pull(), pool.pull(), pool.pull());
        a.push(1);
        drop((a, b, c));
        assert_eq!(
            pool.stats(),
            ObjectPoolStats { created: 3, reused: 0, dropped: 1, retained: 2 }
        );
        let mut big = pool.pull();
        assert!(big.is_empty(), "reset on return");
        big.extend(std::iter::repeat_n(0, 1000));
        drop(big);
        assert_eq!(pool.stats().dropped, 2, "a buffer that grew past 64 is not kept");
        assert_eq!(pool.stats().reused, 1);
    }
}

//! `Pooled`: the RAII checkout guard.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::resource::manager::Manager;
use crate::resource::pool::{Entry, ResourcePool};

/// A checked-out resource; it goes back to its pool when dropped.
///
/// If the holder panics, the resource is returned marked suspect and is validated
/// ([`Manager::validate`]) before anyone else gets it.
///
/// # Examples
///
/// ```
/// # use pool_core::{Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = String; type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<String, String> { Ok(String::new()) } }
/// let pool = ResourcePool::new(M);
/// let mut conn = pool.get().unwrap();
/// conn.push_str("hello"); // DerefMut to the resource
/// assert_eq!(conn.len(), 5);
/// ```
pub struct Pooled<'a, M: Manager> {
    pool: PoolRef<'a, M>,
    entry: Option<Entry<M::Resource>>,
}

/// The guard's way back to its pool: a borrow (no reference counting on the hot path), or a
/// handle of its own for a guard that must be `'static` (moved into a spawned task).
enum PoolRef<'a, M: Manager> {
    Borrowed(&'a ResourcePool<M>),
    Owned(ResourcePool<M>),
}

impl<M: Manager> PoolRef<'_, M> {
    fn get(&self) -> &ResourcePool<M> {
        match self {
            Self::Borrowed(p) => p,
            Self::Owned(p) => p,
        }
    }
}

impl<'a, M: Manager> Pooled<'a, M> {
    pub(crate) fn new(pool: &'a ResourcePool<M>, entry: Entry<M::Resource>) -> Self {
        Self { pool: PoolRef::Borrowed(pool), entry: Some(entry) }
    }

    /// Turns this guard into one that holds its own handle to the pool, so it can outlive the
    /// borrow (for example, move into `tokio::spawn`). Costs one reference-count increment.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, Pooled, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = u8; type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<u8, String> { Ok(1) } }
    /// let pool = ResourcePool::new(M);
    /// let conn: Pooled<'static, M> = pool.get().unwrap().into_owned();
    /// let worker = std::thread::spawn(move || *conn + 1);
    /// assert_eq!(worker.join().unwrap(), 2);
    /// assert_eq!(pool.stats().idle, 1); // returned when the thread dropped it
    /// ```
    #[must_use]
    pub fn into_owned(mut self) -> Pooled<'static, M> {
        let entry = self.take();
        Pooled { pool: PoolRef::Owned(self.pool.get().clone()), entry: Some(entry) }
    }

    /// Takes the resource out of the pool for good; its slot is freed for a new one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = u8; type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<u8, String> { Ok(1) } }
    /// let pool = ResourcePool::new(M);
    /// let owned: u8 = pool.get().unwrap().detach();
    /// assert_eq!((owned, pool.stats().size, pool.stats().detached), (1, 0, 1));
    /// ```
    #[must_use]
    pub fn detach(mut self) -> M::Resource {
        let entry = self.take();
        self.pool.get().inner().detach();
        entry.resource
    }

    /// How many times this resource has been checked out, this time included.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let pool = ResourcePool::new(M);
    /// drop(pool.get().unwrap());
    /// assert_eq!(pool.get().unwrap().uses(), 2);
    /// ```
    #[must_use]
    pub fn uses(&self) -> u64 {
        self.entry.as_ref().map_or(0, |e| e.uses)
    }

    fn take(&mut self) -> Entry<M::Resource> {
        match self.entry.take() {
            Some(e) => e,
            // The entry is only taken by `detach` (which consumes self) or by `drop`.
            None => unreachable!("pooled resource taken twice"),
        }
    }
}

impl<M: Manager> Deref for Pooled<'_, M> {
    type Target = M::Resource;

    fn deref(&self) -> &M::Resource {
        match &self.entry {
            Some(e) => &e.resource,
            None => unreachable!("pooled resource used after detach"),
        }
    }
}

impl<M: Manager> DerefMut for Pooled<'_, M> {
    fn deref_mut(&mut self) -> &mut M::Resource {
        match &mut self.entry {
            Some(e) => &mut e.resource,
            None => unreachable!("pooled resource used after detach"),
        }
    }
}

impl<M: Manager> Drop for Pooled<'_, M> {
    fn drop(&mut self) {
        if let Some(e) = self.entry.take() {
            self.pool.get().inner().give_back(e, std::thread::panicking());
        }
    }
}

impl<M: Manager> fmt::Debug for Pooled<'_, M>
where
    M::Resource: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled").field("resource", &**self).field("uses", &self.uses()).finish()
    }
}

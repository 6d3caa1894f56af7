//! [`SharedRing`]: a ring that readers use while writers change it.

use std::fmt;
use std::ops::Deref;

use super::hash_ring::HashRing;
use crate::error::NodeError;
use crate::sync::{Arc, Mutex, SnapshotCell, SnapshotGuard};

/// A [`HashRing`] shared by many readers and changed by writers without blocking them.
///
/// Readers [`load`](Self::load) the current ring, an immutable snapshot, without taking a
/// lock (an [`arc_swap::ArcSwap`] load); a writer copies the current ring, applies its change
/// and swaps the result in atomically. A reader keeps the snapshot it loaded, whole and
/// unchanged, until it drops it. Writers are serialized by a mutex, so concurrent changes are
/// never lost; a change that fails leaves the ring as it was.
///
/// # Examples
///
/// ```
/// use pool_cluster::{HashRing, SharedRing};
///
/// let ring = SharedRing::new(HashRing::new(["a", "b"])?);
/// let before = ring.load();                  // a snapshot
/// ring.add("c", 1.0)?;                       // readers never wait on this
/// assert_eq!(before.len(), 2);               // the old snapshot is unchanged
/// assert_eq!(ring.load().len(), 3);
/// let owner = ring.load().get("user:42").copied()?;
/// assert!(["a", "b", "c"].contains(&owner));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedRing<N> {
    current: SnapshotCell<HashRing<N>>,
    writer: Mutex<()>,
}

/// A snapshot of a [`SharedRing`]: derefs to the [`HashRing`] it was when loaded.
///
/// ```
/// use pool_cluster::{HashRing, RingSnapshot, SharedRing};
///
/// let shared = SharedRing::new(HashRing::new(["a"])?);
/// let snap: RingSnapshot<&str> = shared.load();
/// assert_eq!(*snap.get("k")?, "a");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RingSnapshot<N>(SnapshotGuard<HashRing<N>>);

impl<N> Deref for RingSnapshot<N> {
    type Target = HashRing<N>;
    fn deref(&self) -> &HashRing<N> {
        &self.0
    }
}

impl<N: fmt::Debug> fmt::Debug for RingSnapshot<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<N: fmt::Debug> fmt::Debug for SharedRing<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedRing").field(&*self.load()).finish()
    }
}

impl<N> SharedRing<N> {
    /// Shares `ring`.
    ///
    /// ```
    /// # use pool_cluster::{HashRing, SharedRing};
    /// let shared = SharedRing::new(HashRing::new(["a"])?);
    /// assert_eq!(shared.load().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(ring: HashRing<N>) -> Self {
        Self { current: SnapshotCell::new(Arc::new(ring)), writer: Mutex::new(()) }
    }

    /// The current ring, for a few lookups. Lock-free; hold it briefly (for long-lived use take
    /// [`snapshot`](Self::snapshot)).
    ///
    /// ```
    /// # use pool_cluster::{HashRing, SharedRing};
    /// let shared = SharedRing::new(HashRing::new(["a"])?);
    /// assert_eq!(*shared.load().get("k")?, "a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn load(&self) -> RingSnapshot<N> {
        RingSnapshot(self.current.load())
    }

    /// The current ring as an `Arc`, to keep as long as needed.
    ///
    /// ```
    /// # use pool_cluster::{HashRing, SharedRing};
    /// let shared = SharedRing::new(HashRing::new(["a"])?);
    /// let ring = shared.snapshot();
    /// shared.add("b", 1.0)?;
    /// assert_eq!(ring.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> Arc<HashRing<N>> {
        self.current.load_full()
    }

    /// Applies `change` to a copy of the current ring and, if it returns `Ok`, makes the copy
    /// current; readers see the ring before or after, never in between. Writers run one at a
    /// time; `change` runs under the writer lock, so it must not call back into this ring's
    /// writing methods (that would wait on itself).
    ///
    /// # Errors
    ///
    /// Whatever `change` returns; then the current ring is unchanged.
    ///
    /// # Panics
    ///
    /// If `change` panics; the current ring is unchanged and stays usable.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool_cluster::{HashRing, SharedRing};
    ///
    /// let shared = SharedRing::new(HashRing::new(["a", "b"])?);
    /// // Two changes, one swap: readers never see the ring with neither node.
    /// shared.update(|ring| {
    ///     ring.add("c", 1.0)?;
    ///     ring.remove("a")
    /// })?;
    /// assert_eq!(shared.load().nodes().map(|(n, _)| *n).collect::<Vec<_>>(), ["b", "c"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update<T, E>(
        &self,
        change: impl FnOnce(&mut HashRing<N>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        N: Clone,
    {
        let _writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = HashRing::clone(&self.current.load_full());
        let out = change(&mut next)?;
        self.current.store(Arc::new(next));
        Ok(out)
    }
}

impl<N: AsRef<[u8]> + Clone> SharedRing<N> {
    /// [`HashRing::add`] on a copy, swapped in.
    ///
    /// # Errors
    ///
    /// As [`HashRing::add`]; the ring is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_cluster::{HashRing, SharedRing};
    /// let shared = SharedRing::new(HashRing::new(["a"])?);
    /// shared.add("b", 2.0)?;
    /// assert!(shared.add("b", 1.0).is_err());
    /// assert_eq!(shared.load().weight_of("b"), Some(2.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add(&self, node: N, weight: f64) -> Result<(), NodeError> {
        self.update(|ring| ring.add(node, weight))
    }

    /// [`HashRing::remove`] on a copy, swapped in.
    ///
    /// # Errors
    ///
    /// As [`HashRing::remove`]; the ring is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_cluster::{HashRing, SharedRing};
    /// let shared = SharedRing::new(HashRing::new(["a", "b"])?);
    /// assert_eq!(shared.remove("a")?, "a");
    /// assert!(shared.remove("a").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove<I: AsRef<[u8]> + ?Sized>(&self, id: &I) -> Result<N, NodeError> {
        self.update(|ring| ring.remove(id))
    }

    /// [`HashRing::set_weight`] on a copy, swapped in.
    ///
    /// # Errors
    ///
    /// As [`HashRing::set_weight`]; the ring is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_cluster::{HashRing, SharedRing};
    /// let shared = SharedRing::new(HashRing::new(["a", "b"])?);
    /// shared.set_weight("a", 0.0)?; // drain
    /// assert_eq!(*shared.load().get("k")?, "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_weight<I: AsRef<[u8]> + ?Sized>(
        &self,
        id: &I,
        weight: f64,
    ) -> Result<(), NodeError> {
        self.update(|ring| ring.set_weight(id, weight))
    }
}

/// The snapshot swap under shuttle's randomized scheduler (run with
/// `RUSTFLAGS="--cfg shuttle" cargo test -p pool-cluster --features shuttle --lib shuttle`):
/// writers racing each other lose no change, and a reader's successive snapshots only grow.
#[cfg(all(test, shuttle))]
#[allow(clippy::unwrap_used)]
mod shuttle_tests {
    use super::*;

    #[test]
    fn shuttle_concurrent_changes_are_all_kept_and_readers_see_whole_rings() {
        shuttle::check_random(
            || {
                let ring =
                    HashRing::builder().vnodes(4).node("a".to_string(), 1.0).build().unwrap();
                let shared = Arc::new(SharedRing::new(ring));
                let writers: Vec<_> = ["b", "c"]
                    .into_iter()
                    .map(|id| {
                        let shared = Arc::clone(&shared);
                        shuttle::thread::spawn(move || shared.add(id.to_string(), 1.0).unwrap())
                    })
                    .collect();
                let reader = {
                    let shared = Arc::clone(&shared);
                    shuttle::thread::spawn(move || {
                        let mut last = 0;
                        for _ in 0..3 {
                            let ring = shared.load();
                            assert!(ring.len() >= last, "a reader went back in time");
                            last = ring.len();
                            assert_eq!(ring.total_points(), 4 * ring.len());
                            assert!(ring.contains(ring.get("k").unwrap()));
                        }
                    })
                };
                for w in writers {
                    w.join().unwrap();
                }
                reader.join().unwrap();
                assert_eq!(shared.load().len(), 3, "a concurrent change was lost");
            },
            2_000,
        );
    }
}

//! Namespace versions: one bump invalidates every key of a namespace at once.

use crate::sync::{Arc, RwLock};
use std::fmt;

/// Current versions of named namespaces (the seeds' `v2:user:42` cache versioning, without
/// string building).
///
/// Keys made with [`Namespaces::key`] carry their namespace's version at the time. After
/// [`Namespaces::bump`], keys made from then on carry the new version, so lookups can no longer
/// reach any entry stored under the old one: the whole namespace is invalidated in O(1). The
/// stale entries then age out through eviction like any unused entry; to reclaim them now, pass
/// [`Namespaces::is_current`] to [`Cache::retain`](crate::Cache::retain).
///
/// ```
/// use pool_cache::{Cache, Namespaces, NsKey};
///
/// let ns = Namespaces::new();
/// let cache: Cache<NsKey<u64>, String> = Cache::builder(100).build()?;
/// cache.insert(ns.key("user", 42), "Ada".into());
/// cache.insert(ns.key("order", 7), "book".into());
/// assert_eq!(cache.get(&ns.key("user", 42)).as_deref(), Some("Ada"));
///
/// ns.bump("user"); // every user entry is now unreachable
/// assert_eq!(cache.get(&ns.key("user", 42)), None);
/// assert!(cache.get(&ns.key("order", 7)).is_some());
///
/// cache.retain(|k, _| ns.is_current(k)); // optional: reclaim the stale ones now
/// assert_eq!(cache.len(), 1);
/// # Ok::<(), pool_cache::BuildError>(())
/// ```
/// Memory: a `Namespaces` keeps one small entry (the name and its version) per namespace ever
/// [bumped](Namespaces::bump), for its whole life: bump only a bounded set of names (tables,
/// tenants), never names built from unbounded input. [`Namespaces::key`] also remembers the
/// names it sees, so their keys share one allocation, but only up to
/// [`Namespaces::REMEMBERED_NAMES`] names in all; past that, a key for a name never bumped is
/// still correct (version 0) and carries its own copy of the name.
#[derive(Default)]
pub struct Namespaces {
    versions: RwLock<hashbrown::HashMap<Arc<str>, u64>>,
}

impl fmt::Debug for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespaces").field("namespaces", &self.versions.read().len()).finish()
    }
}

/// A key tagged with its namespace and the namespace's version when it was made.
///
/// ```
/// use pool_cache::Namespaces;
///
/// let ns = Namespaces::new();
/// let k = ns.key("user", 1u64);
/// assert_eq!((k.namespace(), k.version(), *k.key()), ("user", 0, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsKey<K> {
    namespace: Arc<str>,
    version: u64,
    key: K,
}

impl<K> NsKey<K> {
    /// The namespace's name.
    ///
    /// ```
    /// # let k = pool_cache::Namespaces::new().key("a", 1);
    /// assert_eq!(k.namespace(), "a");
    /// ```
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The namespace's version when the key was made.
    ///
    /// ```
    /// # let ns = pool_cache::Namespaces::new();
    /// ns.bump("a");
    /// assert_eq!(ns.key("a", 1).version(), 1);
    /// ```
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The key within the namespace.
    ///
    /// ```
    /// # let k = pool_cache::Namespaces::new().key("a", 9);
    /// assert_eq!(*k.key(), 9);
    /// ```
    #[must_use]
    pub fn key(&self) -> &K {
        &self.key
    }
}

impl Namespaces {
    /// How many names [`Namespaces::key`] remembers on its own (bumped names are always kept).
    ///
    /// ```
    /// assert_eq!(pool_cache::Namespaces::REMEMBERED_NAMES, 1024);
    /// ```
    pub const REMEMBERED_NAMES: usize = 1024;

    /// No namespaces yet; every namespace starts at version 0.
    ///
    /// ```
    /// assert_eq!(pool_cache::Namespaces::new().version("any"), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A key in `namespace` at its current version.
    ///
    /// ```
    /// let ns = pool_cache::Namespaces::new();
    /// assert_eq!(ns.key("a", 1), ns.key("a", 1));
    /// assert_ne!(ns.key("a", 1), ns.key("b", 1));
    /// ```
    pub fn key<K>(&self, namespace: &str, key: K) -> NsKey<K> {
        if let Some((name, &version)) = self.versions.read().get_key_value(namespace) {
            return NsKey { namespace: name.clone(), version, key };
        }
        let mut versions = self.versions.write();
        if let Some((name, &version)) = versions.get_key_value(namespace) {
            // Bumped or remembered between our read and write locks.
            return NsKey { namespace: name.clone(), version, key };
        }
        let name: Arc<str> = Arc::from(namespace);
        if versions.len() < Self::REMEMBERED_NAMES {
            versions.insert(name.clone(), 0);
        }
        NsKey { namespace: name, version: 0, key }
    }

    /// Moves `namespace` to its next version, invalidating every key made before; returns the
    /// new version.
    ///
    /// ```
    /// let ns = pool_cache::Namespaces::new();
    /// assert_eq!(ns.bump("a"), 1);
    /// assert_eq!(ns.bump("a"), 2);
    /// ```
    pub fn bump(&self, namespace: &str) -> u64 {
        let mut versions = self.versions.write();
        let v = versions.entry_ref(namespace).or_insert(0);
        *v += 1;
        *v
    }

    /// The current version of `namespace` (0 if never used).
    ///
    /// ```
    /// let ns = pool_cache::Namespaces::new();
    /// ns.bump("a");
    /// assert_eq!((ns.version("a"), ns.version("b")), (1, 0));
    /// ```
    #[must_use]
    pub fn version(&self, namespace: &str) -> u64 {
        self.versions.read().get(namespace).copied().unwrap_or(0)
    }

    /// Whether `key` was made at its namespace's current version.
    ///
    /// ```
    /// let ns = pool_cache::Namespaces::new();
    /// let k = ns.key("a", 1);
    /// assert!(ns.is_current(&k));
    /// ns.bump("a");
    /// assert!(!ns.is_current(&k));
    /// ```
    #[must_use]
    pub fn is_current<K>(&self, key: &NsKey<K>) -> bool {
        self.version(&key.namespace) == key.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_remembers_a_bounded_number_of_names_and_bump_every_one() {
        let ns = Namespaces::new();
        for i in 0..Namespaces::REMEMBERED_NAMES + 500 {
            let k = ns.key(&format!("tenant-{i}"), i);
            assert_eq!((k.version(), *k.key()), (0, i));
        }
        assert_eq!(ns.versions.read().len(), Namespaces::REMEMBERED_NAMES);
        // A name past the bound still versions correctly once bumped.
        let late = format!("tenant-{}", Namespaces::REMEMBERED_NAMES + 10);
        let old = ns.key(&late, 1);
        assert_eq!(ns.bump(&late), 1);
        assert!(!ns.is_current(&old));
        assert_eq!(ns.key(&late, 1).version(), 1);
        assert_eq!(ns.versions.read().len(), Namespaces::REMEMBERED_NAMES + 1);
    }
}

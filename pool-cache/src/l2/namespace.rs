//! [`L2Namespace`]: a named, versioned key space inside one L2.

use super::error::{L2Error, L2ErrorKind};

/// A namespace with its version inside every key: `name:v{version}:{key}`.
///
/// Bumping the version ([`with_version`](Self::with_version)) makes every process that
/// builds keys from the new version miss every old record at once, with no scan; deleting the
/// old version's records with [`L2::delete_prefix`](crate::L2::delete_prefix) is only
/// clean-up. Names are non-empty and hold no `:`, so one namespace's keys never start with
/// another's prefix.
///
/// ```
/// use pool_cache::{L2, L2Namespace, MemoryL2};
/// use std::time::Duration;
///
/// # futures::executor::block_on(async {
/// let l2 = MemoryL2::new(1 << 20)?;
/// let v1 = L2Namespace::new("user", 1)?;
/// l2.set(&v1.key(b"42"), b"Ada", Duration::MAX).await?;
/// assert_eq!(v1.key(b"42"), b"user:v1:42");
///
/// let v2 = v1.with_version(2);
/// assert_eq!(l2.get(&v2.key(b"42")).await?, None); // invalidated by the bump
/// assert_eq!(l2.delete_prefix(v1.prefix()).await?, 1); // clean-up of the old version
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct L2Namespace {
    name: String,
    version: u64,
    prefix: Vec<u8>,
}

impl L2Namespace {
    /// The namespace `name` at `version`.
    ///
    /// # Errors
    ///
    /// [`L2ErrorKind::InvalidKey`] when `name` is empty or holds a `:`.
    ///
    /// ```
    /// use pool_cache::{L2ErrorKind, L2Namespace};
    ///
    /// assert_eq!(L2Namespace::new("a:b", 1).unwrap_err().kind(), L2ErrorKind::InvalidKey);
    /// assert_eq!(L2Namespace::new("orders", 3)?.prefix(), b"orders:v3:");
    /// # Ok::<(), pool_cache::L2Error>(())
    /// ```
    pub fn new(name: impl Into<String>, version: u64) -> Result<Self, L2Error> {
        let name = name.into();
        if name.is_empty() || name.contains(':') {
            return Err(L2Error::new(
                L2ErrorKind::InvalidKey,
                format!("namespace names must be non-empty and hold no ':', got {name:?}"),
            ));
        }
        let prefix = format!("{name}:v{version}:").into_bytes();
        Ok(Self { name, version, prefix })
    }

    /// The same namespace at another version.
    ///
    /// ```
    /// let ns = pool_cache::L2Namespace::new("user", 1)?.with_version(2);
    /// assert_eq!(ns.version(), 2);
    /// # Ok::<(), pool_cache::L2Error>(())
    /// ```
    #[must_use]
    pub fn with_version(&self, version: u64) -> Self {
        let prefix = format!("{}:v{version}:", self.name).into_bytes();
        Self { name: self.name.clone(), version, prefix }
    }

    /// The namespace's name.
    ///
    /// ```
    /// assert_eq!(pool_cache::L2Namespace::new("user", 1)?.name(), "user");
    /// # Ok::<(), pool_cache::L2Error>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's version.
    ///
    /// ```
    /// assert_eq!(pool_cache::L2Namespace::new("user", 7)?.version(), 7);
    /// # Ok::<(), pool_cache::L2Error>(())
    /// ```
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The bytes every key of this namespace and version starts with.
    ///
    /// ```
    /// assert_eq!(pool_cache::L2Namespace::new("user", 1)?.prefix(), b"user:v1:");
    /// # Ok::<(), pool_cache::L2Error>(())
    /// ```
    #[must_use]
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The full L2 key of `key` in this namespace.
    ///
    /// ```
    /// let ns = pool_cache::L2Namespace::new("user", 1)?;
    /// assert_eq!(ns.key("42"), b"user:v1:42");
    /// # Ok::<(), pool_cache::L2Error>(())
    /// ```
    #[must_use]
    pub fn key(&self, key: impl AsRef<[u8]>) -> Vec<u8> {
        let key = key.as_ref();
        let mut out = Vec::with_capacity(self.prefix.len() + key.len());
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(key);
        out
    }
}

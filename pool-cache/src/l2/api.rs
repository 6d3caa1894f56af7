//! The [`L2`] trait: an async, object-safe byte store with time to live.

use super::error::L2Error;
use super::stats::L2Stats;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The future every [`L2`] method returns: boxed and `Send`, so `Arc<dyn L2>` works and the
/// calls can be spawned on a multi-threaded runtime.
pub type L2Future<'a, T> = Pin<Box<dyn Future<Output = Result<T, L2Error>> + Send + 'a>>;

/// A value read from an L2, with the time it has left to live.
///
/// ```
/// use pool_cache::{L2, MemoryL2};
/// use std::time::Duration;
///
/// # futures::executor::block_on(async {
/// let l2 = MemoryL2::new(1 << 20)?;
/// l2.set(b"k", b"v", Duration::from_secs(60)).await?;
/// let entry = l2.get(b"k").await?.expect("just written");
/// assert_eq!(entry.value, b"v");
/// assert!(entry.ttl.is_some_and(|t| t <= Duration::from_secs(60)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Entry {
    /// The stored bytes.
    pub value: Vec<u8>,
    /// How long the value has left to live (rounded to milliseconds); `None` when it never
    /// expires. A tiered cache backfills its L1 with this.
    pub ttl: Option<Duration>,
}

/// One write of a batch ([`L2::set_many`]).
///
/// ```
/// use pool_cache::Put;
/// use std::time::Duration;
///
/// let p = Put::new(b"k", b"v", Duration::from_secs(5));
/// assert_eq!((p.key, p.value, p.ttl), (&b"k"[..], &b"v"[..], Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put<'a> {
    /// The key; must not be empty.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// Time to live: zero is refused, [`MAX_TTL`](crate::MAX_TTL) or more means no expiry.
    pub ttl: Duration,
}

impl<'a> Put<'a> {
    /// A write of `value` under `key` for `ttl`.
    ///
    /// ```
    /// let p = pool_cache::Put::new(b"a", b"1", std::time::Duration::MAX);
    /// assert_eq!(p.key, b"a");
    /// ```
    #[must_use]
    pub fn new(key: &'a [u8], value: &'a [u8], ttl: Duration) -> Self {
        Self { key, value, ttl }
    }
}

/// A second-level cache: bytes under byte keys, each with a time to live, shared between
/// processes (Redis), kept across restarts (redb) or both far from the L1.
///
/// Implemented by [`MemoryL2`](crate::MemoryL2), `DiskL2` (feature `disk`) and `RedisL2`
/// (feature `redis`). Every method returns a boxed `Send` future ([`L2Future`]), so the
/// trait is object-safe: `Arc<dyn L2>` is how the tiered cache and the sharded L2 hold one.
/// Sync callers use [`BlockingL2`](crate::BlockingL2).
///
/// Rules every backend keeps (the conformance suite in `tests/l2` checks them on all three):
///
/// - An empty key is refused with [`L2ErrorKind::InvalidKey`](crate::L2ErrorKind::InvalidKey).
/// - A TTL of zero is refused with [`L2ErrorKind::InvalidTtl`](crate::L2ErrorKind::InvalidTtl)
///   and nothing is written; a TTL of [`MAX_TTL`](crate::MAX_TTL) or more (`Duration::MAX`)
///   stores the value without expiry; other TTLs are rounded up to whole milliseconds.
/// - A value over the backend's limit is refused with
///   [`L2ErrorKind::ValueTooLarge`](crate::L2ErrorKind::ValueTooLarge), counted, and nothing
///   is written. A batch with one bad entry writes none of them.
/// - A record the backend cannot read back (torn, corrupt, foreign) is a miss, counted in
///   [`L2Stats::corrupt`]: `DiskL2` checks a checksum on every record. `MemoryL2` and
///   `RedisL2` hand back the bytes they were given; a value some other program or an older
///   type wrote there is caught one level up, by the header of
///   [`ValueCodec::read`](crate::ValueCodec::read) (a miss, counted too).
/// - Keys are opaque bytes. Namespaces live inside the key ([`L2Namespace`](crate::L2Namespace)),
///   version included, so bumping a namespace's version invalidates it everywhere at once.
///
/// ```
/// use pool_cache::{L2, MemoryL2};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// # futures::executor::block_on(async {
/// let l2: Arc<dyn L2> = Arc::new(MemoryL2::new(1 << 20)?);
/// l2.set(b"user:1", b"Ada", Duration::from_secs(60)).await?;
/// assert_eq!(l2.get(b"user:1").await?.map(|e| e.value), Some(b"Ada".to_vec()));
/// assert!(l2.delete(b"user:1").await?);
/// assert_eq!(l2.get(b"user:1").await?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub trait L2: Send + Sync + fmt::Debug {
    /// The value under `key` and its remaining time to live, or `None` on a miss (absent,
    /// expired, or corrupt).
    ///
    /// # Errors
    ///
    /// [`InvalidKey`](crate::L2ErrorKind::InvalidKey) for an empty key; `Unavailable`,
    /// `Timeout`, `Auth` or `Backend` when the backend fails.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// assert_eq!(l2.get(b"absent").await?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>>;

    /// The values under `keys`, in order, in one round trip where the backend has batches
    /// (Redis `MGET`, one redb read transaction).
    ///
    /// # Errors
    ///
    /// As [`get`](L2::get); one empty key fails the whole call.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// l2.set(b"a", b"1", Duration::MAX).await?;
    /// let got = l2.get_many(&[b"a", b"b"]).await?;
    /// assert_eq!(got[0].as_ref().map(|e| e.value.as_slice()), Some(&b"1"[..]));
    /// assert_eq!(got[1], None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>>;

    /// Stores `value` under `key` for `ttl`, replacing any value there.
    ///
    /// # Errors
    ///
    /// `InvalidKey`, `InvalidTtl`, `ValueTooLarge` (nothing written), or a backend failure.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// l2.set(b"k", b"v", Duration::MAX).await?;
    /// assert_eq!(l2.get(b"k").await?.and_then(|e| e.ttl), None); // no expiry
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()>;

    /// Stores every entry of `entries` (a pipeline on Redis, one write transaction on redb).
    /// All entries are checked first: one bad entry fails the call and nothing is written.
    ///
    /// # Errors
    ///
    /// As [`set`](L2::set).
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2, Put};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// let ttl = Duration::from_secs(60);
    /// l2.set_many(&[Put::new(b"a", b"1", ttl), Put::new(b"b", b"2", ttl)]).await?;
    /// assert!(l2.get(b"b").await?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()>;

    /// Removes `key`; true if a live value was there.
    ///
    /// # Errors
    ///
    /// `InvalidKey`, or a backend failure.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// assert!(!l2.delete(b"k").await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool>;

    /// Removes every key of `keys`; returns how many held a value.
    ///
    /// # Errors
    ///
    /// As [`delete`](L2::delete).
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// l2.set(b"a", b"1", Duration::MAX).await?;
    /// assert_eq!(l2.delete_many(&[b"a", b"b"]).await?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64>;

    /// Removes every key that starts with `prefix`, in bounded batches that never stall the
    /// backend (Redis: `SCAN` + `UNLINK`, never `KEYS`); returns how many were removed. Keys
    /// written while it runs may survive. An empty prefix is refused.
    ///
    /// # Errors
    ///
    /// `InvalidKey` for an empty prefix, or a backend failure (the keys removed so far stay
    /// removed).
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// l2.set(b"user:1", b"a", Duration::MAX).await?;
    /// l2.set(b"order:1", b"b", Duration::MAX).await?;
    /// assert_eq!(l2.delete_prefix(b"user:").await?, 1);
    /// assert!(l2.get(b"order:1").await?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64>;

    /// Stores `value` under `key` for `ttl` only if no live value is there (Redis
    /// `SET NX PX`); true if it was stored. With a random token as the value this is a lease.
    ///
    /// # Errors
    ///
    /// As [`set`](L2::set).
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// let ttl = Duration::from_secs(10);
    /// assert!(l2.set_if_absent(b"lease", b"token-1", ttl).await?);
    /// assert!(!l2.set_if_absent(b"lease", b"token-2", ttl).await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool>;

    /// Removes `key` only if it holds exactly `expected` (atomically: a Lua script on
    /// Redis); true if it was removed. Releases a lease taken with
    /// [`set_if_absent`](L2::set_if_absent) without touching a successor's.
    ///
    /// # Errors
    ///
    /// `InvalidKey`, or a backend failure.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # use std::time::Duration;
    /// # futures::executor::block_on(async {
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// l2.set_if_absent(b"lease", b"mine", Duration::from_secs(10)).await?;
    /// assert!(!l2.compare_and_delete(b"lease", b"theirs").await?);
    /// assert!(l2.compare_and_delete(b"lease", b"mine").await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool>;

    /// Checks that the backend answers (Redis `PING`, a redb read transaction).
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Timeout`, `Auth` or `Backend`.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// # futures::executor::block_on(async {
    /// MemoryL2::new(1 << 20)?.health().await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    fn health(&self) -> L2Future<'_, ()>;

    /// Whether this backend does its work when a method is called, so every future it returns
    /// is ready on its first poll (`DiskL2`, `MemoryL2`; default false). A
    /// [`BlockingL2`](crate::BlockingL2) then answers on the caller's thread, with no hand-off
    /// to its runtime thread, and its timeout cannot bound such a call. A network backend
    /// keeps the default.
    ///
    /// ```
    /// use pool_cache::{L2, MemoryL2};
    /// assert!(MemoryL2::new(1 << 20)?.answers_inline());
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    fn answers_inline(&self) -> bool {
        false
    }

    /// Counters since the backend was built.
    ///
    /// ```
    /// # use pool_cache::{L2, MemoryL2};
    /// let l2 = MemoryL2::new(1 << 20)?;
    /// assert_eq!(l2.stats().corrupt, 0);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    fn stats(&self) -> L2Stats;
}

macro_rules! forward_l2 {
    ($ty:ty) => {
        impl<T: L2 + ?Sized> L2 for $ty {
            fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
                (**self).get(key)
            }
            fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
                (**self).get_many(keys)
            }
            fn set<'a>(
                &'a self,
                key: &'a [u8],
                value: &'a [u8],
                ttl: Duration,
            ) -> L2Future<'a, ()> {
                (**self).set(key, value, ttl)
            }
            fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
                (**self).set_many(entries)
            }
            fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
                (**self).delete(key)
            }
            fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
                (**self).delete_many(keys)
            }
            fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
                (**self).delete_prefix(prefix)
            }
            fn set_if_absent<'a>(
                &'a self,
                key: &'a [u8],
                value: &'a [u8],
                ttl: Duration,
            ) -> L2Future<'a, bool> {
                (**self).set_if_absent(key, value, ttl)
            }
            fn compare_and_delete<'a>(
                &'a self,
                key: &'a [u8],
                expected: &'a [u8],
            ) -> L2Future<'a, bool> {
                (**self).compare_and_delete(key, expected)
            }
            fn health(&self) -> L2Future<'_, ()> {
                (**self).health()
            }
            fn answers_inline(&self) -> bool {
                (**self).answers_inline()
            }
            fn stats(&self) -> L2Stats {
                (**self).stats()
            }
        }
    };
}

forward_l2!(Arc<T>);
forward_l2!(Box<T>);
forward_l2!(&T);

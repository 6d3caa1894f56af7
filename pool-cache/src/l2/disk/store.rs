//! [`DiskL2`]: the store itself, its reads on the calling thread and its write transactions.

use super::builder::{DiskDurability, DiskL2Builder};
use super::checkpoint::Checkpointer;
use super::record::{self, NO_EXPIRY, Record};
use crate::l2::api::{L2, L2Entry, L2Future, Put};
use crate::l2::error::{L2BuildError, L2BuildErrorKind, L2Error, L2ErrorKind};
use crate::l2::input;
use crate::l2::stats::{Counters, L2Stats};
use parking_lot::Mutex;
use pool_metrics::Clock;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Key → record (checksum, expiry, sequence, value).
const DATA: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("pool_l2_data");
/// (expiry in Unix ms or `u64::MAX`, sequence) → key: expired records in order, and the
/// eviction order, each step O(log n).
const EXPIRY: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("pool_l2_expiry");
/// Running totals kept in the file: "bytes" (keys + records) and "seq" (last sequence).
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("pool_l2_meta");

/// At most this many expired records are reclaimed by each write transaction, so a write
/// never pays for a large backlog at once.
///
/// ```
/// assert_eq!(pool_cache::DEFAULT_RECLAIM_BATCH, 64);
/// ```
pub const DEFAULT_RECLAIM_BATCH: usize = 64;

/// Keys removed per write transaction by `delete_prefix`.
const PREFIX_BATCH: usize = 1024;

#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    bytes: u64,
    seq: u64,
}

struct Inner {
    db: Database,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    max_bytes: u64,
    max_value: usize,
    durability: DiskDurability,
    /// Held for the length of each write transaction (redb serialises writers anyway).
    totals: Mutex<Totals>,
    /// Set by a non-durable commit, cleared by the checkpoint that makes it durable.
    dirty: AtomicBool,
    counters: Counters,
}

/// An L2 in one redb file: the embedded default, with nothing to install, that survives
/// restarts.
///
/// - Each record carries an xxh3 checksum over its key and bytes: a torn, damaged or foreign
///   record reads as a miss, counted in [`L2Stats::corrupt`].
/// - Expiry is stored as Unix milliseconds from an injectable wall clock and honoured on
///   read; expired records are reclaimed [`DEFAULT_RECLAIM_BATCH`] at a time by each write.
/// - A byte bound, kept by evicting through an index ordered by expiry (O(log n) per record).
/// - Group commit by default ([`DiskDurability::GroupCommit`]): writes are visible at once and
///   durable within the checkpoint interval; a `kill -9` loses at most that window and never
///   corrupts the file (tested by killing a writing child process).
///
/// Calls run on the calling thread (the async methods are ready futures): reads and
/// group-committed writes take microseconds, but with [`DiskDurability::EveryWrite`] each
/// write waits for an fsync, so async callers should then use `spawn_blocking`. The sync
/// methods ([`get_sync`](Self::get_sync), [`set_sync`](Self::set_sync)) skip the future.
///
/// ```
/// use pool_cache::{DiskL2, L2};
/// use std::time::Duration;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("cache.redb");
/// {
///     let l2 = DiskL2::open(&path)?;
///     l2.set_sync(b"k", b"v", Duration::from_secs(3600))?;
/// } // dropping it checkpoints
/// let l2 = DiskL2::open(&path)?;
/// assert_eq!(l2.get_sync(b"k")?.map(|e| e.value), Some(b"v".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DiskL2 {
    inner: Arc<Inner>,
    checkpointer: Option<Checkpointer>,
}

impl fmt::Debug for DiskL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskL2")
            .field("path", &self.inner.path)
            .field("max_bytes", &self.inner.max_bytes)
            .field("durability", &self.inner.durability)
            .finish_non_exhaustive()
    }
}

fn failed(counters: &Counters, what: &str, e: impl Into<redb::Error>) -> L2Error {
    counters.failure();
    let e: redb::Error = e.into();
    let kind = match &e {
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => L2ErrorKind::Timeout,
        _ => L2ErrorKind::Backend,
    };
    L2Error::with_source(kind, format!("redb {what} failed: {e}"), e)
}

fn open_error(path: &Path, e: redb::DatabaseError) -> L2BuildError {
    use redb::{DatabaseError, StorageError};
    let (kind, why) = match &e {
        DatabaseError::Storage(StorageError::Corrupted(_)) | DatabaseError::UpgradeRequired(_) => {
            (L2BuildErrorKind::NotADatabase, "is not a usable redb database")
        }
        DatabaseError::DatabaseAlreadyOpen => {
            (L2BuildErrorKind::Open, "is already open (one DiskL2 per file per process)")
        }
        _ => (L2BuildErrorKind::Open, "cannot be opened"),
    };
    L2BuildError::with_source(kind, format!("{} {why}: {e}", path.display()), e)
}

impl DiskL2 {
    /// Opens (or creates) the store at `path` with the defaults.
    ///
    /// # Errors
    ///
    /// As [`DiskL2Builder::build`].
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("cache.redb"))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, L2BuildError> {
        Self::builder(path).build()
    }

    /// A builder for the store at `path`.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::builder(dir.path().join("cache.redb")).max_bytes(1 << 20).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(path: impl AsRef<Path>) -> DiskL2Builder {
        DiskL2Builder::new(path.as_ref().to_path_buf())
    }

    pub(crate) fn open_with(b: DiskL2Builder) -> Result<Self, L2BuildError> {
        let db = Database::builder().create(&b.path).map_err(|e| open_error(&b.path, e))?;
        let setup = |db: &Database| -> Result<Totals, redb::Error> {
            let txn = db.begin_write()?;
            let totals = {
                txn.open_table(DATA)?;
                txn.open_table(EXPIRY)?;
                let meta = txn.open_table(META)?;
                let read = |k: &str| -> Result<u64, redb::Error> {
                    Ok(meta.get(k)?.map_or(0, |v| v.value()))
                };
                Totals { bytes: read("bytes")?, seq: read("seq")? }
            };
            txn.commit()?;
            Ok(totals)
        };
        let totals = setup(&db).map_err(|e| {
            let kind = if matches!(e, redb::Error::TableTypeMismatch { .. }) {
                L2BuildErrorKind::NotADatabase
            } else {
                L2BuildErrorKind::Open
            };
            L2BuildError::with_source(
                kind,
                format!("{} cannot be set up as a DiskL2 store: {e}", b.path.display()),
                e,
            )
        })?;
        let inner = Arc::new(Inner {
            db,
            path: b.path,
            clock: b.clock,
            max_bytes: b.max_bytes,
            max_value: b.max_value.unwrap_or(crate::l2::input::DEFAULT_MAX_VALUE_SIZE),
            durability: b.durability,
            totals: Mutex::new(totals),
            dirty: AtomicBool::new(false),
            counters: Counters::default(),
        });
        let checkpointer = match b.durability {
            DiskDurability::GroupCommit { checkpoint_interval } => {
                let weak = Arc::downgrade(&inner);
                let cp = Checkpointer::spawn(checkpoint_interval, move || {
                    if let Some(inner) = weak.upgrade() {
                        // A failed checkpoint is counted; the next tick tries again.
                        let _ = inner.checkpoint_if_dirty();
                    }
                })
                .map_err(|e| {
                    L2BuildError::with_source(
                        L2BuildErrorKind::Runtime,
                        "cannot start the checkpoint thread",
                        e,
                    )
                })?;
                Some(cp)
            }
            DiskDurability::EveryWrite => None,
        };
        Ok(Self { inner, checkpointer })
    }

    /// The byte bound.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// assert_eq!(l2.max_bytes(), pool_cache::DEFAULT_DISK_MAX_BYTES);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_bytes(&self) -> u64 {
        self.inner.max_bytes
    }

    /// The largest value accepted.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// assert_eq!(l2.max_value_size(), pool_cache::DEFAULT_MAX_VALUE_SIZE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_value_size(&self) -> usize {
        self.inner.max_value
    }

    /// How writes become durable.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// assert!(matches!(l2.durability(), pool_cache::DiskDurability::GroupCommit { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn durability(&self) -> DiskDurability {
        self.inner.durability
    }

    /// Keys plus records stored, as the byte bound counts them (expired records not yet
    /// reclaimed included).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// l2.set_sync(b"k", b"v", std::time::Duration::MAX)?;
    /// assert_eq!(l2.used_bytes(), 1 + pool_cache::RECORD_HEADER_LEN as u64 + 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn used_bytes(&self) -> u64 {
        self.inner.totals.lock().bytes
    }

    /// Makes every write so far durable now (one fsync).
    ///
    /// # Errors
    ///
    /// [`L2ErrorKind::Backend`] when redb cannot commit.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// l2.set_sync(b"k", b"v", std::time::Duration::MAX)?;
    /// l2.checkpoint()?; // survives a kill -9 from here on
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checkpoint(&self) -> Result<(), L2Error> {
        self.inner.checkpoint()
    }

    /// Reclaims up to `max` expired records now (writes reclaim
    /// [`DEFAULT_RECLAIM_BATCH`] each on their own); returns how many.
    ///
    /// # Errors
    ///
    /// [`L2ErrorKind::Backend`] when redb fails.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// assert_eq!(l2.reclaim_expired(100)?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reclaim_expired(&self, max: usize) -> Result<u64, L2Error> {
        let now = self.inner.now_ms();
        self.inner.write_with(false, |t, totals| t.reclaim(totals, now, max))
    }

    /// [`L2::get`] on the calling thread, without a future.
    ///
    /// # Errors
    ///
    /// `InvalidKey` for an empty key, `Backend` when redb fails.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// assert_eq!(l2.get_sync(b"absent")?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_sync(&self, key: &[u8]) -> Result<Option<L2Entry>, L2Error> {
        input::check_key(key)?;
        let inner = &self.inner;
        let c = &inner.counters;
        let txn = inner.db.begin_read().map_err(|e| failed(c, "read", e))?;
        let table = txn.open_table(DATA).map_err(|e| failed(c, "read", e))?;
        let now = inner.now_ms();
        let found = table.get(key).map_err(|e| failed(c, "read", e))?;
        Ok(found.and_then(|v| inner.entry(key, v.value(), now)))
    }

    /// [`L2::get_many`] on the calling thread: one read transaction.
    ///
    /// # Errors
    ///
    /// As [`get_sync`](Self::get_sync).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// assert_eq!(l2.get_many_sync(&[b"a"])?, vec![None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_many_sync(&self, keys: &[&[u8]]) -> Result<Vec<Option<L2Entry>>, L2Error> {
        input::check_keys(keys)?;
        let inner = &self.inner;
        let c = &inner.counters;
        let txn = inner.db.begin_read().map_err(|e| failed(c, "read", e))?;
        let table = txn.open_table(DATA).map_err(|e| failed(c, "read", e))?;
        let now = inner.now_ms();
        keys.iter()
            .map(|k| {
                let found = table.get(*k).map_err(|e| failed(c, "read", e))?;
                Ok(found.and_then(|v| inner.entry(k, v.value(), now)))
            })
            .collect()
    }

    /// [`L2::set`] on the calling thread.
    ///
    /// # Errors
    ///
    /// `InvalidKey`, `InvalidTtl`, `ValueTooLarge` (nothing written), or `Backend`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// l2.set_sync(b"k", b"v", std::time::Duration::from_secs(60))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_sync(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), L2Error> {
        self.set_many_sync(&[Put::new(key, value, ttl)])
    }

    /// [`L2::set_many`] on the calling thread: one write transaction.
    ///
    /// # Errors
    ///
    /// As [`set_sync`](Self::set_sync); one bad entry writes none.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::open(dir.path().join("a.redb"))?;
    /// l2.set_many_sync(&[pool_cache::Put::new(b"k", b"v", std::time::Duration::MAX)])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_many_sync(&self, entries: &[Put<'_>]) -> Result<(), L2Error> {
        let inner = &self.inner;
        let ttls = entries
            .iter()
            .map(|p| input::check_put(p, inner.max_value, &inner.counters))
            .collect::<Result<Vec<_>, _>>()?;
        if entries.is_empty() {
            return Ok(());
        }
        let now = inner.now_ms();
        inner.write(|t, totals| {
            for (p, ttl) in entries.iter().zip(ttls) {
                t.put(totals, p.key, p.value, expiry(now, ttl))?;
            }
            Ok(())
        })
    }
}

fn expiry(now_ms: u64, ttl_ms: Option<u64>) -> u64 {
    ttl_ms.map_or(NO_EXPIRY, |t| now_ms.saturating_add(t).min(NO_EXPIRY - 1))
}

impl Drop for DiskL2 {
    fn drop(&mut self) {
        // Stop the thread first, then make the last writes durable.
        self.checkpointer = None;
        if self.inner.dirty.load(Ordering::Acquire) {
            let _ = self.inner.checkpoint();
        }
    }
}

/// The tables of one write transaction.
struct Tables<'t> {
    data: Table<'t, &'static [u8], &'static [u8]>,
    expiry: Table<'t, (u64, u64), &'static [u8]>,
    counters: &'t Counters,
    now: u64,
}

impl Tables<'_> {
    fn err(&self, e: impl Into<redb::Error>) -> L2Error {
        failed(self.counters, "write", e)
    }

    /// Removes whatever is stored under `key`, with its index entry; returns the record if it
    /// was valid and live.
    fn take(&mut self, totals: &mut Totals, key: &[u8]) -> Result<Option<Vec<u8>>, L2Error> {
        let c = self.counters;
        let old = self.data.remove(key).map_err(|e| failed(c, "write", e))?;
        let Some(old) = old else { return Ok(None) };
        let bytes = old.value();
        totals.bytes = totals.bytes.saturating_sub((key.len() + bytes.len()) as u64);
        let live = match record::decode(key, bytes) {
            Some(r) => (r.expires_ms > self.now).then(|| r.value.to_vec()),
            None => {
                self.counters.corrupt();
                None
            }
        };
        let at = record::index_of(bytes);
        drop(old);
        if let Some(at) = at {
            self.expiry.remove(at).map_err(|e| failed(c, "write", e))?;
        }
        Ok(live)
    }

    fn put(
        &mut self,
        totals: &mut Totals,
        key: &[u8],
        value: &[u8],
        expires_ms: u64,
    ) -> Result<(), L2Error> {
        let c = self.counters;
        totals.seq += 1;
        let rec = record::encode(key, expires_ms, totals.seq, value);
        // One B-tree descent: the insert hands back the record it replaced (measured: a
        // remove-then-insert made set_many 0.74x a raw redb transaction).
        let old = self.data.insert(key, rec.as_slice()).map_err(|e| failed(c, "write", e))?;
        let replaced = old.map(|old| {
            let bytes = old.value();
            totals.bytes = totals.bytes.saturating_sub((key.len() + bytes.len()) as u64);
            record::index_of(bytes)
        });
        if let Some(Some(at)) = replaced {
            self.expiry.remove(at).map_err(|e| failed(c, "write", e))?;
        }
        self.expiry.insert((expires_ms, totals.seq), key).map_err(|e| failed(c, "write", e))?;
        totals.bytes += (key.len() + rec.len()) as u64;
        Ok(())
    }

    /// Live value under `key` (a corrupt record counts as absent).
    fn live(&self, key: &[u8]) -> Result<Option<Vec<u8>>, L2Error> {
        let c = self.counters;
        let found = self.data.get(key).map_err(|e| failed(c, "write", e))?;
        Ok(found.and_then(|v| {
            record::decode(key, v.value())
                .filter(|r| r.expires_ms > self.now)
                .map(|r| r.value.to_vec())
        }))
    }

    /// Removes the record an index entry points at, if the record still claims that entry.
    fn drop_indexed(
        &mut self,
        totals: &mut Totals,
        at: (u64, u64),
        key: &[u8],
    ) -> Result<bool, L2Error> {
        let c = self.counters;
        self.expiry.remove(at).map_err(|e| failed(c, "write", e))?;
        let matches = {
            let found = self.data.get(key).map_err(|e| failed(c, "write", e))?;
            found.is_some_and(|v| {
                record::index_of(v.value()) == Some(at) || record::decode(key, v.value()).is_none()
            })
        };
        if matches {
            let old = self.data.remove(key).map_err(|e| failed(c, "write", e))?;
            if let Some(old) = old {
                totals.bytes = totals.bytes.saturating_sub((key.len() + old.value().len()) as u64);
            }
        }
        Ok(matches)
    }

    fn reclaim(&mut self, totals: &mut Totals, now: u64, max: usize) -> Result<u64, L2Error> {
        let c = self.counters;
        let due: Vec<((u64, u64), Vec<u8>)> = self
            .expiry
            .range(..=(now, u64::MAX))
            .map_err(|e| failed(c, "write", e))?
            .take(max)
            .map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec())))
            .collect::<Result<_, _>>()
            .map_err(|e| failed(c, "write", e))?;
        let mut n = 0;
        for (at, key) in due {
            n += u64::from(self.drop_indexed(totals, at, &key)?);
        }
        self.counters.expired(n);
        Ok(n)
    }

    fn evict(&mut self, totals: &mut Totals, max_bytes: u64) -> Result<(), L2Error> {
        let c = self.counters;
        let mut n = 0;
        while totals.bytes > max_bytes {
            let first = self
                .expiry
                .first()
                .map_err(|e| failed(c, "write", e))?
                .map(|(k, v)| (k.value(), v.value().to_vec()));
            let Some((at, key)) = first else { break };
            n += u64::from(self.drop_indexed(totals, at, &key)?);
        }
        self.counters.evicted(n);
        Ok(())
    }
}

impl Inner {
    fn now_ms(&self) -> u64 {
        self.clock.now_nanos() / 1_000_000
    }

    fn entry(&self, key: &[u8], bytes: &[u8], now: u64) -> Option<L2Entry> {
        let Some(Record { expires_ms, value, .. }) = record::decode(key, bytes) else {
            self.counters.corrupt();
            return None;
        };
        if expires_ms <= now {
            return None;
        }
        let ttl = (expires_ms != NO_EXPIRY).then(|| Duration::from_millis(expires_ms - now));
        Some(L2Entry { value: value.to_vec(), ttl })
    }

    /// Runs `f` in one write transaction, then reclaims a bounded batch of expired records,
    /// keeps the byte bound and commits (durably only with [`DiskDurability::EveryWrite`]).
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Tables<'_>, &mut Totals) -> Result<T, L2Error>,
    ) -> Result<T, L2Error> {
        self.write_with(true, f)
    }

    fn write_with<T>(
        &self,
        reclaim: bool,
        f: impl FnOnce(&mut Tables<'_>, &mut Totals) -> Result<T, L2Error>,
    ) -> Result<T, L2Error> {
        let c = &self.counters;
        let mut guard = self.totals.lock();
        let mut totals = *guard;
        let mut txn = self.db.begin_write().map_err(|e| failed(c, "write", e))?;
        let group = matches!(self.durability, DiskDurability::GroupCommit { .. });
        if group {
            txn.set_durability(Durability::None).map_err(|e| failed(c, "write", e))?;
        }
        let out = {
            let data = txn.open_table(DATA).map_err(|e| failed(c, "write", e))?;
            let expiry = txn.open_table(EXPIRY).map_err(|e| failed(c, "write", e))?;
            let mut t = Tables { data, expiry, counters: c, now: self.now_ms() };
            let out = f(&mut t, &mut totals)?;
            let now = t.now;
            if reclaim {
                t.reclaim(&mut totals, now, DEFAULT_RECLAIM_BATCH)?;
            }
            t.evict(&mut totals, self.max_bytes)?;
            let mut meta = txn.open_table(META).map_err(|e| failed(c, "write", e))?;
            meta.insert("bytes", totals.bytes).map_err(|e| failed(c, "write", e))?;
            meta.insert("seq", totals.seq).map_err(|e| failed(c, "write", e))?;
            out
        };
        txn.commit().map_err(|e| failed(c, "commit", e))?;
        *guard = totals;
        if group {
            self.dirty.store(true, Ordering::Release);
        }
        Ok(out)
    }

    fn checkpoint(&self) -> Result<(), L2Error> {
        let c = &self.counters;
        self.dirty.store(false, Ordering::Release);
        // An empty transaction committed with Durability::Immediate makes every earlier
        // non-durable commit durable with it.
        let txn = self.db.begin_write().map_err(|e| failed(c, "checkpoint", e))?;
        txn.commit().map_err(|e| {
            self.dirty.store(true, Ordering::Release);
            failed(c, "checkpoint", e)
        })
    }

    fn checkpoint_if_dirty(&self) -> Result<(), L2Error> {
        if self.dirty.load(Ordering::Acquire) { self.checkpoint() } else { Ok(()) }
    }
}

impl L2 for DiskL2 {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        Box::pin(std::future::ready(self.get_sync(key)))
    }

    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        Box::pin(std::future::ready(self.get_many_sync(keys)))
    }

    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()> {
        Box::pin(std::future::ready(self.set_sync(key, value, ttl)))
    }

    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
        Box::pin(std::future::ready(self.set_many_sync(entries)))
    }

    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
        let out = input::check_key(key)
            .and_then(|()| self.inner.write(|t, totals| Ok(t.take(totals, key)?.is_some())));
        Box::pin(std::future::ready(out))
    }

    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        let out = input::check_keys(keys).and_then(|()| {
            if keys.is_empty() {
                return Ok(0);
            }
            self.inner.write(|t, totals| {
                let mut n = 0;
                for k in keys {
                    n += u64::from(t.take(totals, k)?.is_some());
                }
                Ok(n)
            })
        });
        Box::pin(std::future::ready(out))
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        let out = input::check_prefix(prefix).and_then(|()| {
            let mut removed = 0;
            // Batches of PREFIX_BATCH keys per transaction, so readers and writers interleave.
            loop {
                let (n, more) = self.inner.write(|t, totals| {
                    let keys: Vec<Vec<u8>> = t
                        .data
                        .range(prefix..)
                        .map_err(|e| t.err(e))?
                        .map(|r| r.map(|(k, _)| k.value().to_vec()))
                        .take_while(|k| k.as_ref().map_or(true, |k| k.starts_with(prefix)))
                        .take(PREFIX_BATCH)
                        .collect::<Result<_, _>>()
                        .map_err(|e| t.err(e))?;
                    let mut n = 0;
                    for k in &keys {
                        n += u64::from(t.take(totals, k)?.is_some());
                    }
                    Ok((n, keys.len() == PREFIX_BATCH))
                })?;
                removed += n;
                if !more {
                    return Ok(removed);
                }
            }
        });
        Box::pin(std::future::ready(out))
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        let inner = &self.inner;
        let out = input::check_put(&Put::new(key, value, ttl), inner.max_value, &inner.counters)
            .and_then(|ttl| {
                let now = inner.now_ms();
                inner.write(|t, totals| {
                    if t.live(key)?.is_some() {
                        return Ok(false);
                    }
                    t.put(totals, key, value, expiry(now, ttl))?;
                    Ok(true)
                })
            });
        Box::pin(std::future::ready(out))
    }

    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool> {
        let out = input::check_key(key).and_then(|()| {
            self.inner.write(|t, totals| {
                if t.live(key)?.as_deref() != Some(expected) {
                    return Ok(false);
                }
                t.take(totals, key)?;
                Ok(true)
            })
        });
        Box::pin(std::future::ready(out))
    }

    fn health(&self) -> L2Future<'_, ()> {
        let c = &self.inner.counters;
        let out = self
            .inner
            .db
            .begin_read()
            .map_err(|e| failed(c, "read", e))
            .and_then(|txn| txn.open_table(DATA).map(drop).map_err(|e| failed(c, "read", e)));
        Box::pin(std::future::ready(out))
    }

    fn answers_inline(&self) -> bool {
        // Every method does its redb transaction when called and returns a ready future.
        true
    }

    fn stats(&self) -> L2Stats {
        self.inner.counters.snapshot()
    }
}

//! [`DiskL2Builder`]: where the file is, how big it may grow, and how durable writes are.

use super::store::DiskL2;
use crate::l2::error::{L2BuildError, L2BuildErrorKind};
use crate::l2::input::DEFAULT_MAX_VALUE_SIZE;
use crate::l2::unix_clock::UnixClock;
use pool_metrics::Clock;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The byte bound a [`DiskL2`] starts with (1 GiB of keys and records).
///
/// ```
/// assert_eq!(pool_cache::DEFAULT_DISK_MAX_BYTES, 1 << 30);
/// ```
pub const DEFAULT_DISK_MAX_BYTES: u64 = 1 << 30;

/// The loss window a [`DiskL2`] starts with: writes are committed without fsync and made
/// durable together at most this long after they were acknowledged.
///
/// ```
/// assert_eq!(pool_cache::DEFAULT_CHECKPOINT_INTERVAL, std::time::Duration::from_secs(1));
/// ```
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// How a [`DiskL2`] makes writes durable.
///
/// ```
/// use pool_cache::DiskDurability;
/// use std::time::Duration;
///
/// let d = DiskDurability::GroupCommit { checkpoint_interval: Duration::from_millis(200) };
/// assert_ne!(d, DiskDurability::EveryWrite);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskDurability {
    /// Every write commits with redb's `Durability::None` (no fsync; visible at once, survives
    /// a process crash only up to the last checkpoint), and a background thread commits
    /// durably every `checkpoint_interval` when anything was written since the last one. A
    /// `kill -9` or power loss loses at most the writes of the last `checkpoint_interval`
    /// (plus the checkpoint's own fsync time); it never corrupts the file.
    GroupCommit {
        /// The loss window.
        checkpoint_interval: Duration,
    },
    /// Every write waits for its own fsync (`Durability::Immediate`): nothing acknowledged is
    /// ever lost, at the cost of one fsync per write (measured in the `l2/disk_set` bench).
    EveryWrite,
}

/// Builds a [`DiskL2`]; start with [`DiskL2::builder`].
///
/// ```
/// use pool_cache::{DiskDurability, DiskL2};
/// use std::time::Duration;
///
/// let dir = tempfile::tempdir()?;
/// let l2 = DiskL2::builder(dir.path().join("cache.redb"))
///     .max_bytes(64 << 20)
///     .max_value_size(1 << 20)
///     .durability(DiskDurability::GroupCommit { checkpoint_interval: Duration::from_millis(500) })
///     .build()?;
/// assert_eq!(l2.max_bytes(), 64 << 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until .build()"]
pub struct DiskL2Builder {
    pub(crate) path: PathBuf,
    pub(crate) max_bytes: u64,
    pub(crate) max_value: Option<usize>,
    pub(crate) durability: DiskDurability,
    pub(crate) clock: Arc<dyn Clock>,
}

impl fmt::Debug for DiskL2Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskL2Builder")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .field("max_value_size", &self.max_value)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

/// redb's file magic, checked before redb sees the file so a foreign file gets a clear error.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

impl DiskL2Builder {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            max_bytes: DEFAULT_DISK_MAX_BYTES,
            max_value: None,
            durability: DiskDurability::GroupCommit {
                checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
            },
            clock: Arc::new(UnixClock::new()),
        }
    }

    /// The bound on keys plus records (default [`DEFAULT_DISK_MAX_BYTES`]). Past it, the
    /// records closest to expiry go first, then the oldest records without expiry, each in
    /// O(log n) through the expiry index. The file itself can be larger: redb keeps free pages.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::builder(dir.path().join("a.redb")).max_bytes(1 << 20).build()?;
    /// assert_eq!(l2.max_bytes(), 1 << 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// The largest value accepted (default [`DEFAULT_MAX_VALUE_SIZE`], or the byte bound if
    /// that is smaller).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let l2 = pool_cache::DiskL2::builder(dir.path().join("a.redb")).max_value_size(4096).build()?;
    /// assert_eq!(l2.max_value_size(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value = Some(bytes);
        self
    }

    /// How writes become durable (default: group commit every
    /// [`DEFAULT_CHECKPOINT_INTERVAL`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use pool_cache::{DiskDurability, DiskL2};
    /// let l2 = DiskL2::builder(dir.path().join("a.redb")).durability(DiskDurability::EveryWrite).build()?;
    /// assert_eq!(l2.durability(), DiskDurability::EveryWrite);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn durability(mut self, durability: DiskDurability) -> Self {
        self.durability = durability;
        self
    }

    /// The wall clock expiry is stored in: nanoseconds since the Unix epoch (default
    /// [`UnixClock`]; a [`ManualClock`](crate::ManualClock) in tests).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let clock = pool_cache::ManualClock::new();
    /// let l2 = pool_cache::DiskL2::builder(dir.path().join("a.redb")).clock(clock.clone()).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Opens the file, creating it if it does not exist.
    ///
    /// # Errors
    ///
    /// [`L2BuildErrorKind::Capacity`] for a zero bound or a value limit above the byte bound;
    /// [`L2BuildErrorKind::ZeroDuration`] for a zero checkpoint interval;
    /// [`L2BuildErrorKind::Path`] when the parent directory is missing or is not a directory,
    /// or the path is a directory; [`L2BuildErrorKind::NotADatabase`] when the file is not a
    /// redb database; [`L2BuildErrorKind::Open`] when it is open elsewhere or I/O fails.
    ///
    /// ```
    /// use pool_cache::{DiskL2, L2BuildErrorKind};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let err = DiskL2::open(dir.path().join("missing/cache.redb")).unwrap_err();
    /// assert_eq!(err.kind(), L2BuildErrorKind::Path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(mut self) -> Result<DiskL2, L2BuildError> {
        if self.max_bytes == 0 {
            return Err(L2BuildError::new(
                L2BuildErrorKind::Capacity,
                "max_bytes must be > 0, got 0",
            ));
        }
        let max_value = self.max_value.unwrap_or_else(|| {
            DEFAULT_MAX_VALUE_SIZE.min(usize::try_from(self.max_bytes).unwrap_or(usize::MAX))
        });
        if max_value == 0 || max_value as u64 > self.max_bytes {
            return Err(L2BuildError::new(
                L2BuildErrorKind::Capacity,
                format!(
                    "max_value_size must be > 0 and <= max_bytes ({}), got {max_value}",
                    self.max_bytes
                ),
            ));
        }
        self.max_value = Some(max_value);
        if let DiskDurability::GroupCommit { checkpoint_interval } = self.durability
            && checkpoint_interval.is_zero()
        {
            return Err(L2BuildError::new(
                L2BuildErrorKind::ZeroDuration,
                "checkpoint_interval must be > 0; use DiskDurability::EveryWrite for an fsync per write",
            ));
        }
        check_path(&self.path)?;
        DiskL2::open_with(self)
    }
}

fn check_path(path: &Path) -> Result<(), L2BuildError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.exists() {
        return Err(L2BuildError::new(
            L2BuildErrorKind::Path,
            format!(
                "the directory {} does not exist; create it before opening {}",
                parent.display(),
                path.display()
            ),
        ));
    }
    if !parent.is_dir() {
        return Err(L2BuildError::new(
            L2BuildErrorKind::Path,
            format!(
                "{} is not a directory, so {} cannot be created in it",
                parent.display(),
                path.display()
            ),
        ));
    }
    if path.is_dir() {
        return Err(L2BuildError::new(
            L2BuildErrorKind::Path,
            format!("{} is a directory; give the path of a database file", path.display()),
        ));
    }
    if let Ok(mut file) = std::fs::File::open(path) {
        let mut head = [0u8; REDB_MAGIC.len()];
        let mut read = 0;
        while read < head.len() {
            match file.read(&mut head[read..]) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) => {
                    return Err(L2BuildError::with_source(
                        L2BuildErrorKind::Open,
                        format!("cannot read {}: {e}", path.display()),
                        e,
                    ));
                }
            }
        }
        // An empty file is fine (redb initialises it); anything else must be redb's.
        if read > 0 && (read < head.len() || head != REDB_MAGIC) {
            return Err(L2BuildError::new(
                L2BuildErrorKind::NotADatabase,
                format!(
                    "{} is not a redb database; point DiskL2 at a new path or remove the file",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

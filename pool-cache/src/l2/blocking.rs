//! [`BlockingL2`]: the L2 operations for sync callers, run on a runtime thread it owns.

use super::api::{L2, L2Entry, Put};
use super::error::{L2BuildError, L2BuildErrorKind, L2Error, L2ErrorKind};
use super::stats::L2Stats;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a [`BlockingL2`] call waits for its answer unless told otherwise. A backstop:
/// the backends bound their own calls (RedisL2 by its response timeout) well inside it.
pub const DEFAULT_BLOCKING_TIMEOUT: Duration = Duration::from_secs(10);

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An [`L2`] for sync code: each call runs on a tokio runtime thread that the facade owns
/// while the caller waits (bounded by [`timeout`](Self::timeout)) for the answer, so it works
/// from a plain thread with no runtime and from inside a tokio runtime alike. A backend that
/// does its work when called ([`L2::answers_inline`]: `DiskL2`, `MemoryL2`) is answered on
/// the caller's thread instead, so callers on several threads run in parallel; the timeout
/// cannot bound such a call.
///
/// Connections a backend opens lazily on its first call (RedisL2) live on the runtime of that
/// call: through this facade, on its own thread, which lives until the facade is dropped.
///
/// ```
/// use pool_cache::{BlockingL2, MemoryL2};
/// use std::time::Duration;
///
/// let l2 = BlockingL2::new(MemoryL2::new(1 << 20)?)?;
/// l2.set(b"k", b"v", Duration::from_secs(60))?;
/// assert_eq!(l2.get(b"k")?.map(|e| e.value), Some(b"v".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BlockingL2 {
    l2: Arc<dyn L2>,
    /// The backend's futures are ready on their first poll: poll it here.
    inline: bool,
    handle: tokio::runtime::Handle,
    jobs: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
    timeout: Duration,
}

impl fmt::Debug for BlockingL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingL2").field("l2", &self.l2).field("timeout", &self.timeout).finish()
    }
}

impl BlockingL2 {
    /// Wraps `l2` with [`DEFAULT_BLOCKING_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// [`L2BuildErrorKind::Runtime`] when the runtime thread cannot start.
    ///
    /// ```
    /// let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert_eq!(l2.timeout(), pool_cache::DEFAULT_BLOCKING_TIMEOUT);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn new(l2: impl L2 + 'static) -> Result<Self, L2BuildError> {
        Self::with_timeout(l2, DEFAULT_BLOCKING_TIMEOUT)
    }

    /// Wraps `l2`; a call that has no answer after `timeout` fails with
    /// [`L2ErrorKind::Timeout`] (the operation itself may still complete).
    ///
    /// # Errors
    ///
    /// [`L2BuildErrorKind::ZeroDuration`] for a zero timeout, [`L2BuildErrorKind::Runtime`]
    /// when the runtime thread cannot start.
    ///
    /// ```
    /// use pool_cache::{BlockingL2, L2BuildErrorKind, MemoryL2};
    /// use std::time::Duration;
    ///
    /// let err = BlockingL2::with_timeout(MemoryL2::new(1024)?, Duration::ZERO).unwrap_err();
    /// assert_eq!(err.kind(), L2BuildErrorKind::ZeroDuration);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    pub fn with_timeout(l2: impl L2 + 'static, timeout: Duration) -> Result<Self, L2BuildError> {
        if timeout.is_zero() {
            return Err(L2BuildError::new(
                L2BuildErrorKind::ZeroDuration,
                "the blocking timeout must be > 0",
            ));
        }
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
                L2BuildError::with_source(
                    L2BuildErrorKind::Runtime,
                    "cannot build the l2 runtime",
                    e,
                )
            })?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let handle = runtime.handle().clone();
        let thread = std::thread::Builder::new()
            .name("pool-l2-blocking".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = rx.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .map_err(|e| {
                L2BuildError::with_source(
                    L2BuildErrorKind::Runtime,
                    "cannot start the l2 runtime thread",
                    e,
                )
            })?;
        let inline = l2.answers_inline();
        Ok(Self { l2: Arc::new(l2), inline, handle, jobs: Some(tx), thread: Some(thread), timeout })
    }

    /// The bound on each call's wait.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert!(l2.timeout() > std::time::Duration::ZERO);
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The wrapped backend, for async callers sharing it.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// let shared: std::sync::Arc<dyn pool_cache::L2> = l2.inner().clone();
    /// # Ok::<(), pool_cache::L2BuildError>(())
    /// ```
    #[must_use]
    pub fn inner(&self) -> &Arc<dyn L2> {
        &self.l2
    }

    fn run<T, F>(&self, op: impl FnOnce(Arc<dyn L2>) -> F + Send + 'static) -> Result<T, L2Error>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, L2Error>> + Send + 'static,
    {
        let mut fut = Box::pin(op(Arc::clone(&self.l2)));
        // A backend that does its work when called (DiskL2, MemoryL2: `answers_inline`) is
        // polled here, in the runtime's context, and answers on the caller's thread: no
        // hand-off to the runtime thread (which would serialize every caller's calls on it and
        // cost two thread switches each). Should its future still be pending, it finishes on
        // the runtime thread like any other: polling with a no-op waker first is sound, since
        // the runtime polls it again as soon as it gets it, with its own waker, and a future
        // wakes the waker of its latest poll.
        if self.inline {
            let _runtime = self.handle.enter();
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(result) = fut.as_mut().poll(&mut cx) {
                return result;
            }
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::pin(async move {
            let _ = tx.send(fut.await);
        });
        let gone = || L2Error::new(L2ErrorKind::Unavailable, "the l2 runtime thread has stopped");
        self.jobs.as_ref().ok_or_else(gone)?.send(job).map_err(|_| gone())?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(L2Error::new(
                L2ErrorKind::Timeout,
                format!("no answer from the l2 within {:?}", self.timeout),
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }

    /// [`L2::get`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::get`], plus `Timeout` after [`timeout`](Self::timeout).
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert_eq!(l2.get(b"absent")?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, key: &[u8]) -> Result<Option<L2Entry>, L2Error> {
        let key = key.to_vec();
        self.run(move |l2| async move { l2.get(&key).await })
    }

    /// [`L2::get_many`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::get_many`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert_eq!(l2.get_many(&[b"a", b"b"])?, vec![None, None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<L2Entry>>, L2Error> {
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        self.run(move |l2| async move {
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            l2.get_many(&refs).await
        })
    }

    /// [`L2::set`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::set`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// l2.set(b"k", b"v", std::time::Duration::MAX)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), L2Error> {
        let (key, value) = (key.to_vec(), value.to_vec());
        self.run(move |l2| async move { l2.set(&key, &value, ttl).await })
    }

    /// [`L2::set_many`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::set_many`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// l2.set_many(&[pool_cache::Put::new(b"k", b"v", std::time::Duration::MAX)])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_many(&self, entries: &[Put<'_>]) -> Result<(), L2Error> {
        let owned: Vec<(Vec<u8>, Vec<u8>, Duration)> =
            entries.iter().map(|p| (p.key.to_vec(), p.value.to_vec(), p.ttl)).collect();
        self.run(move |l2| async move {
            let puts: Vec<Put<'_>> = owned.iter().map(|(k, v, t)| Put::new(k, v, *t)).collect();
            l2.set_many(&puts).await
        })
    }

    /// [`L2::delete`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::delete`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert!(!l2.delete(b"k")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete(&self, key: &[u8]) -> Result<bool, L2Error> {
        let key = key.to_vec();
        self.run(move |l2| async move { l2.delete(&key).await })
    }

    /// [`L2::delete_many`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::delete_many`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert_eq!(l2.delete_many(&[b"a"])?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete_many(&self, keys: &[&[u8]]) -> Result<u64, L2Error> {
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        self.run(move |l2| async move {
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            l2.delete_many(&refs).await
        })
    }

    /// [`L2::delete_prefix`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::delete_prefix`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert_eq!(l2.delete_prefix(b"user:")?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete_prefix(&self, prefix: &[u8]) -> Result<u64, L2Error> {
        let prefix = prefix.to_vec();
        self.run(move |l2| async move { l2.delete_prefix(&prefix).await })
    }

    /// [`L2::set_if_absent`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::set_if_absent`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert!(l2.set_if_absent(b"lease", b"t", std::time::Duration::from_secs(5))?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_if_absent(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<bool, L2Error> {
        let (key, value) = (key.to_vec(), value.to_vec());
        self.run(move |l2| async move { l2.set_if_absent(&key, &value, ttl).await })
    }

    /// [`L2::compare_and_delete`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::compare_and_delete`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert!(!l2.compare_and_delete(b"lease", b"t")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compare_and_delete(&self, key: &[u8], expected: &[u8]) -> Result<bool, L2Error> {
        let (key, expected) = (key.to_vec(), expected.to_vec());
        self.run(move |l2| async move { l2.compare_and_delete(&key, &expected).await })
    }

    /// [`L2::health`], blocking.
    ///
    /// # Errors
    ///
    /// As [`L2::health`], plus `Timeout`.
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// l2.health()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn health(&self) -> Result<(), L2Error> {
        self.run(move |l2| async move { l2.health().await })
    }

    /// [`L2::stats`].
    ///
    /// ```
    /// # let l2 = pool_cache::BlockingL2::new(pool_cache::MemoryL2::new(1 << 20)?)?;
    /// assert_eq!(l2.stats().corrupt, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> L2Stats {
        self.l2.stats()
    }
}

impl Drop for BlockingL2 {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; dropping its runtime cancels any call
        // still in flight (their callers have already timed out).
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

//! [`RuntimeLocal`]: one lazily made value per tokio runtime.

use std::fmt;
use std::future::Future;
use tokio::runtime::{Handle, Id};

/// How many runtimes' values are kept; the oldest is dropped past it.
const KEPT: usize = 8;

/// One lazily made value (a connection) per tokio runtime, for clients whose connections are
/// driven by a task on the runtime that opened them and die with it.
///
/// A backend that kept one connection forever would fail every call once the runtime that
/// opened it shut down, as when the first call went through a [`BlockingL2`](crate::BlockingL2)
/// that was then dropped. `RedisL2` (and `pool_cluster::RedisClusterL2`) keep theirs here
/// instead: a call on another runtime gets (and keeps) a connection of its own. Values of the
/// last 8 runtimes are kept.
///
/// ```
/// use pool_cache::RuntimeLocal;
///
/// let made = std::sync::atomic::AtomicU32::new(0);
/// let local: RuntimeLocal<u32> = RuntimeLocal::new();
/// let make = || async { Ok::<_, ()>(made.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) };
/// let first = tokio::runtime::Builder::new_current_thread().build()?;
/// assert_eq!(first.block_on(local.get_or_try_init(make)), Ok(0));
/// assert_eq!(first.block_on(local.get_or_try_init(make)), Ok(0)); // kept
/// let second = tokio::runtime::Builder::new_current_thread().build()?;
/// assert_eq!(second.block_on(local.get_or_try_init(make)), Ok(1)); // its own
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RuntimeLocal<T> {
    values: tokio::sync::Mutex<Vec<(Id, T)>>,
}

impl<T> fmt::Debug for RuntimeLocal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeLocal").finish_non_exhaustive()
    }
}

impl<T> Default for RuntimeLocal<T> {
    fn default() -> Self {
        Self { values: tokio::sync::Mutex::new(Vec::new()) }
    }
}

impl<T: Clone> RuntimeLocal<T> {
    /// Empty.
    ///
    /// ```
    /// let local: pool_cache::RuntimeLocal<String> = pool_cache::RuntimeLocal::new();
    /// # let _ = local;
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The current runtime's value, made by `init` the first time (callers on the same runtime
    /// meanwhile wait for it rather than make their own). Outside any runtime, every call
    /// runs `init` and keeps nothing.
    ///
    /// # Errors
    ///
    /// `init`'s error; nothing is kept then, and the next call tries again.
    ///
    /// ```
    /// let local = pool_cache::RuntimeLocal::new();
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// let got = rt.block_on(local.get_or_try_init(|| async { Err::<u8, _>("refused") }));
    /// assert_eq!(got, Err("refused"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let Ok(here) = Handle::try_current().map(|h| h.id()) else {
            return init().await;
        };
        let mut values = self.values.lock().await;
        if let Some((_, v)) = values.iter().find(|(id, _)| *id == here) {
            return Ok(v.clone());
        }
        let v = init().await?;
        if values.len() == KEPT {
            values.remove(0);
        }
        values.push((here, v.clone()));
        Ok(v)
    }
}

//! [`Traced`] and [`Source`]: a [`CachedPool`](crate::CachedPool) call's value with where it
//! came from.

use std::time::Duration;

/// Where a [`CachedPool::call_traced`](crate::CachedPool::call_traced) found its value.
///
/// ```
/// use pool_cache::{CachedPool, Source};
///
/// let pool = pool_core::ComputePool::new(1)?;
/// let memo = CachedPool::builder(pool, "square", |x: &u64| x * x).build()?;
/// assert_eq!(memo.call_traced(&3)?.source, Source::Computed);
/// assert_eq!(memo.call_traced(&3)?.source, Source::L1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// This process's L1 held it.
    L1,
    /// Another call of this process was already getting it; this call waited and shared its
    /// answer (one computation or L2 read served both).
    Shared,
    /// The L2 held it: computed earlier, by this process or another one (including a value
    /// another process computed while this call waited on its lease).
    L2,
    /// This call ran the function on the pool.
    Computed,
}

impl Source {
    /// Whether the function ran for this call (false: the computation was saved).
    ///
    /// ```
    /// assert!(pool_cache::Source::Computed.computed());
    /// assert!(!pool_cache::Source::L2.computed());
    /// ```
    #[must_use]
    pub fn computed(self) -> bool {
        self == Self::Computed
    }
}

/// A call's value, where it came from, and what computing it cost.
///
/// ```
/// use pool_cache::{CachedPool, Source};
///
/// let pool = pool_core::ComputePool::new(1)?;
/// let memo = CachedPool::builder(pool, "len", |s: &String| s.len()).build()?;
/// let first = memo.call_traced(&"four".to_string())?;
/// let again = memo.call_traced(&"four".to_string())?;
/// assert_eq!((first.value, again.value), (4, 4));
/// assert_eq!((first.source, again.source), (Source::Computed, Source::L1));
/// // A hit reports the cost measured where the value was computed: the time it saved.
/// assert_eq!(again.compute_time, first.compute_time);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Traced<O> {
    /// The function's value.
    pub value: O,
    /// Where it came from.
    pub source: Source,
    /// How long the function ran where this value was computed (this call's pool time for
    /// [`Source::Computed`], the time saved otherwise).
    pub compute_time: Duration,
}

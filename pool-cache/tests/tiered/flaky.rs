//! An L2 that can be switched off: a `MemoryL2` whose writes (or every call) fail while down.

use pool_cache::{L2, L2Entry, L2Error, L2Future, L2Stats, MemoryL2, Put};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Flaky {
    pub(crate) inner: MemoryL2,
    pub(crate) writes_down: AtomicBool,
    pub(crate) all_down: AtomicBool,
    pub(crate) set_many_calls: AtomicU64,
}

impl Flaky {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryL2::new(64 << 20).unwrap(),
            writes_down: AtomicBool::new(false),
            all_down: AtomicBool::new(false),
            set_many_calls: AtomicU64::new(0),
        })
    }

    fn down(&self, write: bool) -> bool {
        self.all_down.load(Ordering::SeqCst) || (write && self.writes_down.load(Ordering::SeqCst))
    }

    /// A real `Timeout` error, as a stalled server gives (`L2Error` has no public
    /// constructor): minted by a `BlockingL2` over an L2 that never answers.
    fn error() -> L2Error {
        let b = pool_cache::BlockingL2::with_timeout(Never, Duration::from_millis(1)).unwrap();
        b.get(b"k").unwrap_err()
    }
}

/// An L2 whose calls never finish, to mint a real `Timeout` error.
#[derive(Debug)]
struct Never;

impl L2 for Never {
    fn get<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        Box::pin(std::future::pending())
    }
    fn get_many<'a>(&'a self, _: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        Box::pin(std::future::pending())
    }
    fn set<'a>(&'a self, _: &'a [u8], _: &'a [u8], _: Duration) -> L2Future<'a, ()> {
        Box::pin(std::future::pending())
    }
    fn set_many<'a>(&'a self, _: &'a [Put<'a>]) -> L2Future<'a, ()> {
        Box::pin(std::future::pending())
    }
    fn delete<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, bool> {
        Box::pin(std::future::pending())
    }
    fn delete_many<'a>(&'a self, _: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        Box::pin(std::future::pending())
    }
    fn delete_prefix<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, u64> {
        Box::pin(std::future::pending())
    }
    fn set_if_absent<'a>(&'a self, _: &'a [u8], _: &'a [u8], _: Duration) -> L2Future<'a, bool> {
        Box::pin(std::future::pending())
    }
    fn compare_and_delete<'a>(&'a self, _: &'a [u8], _: &'a [u8]) -> L2Future<'a, bool> {
        Box::pin(std::future::pending())
    }
    fn health(&self) -> L2Future<'_, ()> {
        Box::pin(std::future::pending())
    }
    fn stats(&self) -> L2Stats {
        L2Stats::default()
    }
}

macro_rules! guarded {
    ($self:ident, $write:expr, $call:expr) => {{
        if $self.down($write) {
            return Box::pin(async { Err(Flaky::error()) });
        }
        $call
    }};
}

impl L2 for Flaky {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        guarded!(self, false, self.inner.get(key))
    }
    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        guarded!(self, false, self.inner.get_many(keys))
    }
    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()> {
        guarded!(self, true, self.inner.set(key, value, ttl))
    }
    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
        self.set_many_calls.fetch_add(1, Ordering::SeqCst);
        guarded!(self, true, self.inner.set_many(entries))
    }
    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
        guarded!(self, false, self.inner.delete(key))
    }
    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        guarded!(self, false, self.inner.delete_many(keys))
    }
    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        guarded!(self, false, self.inner.delete_prefix(prefix))
    }
    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        guarded!(self, true, self.inner.set_if_absent(key, value, ttl))
    }
    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool> {
        guarded!(self, false, self.inner.compare_and_delete(key, expected))
    }
    fn health(&self) -> L2Future<'_, ()> {
        guarded!(self, false, self.inner.health())
    }
    fn stats(&self) -> L2Stats {
        self.inner.stats()
    }
}

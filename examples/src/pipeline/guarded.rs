//! [`GuardedL2`]: the run's L2 behind a circuit breaker, with its calls counted and timed.
//!
//! An L2 that fails as a whole (a Redis server gone, a disk that errors) costs a few timeouts,
//! then the breaker opens and calls fail at once until a probe finds it answering again.
//! Every call's time goes to the run's profiler (reads, writes, leases), so the bottleneck
//! table shows where a request's time went.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use pool_cache::{L2, L2Entry, L2Error, L2ErrorKind, L2Future, L2Stats, Put};
use pool_core::{CircuitBreaker, CircuitState, SlidingWindow};
use pool_metrics::{Profiler, Section};

/// How long an open breaker refuses calls before it lets a probe through.
pub const BREAKER_OPEN: Duration = Duration::from_secs(1);

/// An L2 behind a breaker (see the module docs).
pub struct GuardedL2 {
    name: String,
    inner: Arc<dyn L2>,
    breaker: CircuitBreaker,
    reads: Arc<Section>,
    writes: Arc<Section>,
    leases: Arc<Section>,
    errors: AtomicU64,
    skipped: AtomicU64,
}

impl fmt::Debug for GuardedL2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedL2")
            .field("name", &self.name)
            .field("breaker", &self.breaker.state())
            .finish_non_exhaustive()
    }
}

/// Times a call into its section, and counts it as failed unless it finished: a call dropped
/// mid-way is one the blocking wrapper gave up on (a timeout), and its time still counts.
struct Timed<'a> {
    section: &'a Section,
    start: Instant,
    errors: &'a AtomicU64,
    done: bool,
}

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        self.section.record_ns(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        if !self.done {
            self.errors.fetch_add(1, Relaxed);
        }
    }
}

impl GuardedL2 {
    /// `inner` behind a breaker that opens when half of the last 20 calls (at least 5) failed,
    /// named `name` in the report; its calls are timed in `profiler`'s sections.
    ///
    /// # Errors
    ///
    /// The breaker's build error (none with these settings).
    pub fn new(name: String, inner: Arc<dyn L2>, profiler: &Profiler) -> anyhow::Result<Self> {
        let breaker = CircuitBreaker::builder()
            .sliding_window(SlidingWindow::CountBased(20))
            .minimum_calls(5)
            .failure_rate_threshold(50.0)
            .wait_in_open(BREAKER_OPEN)
            .build()?;
        Ok(Self {
            name,
            inner,
            breaker,
            reads: profiler.section("l2 reads"),
            writes: profiler.section("l2 writes"),
            leases: profiler.section("l2 leases"),
            errors: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        })
    }

    /// The name the report gives it (the redb path, a URL, or the sharded set).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The breaker's state now.
    #[must_use]
    pub fn state(&self) -> CircuitState {
        self.breaker.state()
    }

    /// Calls that failed or timed out.
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.errors.load(Relaxed)
    }

    /// Calls not sent because the breaker was open.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Relaxed)
    }

    /// Runs `call` under the breaker, timing it in `section` and counting its failure.
    fn guard<'a, T: Send + 'a>(
        &'a self,
        section: &'a Section,
        call: impl FnOnce(&'a dyn L2) -> L2Future<'a, T> + Send + 'a,
    ) -> L2Future<'a, T> {
        Box::pin(async move {
            let Ok(permit) = self.breaker.try_acquire() else {
                self.skipped.fetch_add(1, Relaxed);
                return Err(L2Error::custom(
                    L2ErrorKind::Unavailable,
                    format!("{}: the breaker is open", self.name),
                ));
            };
            let mut timed =
                Timed { section, start: Instant::now(), errors: &self.errors, done: false };
            let result = call(&*self.inner).await;
            timed.done = true;
            drop(timed);
            match &result {
                Err(e) if !e.kind().is_rejected_input() => {
                    self.errors.fetch_add(1, Relaxed);
                    permit.failure();
                }
                _ => permit.success(),
            }
            result
        })
    }
}

impl L2 for GuardedL2 {
    fn get<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
        self.guard(&self.reads, move |l2| l2.get(key))
    }

    fn get_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
        self.guard(&self.reads, move |l2| l2.get_many(keys))
    }

    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Duration) -> L2Future<'a, ()> {
        self.guard(&self.writes, move |l2| l2.set(key, value, ttl))
    }

    fn set_many<'a>(&'a self, entries: &'a [Put<'a>]) -> L2Future<'a, ()> {
        self.guard(&self.writes, move |l2| l2.set_many(entries))
    }

    fn delete<'a>(&'a self, key: &'a [u8]) -> L2Future<'a, bool> {
        self.guard(&self.writes, move |l2| l2.delete(key))
    }

    fn delete_many<'a>(&'a self, keys: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        self.guard(&self.writes, move |l2| l2.delete_many(keys))
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a [u8]) -> L2Future<'a, u64> {
        self.guard(&self.writes, move |l2| l2.delete_prefix(prefix))
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Duration,
    ) -> L2Future<'a, bool> {
        self.guard(&self.leases, move |l2| l2.set_if_absent(key, value, ttl))
    }

    fn compare_and_delete<'a>(&'a self, key: &'a [u8], expected: &'a [u8]) -> L2Future<'a, bool> {
        self.guard(&self.leases, move |l2| l2.compare_and_delete(key, expected))
    }

    fn health(&self) -> L2Future<'_, ()> {
        // Not behind the breaker: a health check is how a caller finds out it answers again.
        self.inner.health()
    }

    fn answers_inline(&self) -> bool {
        // The breaker and the timing add no waiting of their own.
        self.inner.answers_inline()
    }

    fn stats(&self) -> L2Stats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pool_cache::{BlockingL2, MemoryL2};

    /// An L2 whose every call fails as unreachable.
    #[derive(Debug)]
    struct Down;

    impl L2 for Down {
        fn get<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, Option<L2Entry>> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn get_many<'a>(&'a self, _: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<L2Entry>>> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn set<'a>(&'a self, _: &'a [u8], _: &'a [u8], _: Duration) -> L2Future<'a, ()> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn set_many<'a>(&'a self, _: &'a [Put<'a>]) -> L2Future<'a, ()> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn delete<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, bool> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn delete_many<'a>(&'a self, _: &'a [&'a [u8]]) -> L2Future<'a, u64> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn delete_prefix<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, u64> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn set_if_absent<'a>(
            &'a self,
            _: &'a [u8],
            _: &'a [u8],
            _: Duration,
        ) -> L2Future<'a, bool> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn compare_and_delete<'a>(&'a self, _: &'a [u8], _: &'a [u8]) -> L2Future<'a, bool> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn health(&self) -> L2Future<'_, ()> {
            Box::pin(async { Err(L2Error::custom(L2ErrorKind::Unavailable, "down")) })
        }
        fn stats(&self) -> L2Stats {
            L2Stats::default()
        }
    }

    #[test]
    fn a_failing_l2_opens_the_breaker_and_later_calls_are_skipped_not_sent() {
        let profiler = Profiler::new();
        let guarded = Arc::new(GuardedL2::new("down".into(), Arc::new(Down), &profiler).unwrap());
        let l2 = BlockingL2::new(guarded.clone()).unwrap();
        for _ in 0..5 {
            assert!(l2.get(b"k").is_err());
        }
        assert_eq!((guarded.errors(), guarded.skipped()), (5, 0));
        assert_eq!(guarded.state(), CircuitState::Open);
        let e = l2.get(b"k").unwrap_err();
        assert_eq!(e.kind(), L2ErrorKind::Unavailable);
        assert_eq!((guarded.errors(), guarded.skipped()), (5, 1), "refused, not sent");
        assert_eq!(profiler.section("l2 reads").calls(), 5, "only the sent calls are timed");
    }

    #[test]
    fn rejected_input_is_not_a_failure_of_the_l2() {
        let profiler = Profiler::new();
        let mem: Arc<dyn L2> = Arc::new(MemoryL2::new(1 << 20).unwrap());
        let guarded = Arc::new(GuardedL2::new("mem".into(), mem, &profiler).unwrap());
        let l2 = BlockingL2::new(guarded.clone()).unwrap();
        for _ in 0..10 {
            assert_eq!(l2.get(b"").unwrap_err().kind(), L2ErrorKind::InvalidKey);
        }
        l2.set(b"k", b"v", Duration::from_secs(60)).unwrap();
        assert_eq!(l2.get(b"k").unwrap().map(|e| e.value), Some(b"v".to_vec()));
        assert_eq!((guarded.errors(), guarded.state()), (0, CircuitState::Closed));
        assert_eq!(profiler.section("l2 writes").calls(), 1);
    }
}

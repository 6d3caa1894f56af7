//! BlockingL2: works with no runtime and from inside a tokio runtime.

use pool_cache::{BlockingL2, L2, L2ErrorKind, L2Future, L2Stats, MemoryL2, Put};
use std::time::Duration;

#[test]
fn works_without_a_runtime() {
    let l2 = BlockingL2::new(MemoryL2::new(1 << 20).unwrap()).unwrap();
    l2.set(b"a", b"1", Duration::from_secs(60)).unwrap();
    l2.set_many(&[Put::new(b"b", b"2", Duration::MAX)]).unwrap();
    let got = l2.get_many(&[b"a", b"b", b"c"]).unwrap();
    assert_eq!(got.iter().filter(|e| e.is_some()).count(), 2);
    assert!(l2.set_if_absent(b"l", b"t", Duration::from_secs(5)).unwrap());
    assert!(l2.compare_and_delete(b"l", b"t").unwrap());
    assert_eq!(l2.delete_many(&[b"a", b"b"]).unwrap(), 2);
    assert_eq!(l2.get(b"").unwrap_err().kind(), L2ErrorKind::InvalidKey);
    l2.health().unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    // A plain `block_on` here would need this very thread to drive the call; the facade's
    // own thread does instead.
    let l2 = BlockingL2::new(MemoryL2::new(1 << 20).unwrap()).unwrap();
    l2.set(b"k", b"v", Duration::from_secs(60)).unwrap();
    assert_eq!(l2.get(b"k").unwrap().map(|e| e.value), Some(b"v".to_vec()));
    // The wrapped backend still serves async callers on this runtime.
    assert!(l2.inner().get(b"k").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let l2 = BlockingL2::new(MemoryL2::new(1 << 20).unwrap()).unwrap();
    l2.set(b"k", b"v", Duration::from_secs(60)).unwrap();
    assert!(l2.delete(b"k").unwrap());
}

/// A backend that never answers.
#[derive(Debug)]
struct Stuck;

impl Stuck {
    fn never<'a, T: Send + 'a>() -> L2Future<'a, T> {
        Box::pin(std::future::pending())
    }
}

impl L2 for Stuck {
    fn get<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, Option<pool_cache::L2Entry>> {
        Self::never()
    }
    fn get_many<'a>(&'a self, _: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<pool_cache::L2Entry>>> {
        Self::never()
    }
    fn set<'a>(&'a self, _: &'a [u8], _: &'a [u8], _: Duration) -> L2Future<'a, ()> {
        Self::never()
    }
    fn set_many<'a>(&'a self, _: &'a [Put<'a>]) -> L2Future<'a, ()> {
        Self::never()
    }
    fn delete<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, bool> {
        Self::never()
    }
    fn delete_many<'a>(&'a self, _: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        Self::never()
    }
    fn delete_prefix<'a>(&'a self, _: &'a [u8]) -> L2Future<'a, u64> {
        Self::never()
    }
    fn set_if_absent<'a>(&'a self, _: &'a [u8], _: &'a [u8], _: Duration) -> L2Future<'a, bool> {
        Self::never()
    }
    fn compare_and_delete<'a>(&'a self, _: &'a [u8], _: &'a [u8]) -> L2Future<'a, bool> {
        Self::never()
    }
    fn health(&self) -> L2Future<'_, ()> {
        Self::never()
    }
    fn stats(&self) -> L2Stats {
        L2Stats::default()
    }
}

#[test]
fn a_backend_that_never_answers_costs_the_timeout_not_a_hang() {
    let l2 = BlockingL2::with_timeout(Stuck, Duration::from_millis(50)).unwrap();
    let start = std::time::Instant::now();
    assert_eq!(l2.get(b"k").unwrap_err().kind(), L2ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(5));
    drop(l2); // and dropping it cancels the stuck call instead of waiting for it
}

/// A backend whose reads wait on a tokio timer (like a network call): pending at first.
#[derive(Debug)]
struct Later(MemoryL2);

impl Later {
    fn after<'a, T: Send + 'a>(f: L2Future<'a, T>) -> L2Future<'a, T> {
        Box::pin(async move {
            // Needs the runtime's timer: the first poll, on the caller's thread, runs inside
            // the facade's runtime context; the rest runs on its thread.
            tokio::time::sleep(Duration::from_millis(2)).await;
            f.await
        })
    }
}

impl L2 for Later {
    fn get<'a>(&'a self, k: &'a [u8]) -> L2Future<'a, Option<pool_cache::L2Entry>> {
        Self::after(self.0.get(k))
    }
    fn get_many<'a>(&'a self, k: &'a [&'a [u8]]) -> L2Future<'a, Vec<Option<pool_cache::L2Entry>>> {
        Self::after(self.0.get_many(k))
    }
    fn set<'a>(&'a self, k: &'a [u8], v: &'a [u8], t: Duration) -> L2Future<'a, ()> {
        Self::after(self.0.set(k, v, t))
    }
    fn set_many<'a>(&'a self, e: &'a [Put<'a>]) -> L2Future<'a, ()> {
        Self::after(self.0.set_many(e))
    }
    fn delete<'a>(&'a self, k: &'a [u8]) -> L2Future<'a, bool> {
        Self::after(self.0.delete(k))
    }
    fn delete_many<'a>(&'a self, k: &'a [&'a [u8]]) -> L2Future<'a, u64> {
        Self::after(self.0.delete_many(k))
    }
    fn delete_prefix<'a>(&'a self, p: &'a [u8]) -> L2Future<'a, u64> {
        Self::after(self.0.delete_prefix(p))
    }
    fn set_if_absent<'a>(&'a self, k: &'a [u8], v: &'a [u8], t: Duration) -> L2Future<'a, bool> {
        Self::after(self.0.set_if_absent(k, v, t))
    }
    fn compare_and_delete<'a>(&'a self, k: &'a [u8], e: &'a [u8]) -> L2Future<'a, bool> {
        Self::after(self.0.compare_and_delete(k, e))
    }
    fn health(&self) -> L2Future<'_, ()> {
        Self::after(self.0.health())
    }
    /// Claimed, though not so: the facade then polls on the caller's thread first, and must
    /// still finish what is pending after that on its runtime thread.
    fn answers_inline(&self) -> bool {
        true
    }
    fn stats(&self) -> L2Stats {
        self.0.stats()
    }
}

#[test]
fn a_call_still_pending_after_its_first_poll_finishes_on_the_runtime_thread() {
    let l2 =
        BlockingL2::with_timeout(Later(MemoryL2::new(1 << 20).unwrap()), Duration::from_secs(10))
            .unwrap();
    // From several threads at once, each call pending first, then answered.
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let l2 = &l2;
            s.spawn(move || {
                for i in 0..20u8 {
                    let key = [t, i];
                    l2.set(&key, &[i], Duration::from_secs(60)).unwrap();
                    assert_eq!(l2.get(&key).unwrap().map(|e| e.value), Some(vec![i]));
                }
            });
        }
    });
    l2.health().unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_pending_call_from_inside_another_runtime_is_answered() {
    let l2 = BlockingL2::new(Later(MemoryL2::new(1 << 20).unwrap())).unwrap();
    l2.set(b"k", b"v", Duration::from_secs(60)).unwrap();
    assert_eq!(l2.get(b"k").unwrap().map(|e| e.value), Some(b"v".to_vec()));
}

//! ResourcePool's async checkout: hand-off from a blocking holder, timeout, cancellation.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use pool_core::{GetError, Manager, ResourcePool};

struct Counter;

impl Manager for Counter {
    type Resource = u32;
    type Error = String;

    fn create(&self, _timeout: Duration) -> Result<u32, String> {
        Ok(42)
    }
}

#[test]
fn async_waiter_is_woken_by_a_release() {
    let pool = ResourcePool::builder(Counter).max_size(1).build().unwrap();
    let held = pool.get().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let v = futures::executor::block_on(async {
                let g = pool.get_async().await.unwrap();
                *g
            });
            tx.send(v).unwrap();
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.stats().waiting != 1 {
            assert!(Instant::now() < deadline);
            std::thread::yield_now();
        }
        drop(held);
    });
    assert_eq!(rx.recv().unwrap(), 42);
}

#[test]
fn async_timeout() {
    let pool = ResourcePool::builder(Counter).max_size(1).build().unwrap();
    let _held = pool.get().unwrap();
    let r = futures::executor::block_on(pool.get_async_timeout(Duration::from_millis(10)));
    assert!(matches!(r, Err(GetError::Timeout { .. })));
    assert_eq!(pool.stats().timeouts, 1);
    assert_eq!(pool.stats().waiting, 0);
}

#[test]
fn dropping_a_queued_future_withdraws_it() {
    let pool = ResourcePool::builder(Counter).max_size(1).build().unwrap();
    let held = pool.get().unwrap();
    let mut fut = pool.get_async();
    assert!((&mut fut).now_or_never().is_none());
    assert_eq!(pool.stats().waiting, 1);
    drop(fut);
    assert_eq!(pool.stats().waiting, 0);
    drop(held);
    assert_eq!(pool.stats().idle, 1, "the release found no waiter and went idle");
}

#[test]
fn a_grant_to_a_dropped_future_goes_back_to_the_pool() {
    let pool = ResourcePool::builder(Counter).max_size(1).build().unwrap();
    let held = pool.get().unwrap();
    let mut fut = pool.get_async();
    assert!((&mut fut).now_or_never().is_none());
    drop(held); // handed to the queued future
    drop(fut); // which never polls again
    let s = pool.stats();
    assert_eq!((s.idle, s.in_use, s.waiting), (1, 0, 0));
}

#[test]
fn an_async_get_times_out_on_the_pool_clock() {
    let clock = pool_core::ManualClock::new();
    let pool = ResourcePool::builder(Counter).max_size(1).clock(clock.clone()).build().unwrap();
    let held = pool.get().unwrap();
    let mut get = Box::pin(pool.get_async_timeout(Duration::from_millis(20)));
    assert!(get.as_mut().now_or_never().is_none(), "queued behind the holder");
    clock.advance(Duration::from_millis(20));
    // The OS timer fires within the real 20 ms; the pool's clock then says the time is up.
    match futures::executor::block_on(get) {
        // Exactly the manual clock's 20 ms: on the real clock it would be a little more.
        Err(GetError::Timeout { waited }) => assert_eq!(waited, Duration::from_millis(20)),
        other => panic!("expected a timeout, got {:?}", other.map(|g| *g)),
    }
    drop(held);
    assert_eq!(pool.stats().timeouts, 1);
}

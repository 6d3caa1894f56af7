//! The hot paths of the limits allocate nothing once warm: a rate-limiter check, a breaker call,
//! and an object-pool pull + return (shared and local). Counted by this binary's global
//! allocator per thread, so the tests running beside these in other threads cannot disturb them.

use std::hint::black_box;

use pool_core::{CircuitBreaker, ObjectPool, RateLimiter};
use pool_metrics::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::system();

fn allocations(f: impl FnOnce()) -> u64 {
    GLOBAL.count_thread(f).1
}

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the tests below against a counter that reads 0 whatever happens.
    assert!(allocations(|| drop(black_box(vec![1u8; 64]))) >= 1);
}

#[test]
fn a_rate_limiter_check_allocates_nothing() {
    let limiter = RateLimiter::builder().per_second(1e9).burst(1_000_000).build().unwrap();
    let admitted = std::cell::Cell::new(0u32);
    let n = allocations(|| {
        for _ in 0..10_000 {
            if black_box(limiter.check()).is_ok() {
                admitted.set(admitted.get() + 1);
            }
        }
    });
    assert_eq!(n, 0, "rate limiter check allocated");
    assert!(admitted.get() > 0);
}

#[test]
fn a_breaker_call_allocates_nothing() {
    let breaker = CircuitBreaker::new();
    let n = allocations(|| {
        for i in 0..10_000u64 {
            let _ = black_box(breaker.call(|| Ok::<_, ()>(black_box(i))));
        }
    });
    assert_eq!(n, 0, "breaker call allocated");
}

#[test]
fn an_object_pool_pull_and_return_allocates_nothing() {
    let pool =
        ObjectPool::builder(|| Vec::<u8>::with_capacity(64)).reset(Vec::clear).build().unwrap();
    drop(pool.pull());
    let n = allocations(|| {
        for _ in 0..10_000 {
            let mut v = pool.pull();
            v.push(1);
            black_box(&v);
        }
    });
    assert_eq!(n, 0, "object pool pull + return allocated");

    let local = ObjectPool::builder(|| Vec::<u8>::with_capacity(64))
        .reset(Vec::clear)
        .build_local()
        .unwrap();
    drop(local.pull());
    let n = allocations(|| {
        for _ in 0..10_000 {
            let mut v = local.pull();
            v.push(1);
            black_box(&v);
        }
    });
    assert_eq!(n, 0, "local object pool pull + return allocated");
}

//! map, try_map (all settled) and map_iter (streaming with a bounded window).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pool_core::{ComputePool, TaskError};

#[test]
fn map_keeps_input_order() {
    let pool = ComputePool::new(2).unwrap();
    let out = pool.map((0..10_000u64).collect::<Vec<_>>(), |x| x * 3);
    assert_eq!(out, (0..10_000u64).map(|x| x * 3).collect::<Vec<_>>());
    let s = pool.stats();
    assert_eq!((s.submitted, s.completed), (10_000, 10_000));
    assert!(s.is_balanced());
}

#[test]
fn map_propagates_a_panic_and_the_pool_survives() {
    let pool = ComputePool::new(2).unwrap();
    let p = pool.clone();
    let caught =
        std::panic::catch_unwind(move || p.map(vec![1, 2, 3], |x| assert!(x != 2, "bad item")));
    let msg = caught.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"bad item"));
    assert_eq!(pool.map(vec![1, 2], |x| x + 1), vec![2, 3]);
    let s = pool.stats();
    assert_eq!((s.panicked, s.cancelled, s.completed), (1, 2, 2));
    assert!(s.is_balanced());
}

#[test]
fn try_map_settles_every_item() {
    let pool = ComputePool::new(2).unwrap();
    let out = pool.try_map((0..100u32).collect::<Vec<_>>(), |x| {
        assert!(x % 10 != 7, "item {x}");
        x
    });
    for (i, r) in out.iter().enumerate() {
        if i % 10 == 7 {
            assert_eq!(r, &Err(TaskError::Panicked(format!("item {i}"))));
        } else {
            assert_eq!(r, &Ok(i as u32));
        }
    }
    let s = pool.stats();
    assert_eq!((s.panicked, s.completed), (10, 90));
    assert!(s.is_balanced());
}

#[test]
fn map_iter_keeps_order_bounds_in_flight_and_pulls_lazily() {
    const WINDOW: usize = 4;
    let pool = ComputePool::new(2).unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let source = {
        let pulled = Arc::clone(&pulled);
        (0..).inspect(move |_| {
            pulled.fetch_add(1, Ordering::SeqCst);
        })
    };
    let (r, pk) = (Arc::clone(&running), Arc::clone(&peak));
    let mut it = pool.map_iter(source, WINDOW, move |x: u64| {
        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
        pk.fetch_max(now, Ordering::SeqCst);
        r.fetch_sub(1, Ordering::SeqCst);
        x * 2
    });
    for consumed in 1..=1_000u64 {
        assert_eq!(it.next(), Some(Ok((consumed - 1) * 2)));
        // Never more than `WINDOW` items pulled ahead of what was consumed.
        assert!(pulled.load(Ordering::SeqCst) as u64 <= consumed - 1 + WINDOW as u64);
    }
    assert!(peak.load(Ordering::SeqCst) <= WINDOW);
    drop(it);
    assert!(pool.stats().completed >= 1_000);
}

#[test]
fn map_iter_reports_panics_in_place() {
    let pool = ComputePool::new(1).unwrap();
    let out: Vec<_> = pool.map_iter(vec![1, 0, 2], 2, |x: u32| 10 / x).collect();
    assert_eq!(out[0], Ok(10));
    assert!(matches!(out[1], Err(TaskError::Panicked(_))));
    assert_eq!(out[2], Ok(5));
}

//! The memoizing pool in one process: single flight, shared errors, bad input, leases on a
//! shared in-memory L2.

use pool_cache::{CachedPool, CachedPoolBuildErrorKind, CallErrorKind, L2, MemoryL2, ValueCodec};
use pool_core::ComputePool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

#[test]
fn identical_concurrent_calls_compute_at_most_once_per_flight_and_all_agree() {
    let runs = Arc::new(AtomicU64::new(0));
    let r = runs.clone();
    let memo = CachedPool::builder(ComputePool::new(2).unwrap(), "slow", move |x: &u64| {
        r.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        x * 3
    })
    .build()
    .unwrap();
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (memo, barrier) = (memo.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                memo.call(&7).unwrap()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 21);
    }
    // Once computed the value is cached: a late thread finds it, so one run in all.
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let s = memo.stats();
    assert_eq!((s.calls, s.computations, s.computations_saved), (16, 1, 15));
    assert!(s.compute_time_saved >= Duration::from_millis(50) * 15);
}

#[test]
fn a_panicking_function_is_an_error_and_the_next_call_computes_again() {
    let runs = Arc::new(AtomicU64::new(0));
    let r = runs.clone();
    let memo = CachedPool::builder(ComputePool::new(1).unwrap(), "flaky", move |x: &u64| {
        assert!(r.fetch_add(1, Ordering::SeqCst) > 0, "first run fails");
        *x
    })
    .build()
    .unwrap();
    assert_eq!(memo.call(&1).unwrap_err().kind(), CallErrorKind::Compute);
    assert_eq!(memo.call(&1).unwrap(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn input_that_fails_to_serialize_is_a_typed_error_and_nothing_runs() {
    #[derive(Clone)]
    struct Bad;
    impl serde::Serialize for Bad {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    let memo = CachedPool::builder(ComputePool::new(1).unwrap(), "bad", |_: &Bad| -> u64 {
        panic!("must not run")
    })
    .build()
    .unwrap();
    assert_eq!(memo.call(&Bad).unwrap_err().kind(), CallErrorKind::Input);
    assert_eq!(memo.stats().computations, 0);
}

#[test]
fn bad_settings_are_refused() {
    let pool = || ComputePool::new(1).unwrap();
    let kind = |b: pool_cache::CachedPoolBuilder<u64, u64>| b.build().unwrap_err().kind();
    assert_eq!(
        kind(CachedPool::builder(pool(), "f", |x: &u64| *x).lease_ttl(Duration::ZERO)),
        CachedPoolBuildErrorKind::Duration
    );
    assert_eq!(kind(CachedPool::builder(pool(), "", |x: &u64| *x)), CachedPoolBuildErrorKind::Name);
    assert_eq!(
        kind(CachedPool::builder(pool(), "f", |x: &u64| *x).capacity(0)),
        CachedPoolBuildErrorKind::Cache
    );
}

#[test]
fn two_pools_sharing_an_l2_compute_once_and_a_version_bump_recomputes() {
    let l2: Arc<dyn L2> = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let runs = Arc::new(AtomicU64::new(0));
    let make = |version: u32| {
        let r = runs.clone();
        CachedPool::builder(ComputePool::new(1).unwrap(), "sq", move |x: &u64| {
            r.fetch_add(1, Ordering::SeqCst);
            x * x
        })
        .shared_l2(l2.clone())
        .version(version)
        .build()
        .unwrap()
    };
    let (a, b) = (make(1), make(1));
    assert_eq!(a.call(&9).unwrap(), 81);
    assert_eq!(b.call(&9).unwrap(), 81);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(b.stats().l2_hits, 1);
    assert_eq!(make(2).call(&9).unwrap(), 81);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "a new version misses the old results");
}

#[test]
fn a_held_lease_makes_a_caller_wait_for_the_value_and_a_dead_holder_is_taken_over() {
    let mem = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let l2: Arc<dyn L2> = mem.clone();
    let runs = Arc::new(AtomicU64::new(0));
    let r = runs.clone();
    let memo = CachedPool::builder(ComputePool::new(1).unwrap(), "leased", move |x: &u64| {
        r.fetch_add(1, Ordering::SeqCst);
        x + 1
    })
    .shared_l2(l2.clone())
    .lease_ttl(Duration::from_millis(300))
    .build()
    .unwrap();
    // A "process" that took the lease for input 1 and died: its lease expires by itself.
    let key = lease_key_of(&memo, 1);
    futures::executor::block_on(l2.set_if_absent(&key, b"dead-holder", Duration::from_millis(300)))
        .unwrap();
    let start = std::time::Instant::now();
    assert_eq!(memo.call(&1).unwrap(), 2);
    assert!(start.elapsed() >= Duration::from_millis(250), "waited for the lease to expire");
    let s = memo.stats();
    assert_eq!((s.lease_waits, s.lease_takeovers, s.computations), (1, 1, 1));
    // The value is in the L2 and the lease is released.
    assert!(futures::executor::block_on(l2.get(&key)).unwrap().is_none());
    let _ = ValueCodec::new();
}

/// The L2 key of the lease for `input` (the layout `lease.rs` documents: value key + ":lease").
fn lease_key_of(_memo: &CachedPool<u64, u64>, input: u64) -> Vec<u8> {
    let bytes = postcard::to_allocvec(&input).unwrap();
    let mut h = blake3::Hasher::new();
    h.update(b"pool-cache/cached-pool/v1\0");
    h.update(&("leased".len() as u64).to_le_bytes());
    h.update(b"leased");
    h.update(&0u32.to_le_bytes());
    h.update(&bytes);
    let mut key = b"memo-leased:v0:".to_vec();
    key.extend_from_slice(h.finalize().as_bytes());
    key.extend_from_slice(b":lease");
    key
}

#[test]
fn call_traced_names_the_source_and_the_books_balance() {
    use pool_cache::Source;
    let l2: Arc<dyn L2> = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let clock = pool_cache::ManualClock::new();
    let ticks = clock.clone();
    let build =
        |l2: Arc<dyn L2>, clock: pool_cache::ManualClock, ticks: pool_cache::ManualClock| {
            CachedPool::builder(ComputePool::new(1).unwrap(), "traced", move |x: &u64| {
                // The function "runs" 7 ms on the injected clock.
                ticks.advance(Duration::from_millis(7));
                x + 1
            })
            .shared_l2(l2)
            .clock(clock)
            .build()
            .unwrap()
        };
    let first = build(l2.clone(), clock.clone(), ticks.clone());
    let t = first.call_traced(&1).unwrap();
    assert_eq!(
        (t.value, t.source, t.compute_time),
        (2, Source::Computed, Duration::from_millis(7))
    );
    assert!(t.source.computed());
    let t = first.call_traced(&1).unwrap();
    assert_eq!((t.value, t.source), (2, Source::L1));
    assert_eq!(t.compute_time, Duration::from_millis(7), "a hit reports what it saved");

    // Another pool over the same L2 (another process): an L2 hit, nothing computed.
    let second = build(l2, clock, ticks);
    let t = second.call_traced(&1).unwrap();
    assert_eq!((t.value, t.source, t.compute_time), (2, Source::L2, Duration::from_millis(7)));
    assert_eq!(second.call_traced(&1).unwrap().source, Source::L1);
    for (memo, (computed, l1, l2)) in [(&first, (1, 1, 0)), (&second, (0, 1, 1))] {
        let s = memo.stats();
        assert_eq!((s.computations, s.l1_hits, s.l2_hits, s.shared), (computed, l1, l2, 0));
        assert_eq!(s.calls, s.l1_hits + s.l2_hits + s.shared + s.computations);
        assert_eq!(s.computations_saved, s.calls - s.computations);
        assert_eq!(s.compute_time_saved, Duration::from_millis(7) * (s.computations_saved as u32));
    }
}

#[test]
fn concurrent_traced_calls_compute_once_and_the_others_share_or_hit() {
    use pool_cache::Source;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let memo = CachedPool::builder(ComputePool::new(1).unwrap(), "gate", move |x: &u64| {
        // Held until the test lets it go: every other caller arrives meanwhile.
        let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
        x * 2
    })
    .build()
    .unwrap();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let memo = memo.clone();
            std::thread::spawn(move || memo.call_traced(&5).unwrap())
        })
        .collect();
    // Bounded wait until all six calls are in (one leading, five waiting on its flight).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while memo.stats().calls < 6 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    tx.send(()).unwrap();
    let sources: Vec<Source> = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .map(|t| {
            assert_eq!(t.value, 10);
            t.source
        })
        .collect();
    assert_eq!(sources.iter().filter(|s| **s == Source::Computed).count(), 1, "{sources:?}");
    assert!(sources.iter().all(|s| matches!(s, Source::Computed | Source::Shared | Source::L1)));
    let s = memo.stats();
    assert_eq!(s.calls, s.l1_hits + s.shared + s.computations, "{s:?}");
    assert_eq!(s.shared as usize, sources.iter().filter(|s| **s == Source::Shared).count());
}

#[test]
fn without_leases_a_miss_writes_the_value_and_no_lease() {
    let mem = Arc::new(MemoryL2::new(1 << 20).unwrap());
    let memo = CachedPool::builder(ComputePool::new(1).unwrap(), "leased", |x: &u64| x + 100)
        .shared_l2(mem.clone())
        .leases(false)
        .build()
        .unwrap();
    assert_eq!(memo.call(&1).unwrap(), 101);
    let l2 = pool_cache::BlockingL2::new(mem).unwrap();
    let key = lease_key_of(&memo, 1);
    assert!(l2.get(&key).unwrap().is_none(), "no lease was taken");
    let value_key = &key[..key.len() - b":lease".len()];
    assert!(l2.get(value_key).unwrap().is_some(), "the value is in the L2");
}

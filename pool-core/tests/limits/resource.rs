//! ResourcePool: behaviour tests and the proptest model of its invariants.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant};

use pool_core::{DestroyReason, GetError, Manager, ManualClock, ResourcePool};
use proptest::prelude::*;

/// A manager whose resources are ids, with switches to make each step fail and a record of
/// what it did.
#[derive(Default)]
struct Ids {
    next: AtomicU64,
    live: AtomicI64,
    fail_create: AtomicBool,
    fail_validate: AtomicBool,
    fail_recycle: AtomicBool,
    validated: Mutex<Vec<u64>>,
}

/// The pool owns one handle; the test keeps another to flip the switches.
struct Mgr(Arc<Ids>);

impl std::ops::Deref for Mgr {
    type Target = Ids;
    fn deref(&self) -> &Ids {
        &self.0
    }
}

impl Manager for Mgr {
    type Resource = u64;
    type Error = String;

    fn create(&self, _timeout: Duration) -> Result<u64, String> {
        if self.fail_create.load(Ordering::SeqCst) {
            return Err("connection refused".into());
        }
        self.live.fetch_add(1, Ordering::SeqCst);
        Ok(self.next.fetch_add(1, Ordering::SeqCst))
    }

    fn validate(&self, r: &mut u64) -> Result<(), String> {
        self.validated.lock().unwrap().push(*r);
        if self.fail_validate.load(Ordering::SeqCst) { Err("stale".into()) } else { Ok(()) }
    }

    fn recycle(&self, _r: &mut u64) -> Result<(), String> {
        if self.fail_recycle.load(Ordering::SeqCst) { Err("broken".into()) } else { Ok(()) }
    }

    fn destroy(&self, _r: u64, _reason: DestroyReason) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

fn pool(max: usize) -> (ResourcePool<Mgr>, Arc<Ids>) {
    let ids = Arc::new(Ids::default());
    let pool = ResourcePool::builder(Mgr(ids.clone()))
        .max_size(max)
        .acquire_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (pool, ids)
}

#[test]
fn failing_create_is_reported_promptly_to_every_waiter() {
    let (pool, ids) = pool(1);
    ids.fail_create.store(true, Ordering::SeqCst);
    let start = Instant::now();
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                barrier.wait();
                match pool.get() {
                    Err(GetError::Create(e)) => assert_eq!(e, "connection refused"),
                    other => panic!("expected the create error, got {:?}", other.map(|g| *g)),
                }
            });
        }
    });
    // The acquire timeout is 10 s; a create error must not wait for it.
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    let s = pool.stats();
    assert_eq!((s.size, s.create_errors, s.timeouts), (0, 8, 0));
}

#[test]
fn times_out_when_all_busy() {
    let (pool, _) = pool(1);
    let held = pool.get().unwrap();
    let r = pool.get_timeout(Duration::from_millis(20));
    assert!(matches!(r, Err(GetError::Timeout { waited }) if waited >= Duration::from_millis(20)));
    let s = pool.stats();
    assert_eq!((s.timeouts, s.waiting, s.in_use), (1, 0, 1));
    drop(held);
}

#[test]
fn waiters_are_served_in_fifo_order() {
    let (pool, _) = pool(1);
    let held = pool.get().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for i in 0..6 {
            let tx = tx.clone();
            let pool = &pool;
            s.spawn(move || {
                let r = pool.get().unwrap();
                tx.send(i).unwrap();
                drop(r);
            });
            // Queue them one by one so their arrival order is known.
            let deadline = Instant::now() + Duration::from_secs(10);
            while pool.stats().waiting != i + 1 {
                assert!(Instant::now() < deadline, "waiter {i} never queued");
                std::thread::yield_now();
            }
        }
        drop(held);
    });
    drop(tx);
    assert_eq!(rx.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn new_callers_do_not_barge_past_waiters() {
    let (pool, _) = pool(1);
    let held = pool.get().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| *pool.get().unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.stats().waiting != 1 {
            assert!(Instant::now() < deadline);
            std::thread::yield_now();
        }
        let id = *held;
        drop(held);
        // The freed resource went straight to the waiter, so a newcomer finds nothing.
        assert_eq!(waiter.join().unwrap(), id);
    });
}

#[test]
fn max_uses_retires_a_resource() {
    let ids = Arc::new(Ids::default());
    let pool = ResourcePool::builder(Mgr(ids.clone())).max_uses(Some(3)).build().unwrap();
    let first = *pool.get().unwrap();
    assert_eq!(*pool.get().unwrap(), first);
    assert_eq!(*pool.get().unwrap(), first);
    assert_ne!(*pool.get().unwrap(), first, "the third use retired it");
    assert_eq!(pool.stats().destroyed_for(DestroyReason::MaxUses), 1);
    assert_eq!(ids.live.load(Ordering::SeqCst), 1);
}

#[test]
fn panicked_holder_means_validation_before_reuse() {
    let (pool, ids) = pool(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = pool.get().unwrap();
        panic!("holder panicked");
    }));
    assert!(r.is_err());
    assert!(ids.validated.lock().unwrap().is_empty());
    ids.fail_validate.store(true, Ordering::SeqCst);
    let g = pool.get().unwrap();
    assert_eq!(*ids.validated.lock().unwrap(), vec![0]);
    assert_eq!(*g, 1, "the suspect resource failed validation and was replaced");
    assert_eq!(pool.stats().destroyed_for(DestroyReason::ValidationFailed), 1);
}

#[test]
fn recycle_failure_destroys_and_frees_the_slot() {
    let (pool, ids) = pool(1);
    ids.fail_recycle.store(true, Ordering::SeqCst);
    drop(pool.get().unwrap());
    let s = pool.stats();
    assert_eq!((s.size, s.idle), (0, 0));
    assert_eq!(s.destroyed_for(DestroyReason::RecycleFailed), 1);
}

#[test]
fn idle_timeout_and_maintain_keep_min_idle() {
    let ids = Arc::new(Ids::default());
    let clock = ManualClock::new();
    let pool = ResourcePool::builder(Mgr(ids.clone()))
        .max_size(4)
        .min_idle(2)
        .idle_timeout(Some(Duration::from_secs(60)))
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(pool.maintain(), Ok(2));
    clock.advance(Duration::from_secs(59));
    assert_eq!(pool.maintain(), Ok(0), "idle 59 s of 60: kept");
    clock.advance(Duration::from_secs(1));
    assert_eq!(pool.maintain(), Ok(2), "both expired and were replaced");
    let s = pool.stats();
    assert_eq!((s.idle, s.destroyed_for(DestroyReason::IdleTimeout)), (2, 2));
    assert_eq!(ids.live.load(Ordering::SeqCst), 2);
}

#[test]
fn max_lifetime_retires_on_return_and_on_checkout() {
    let ids = Arc::new(Ids::default());
    let clock = ManualClock::new();
    let pool = ResourcePool::builder(Mgr(ids.clone()))
        .max_lifetime(Some(Duration::from_secs(1800)))
        .clock(clock.clone())
        .build()
        .unwrap();
    let g = pool.get().unwrap();
    let idle = pool.get().unwrap();
    drop(idle);
    clock.advance(Duration::from_secs(1800));
    drop(g); // too old: destroyed on return
    assert_eq!(pool.stats().destroyed_for(DestroyReason::MaxLifetime), 1);
    let fresh = *pool.get().unwrap(); // the idle one is too old too: destroyed at checkout
    assert_eq!(fresh, 2);
    assert_eq!(pool.stats().destroyed_for(DestroyReason::MaxLifetime), 2);
    assert_eq!(ids.live.load(Ordering::SeqCst), 1);
}

#[test]
fn detach_frees_the_slot() {
    let (pool, ids) = pool(1);
    let owned = pool.get().unwrap().detach();
    assert_eq!(owned, 0);
    assert_eq!(*pool.try_get().unwrap(), 1);
    assert_eq!(ids.live.load(Ordering::SeqCst), 2, "the detached one is the caller's now");
}

#[test]
fn bad_config_messages_say_what_to_fix() {
    let b = || ResourcePool::builder(Mgr(Arc::new(Ids::default())));
    assert_eq!(b().max_size(0).build().unwrap_err().to_string(), "max_size must be > 0, got 0");
    assert_eq!(
        b().max_size(3).min_idle(5).build().unwrap_err().to_string(),
        "min_idle (5) must be <= max_size (3)"
    );
    assert!(
        b().create_timeout(Duration::ZERO)
            .build()
            .unwrap_err()
            .to_string()
            .contains("create_timeout")
    );
    assert!(b().idle_timeout(Some(Duration::ZERO)).build().is_err());
    assert!(b().max_lifetime(Some(Duration::ZERO)).build().is_err());
}

#[test]
fn contended_threads_never_exceed_max_size() {
    let (pool, ids) = pool(3);
    let in_use = AtomicI64::new(0);
    let peak = AtomicI64::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..200 {
                    let g = pool.get().unwrap();
                    let now = in_use.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::hint::black_box(*g);
                    in_use.fetch_sub(1, Ordering::SeqCst);
                    drop(g);
                }
            });
        }
    });
    assert!(peak.load(Ordering::SeqCst) <= 3);
    let s = pool.stats();
    assert!(s.size <= 3 && s.created <= 3, "{s:?}");
    assert_eq!(s.idle, s.size);
    assert_eq!(ids.live.load(Ordering::SeqCst), s.size as i64);
}

#[derive(Clone, Debug)]
enum Op {
    Acquire,
    Release(usize),
    PanicRelease(usize),
    Detach(usize),
    FailValidate(bool),
    FailRecycle(bool),
    FailCreate(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Acquire),
        3 => any::<usize>().prop_map(Op::Release),
        1 => any::<usize>().prop_map(Op::PanicRelease),
        1 => any::<usize>().prop_map(Op::Detach),
        1 => any::<bool>().prop_map(Op::FailValidate),
        1 => any::<bool>().prop_map(Op::FailRecycle),
        1 => any::<bool>().prop_map(Op::FailCreate),
    ]
}

proptest! {
    // Below the default 256: each case replays up to 80 operations on a fresh pool, and 200
    // cases already take about 1.4 s in a debug build on the 2-core CI box (measured).
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// After any sequence: size == idle + in_use, in_use == guards held, size == live resources
    /// the manager made minus those detached, size <= max_size, no resource used more than
    /// max_uses times, and a resource whose holder panicked is validated before it is reused.
    #[test]
    fn pool_invariants_hold(ops in proptest::collection::vec(op(), 1..80), max in 1usize..5, max_uses in 1u64..5) {
        let ids = Arc::new(Ids::default());
        let pool = ResourcePool::builder(Mgr(ids.clone())).max_size(max).max_uses(Some(max_uses)).build().unwrap();
        let mut held = Vec::new();
        let mut detached = 0i64;
        let mut suspect = HashSet::new();
        let mut uses: HashMap<u64, u64> = HashMap::new();
        for op in ops {
            match op {
                Op::Acquire => {
                    let validated_before = ids.validated.lock().unwrap().len();
                    match pool.try_get() {
                        Ok(g) => {
                            let id = *g;
                            if suspect.remove(&id) {
                                let v = ids.validated.lock().unwrap();
                                prop_assert!(v[validated_before..].contains(&id), "suspect {} reused unvalidated", id);
                            }
                            let n = uses.entry(id).or_default();
                            *n += 1;
                            prop_assert!(*n <= max_uses);
                            held.push(g);
                        }
                        Err(GetError::Timeout { .. }) => prop_assert_eq!(held.len(), max),
                        Err(GetError::Create(_)) => prop_assert!(ids.fail_create.load(Ordering::SeqCst)),
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                }
                Op::Release(i) if !held.is_empty() => { held.swap_remove(i % held.len()); }
                Op::PanicRelease(i) if !held.is_empty() => {
                    let g = held.swap_remove(i % held.len());
                    suspect.insert(*g);
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                        let _g = g;
                        panic!("holder panicked");
                    }));
                    prop_assert!(r.is_err());
                }
                Op::Detach(i) if !held.is_empty() => {
                    let g = held.swap_remove(i % held.len());
                    let _ = g.detach();
                    detached += 1;
                }
                Op::FailValidate(b) => ids.fail_validate.store(b, Ordering::SeqCst),
                Op::FailRecycle(b) => ids.fail_recycle.store(b, Ordering::SeqCst),
                Op::FailCreate(b) => ids.fail_create.store(b, Ordering::SeqCst),
                _ => {}
            }
            let s = pool.stats();
            prop_assert_eq!(s.size, s.idle + s.in_use);
            prop_assert_eq!(s.in_use, held.len());
            prop_assert!(s.size <= max);
            prop_assert_eq!(ids.live.load(Ordering::SeqCst) - detached, s.size as i64);
        }
    }
}

#[test]
fn a_timed_out_get_reports_the_wait_read_from_the_pool_clock() {
    let clock = ManualClock::new();
    let ids = Arc::new(Ids::default());
    let pool = ResourcePool::builder(Mgr(ids))
        .max_size(1)
        .acquire_timeout(Duration::from_millis(20))
        .clock(clock.clone())
        .build()
        .unwrap();
    let held = pool.get().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| pool.get().map(|_| ()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.stats().waiting == 0 {
            assert!(Instant::now() < deadline, "the waiter never queued");
            std::thread::yield_now();
        }
        // The waiter parks for the 20 ms its clock says are left, then looks again.
        clock.advance(Duration::from_millis(20));
        match waiter.join().unwrap() {
            // Exactly the manual clock's 20 ms: on the real clock it would be a little more.
            Err(GetError::Timeout { waited }) => assert_eq!(waited, Duration::from_millis(20)),
            other => panic!("expected a timeout, got {other:?}"),
        }
    });
    drop(held);
    assert_eq!(pool.stats().timeouts, 1);
}

#[test]
fn exported_stats_read_back_from_the_registry() {
    let (pool, _ids) = pool(2);
    let registry = pool_metrics::Registry::new();
    let a = pool.get().unwrap();
    let b = pool.get().unwrap();
    pool.export_metrics(&registry, "db").unwrap();
    drop((a, b));
    drop(pool.get().unwrap());
    pool.export_metrics(&registry, "db").unwrap();
    let label = [("pool", "db")];
    assert_eq!(registry.counter("resource_pool_created_total", &label).unwrap().get(), 2);
    assert_eq!(registry.counter("resource_pool_acquires_total", &label).unwrap().get(), 3);
    assert_eq!(registry.gauge("resource_pool_idle", &label).unwrap().get(), 2);
    assert_eq!(registry.gauge("resource_pool_in_use", &label).unwrap().get(), 0);
    let text = registry.snapshot().to_prometheus();
    assert!(text.contains("resource_pool_created_total{pool=\"db\"} 2"), "{text}");
}

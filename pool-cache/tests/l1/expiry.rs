//! Expiry under a mock clock: an expired entry is never returned; reclamation empties the cache.

use pool_cache::{Cache, ManualClock};
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Option<u16>),
    Get(u8),
    Advance(u16),
    Maintain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), proptest::option::of(1u16..3000)).prop_map(|(k, t)| Op::Insert(k % 16, t)),
        4 => any::<u8>().prop_map(|k| Op::Get(k % 16)),
        2 => (0u16..2000).prop_map(Op::Advance),
        1 => Just(Op::Maintain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With TTL, TTI and per-entry TTLs mixed (times in ms), a lookup returns a value exactly
    /// when the model says the entry is alive (capacity is large enough that nothing is evicted).
    #[test]
    fn expired_entries_are_never_returned(
        ttl in proptest::option::of(1u64..3000),
        tti in proptest::option::of(1u64..3000),
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let clock = ManualClock::new();
        let mut b = Cache::builder(1000).clock(clock.clone());
        if let Some(t) = ttl { b = b.time_to_live(Duration::from_millis(t)); }
        if let Some(t) = tti { b = b.time_to_idle(Duration::from_millis(t)); }
        let cache: Cache<u8, u64> = b.build().unwrap();
        let ms = 1_000_000u64;
        let mut now = 0u64;
        // key -> (value, hard deadline, idle deadline)
        let mut model: HashMap<u8, (u64, u64, u64)> = HashMap::new();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Insert(k, per_entry) => {
                    let v = n as u64;
                    let hard = match (per_entry, ttl) {
                        (Some(t), _) => now + u64::from(t) * ms,
                        (None, Some(t)) => now + t * ms,
                        (None, None) => u64::MAX,
                    };
                    let idle = tti.map_or(u64::MAX, |t| now + t * ms);
                    match per_entry {
                        Some(t) => cache.insert_with_ttl(k, v, Duration::from_millis(u64::from(t))),
                        None => cache.insert(k, v),
                    }
                    model.insert(k, (v, hard, idle));
                }
                Op::Get(k) => {
                    let got = cache.get(&k);
                    let alive = model.get(&k).filter(|(_, hard, idle)| now < *hard && now < *idle);
                    match alive {
                        Some(&(v, hard, _)) => {
                            prop_assert_eq!(got, Some(v));
                            if let Some(t) = tti {
                                model.insert(k, (v, hard, now + t * ms));
                            }
                        }
                        None => prop_assert_eq!(got, None, "expired key {} returned at {}", k, now),
                    }
                }
                Op::Advance(d) => {
                    clock.advance(Duration::from_millis(u64::from(d)));
                    now += u64::from(d) * ms;
                }
                Op::Maintain => {
                    cache.run_pending_tasks();
                    let alive = model.values().filter(|(_, h, i)| now < *h && now < *i).count();
                    // TTI refreshes are lazy (≤ 1 ms coarse), so only the upper bound is exact.
                    prop_assert!(cache.len() >= alive, "len {} < {} alive", cache.len(), alive);
                }
            }
        }
        // Far in the future everything with a deadline is reclaimed.
        if ttl.is_some() || tti.is_some() {
            clock.advance(Duration::from_secs(100_000));
            cache.run_pending_tasks();
            prop_assert_eq!(cache.len(), 0);
        }
    }
}

#[test]
fn duration_max_never_expires_and_ttl_zero_is_refused() {
    let clock = ManualClock::new();
    let cache: Cache<u64, u64> =
        Cache::builder(10).time_to_live(Duration::MAX).clock(clock.clone()).build().unwrap();
    cache.insert(1, 1);
    cache.insert_with_ttl(2, 2, Duration::MAX);
    clock.advance(Duration::from_secs(10 * 365 * 24 * 3600));
    cache.run_pending_tasks();
    assert_eq!((cache.get(&1), cache.get(&2)), (Some(1), Some(2)));
    assert!(Cache::<u64, u64>::builder(10).time_to_live(Duration::ZERO).build().is_err());
    cache.insert_with_ttl(1, 9, Duration::ZERO);
    assert_eq!(cache.get(&1), None, "a zero TTL also drops the stale value");
}

#[test]
fn reclaiming_many_expired_entries_leaves_the_rest() {
    let clock = ManualClock::new();
    let cache: Cache<u64, u64> = Cache::builder(100_000).clock(clock.clone()).build().unwrap();
    for k in 0..50_000 {
        cache.insert_with_ttl(k, k, Duration::from_millis(1 + k % 5000));
    }
    for k in 50_000..60_000 {
        cache.insert(k, k);
    }
    clock.advance(Duration::from_secs(6));
    cache.run_pending_tasks();
    assert_eq!(cache.len(), 10_000);
    assert_eq!(cache.stats().expirations, 50_000);
}

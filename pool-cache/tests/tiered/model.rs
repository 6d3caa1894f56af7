//! The tiered cache against a model: random reads, writes, invalidations and clock advances
//! on a `ManualClock`, with an L1 small enough to evict. No stale read after an invalidate,
//! no expired read, and nothing the model holds is lost while the L2 holds it.

use pool_cache::{ManualClock, MemoryL2, Policy, TieredCache};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Insert(u8, u16, Option<u16>),
    Invalidate(u8),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(|k| Op::Get(k % 16)),
        3 => (any::<u8>(), any::<u16>(), proptest::option::of(1..5_000u16))
            .prop_map(|(k, v, t)| Op::Insert(k % 16, v, t)),
        1 => any::<u8>().prop_map(|k| Op::Invalidate(k % 16)),
        1 => (1..3_000u16).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_tiered_cache_agrees_with_a_map(ops in proptest::collection::vec(op(), 1..120)) {
        let clock = ManualClock::new();
        let l2 = Arc::new(MemoryL2::builder(1 << 20).clock(clock.clone()).build().unwrap());
        let cache: TieredCache<u8, u16> = TieredCache::builder(4)
            .shards(1)
            .policy(Policy::Lru)
            .shared_l2(l2)
            .time_to_live(Duration::from_secs(4))
            .clock(clock.clone())
            .build()
            .unwrap();
        // key -> (value, expires at, in ms of the manual clock)
        let mut model: HashMap<u8, (u16, u64)> = HashMap::new();
        let mut now_ms = 0u64;
        for op in ops {
            match op {
                Op::Get(k) => {
                    let got = cache.get(&k);
                    let want = model.get(&k).filter(|(_, exp)| now_ms < *exp).map(|(v, _)| *v);
                    prop_assert_eq!(got, want, "get({}) at {} ms", k, now_ms);
                }
                Op::Insert(k, v, ttl) => {
                    let ttl_ms = u64::from(ttl.unwrap_or(4_000));
                    match ttl {
                        Some(t) => cache.insert_with_ttl(k, v, Duration::from_millis(u64::from(t))).unwrap(),
                        None => cache.insert(k, v).unwrap(),
                    }
                    model.insert(k, (v, now_ms + ttl_ms));
                }
                Op::Invalidate(k) => {
                    cache.invalidate(&k).unwrap();
                    model.remove(&k);
                }
                Op::Advance(ms) => {
                    clock.advance(Duration::from_millis(u64::from(ms)));
                    now_ms += u64::from(ms);
                }
            }
        }
    }
}

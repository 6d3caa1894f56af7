//! The API surface: bad input, listener causes, invalidation, capacity changes, policies.

use pool_cache::{BuildErrorKind, Cache, InsertErrorKind, Policy, RemovalCause};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log<K, V> = Arc<Mutex<Vec<(K, V, RemovalCause)>>>;

fn logged<K: Send + 'static, V: Send + 'static>(
    b: pool_cache::CacheBuilder<K, V>,
) -> (pool_cache::CacheBuilder<K, V>, Log<K, V>) {
    let log: Log<K, V> = Arc::default();
    let l = log.clone();
    (b.removal_listener(move |k, v, c| l.lock().unwrap().push((k, v, c))), log)
}

#[test]
fn bad_configurations_are_refused_with_the_reason() {
    let e = Cache::<u64, u64>::builder(0).build().unwrap_err();
    assert_eq!(e.kind(), BuildErrorKind::ZeroCapacity);
    assert_eq!(e.to_string(), "capacity must be > 0, got 0");
    let e = Cache::<u64, u64>::builder(10).shards(0).build().unwrap_err();
    assert_eq!(e.kind(), BuildErrorKind::Shards);
    let e = Cache::<u64, u64>::builder(10).shards(6).build().unwrap_err();
    assert_eq!(e.kind(), BuildErrorKind::Shards);
    let e = Cache::<u64, u64>::builder(10).time_to_idle(Duration::ZERO).build().unwrap_err();
    assert_eq!(e.to_string(), "time_to_idle must be > 0, got 0; leave it unset for no expiry");
    let e = Cache::<u64, u64>::builder(10).cores(0).build().unwrap_err();
    assert_eq!(e.kind(), BuildErrorKind::Cores);
    assert_eq!(e.to_string(), "cores must be between 1 and 65536, got 0");
    assert!("fifo".parse::<Policy>().is_err());
    assert_eq!("lfu".parse::<Policy>().unwrap(), Policy::Lfu);
}

#[test]
fn too_heavy_entry_is_rejected_counted_and_reported() {
    let (b, log) = logged(Cache::<u64, u64>::builder(100).shards(2).weigher(|_, v| *v));
    let cache = b.build().unwrap();
    // 2 shards of 50: a 60-weight entry fits the total but never its shard.
    let err = cache.try_insert(1, 60).unwrap_err();
    assert_eq!(err.kind(), InsertErrorKind::TooHeavy { weight: 60, capacity: 50 });
    cache.insert(2, 70);
    assert_eq!(cache.stats().too_heavy, 2);
    assert_eq!(*log.lock().unwrap(), vec![(2, 70, RemovalCause::Rejected)]);
    assert!(cache.is_empty());
}

#[test]
fn listener_hears_every_cause() {
    let clock = pool_cache::ManualClock::new();
    let (b, log) = logged(Cache::<u64, u64>::builder(2).shards(1).policy(Policy::Lru));
    let cache = b.clock(clock.clone()).build().unwrap();
    cache.insert(1, 1);
    cache.insert(1, 2); // replaced
    cache.insert(2, 2);
    cache.insert(3, 3); // evicts 1
    cache.remove(&2); // explicit
    cache.insert_with_ttl(4, 4, Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    cache.run_pending_tasks(); // expires 4
    cache.insert_with_ttl(5, 5, Duration::ZERO); // expired on arrival
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (1, 1, RemovalCause::Replaced),
            (1, 2, RemovalCause::Size),
            (2, 2, RemovalCause::Explicit),
            (4, 4, RemovalCause::Expired),
            (5, 5, RemovalCause::Expired),
        ]
    );
    let s = cache.stats();
    assert_eq!((s.replacements, s.evictions, s.explicit_removals, s.expirations), (1, 1, 1, 1));
}

#[test]
fn set_capacity_shrinks_and_grows() {
    let cache: Cache<u64, u64> = Cache::builder(100).shards(4).build().unwrap();
    for i in 0..1000 {
        cache.insert(i, i);
    }
    assert!(cache.len() <= 100);
    cache.set_capacity(8);
    assert!(cache.len() <= 8, "len {} after shrinking to 8", cache.len());
    cache.set_capacity(400);
    for i in 0..1000 {
        cache.insert(i, i);
    }
    assert!(cache.len() > 100 && cache.len() <= 400, "len {}", cache.len());
    assert_eq!(cache.config().capacity(), 400);
}

#[test]
fn invalidation_retain_and_iteration() {
    let (b, log) = logged(Cache::<String, u32>::builder(100));
    let cache = b.build().unwrap();
    for i in 0..10 {
        cache.insert(format!("user:{i}"), i);
        cache.insert(format!("order:{i}"), i);
    }
    cache.invalidate_prefix("user:");
    assert_eq!(cache.len(), 10);
    cache.retain(|_, v| *v < 5);
    assert_eq!(cache.len(), 5);
    cache.invalidate_if(|k, _| k.ends_with(":0"));
    let mut keys: Vec<String> = cache.iter().map(|(k, _)| k).collect();
    keys.sort();
    assert_eq!(keys, ["order:1", "order:2", "order:3", "order:4"]);
    cache.invalidate_all();
    assert!(cache.is_empty());
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 20);
    assert!(log.iter().all(|e| e.2 == RemovalCause::Explicit));
}

#[test]
fn lfu_evicts_least_frequent_then_least_recent() {
    let cache: Cache<u64, u64> = Cache::builder(3).shards(1).policy(Policy::Lfu).build().unwrap();
    cache.insert(1, 1);
    cache.insert(2, 2);
    cache.insert(3, 3);
    cache.get(&1);
    cache.get(&1);
    cache.get(&3);
    // counts: 1→3, 2→1, 3→2: 2 goes.
    cache.insert(4, 4);
    assert!(!cache.contains(&2));
    // counts: 1→3, 3→2, 4→1: 4 goes next; then among equal counts the older one.
    cache.insert(5, 5);
    assert!(!cache.contains(&4));
    assert!(cache.contains(&1) && cache.contains(&3) && cache.contains(&5));
}

/// Hot-set accesses interleaved with a scan: two new keys per access to a 50-key hot set, so
/// each hot key's reuse distance (149 distinct keys) exceeds the capacity (100). Returns the
/// fraction of hot accesses that hit.
fn hot_hits_during_scan(cache: &Cache<u64, u64>) -> f64 {
    for _ in 0..20 {
        for k in 0..50 {
            if cache.get(&k).is_none() {
                cache.insert(k, k);
            }
        }
    }
    let (mut hot, mut hits, mut accesses) = (0, 0, 0);
    for k in 1000..11_000u64 {
        if cache.get(&k).is_none() {
            cache.insert(k, k);
        }
        if k % 2 == 0 {
            accesses += 1;
            match cache.get(&hot) {
                Some(_) => hits += 1,
                None => cache.insert(hot, hot),
            }
            hot = (hot + 1) % 50;
        }
    }
    f64::from(hits) / f64::from(accesses)
}

#[test]
fn tinylfu_keeps_a_hot_set_through_a_scan() {
    let tiny: Cache<u64, u64> =
        Cache::builder(100).shards(1).policy(Policy::TinyLfu).build().unwrap();
    let ratio = hot_hits_during_scan(&tiny);
    assert!(ratio > 0.9, "TinyLFU hit only {ratio:.2} of hot accesses");
    let rejected = tiny.stats().admission_rejections;
    assert!(rejected > 5000, "only {rejected} scan keys were refused admission");
    // The same pattern defeats LRU: every hot key is gone before it comes back.
    let lru: Cache<u64, u64> = Cache::builder(100).shards(1).policy(Policy::Lru).build().unwrap();
    let ratio = hot_hits_during_scan(&lru);
    assert!(ratio < 0.05, "LRU hit {ratio:.2}: the test no longer tells the policies apart");
}

/// A loop slightly larger than the cache: every key is equally frequent, so the best window is
/// empty (admission keeps a fixed set resident). Once the hill climber has shrunk the window to
/// nothing, sampling noise must not keep sending it back out: the climber's last step was
/// clamped, so small hit-rate changes since are not its doing. Only a restart-sized dip (an
/// admission cascade, a few times in a thousand samples) may send it searching, and it must come
/// back. Seeded, so each case repeats exactly (unseeded, the stricter "never leaves 0" this test
/// once asserted failed 6% of runs). With Caffeine's rule the window leaves 0 about every fifth
/// sample.
#[test]
fn tinylfu_climber_stays_at_an_empty_window_on_a_loop() {
    for seed in 1..=8 {
        let cache: Cache<u64, u64> =
            Cache::builder(200).shards(1).seed(seed).policy(Policy::TinyLfu).build().unwrap();
        let (mut reached, mut away) = (None, 0);
        for pass in 0..600 {
            for k in 0..205u64 {
                if cache.get(&k).is_none() {
                    cache.insert(k, k);
                }
            }
            let window = cache.window_capacity().unwrap();
            if window == 0 && reached.is_none() {
                reached = Some(pass);
            } else if window > 0 && reached.is_some() {
                away += 1;
            }
        }
        let reached = reached.expect("the climber never emptied the window on a loop");
        assert!(reached < 100, "seed {seed}: the window reached 0 only after {reached} passes");
        let after = 600 - reached;
        assert!(away * 20 <= after, "seed {seed}: window away from 0 for {away} of {after} passes");
        let ratio = cache.stats().hit_ratio();
        assert!(ratio > 0.9, "seed {seed}: a loop of 205 keys in 200 entries hit only {ratio:.3}");
    }
}

#[test]
fn compute_is_read_modify_write() {
    let cache: Cache<&str, u64> = Cache::builder(10).build().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = cache.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    c.compute("n", |v| Some(v.copied().unwrap_or(0) + 1));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(cache.get("n"), Some(4000));
}

#[test]
fn cache_is_send_sync_and_clones_share() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Cache<u64, u64>>();
    let a: Cache<u64, u64> = Cache::builder(10).build().unwrap();
    let b = a.clone();
    b.insert(1, 1);
    assert_eq!(a.get(&1), Some(1));
}

/// More threads than the shard lock has exclusive stripes (two per core, at least four), so
/// some share the last stripe: under mixed reads, writes, removals and a `retain`, a read never
/// sees another key's value, every lookup is counted exactly once, and the capacity holds. For
/// every policy: LRU and LFU buffer their hits per stripe (`read_buffer.rs`), and a buffered
/// index that outlived its entry would relink the wrong one or run off the slab.
#[test]
fn many_threads_mixing_every_operation_keep_the_invariants() {
    for policy in [Policy::TinyLfu, Policy::Lru, Policy::Lfu] {
        mix_every_operation_on_many_threads(
            Cache::builder(512).policy(policy).cores(2).build().unwrap(),
            policy,
        );
    }
}

fn mix_every_operation_on_many_threads(cache: Cache<u64, u64>, policy: Policy) {
    const THREADS: u64 = 12;
    const OPS: u64 = 10_000;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let c = cache.clone();
            std::thread::spawn(move || {
                let (mut gets, mut wrong) = (0u64, 0u64);
                let mut x = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                for i in 0..OPS {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = x % 2_000;
                    match x >> 60 {
                        0..=9 => {
                            gets += 1;
                            // Every value written for `k` is `k + 10_000 * something`.
                            if c.get(&k).is_some_and(|v| v % 10_000 != k) {
                                wrong += 1;
                            }
                        }
                        10..=13 => c.insert(k, k + 10_000 * (i % 7)),
                        14 => {
                            c.remove(&k);
                        }
                        _ if i % 1_000 == 0 => c.retain(|k, _| k % 97 != 0),
                        _ => {
                            gets += 1;
                            c.get(&k);
                        }
                    }
                }
                (gets, wrong)
            })
        })
        .collect();
    let (mut gets, mut wrong) = (0, 0);
    for t in threads {
        let (g, w) = t.join().unwrap();
        gets += g;
        wrong += w;
    }
    assert_eq!(wrong, 0, "reads returned another key's value");
    let s = cache.stats();
    assert_eq!(s.hits + s.misses, gets, "{s:?}");
    cache.run_pending_tasks();
    assert!(cache.len() <= 512, "len {} over capacity", cache.len());
    // The policy still tracks exactly the resident entries: under LRU, filling the cache
    // with new keys evicts every old one (LFU and TinyLFU may rightly keep frequent ones).
    let old: Vec<u64> = cache.iter().map(|(k, _)| k).collect();
    for k in 1_000_000..1_000_000 + 2_000 {
        cache.insert(k, k);
        assert!(policy != Policy::Lru || cache.get(&k) == Some(k));
    }
    if policy == Policy::Lru {
        assert!(old.iter().all(|k| !cache.contains(k)), "an old entry outlived 2000 new ones");
    }
    assert!(cache.len() <= 512);
}

#[test]
fn stats_count_hits_and_misses_from_many_threads() {
    let cache: Cache<u64, u64> = Cache::builder(1000).build().unwrap();
    for k in 0..100 {
        cache.insert(k, k);
    }
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = cache.clone();
            std::thread::spawn(move || {
                for k in 0..200 {
                    c.get(&k);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (400, 400));
    assert_eq!(s.hit_ratio(), 0.5);
}

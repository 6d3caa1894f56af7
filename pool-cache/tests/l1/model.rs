//! proptest: exact LRU against a reference model; no policy ever exceeds its capacity.

use pool_cache::{Cache, Policy, RemovalCause};
use proptest::prelude::*;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Insert(u8, u16),
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(|k| Op::Get(k % 24)),
        4 => (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k % 24, v)),
        1 => any::<u8>().prop_map(|k| Op::Remove(k % 24)),
    ]
}

/// The obviously correct LRU: a vector, most recent last, O(n) everything.
struct ModelLru {
    cap: usize,
    entries: Vec<(u8, u16)>,
}

impl ModelLru {
    fn get(&mut self, k: u8) -> Option<u16> {
        let i = self.entries.iter().position(|e| e.0 == k)?;
        let e = self.entries.remove(i);
        self.entries.push(e);
        Some(e.1)
    }

    /// Returns the evicted key, if any.
    fn insert(&mut self, k: u8, v: u16) -> Option<u8> {
        if let Some(i) = self.entries.iter().position(|e| e.0 == k) {
            self.entries.remove(i);
            self.entries.push((k, v));
            return None;
        }
        self.entries.push((k, v));
        (self.entries.len() > self.cap).then(|| self.entries.remove(0).0)
    }

    fn remove(&mut self, k: u8) -> Option<u16> {
        let i = self.entries.iter().position(|e| e.0 == k)?;
        Some(self.entries.remove(i).1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `Policy::Lru` with one shard evicts exactly what the model evicts, in the same order,
    /// and answers every lookup the same way.
    #[test]
    fn lru_matches_reference_model(cap in 1usize..12, ops in proptest::collection::vec(op(), 1..300)) {
        let evicted = Arc::new(Mutex::new(Vec::new()));
        let log = evicted.clone();
        let cache: Cache<u8, u16> = Cache::builder(cap as u64)
            .policy(Policy::Lru)
            .shards(1)
            .removal_listener(move |k, _, cause| if cause == RemovalCause::Size { log.lock().unwrap().push(k) })
            .build()
            .unwrap();
        let mut model = ModelLru { cap, entries: Vec::new() };
        let mut model_evicted = Vec::new();
        for op in ops {
            match op {
                Op::Get(k) => prop_assert_eq!(cache.get(&k), model.get(k)),
                Op::Insert(k, v) => {
                    cache.insert(k, v);
                    model_evicted.extend(model.insert(k, v));
                }
                Op::Remove(k) => prop_assert_eq!(cache.remove(&k), model.remove(k)),
            }
            prop_assert_eq!(&*evicted.lock().unwrap(), &model_evicted);
            prop_assert_eq!(cache.len(), model.entries.len());
        }
        let mut ours: Vec<_> = cache.iter().collect();
        let mut theirs = model.entries.clone();
        ours.sort();
        theirs.sort();
        prop_assert_eq!(ours, theirs);
    }

    /// Whatever the policy, shard count and weights, the cache never holds more than its
    /// capacity (by weight), counts every refused heavy entry, and loses nothing silently:
    /// every key inserted is either present or was reported to the listener.
    #[test]
    fn no_policy_exceeds_capacity(
        policy in prop_oneof![Just(Policy::Lru), Just(Policy::Lfu), Just(Policy::TinyLfu)],
        cap in 1u64..64,
        shards_log in 0u32..3,
        weighted in any::<bool>(),
        ops in proptest::collection::vec((any::<u8>(), 1u16..20, any::<bool>()), 1..400),
    ) {
        let shards = (1usize << shards_log).min(cap as usize).next_power_of_two();
        let shards = if shards as u64 > cap { shards / 2 } else { shards }.max(1);
        let gone = Arc::new(Mutex::new(std::collections::HashMap::<u8, u16>::new()));
        let log = gone.clone();
        let mut b = Cache::builder(cap)
            .policy(policy)
            .shards(shards)
            .removal_listener(move |k: u8, v: u16, _| { log.lock().unwrap().insert(k, v); });
        if weighted {
            b = b.weigher(|_, v: &u16| u64::from(*v % 7));
        }
        let cache: Cache<u8, u16> = b.build().unwrap();
        let mut last = std::collections::HashMap::new();
        for (k, v, read) in ops {
            if read {
                cache.get(&(k % 50));
            } else {
                cache.insert(k % 50, v);
                last.insert(k % 50, v);
            }
            prop_assert!(cache.weighted_size() <= cap, "weight {} > cap {}", cache.weighted_size(), cap);
            prop_assert!(weighted || cache.len() as u64 <= cap);
        }
        let gone = gone.lock().unwrap();
        for (k, v) in last {
            prop_assert!(cache.peek(&k) == Some(v) || gone.get(&k) == Some(&v), "key {} lost", k);
        }
    }
}

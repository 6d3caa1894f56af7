//! The simulator: Belady's bound holds for every online policy, exact LRU scores the ARC paper's
//! figure on OLTP, and threaded replays count every request.

use std::num::NonZeroUsize;

use pool_benches::sim::{SimPolicy, Simulator, belady};
use pool_benches::trace::{self, TraceFormat};
use proptest::prelude::*;

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// Policies whose capacity is exact, so Belady's bound at that capacity must hold on every
/// trace. quick_cache rounds capacity up per shard and moka evicts lazily (it can hold more than
/// `max_capacity` for a while), so on tiny random traces they may legitimately beat OPT at the
/// nominal capacity; they are checked on the real traces by `cachesim` itself.
const EXACT: [SimPolicy; 5] =
    [SimPolicy::Fifo, SimPolicy::LruCrate, SimPolicy::Lru, SimPolicy::Lfu, SimPolicy::TinyLfu];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// OPT has at least as many hits as every exact-capacity policy, on random skewed traces.
    #[test]
    fn opt_bounds_every_policy(
        raw in proptest::collection::vec((0u64..400, 0u32..4), 1..3000),
        capacity in 1usize..80,
    ) {
        // Square some draws toward small keys: a mix of a hot set and a long tail, so that
        // recency and frequency policies both get hits.
        let keys: Vec<u64> = raw.iter().map(|&(k, skew)| if skew == 0 { k } else { k % 40 }).collect();
        let sim = Simulator::new(&keys);
        let opt = sim.run(SimPolicy::Opt, nz(capacity), nz(1), None).unwrap();
        prop_assert_eq!(opt.stats.hits, belady::hits(&keys, nz(capacity)));
        for policy in EXACT {
            let run = sim.run(policy, nz(capacity), nz(1), None).unwrap();
            prop_assert_eq!(run.stats.requests, keys.len() as u64);
            prop_assert!(
                run.stats.hits <= opt.stats.hits,
                "{} has {} hits > opt {} at capacity {}", policy, run.stats.hits, opt.stats.hits, capacity
            );
        }
    }
}

#[test]
fn exact_lru_on_oltp_at_1000_is_the_arc_papers_figure() {
    let Some(path) = crate::shared_trace("OLTP.lis.zst") else {
        return;
    };
    let trace = trace::load(&path, TraceFormat::Auto).unwrap();
    assert_eq!(trace.name, "OLTP");
    assert_eq!(trace.keys.len(), 914_145);
    let sim = Simulator::new(&trace.keys);
    // 300,122 hits = .3283, the ARC paper's LRU figure; an independent OrderedDict LRU agrees.
    for policy in [SimPolicy::LruCrate, SimPolicy::Lru] {
        let run = sim.run(policy, nz(1000), nz(1), None).unwrap();
        assert_eq!(run.stats.hits, 300_122, "{policy}");
        assert_eq!(format!("{:.4}", run.stats.hit_ratio()), "0.3283");
    }
    // Belady's optimum at 1000 (traces/README.md: .536).
    let opt = sim.run(SimPolicy::Opt, nz(1000), nz(1), None).unwrap();
    assert_eq!(format!("{:.3}", opt.stats.hit_ratio()), "0.536");
}

#[test]
fn threaded_replays_count_every_request() {
    // 10,000 requests: not a multiple of the 1024-request chunk, so the last chunk is partial.
    let keys: Vec<u64> = (0..10_000u64).map(|i| (i * 2_654_435_761) % 3_000).collect();
    let sim = Simulator::new(&keys);
    for policy in SimPolicy::ALL {
        for threads in [1, 2, 3] {
            let run = sim.run(policy, nz(500), nz(threads), None).unwrap();
            assert_eq!(run.stats.requests, 10_000, "{policy} x{threads}");
            assert!(run.stats.hits <= run.stats.requests);
            let want_threads = if policy == SimPolicy::Opt { 1 } else { threads };
            assert_eq!(run.threads, want_threads);
        }
    }
}

/// With room for every key nothing is evicted, so a thread misses a key at most once (before
/// its own insert). One thread misses exactly the 300 first touches; with two, both threads may
/// miss a key before either inserts it, so under every schedule the misses lie between 300 and
/// 2 × 300 (OPT replays single-threaded: exact).
#[test]
fn a_cache_big_enough_for_every_key_misses_only_first_touches() {
    let keys: Vec<u64> = (0..20_000u64).map(|i| i % 300).collect();
    let sim = Simulator::new(&keys);
    for policy in [
        SimPolicy::Fifo,
        SimPolicy::LruCrate,
        SimPolicy::QuickCache,
        SimPolicy::Opt,
        SimPolicy::Lru,
    ] {
        let run = sim.run(policy, nz(1000), nz(1), None).unwrap();
        assert_eq!(run.stats.hits, 20_000 - 300, "{policy} x1");
        let run = sim.run(policy, nz(1000), nz(2), None).unwrap();
        let misses = run.stats.requests - run.stats.hits;
        if policy == SimPolicy::Opt {
            assert_eq!(misses, 300, "{policy} x2");
        } else {
            assert!((300..=600).contains(&misses), "{policy} x2: {misses} misses");
        }
    }
}

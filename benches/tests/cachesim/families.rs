//! The default policy on every synthetic workload family (`pool_benches::sim::synth`): it
//! must stay within a stated margin of the best simple policy (exact LRU or LFU) on each, and
//! near Belady's optimum where both simple policies collapse (loops). Seeded, single thread,
//! so each run repeats exactly; 200k requests a family at most.

use std::num::NonZeroUsize;

use pool_benches::sim::synth::Family;
use pool_benches::sim::{SimPolicy, Simulator};

/// Points of hit ratio the default may lose to the better of LRU and LFU on a family. Before
/// the regret check, W-TinyLFU lost 7.6 points on `burst` @ 250 and 24 on `back-forth`.
const MARGIN_TO_BEST_SIMPLE: f64 = 0.04;
/// Rows with a wider margin, each a measured gap left open: on `recency` @ 100 (geometric
/// reuse distances of mean 150 in a cache of 100) the climber keeps the window small and
/// W-TinyLFU stays about 9 points under LRU; the regret check does not fire because the cache
/// still hits more than admission turns away.
const KNOWN_GAPS: [(Family, usize, f64); 1] = [(Family::Recency, 100, 0.10)];
/// The least fraction of OPT on a loop, where LRU and LFU hit nothing.
const MIN_FRACTION_OF_OPT_ON_LOOPS: f64 = 0.9;

fn hit_ratio(sim: &Simulator<'_>, policy: SimPolicy, capacity: usize) -> f64 {
    let capacity = NonZeroUsize::new(capacity).unwrap();
    sim.run(policy, capacity, NonZeroUsize::MIN, None).unwrap().stats.hit_ratio()
}

#[test]
fn the_default_stays_near_the_best_simple_policy_on_every_family() {
    let mut failures = Vec::new();
    for family in Family::ALL {
        let keys = family.generate(1);
        assert!(keys.len() <= pool_benches::sim::synth::MAX_REQUESTS);
        let sim = Simulator::new(&keys).seed(Some(1));
        for &capacity in family.capacities() {
            let ours = hit_ratio(&sim, SimPolicy::TinyLfu, capacity);
            let lru = hit_ratio(&sim, SimPolicy::Lru, capacity);
            let lfu = hit_ratio(&sim, SimPolicy::Lfu, capacity);
            let best = lru.max(lfu);
            eprintln!("{family} @ {capacity}: tinylfu {ours:.3}, lru {lru:.3}, lfu {lfu:.3}");
            let margin = KNOWN_GAPS
                .iter()
                .find(|&&(f, c, _)| f == family && c == capacity)
                .map_or(MARGIN_TO_BEST_SIMPLE, |&(_, _, m)| m);
            if ours < best - margin {
                failures.push(format!(
                    "{family} @ {capacity}: tinylfu {ours:.3} < best simple {best:.3} - {margin}"
                ));
            }
            if matches!(family, Family::Loop | Family::LoopLong) {
                let opt = hit_ratio(&sim, SimPolicy::Opt, capacity);
                if ours < MIN_FRACTION_OF_OPT_ON_LOOPS * opt {
                    failures.push(format!(
                        "{family} @ {capacity}: tinylfu {ours:.3} < 0.9 × opt {opt:.3}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

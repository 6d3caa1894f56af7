//! Bounded loads: no node ever holds more than ⌈(1+ε)·m·wᵢ/Σw⌉ of m assigned keys, for random
//! rings, ε and key sets (repeated keys included, the worst case for plain hashing).

use proptest::prelude::*;

use pool_cluster::{BoundedLoads, HashRing};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_node_exceeds_its_bound(
        weights in proptest::collection::vec(prop_oneof![Just(0.0), 0.1f64..4.0], 1..20),
        vnodes in 1u32..60,
        eps in prop_oneof![1e-9f64..0.01, 0.01f64..3.0],
        keys in proptest::collection::vec(0u32..400, 1..1500),
    ) {
        let ring = weights
            .iter()
            .enumerate()
            .fold(HashRing::builder().vnodes(vnodes), |b, (i, w)| b.node(format!("n{i}"), *w))
            .build()
            .unwrap();
        let total = ring.total_points() as f64;
        prop_assume!(total > 0.0);
        let points: Vec<f64> = ring.nodes().map(|(n, _)| f64::from(ring.points_of(n).unwrap())).collect();
        let mut loads = BoundedLoads::new(&ring, eps).unwrap();
        for (m, key) in keys.iter().enumerate() {
            let m = m as u64 + 1;
            let node = loads.assign(&key.to_le_bytes());
            prop_assert!(ring.points_of(node).unwrap() > 0, "a drained node got a key");
            for ((_, load), p) in loads.loads().zip(&points) {
                let bound = ((1.0 + eps) * m as f64 * p / total).ceil() as u64;
                prop_assert!(load <= bound, "load {} > bound {} at m = {}", load, bound, m);
            }
        }
        prop_assert_eq!(loads.loads().map(|(_, l)| l).sum::<u64>(), keys.len() as u64);
    }
}

#[test]
fn under_light_load_keys_go_to_their_ring_owner() {
    let ring = HashRing::new(crate::node_ids(10)).unwrap();
    let mut loads = BoundedLoads::new(&ring, 1.0).unwrap();
    // With ε = 1 and distinct keys, early keys fit: the first key always goes to its owner.
    let first = loads.assign("first");
    assert_eq!(first, ring.get("first").unwrap());
}

#[test]
fn one_hot_key_spills_in_ring_order() {
    let ring = HashRing::new(["a", "b", "c", "d"]).unwrap();
    let mut loads = BoundedLoads::new(&ring, 0.5).unwrap();
    let mut replicas = Vec::new();
    ring.get_n("hot", 4, &mut replicas).unwrap();
    // 100 copies of one key: the owner fills to its bound, the rest spills, and nobody exceeds
    // ⌈1.5 × 100 / 4⌉ = 38.
    let owners: Vec<String> = (0..100).map(|_| loads.assign("hot").to_string()).collect();
    assert_eq!(owners[0], *replicas[0]);
    assert!(loads.loads().all(|(_, l)| l <= 38));
    assert!(loads.loads().filter(|(_, l)| *l > 0).count() >= 3);
}

//! Property tests: the ring against the brute-force model, distinct replicas, determinism,
//! insertion-order independence, and minimal movement on a join or a leave.

use proptest::prelude::*;

use pool_cluster::HashRing;

use crate::model::ModelRing;

/// Up to 12 distinct node ids with weights (some 0: drained).
fn nodes() -> impl Strategy<Value = Vec<(String, f64)>> {
    proptest::collection::btree_map(
        0u32..40,
        prop_oneof![Just(0.0), Just(1.0), 0.05f64..3.0],
        1..12,
    )
    .prop_map(|m| m.into_iter().map(|(i, w)| (format!("n{i}"), w)).collect())
}

fn keys() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 1..40)
}

fn build(vnodes: u32, nodes: &[(String, f64)]) -> HashRing<String> {
    nodes
        .iter()
        .fold(HashRing::builder().vnodes(vnodes), |b, (n, w)| b.node(n.clone(), *w))
        .build()
        .unwrap()
}

fn model(vnodes: u32, nodes: &[(String, f64)]) -> ModelRing {
    ModelRing::new(vnodes, nodes.iter().map(|(n, w)| (n.as_str(), *w)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn owners_and_replicas_match_the_model(vnodes in 1u32..24, nodes in nodes(), keys in keys(), r in 0usize..6) {
        let ring = build(vnodes, &nodes);
        let model = model(vnodes, &nodes);
        let mut out = Vec::new();
        for key in &keys {
            let want = model.owner(key);
            let got = ring.get(key).ok().map(|n| n.as_bytes().to_vec());
            prop_assert_eq!(&got, &want);
            match ring.get_n(key, r, &mut out) {
                Ok(()) => {
                    let got: Vec<Vec<u8>> = out.iter().map(|n| n.as_bytes().to_vec()).collect();
                    prop_assert_eq!(got, model.owners(key, r));
                }
                Err(_) => prop_assert!(want.is_none() && r > 0),
            }
        }
    }

    #[test]
    fn replicas_are_distinct_physical_nodes(vnodes in 1u32..40, nodes in nodes(), keys in keys(), r in 1usize..15) {
        let ring = build(vnodes, &nodes);
        let live = nodes.iter().filter(|(_, w)| (f64::from(vnodes) * w).round() > 0.0).count();
        let mut out = Vec::with_capacity(r);
        for key in &keys {
            if ring.get_n(key, r, &mut out).is_err() {
                prop_assert_eq!(live, 0);
                continue;
            }
            prop_assert_eq!(out.len(), r.min(live));
            let mut ids: Vec<&String> = out.clone();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), out.len());
            prop_assert_eq!(out[0], ring.get(key).unwrap());
        }
    }

    #[test]
    fn placement_is_independent_of_insertion_order(vnodes in 1u32..24, nodes in nodes(), seed in any::<u64>(), keys in keys()) {
        let built = build(vnodes, &nodes);
        // The same nodes, shuffled, added one by one to an empty ring (the merge path).
        let mut shuffled = nodes.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut grown = HashRing::builder().vnodes(vnodes).build().unwrap();
        for (n, w) in &shuffled {
            grown.add(n.clone(), *w).unwrap();
        }
        prop_assert!(built == grown);
        for key in &keys {
            prop_assert_eq!(built.get(key).ok(), grown.get(key).ok());
        }
        // Deterministic: building twice gives the same ring.
        prop_assert!(build(vnodes, &nodes) == built);
    }

    #[test]
    fn a_join_or_leave_moves_only_the_changed_nodes_keys(vnodes in 1u32..24, nodes in nodes(), keys in keys(), w in 0.1f64..3.0) {
        let before = build(vnodes, &nodes);
        let mut joined = before.clone();
        joined.add("joiner".to_string(), w).unwrap();
        let mut left = before.clone();
        let leaver = nodes[0].0.clone();
        left.remove(&leaver).unwrap();
        for key in &keys {
            if let (Ok(a), Ok(b)) = (before.get(key), joined.get(key)) {
                prop_assert!(a == b || b == "joiner", "{a} -> {b}");
            }
            if let (Ok(a), Ok(b)) = (before.get(key), left.get(key)) {
                prop_assert!(a == b || *a == leaver, "{a} -> {b}");
            }
        }
        // Removing what was added gives back the same ring, point for point.
        let mut back = joined.clone();
        back.remove("joiner").unwrap();
        prop_assert!(back == before);
    }

    #[test]
    fn raising_a_weight_moves_keys_only_to_that_node(vnodes in 1u32..24, nodes in nodes(), keys in keys(), extra in 0.1f64..2.0) {
        let before = build(vnodes, &nodes);
        let (id, w) = nodes[0].clone();
        let mut heavier = before.clone();
        heavier.set_weight(&id, w + extra).unwrap();
        for key in &keys {
            if let (Ok(a), Ok(b)) = (before.get(key), heavier.get(key)) {
                prop_assert!(a == b || *b == id);
            }
        }
        // And back again is the original ring.
        heavier.set_weight(&id, w).unwrap();
        prop_assert!(heavier == before);
    }
}

#[test]
fn weight_zero_drains_a_node() {
    let ring = HashRing::builder().node("a", 1.0).node("b", 0.0).node("c", 1.0).build().unwrap();
    assert_eq!(ring.points_of("b"), Some(0));
    let mut out = Vec::new();
    for i in 0..2_000 {
        let key = format!("key-{i}");
        assert_ne!(*ring.get(&key).unwrap(), "b");
        ring.get_n(&key, 5, &mut out).unwrap();
        assert_eq!(out.len(), 2, "only the two nodes with points are replicas");
    }
}

#[test]
fn shares_are_exact_and_sum_to_one() {
    let ring = HashRing::new(crate::node_ids(20)).unwrap();
    let shares = ring.shares();
    assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Against counting: 200k keys land on each node about in proportion to its share.
    let mut counts = [0u32; 20];
    let ids: Vec<String> = ring.nodes().map(|(n, _)| n.clone()).collect();
    for i in 0..200_000u32 {
        let owner = ring.get(&i.to_le_bytes()).unwrap();
        counts[ids.iter().position(|n| n == owner).unwrap()] += 1;
    }
    for (c, s) in counts.iter().zip(&shares) {
        // 6 standard deviations of a binomial(200k, ~0.05): about ±0.003.
        assert!((f64::from(*c) / 200_000.0 - s).abs() < 0.003, "{c} vs {s}");
    }
}

#[test]
fn one_node_owns_everything() {
    let ring = HashRing::new(["solo"]).unwrap();
    assert_eq!(ring.shares(), [1.0]);
    let mut out = Vec::new();
    ring.get_n("k", 3, &mut out).unwrap();
    assert_eq!(out, [&"solo"]);
}

#[test]
fn balance_at_100_nodes_160_vnodes() {
    // The figure: exact hash-space peak/mean at most 1.30.
    let ring = HashRing::new(crate::node_ids(100)).unwrap();
    let shares = ring.shares();
    let peak = shares.iter().copied().fold(0.0, f64::max);
    assert!(peak * 100.0 <= 1.30, "peak/mean {}", peak * 100.0);
}

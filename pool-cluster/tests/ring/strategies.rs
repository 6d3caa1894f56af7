//! Every strategy through the `Sharding` trait: distinct replicas, and what moves on a join and
//! a leave, as each strategy documents it. Hashing is fixed, so the counts are deterministic.

use pool_cluster::{
    HashRing, JumpHash, RandomPlacement, RangeSharding, RedisSlots, Rendezvous, Sharding,
};

const KEYS: usize = 20_000;

fn keys() -> Vec<Vec<u8>> {
    (0..KEYS).map(|i| format!("key:{i}").into_bytes()).collect()
}

fn owners(s: &dyn Sharding<String>, keys: &[Vec<u8>]) -> Vec<String> {
    keys.iter().map(|k| s.owner(k).unwrap().clone()).collect()
}

/// (moved to `changed`, moved from `changed`, moved between two other nodes), as fractions.
fn moves(before: &[String], after: &[String], changed: &str) -> (f64, f64, usize) {
    let (mut to, mut from, mut between) = (0, 0, 0);
    for (a, b) in before.iter().zip(after) {
        if a != b {
            if b == changed {
                to += 1;
            } else if a == changed {
                from += 1;
            } else {
                between += 1;
            }
        }
    }
    (to as f64 / KEYS as f64, from as f64 / KEYS as f64, between)
}

fn all_strategies(n: usize) -> Vec<Box<dyn Sharding<String>>> {
    let ids = crate::node_ids(n);
    vec![
        Box::new(HashRing::new(ids.clone()).unwrap()),
        Box::new(JumpHash::new(ids.clone()).unwrap()),
        Box::new(Rendezvous::new(ids.clone()).unwrap()),
        Box::new(RedisSlots::new(ids.clone()).unwrap()),
        Box::new(RangeSharding::new(ids.clone()).unwrap()),
        Box::new(RandomPlacement::new(ids, 42).unwrap()),
    ]
}

#[test]
fn replicas_are_distinct_and_capped_at_the_node_count() {
    for s in all_strategies(7) {
        let mut out = Vec::new();
        for (i, key) in keys().iter().take(500).enumerate() {
            let r = 1 + i % 9;
            s.owners(key, r, &mut out).unwrap();
            assert_eq!(out.len(), r.min(7), "{}", s.name());
            let mut ids: Vec<&String> = out.clone();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), out.len(), "{} repeated a node", s.name());
            if s.name() != "random" {
                assert_eq!(out[0], s.owner(key).unwrap(), "{}", s.name());
            }
        }
        s.owners(b"k", 0, &mut out).unwrap();
        assert!(out.is_empty());
    }
}

#[test]
fn consistent_strategies_move_only_the_joiners_share() {
    let keys = keys();
    for mut s in all_strategies(20).into_iter().filter(|s| !matches!(s.name(), "range" | "random"))
    {
        let before = owners(s.as_ref(), &keys);
        s.add_node("joiner".to_string()).unwrap();
        let after = owners(s.as_ref(), &keys);
        let (to, from, between) = moves(&before, &after, "joiner");
        assert_eq!((from, between), (0.0, 0), "{}", s.name());
        let ideal = 1.0 / 21.0;
        assert!(to > 0.6 * ideal && to < 1.5 * ideal, "{}: {to} vs ideal {ideal}", s.name());
    }
}

#[test]
fn consistent_strategies_move_only_the_leavers_keys() {
    let keys = keys();
    for mut s in all_strategies(20).into_iter().filter(|s| !matches!(s.name(), "range" | "random"))
    {
        // The last node, so that jump hash moves only its keys too.
        let before = owners(s.as_ref(), &keys);
        s.remove_node(b"node-19").unwrap();
        let after = owners(s.as_ref(), &keys);
        let (to, from, between) = moves(&before, &after, "node-19");
        assert_eq!((to, between), (0.0, 0), "{}", s.name());
        assert!(from > 0.6 / 20.0 && from < 1.5 / 20.0, "{}: {from}", s.name());
    }
}

#[test]
fn jump_hash_removing_a_middle_node_also_moves_the_last_nodes_keys() {
    let keys = keys();
    let mut jump = JumpHash::new(crate::node_ids(10)).unwrap();
    let before = owners(&jump, &keys);
    jump.remove_node(b"node-3").unwrap();
    let after = owners(&jump, &keys);
    for (a, b) in before.iter().zip(&after) {
        if a != b {
            assert!(a == "node-3" || a == "node-9", "{a} -> {b}");
        }
    }
    assert_eq!(jump.nodes()[3], "node-9");
}

#[test]
fn range_sharding_moves_half_the_keys_on_a_join() {
    let keys = keys();
    let mut ranges = RangeSharding::new(crate::node_ids(20)).unwrap();
    let before = owners(&ranges, &keys);
    ranges.add_node("joiner".to_string()).unwrap();
    let after = owners(&ranges, &keys);
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count() as f64 / KEYS as f64;
    assert!((moved - 0.5).abs() < 0.02, "{moved}");
}

#[test]
fn redis_slots_stay_balanced_through_joins_and_leaves() {
    let mut slots = RedisSlots::new(crate::node_ids(3)).unwrap();
    let spread = |s: &RedisSlots<String>| {
        let c = s.slot_counts();
        (c.iter().sum::<usize>(), c.iter().max().unwrap() - c.iter().min().unwrap())
    };
    for i in 0..5 {
        slots.add_node(format!("extra-{i}")).unwrap();
        assert_eq!(spread(&slots), (16384, 1.min(spread(&slots).1)));
        assert!(spread(&slots).1 <= 1);
    }
    for id in ["node-1", "extra-2", "node-0"] {
        slots.remove_node(id.as_bytes()).unwrap();
        let (sum, gap) = spread(&slots);
        assert_eq!(sum, 16384);
        assert!(gap <= 1, "{:?}", slots.slot_counts());
    }
    assert_eq!(slots.node_count(), 5);
}

#[test]
fn random_placement_is_uniform() {
    let random = RandomPlacement::new(crate::node_ids(5), 7).unwrap();
    let mut counts = [0u32; 5];
    let mut out = Vec::new();
    for _ in 0..30_000 {
        random.owners(b"", 2, &mut out).unwrap();
        for n in &out {
            counts[n.strip_prefix("node-").unwrap().parse::<usize>().unwrap()] += 1;
        }
    }
    // 12 000 expected each; the seed is fixed, so this is deterministic.
    assert!(counts.iter().all(|&c| (11_400..12_600).contains(&c)), "{counts:?}");
}

#[test]
fn range_sharding_leaves_move_a_quarter_to_a_half() {
    let keys = keys();
    let moved_after_removing = |id: &str| {
        let mut ranges = RangeSharding::new(crate::node_ids(21)).unwrap();
        let before = owners(&ranges, &keys);
        ranges.remove_node(id.as_bytes()).unwrap();
        let after = owners(&ranges, &keys);
        before.iter().zip(&after).filter(|(a, b)| a != b).count() as f64 / KEYS as f64
    };
    // An end node: half of the space (every boundary shifts one way).
    assert!((moved_after_removing("node-20") - 0.5).abs() < 0.02);
    assert!((moved_after_removing("node-0") - 0.5).abs() < 0.02);
    // The middle node: about a quarter. For 21 → 20 nodes the space kept is
    // (Σ_{i<10} (20 − i) + Σ_{i≥10} (i + 1)) / (20 · 21) = 310/420, so 0.262 moves.
    let middle = moved_after_removing("node-10");
    assert!((middle - 0.262).abs() < 0.02, "{middle}");
}

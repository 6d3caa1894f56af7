//! RingDiff: the moved ranges agree with key-by-key lookups, cover exactly the moved share,
//! and never move keys between survivors.

use proptest::prelude::*;

use pool_cluster::{HashRing, RingDiff, key_hash};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn ranges_match_lookups(n in 1usize..12, vnodes in 1u32..30, join in any::<bool>(), victim in 0usize..12,
                            hashes in proptest::collection::vec(any::<u64>(), 1..200)) {
        let before = HashRing::builder().vnodes(vnodes).nodes(crate::node_ids(n)).build().unwrap();
        let mut after = before.clone();
        let changed = if join || n == 1 {
            after.add("joiner".to_string(), 1.0).unwrap();
            "joiner".to_string()
        } else {
            let id = format!("node-{}", victim % n);
            after.remove(&id).unwrap();
            id
        };
        let diff = RingDiff::new(&before, &after).unwrap();
        // Every boundary hash, its neighbours, and random hashes.
        let probes = hashes.iter().copied().chain(diff.ranges().iter().flat_map(|r| {
            [r.start, r.start.wrapping_add(1), r.end, r.end.wrapping_add(1)]
        }));
        for h in probes {
            let (a, b) = (before.get_by_hash(h).unwrap(), after.get_by_hash(h).unwrap());
            let in_range = diff.ranges().iter().any(|r| r.contains(h));
            prop_assert_eq!(in_range, a != b, "hash {:#x}", h);
            prop_assert_eq!(diff.moves_hash(h), a != b);
            if a != b {
                prop_assert!(*a == changed || *b == changed, "moved between survivors: {} -> {}", a, b);
            }
        }
        for r in diff.ranges() {
            prop_assert!(*r.from == changed || *r.to == changed);
        }
        // The moved fraction is exactly the changed node's share.
        let share = |ring: &HashRing<String>| -> f64 {
            ring.nodes().zip(ring.shares()).find(|((id, _), _)| **id == changed).map_or(0.0, |(_, s)| s)
        };
        let expected = share(&before) + share(&after);
        prop_assert!((diff.moved_fraction() - expected).abs() < 1e-9, "{} vs {}", diff.moved_fraction(), expected);
    }
}

#[test]
fn moves_agrees_with_key_lookups() {
    let before = HashRing::new(crate::node_ids(50)).unwrap();
    let mut after = before.clone();
    after.add("node-new".to_string(), 1.0).unwrap();
    let diff = RingDiff::new(&before, &after).unwrap();
    let mut moved = 0;
    for i in 0..20_000 {
        let key = format!("k{i}");
        let changed = before.get(&key).unwrap() != after.get(&key).unwrap();
        assert_eq!(diff.moves(&key), changed);
        assert_eq!(diff.ranges().iter().any(|r| r.contains(key_hash(&key))), changed);
        moved += usize::from(changed);
    }
    // About 1/51 of 20k keys (≈ 392); generous bounds.
    assert!((200..700).contains(&moved), "{moved}");
}

//! Every bad input the issue lists gets a typed error, and changes nothing.

use pool_cluster::{
    BoundedLoads, BoundedLoadsErrorKind, HashRing, JumpHash, NodeErrorKind, RedisSlots,
    RingBuildErrorKind, Sharding, SharedRing,
};

#[test]
fn an_empty_ring_is_an_error_not_a_panic() {
    let ring = HashRing::<String>::builder().build().unwrap();
    assert!(ring.get("k").is_err());
    let mut out = Vec::new();
    assert!(ring.get_n("k", 2, &mut out).is_err());
    assert!(ring.get_n("k", 0, &mut out).is_ok(), "r = 0 asks for nothing");
    // Every node drained: also empty.
    let drained = HashRing::builder().node("a", 0.0).build().unwrap();
    assert_eq!(
        drained.get("k").unwrap_err().to_string(),
        "no node to place the key on: add a node with a weight > 0"
    );
    // The other strategies alike.
    let jump = JumpHash::<&str>::new([]).unwrap();
    assert!(jump.owner(b"k").is_err());
    let slots = RedisSlots::<&str>::new([]).unwrap();
    assert!(slots.owner(b"k").is_err());
}

#[test]
fn r_larger_than_the_node_count_returns_all_nodes() {
    let ring = HashRing::new(["a", "b", "c"]).unwrap();
    let mut out = Vec::new();
    ring.get_n("k", 100, &mut out).unwrap();
    out.sort();
    assert_eq!(out, [&"a", &"b", &"c"]);
}

#[test]
fn duplicate_ids_are_refused_at_build_and_add() {
    let err = HashRing::new(["a", "b", "a"]).unwrap_err();
    assert!(
        matches!(err.kind(), RingBuildErrorKind::Node(e) if matches!(e.kind(), NodeErrorKind::Duplicate { id } if id == "a"))
    );
    let mut ring = HashRing::new(["a"]).unwrap();
    let before = ring.clone();
    let err = ring.add("a", 2.0).unwrap_err();
    assert!(matches!(err.kind(), NodeErrorKind::Duplicate { .. }));
    assert!(ring == before);
    // Binary ids print escaped.
    let err = HashRing::new([vec![0u8, 255], vec![0u8, 255]]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r"node \x00\xff is already placed: remove it first or use another id"
    );
}

#[test]
fn nan_negative_and_infinite_weights_are_refused() {
    for w in [f64::NAN, -1.0, -0.0001, f64::INFINITY, f64::NEG_INFINITY] {
        let err = HashRing::builder().node("a", w).build().unwrap_err();
        assert!(
            matches!(err.kind(), RingBuildErrorKind::Node(e) if matches!(e.kind(), NodeErrorKind::InvalidWeight { .. })),
            "{w}"
        );
        let mut ring = HashRing::new(["a"]).unwrap();
        let before = ring.clone();
        assert!(matches!(
            ring.add("b", w).unwrap_err().kind(),
            NodeErrorKind::InvalidWeight { .. }
        ));
        assert!(matches!(
            ring.set_weight("a", w).unwrap_err().kind(),
            NodeErrorKind::InvalidWeight { .. }
        ));
        assert!(ring == before);
    }
    let err = HashRing::builder().node("a", -1.0).build().unwrap_err();
    assert_eq!(err.to_string(), "weight must be a finite number >= 0, got -1");
}

#[test]
fn huge_weights_are_refused_not_allocated() {
    let err = HashRing::builder().node("a", 1e12).build().unwrap_err();
    assert!(
        matches!(err.kind(), RingBuildErrorKind::Node(e) if matches!(e.kind(), NodeErrorKind::TooManyPoints { .. }))
    );
    let mut ring = HashRing::new(["a"]).unwrap();
    assert!(matches!(ring.add("b", 1e9).unwrap_err().kind(), NodeErrorKind::TooManyPoints { .. }));
}

#[test]
fn zero_vnodes_is_refused() {
    let err = HashRing::<&str>::builder().vnodes(0).node("a", 1.0).build().unwrap_err();
    assert_eq!(err.kind(), &RingBuildErrorKind::ZeroVnodes);
}

#[test]
fn epsilon_must_be_positive_and_finite() {
    let ring = HashRing::new(["a", "b"]).unwrap();
    for eps in [0.0, -0.5, f64::NAN, f64::INFINITY, -0.0] {
        let err = BoundedLoads::new(&ring, eps).unwrap_err();
        assert!(matches!(err.kind(), BoundedLoadsErrorKind::InvalidEpsilon { .. }), "{eps}");
    }
    let empty = HashRing::<&str>::builder().build().unwrap();
    assert_eq!(BoundedLoads::new(&empty, 0.5).unwrap_err().kind(), BoundedLoadsErrorKind::NoNodes);
}

#[test]
fn removing_an_unknown_node_is_an_error() {
    let mut ring = HashRing::new(["a"]).unwrap();
    assert!(matches!(ring.remove("zz").unwrap_err().kind(), NodeErrorKind::Unknown { .. }));
    assert!(matches!(
        ring.set_weight("zz", 1.0).unwrap_err().kind(),
        NodeErrorKind::Unknown { .. }
    ));
    let shared = SharedRing::new(ring);
    assert!(shared.remove("zz").is_err());
    assert_eq!(shared.load().len(), 1);
    let mut jump = JumpHash::new(["a"]).unwrap();
    assert!(jump.remove_node(b"zz").is_err());
}

#[test]
fn redis_slots_hold_at_most_16384_nodes() {
    let ids: Vec<String> = (0..16_385).map(|i| i.to_string()).collect();
    let err = RedisSlots::new(ids.iter().map(String::as_str)).unwrap_err();
    assert!(matches!(err.kind(), NodeErrorKind::TooManyNodes { limit: 16384 }));
}

//! Golden vectors: the owners of fixed keys for a fixed node list. Every process and every
//! release must agree on these; a change here moves keys in every deployment.

use pool_cluster::{HashRing, JumpHash, Rendezvous, Sharding};

const KEYS: [&str; 12] = [
    "",
    "a",
    "user:42",
    "session:9f2c",
    "key-0",
    "key-1",
    "key-2",
    "key-3",
    "{tag}x",
    "\u{e9}t\u{e9}",
    "0123456789abcdef01234567",
    "the quick brown fox",
];

fn owners(s: &dyn Sharding<String>) -> Vec<String> {
    KEYS.iter().map(|k| s.owner(k.as_bytes()).unwrap().clone()).collect()
}

fn short(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.strip_prefix("node-").unwrap()).collect()
}

#[test]
fn ring_owners_are_pinned() {
    let ring = HashRing::new(crate::node_ids(10)).unwrap();
    assert_eq!(short(&owners(&ring)), RING, "{:?}", short(&owners(&ring)));
    let mut out = Vec::new();
    ring.get_n("user:42", 3, &mut out).unwrap();
    let got: Vec<&str> = out.iter().map(|s| s.as_str()).collect();
    assert_eq!(got, RING_REPLICAS_USER_42, "{got:?}");
}

#[test]
fn jump_and_rendezvous_owners_are_pinned() {
    let jump = JumpHash::new(crate::node_ids(10)).unwrap();
    assert_eq!(short(&owners(&jump)), JUMP, "{:?}", short(&owners(&jump)));
    let hrw = Rendezvous::new(crate::node_ids(10)).unwrap();
    assert_eq!(short(&owners(&hrw)), HRW, "{:?}", short(&owners(&hrw)));
}

const RING: [&str; 12] = ["8", "4", "0", "1", "4", "9", "1", "6", "4", "9", "0", "4"];
const RING_REPLICAS_USER_42: [&str; 3] = ["node-0", "node-9", "node-2"];
const JUMP: [&str; 12] = ["0", "9", "2", "9", "5", "6", "4", "3", "7", "2", "2", "3"];
const HRW: [&str; 12] = ["2", "2", "4", "3", "5", "2", "9", "5", "4", "5", "2", "5"];

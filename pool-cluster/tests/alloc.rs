//! Lookups allocate nothing: `get`, `get_n` into a buffer with capacity, `get_n_filtered`, and a
//! `SharedRing` load, at 10, 100 and 1000 nodes × 160 vnodes, counted by the workspace's
//! counting allocator. Runs without the libtest harness (`harness = false` in Cargo.toml), so no
//! other thread allocates while it counts.
#![allow(clippy::unwrap_used)]

use pool_cluster::{HashRing, SharedRing};
use pool_metrics::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

fn main() {
    for n in [10, 100, 1000] {
        let ring = HashRing::new((0..n).map(|i| format!("node-{i}"))).unwrap();
        let keys: Vec<[u8; 24]> = (0..10_000u64)
            .map(|i| {
                let mut k = [b'k'; 24];
                k[..8].copy_from_slice(&i.to_le_bytes());
                k
            })
            .collect();
        let shared = SharedRing::new(ring.clone());
        let mut out = Vec::with_capacity(3);
        // arc-swap registers each thread once, on its first load (a 192-byte node, reused by
        // later threads): a one-time cost, not a per-lookup one, so it happens before counting.
        drop(shared.load());
        let before = ALLOC.allocated_bytes();
        let mut sink = 0usize;
        for key in &keys {
            sink += ring.get(key).unwrap().len();
            ring.get_n(key, 3, &mut out).unwrap();
            sink += out.len();
            ring.get_n_filtered(key, 3, &mut out, |node| !node.ends_with('7')).unwrap();
            sink += out.len();
            sink += shared.load().get(key).unwrap().len();
        }
        let allocated = ALLOC.allocated_bytes() - before;
        assert_eq!(allocated, 0, "{n} nodes: lookups allocated {allocated} bytes");
        assert!(sink > 0);
        println!("alloc: 40 000 lookups at {n} nodes x 160 vnodes allocated 0 bytes");
    }
    // The counter works: a change does allocate (its new point arrays).
    let mut ring = HashRing::new(["a", "b"]).unwrap();
    let before = ALLOC.allocated_bytes();
    ring.add("c", 1.0).unwrap();
    assert!(ALLOC.allocated_bytes() > before);
}

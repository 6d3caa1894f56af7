//! The consistent-hash ring: which node owns a key, its replicas, and how few keys move when a
//! node joins or leaves. It checks its own results.
//!
//! `cargo run -p pool-examples --example ring`

use anyhow::ensure;
use pool_cluster::{HashRing, RingDiff};

fn main() -> anyhow::Result<()> {
    let nodes = ["cache-a:6379", "cache-b:6379", "cache-c:6379", "cache-d:6379"];
    // 160 virtual nodes per node (ketama's figure); placement is blake3 with a fixed seed, so
    // every process that builds this ring agrees on every owner.
    let ring = HashRing::new(nodes)?;
    let keys: Vec<String> = (0..20_000).map(|i| format!("user:{i}")).collect();

    // Each node owns about a quarter of the keys.
    let mut load = [0u32; 4];
    for key in &keys {
        let owner = ring.get(key)?;
        let i = nodes.iter().position(|n| n == owner).unwrap_or(0);
        load[i] += 1;
    }
    println!("keys per node: {load:?}");
    let (min, max) = (load.iter().min().copied(), load.iter().max().copied());
    ensure!(
        min.zip(max).is_some_and(|(lo, hi)| f64::from(hi) / f64::from(lo) < 1.5),
        "the ring is unbalanced: {load:?}"
    );

    // Replicas: the next distinct nodes clockwise, the owner first.
    let mut replicas = Vec::new();
    ring.get_n("user:42", 2, &mut replicas)?;
    println!("user:42 is stored on {replicas:?}");
    ensure!(replicas[0] == ring.get("user:42")?, "the first replica is the owner");
    ensure!(replicas[0] != replicas[1], "the two copies are on two nodes");

    // A fifth node joins: only the keys it takes over move (about 1/5), none between the
    // old nodes.
    let mut grown = ring.clone();
    grown.add("cache-e:6379", 1.0)?;
    let mut moved = 0;
    for key in &keys {
        let (before, after) = (ring.get(key)?, grown.get(key)?);
        if before != after {
            moved += 1;
            ensure!(*after == "cache-e:6379", "{key} moved between two old nodes");
        }
    }
    let share = f64::from(moved) / keys.len() as f64;
    let diff = RingDiff::new(&ring, &grown)?;
    println!(
        "a fifth node joins: {moved} of {} keys move ({:.1}%; ideal 20%, the ring's own figure {:.1}%)",
        keys.len(),
        100.0 * share,
        100.0 * diff.moved_fraction()
    );
    ensure!((0.12..0.28).contains(&share), "{:.1}% of the keys moved", 100.0 * share);
    ensure!((share - diff.moved_fraction()).abs() < 0.02, "RingDiff disagrees with the keys");

    // It leaves again: every key is back on its old owner.
    grown.remove("cache-e:6379")?;
    ensure!(keys.iter().all(|k| ring.get(k).ok() == grown.get(k).ok()), "a key did not return");
    println!("the fifth node leaves: every key is back on its old owner");
    Ok(())
}

//! Integration tests for pool-cluster: the ring against a brute-force reference model, its
//! errors, snapshots under concurrent changes, the other strategies, and Redis Cluster's slots
//! against a real `redis-server`.
#![allow(clippy::unwrap_used)] // tests may unwrap, helpers included

mod bounded;
mod concurrent;
mod diff;
mod errors;
mod golden;
mod model;
mod props;
mod redis_slots;
mod strategies;

/// `n` node ids: `node-0`, `node-1`, ...
fn node_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("node-{i}")).collect()
}

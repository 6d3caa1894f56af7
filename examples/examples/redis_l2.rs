//! An L2 on Redis servers, sharded by the hash ring: each key on its owner, read back from
//! there. It starts no server: give it URLs, or it explains how and exits 0.
//!
//! ```sh
//! redis-server --port 7001 --save '' --appendonly no --daemonize yes
//! redis-server --port 7002 --save '' --appendonly no --daemonize yes
//! redis-server --port 7003 --save '' --appendonly no --daemonize yes
//! cargo run -p pool-examples --example redis_l2 -- redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003
//! # or: POOL_REDIS_URLS=redis://127.0.0.1:7001,... cargo run -p pool-examples --example redis_l2
//! redis-cli -p 7001 shutdown nosave   # and 7002, 7003 when done
//! ```
//!
//! The routing here is the ring's, written out in a few lines; `pool_cluster::ShardedL2`
//! (issue 15) packages it with replication, health checks and failover.

use std::time::Duration;

use anyhow::{Context, ensure};
use pool_cache::{BlockingL2, L2Namespace, RedisL2};
use pool_cluster::HashRing;

fn main() -> anyhow::Result<()> {
    let urls: Vec<String> = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("POOL_REDIS_URLS").ok())
        .map(|s| s.split(',').map(str::trim).filter(|u| !u.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    if urls.is_empty() {
        println!(
            "redis_l2: no Redis URLs given, nothing to do.\n\
             Start servers with `redis-server --port 7001 --save '' --appendonly no --daemonize yes`\n\
             (and 7002, 7003), then run\n  cargo run -p pool-examples --example redis_l2 -- \
             redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003\n\
             or set POOL_REDIS_URLS to the same list."
        );
        return Ok(());
    }

    // One blocking handle per server (each runs its calls on a small runtime thread of its
    // own); every call is bounded by the timeouts.
    let mut nodes = Vec::with_capacity(urls.len());
    for url in &urls {
        let redis = RedisL2::builder(url.clone())
            .connect_timeout(Duration::from_millis(500))
            .response_timeout(Duration::from_millis(500))
            .build()
            .with_context(|| format!("bad Redis URL {url}"))?;
        let l2 = BlockingL2::with_timeout(redis, Duration::from_secs(2))?;
        l2.health().with_context(|| format!("{url} does not answer; is redis-server running?"))?;
        nodes.push(l2);
    }
    let ring = HashRing::new(urls.iter().cloned())?;
    let owner = |key: &[u8]| -> anyhow::Result<usize> {
        let url = ring.get(key)?;
        urls.iter().position(|u| u == url).context("an owner that is not a node")
    };

    // Write 300 keys, each to its owner, under a namespace this example alone uses.
    let ns = L2Namespace::new("redis-l2-example", 1)?;
    let ttl = Duration::from_secs(60);
    for i in 0..300u32 {
        let key = ns.key(format!("item:{i}"));
        nodes[owner(&key)?].set(&key, &i.to_le_bytes(), ttl)?;
    }
    // Read them back from their owners; count how the ring spread them.
    let mut per_node = vec![0u32; urls.len()];
    for i in 0..300u32 {
        let key = ns.key(format!("item:{i}"));
        let n = owner(&key)?;
        let got = nodes[n].get(&key)?.map(|e| e.value);
        ensure!(got.as_deref() == Some(&i.to_le_bytes()[..]), "item:{i} read back {got:?}");
        per_node[n] += 1;
    }
    for (url, n) in urls.iter().zip(&per_node) {
        println!("{url}: {n} of 300 keys");
    }
    ensure!(per_node.iter().sum::<u32>() == 300, "a key was lost");
    if urls.len() > 1 {
        ensure!(per_node.iter().all(|&n| n > 0), "a server got no keys: {per_node:?}");
    }

    // Clean up: delete the namespace on every server.
    let mut deleted = 0;
    for l2 in &nodes {
        deleted += l2.delete_prefix(ns.prefix())?;
    }
    println!("deleted {deleted} keys; every key was read back from its owner");
    ensure!(deleted == 300, "deleted {deleted} keys, wrote 300");
    Ok(())
}
